"""Delivery: the outbox that polls write into, and the worker that drains it to Slack.

outbox.py        enqueue / queue_counts: the API the poller calls inside its transaction
tables.py        deliveries, channel_pacing, team_pacing (Alembic revision 0002_delivery)
policy.py        DeliveryPolicy: a Slack answer -> what to do next (pure)
transitions.py   a decision -> the row and pacing changes it implies (pure)
store.py         the worker's database side: claim, settle, dead-letter retry
slack.py         the Slack side: one call -> SlackAnswer (the only place slack_sdk errors are read)
worker.py        DeliveryWorker: many channels in parallel, each paced
"""
