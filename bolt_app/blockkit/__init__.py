"""Block Kit without the product: Slack's limits, Sage text made safe, element constructors.

It imports nothing of `bolt_app`, so it sits under `bolt_app.records` and each record type's
module words its own messages and Details blocks with it.
"""
