"""One module per Slack surface; each has `register(app, services)` and keeps handlers thin:
ack, load, build, publish."""
