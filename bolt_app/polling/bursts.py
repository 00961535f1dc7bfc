"""Burst collapse: a poll that finds more than N new or N changed records for one channel posts
one digest each.

A month-end import, a backfill or a batch posted in Sage must not bury a channel under hundreds
of messages; the digest says how many, their total, the first few, and where to see the rest.
A burst of changes also updates at most `DEFAULT_BURST_UPDATES` of the earlier messages in
place (the newest, which people still see), without a thread reply each: at Slack's pace of one
message per second per channel, the whole burst then costs under a minute of that channel.
How a streamed poll collapses a burst it never holds whole: `plan.py`.
"""

DEFAULT_BURST_THRESHOLD = 20
DEFAULT_BURST_UPDATES = 50
