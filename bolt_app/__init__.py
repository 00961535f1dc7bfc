"""The Slack app: blocks, jobs, delivery, storage, CLI."""
