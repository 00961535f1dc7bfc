"""One description per record type on the Slack side, one module per type, and their registry."""
