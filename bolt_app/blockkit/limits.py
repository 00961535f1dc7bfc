"""Slack's documented Block Kit limits, the one copy every builder cuts its text to.

The Slack stand-in (`slack_standin.blockkit`) keeps its own copy on purpose: it is the oracle
the builders are tested against, not an echo of them.
"""

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_FIELD_TEXT = 2000
MAX_FIELDS = 10
MAX_HEADER_TEXT = 150
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_CONTEXT_ELEMENTS = 10
MAX_VIEW_TITLE = 24
# A message whose blocks' text adds up past this is refused (`msg_blocks_too_long`); Slack's
# exact cutoff is undocumented (it counts block containers too), 12,000 characters of text is
# what its markdown block documents.
MAX_MESSAGE_BLOCKS_TEXT = 12_000
