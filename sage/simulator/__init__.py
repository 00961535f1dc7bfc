"""The simulated Sage 100 agent: the real agent's code over Sage-layout SQLite files of
invented data, over real TLS, with faults injected in front.

SimulatorServer   serves it (tests, demo, `ml-connector simulator`)
SimulatorData     the company files; tests add, change and remove records while it runs
Faults            errors, slowness and malformed rows, by rate or scripted
Activity          business going on while it runs
"""

from sage.simulator.activity import Activity, Change
from sage.simulator.data import SeedSizes, SimulatorData
from sage.simulator.faults import Faults, Malformation
from sage.simulator.formats import Resource, TimeStyle
from sage.simulator.server import SimulatorServer

__all__ = [
    "Activity",
    "Change",
    "Faults",
    "Malformation",
    "Resource",
    "SeedSizes",
    "SimulatorData",
    "SimulatorServer",
    "TimeStyle",
]
