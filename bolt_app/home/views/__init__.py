"""Pure Block Kit builders for the App Home and its modals: typed state in, view dicts out.

Nothing here talks to Slack, the database or the agent; `bolt_app.home.listeners` gathers the
state and publishes what these functions return, so every limit can be tested without I/O.
"""
