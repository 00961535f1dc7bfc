"""The poller: incremental, crash-safe reads of the agent turned into queued Slack messages.

Pure pieces (window math, versions, change classification, register settling, bursts,
routing rules) sit in their own modules so they can be tested without a database or network;
`service.py` ties them to storage, the agent client and the delivery outbox, and
`scheduler.py` runs the service on each stored schedule.
"""
