"""Tools both halves use and neither owns: embedded uvicorn serving and certificate issuing.

Imports nothing from `sage` or `bolt_app`, so either side (and the Slack stand-in) may use it.
"""
