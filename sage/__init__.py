"""Sage 100 side: agent client, record models, parsing, simulator. No Slack imports."""
