"""The agent as a Windows service: a thin pywin32 host around `sage.agent.hosting.AgentHost`.

pywin32 is imported only inside `load_pywin32` (on Windows, by `main`), so this module
imports anywhere and its tests hand in stand-ins for the three pywin32 modules. The frozen
executable (packaging/windows) calls `main`: without arguments the service manager started
it, and it must host the service itself (Initialize, PrepareToHostSingle,
StartServiceCtrlDispatcher) or starting the service fails with error 1053; with `serve`,
`check` or `certs` it is the `ml-connector agent` command line; anything else (install,
start, stop, remove, debug) goes to pywin32's service command line, where `-c FILE` on
install or update records agent.toml's path in the service's registry key.
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import version as distribution_version
from pathlib import Path
from types import ModuleType
from typing import Any

from sage.agent.hosting import (
    CONFIG_OPTION,
    SERVICE_DESCRIPTION,
    SERVICE_DISPLAY_NAME,
    SERVICE_NAME,
    AgentHost,
    Route,
    default_config_path,
    route,
)

log = logging.getLogger("sage.agent")
LOG_FILE_BYTES = 5_000_000
LOG_FILES_KEPT = 5


@dataclass(frozen=True, slots=True)
class Pywin32:
    """The pywin32 modules the service uses (a seam: tests pass stand-ins)."""

    servicemanager: ModuleType | Any
    win32service: ModuleType | Any
    win32serviceutil: ModuleType | Any


def load_pywin32() -> Pywin32:
    import servicemanager
    import win32service
    import win32serviceutil

    return Pywin32(servicemanager, win32service, win32serviceutil)


@contextlib.contextmanager
def logging_to_file(config_path: Path) -> Iterator[Path]:
    """The agent's log next to agent.toml (logs/agent.log, rotated) while the service runs:
    a service has no console. The handler goes again when the service stops."""
    folder = config_path.parent / "logs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "agent.log"
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=LOG_FILE_BYTES, backupCount=LOG_FILES_KEPT, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield path
    finally:
        log.removeHandler(handler)
        log.setLevel(level)
        handler.close()


HostFactory = Callable[[Path, Callable[[str], None]], AgentHost]


def service_class(
    win: Pywin32, environ: Mapping[str, str], host_factory: HostFactory | None = None
) -> type:
    """The ServiceFramework subclass the service manager runs; `host_factory(config_path,
    started)` builds the AgentHost (tests pass one that records what it is asked)."""

    def default_host(config_path: Path, started: Callable[[str], None]) -> AgentHost:
        return AgentHost(
            config_path,
            environ,
            agent_version=distribution_version("ml-connector"),
            started=started,
        )

    make_host = host_factory or default_host

    class AgentWindowsService(win.win32serviceutil.ServiceFramework):
        _svc_name_ = SERVICE_NAME
        _svc_display_name_ = SERVICE_DISPLAY_NAME
        _svc_description_ = SERVICE_DESCRIPTION

        def __init__(self, args: Sequence[str]) -> None:
            super().__init__(args)
            config = win.win32serviceutil.GetServiceCustomOption(
                SERVICE_NAME, CONFIG_OPTION, str(default_config_path(environ))
            )
            self.host = make_host(Path(config), self.announce)

        def announce(self, line: str) -> None:
            log.info("%s", line)
            win.servicemanager.LogInfoMsg(line)

        def SvcDoRun(self) -> None:  # noqa: N802 (pywin32's names)
            try:
                with logging_to_file(self.host.config_path):
                    self.host.run()
            except Exception as error:
                # The event log is where an admin looks first when a service will not start.
                win.servicemanager.LogErrorMsg(f"{SERVICE_DISPLAY_NAME} stopped: {error}")
                raise
            win.servicemanager.LogInfoMsg(f"{SERVICE_DISPLAY_NAME} stopped.")

        def SvcStop(self) -> None:  # noqa: N802
            self.ReportServiceStatus(win.win32service.SERVICE_STOP_PENDING)
            self.host.stop()

    return AgentWindowsService


def remember_config(win: Pywin32, options: Sequence[tuple[str, str]]) -> None:
    """pywin32's install/update hook: `-c FILE` becomes the service's agent.toml path."""
    for option, value in options:
        if option == "-c":
            path = Path(value).absolute()
            if not path.is_file():
                raise ValueError(f"-c {value}: there is no agent file at {path}")
            win.win32serviceutil.SetServiceCustomOption(SERVICE_NAME, CONFIG_OPTION, str(path))


def main(
    argv: Sequence[str] | None = None,
    *,
    pywin32: Pywin32 | None = None,
    environ: Mapping[str, str] | None = None,
    agent_command: Callable[[list[str]], int] | None = None,
) -> int:
    """The Windows executable. `agent_command(["agent", ...])` runs the agent commands (the
    packaging passes `bolt_app.cli.main`; the agent package never imports the CLI)."""
    argv = list(sys.argv if argv is None else argv)
    which = route(argv)
    if which is Route.AGENT:
        if agent_command is None:
            raise ValueError("this build has no agent commands")
        return agent_command(["agent", *argv[1:]])
    win = pywin32 or load_pywin32()
    cls = service_class(win, os.environ if environ is None else environ)
    if which is Route.DISPATCH:
        win.servicemanager.Initialize()
        win.servicemanager.PrepareToHostSingle(cls)
        win.servicemanager.StartServiceCtrlDispatcher()
        return 0
    return int(
        win.win32serviceutil.HandleCommandLine(
            cls,
            argv=argv,
            customInstallOptions="c:",
            customOptionHandler=lambda options: remember_config(win, options),
        )
        or 0
    )
