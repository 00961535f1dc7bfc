"""What a channel has been told about a record: the version hash of its tracked fields (each
record type's description in `bolt_app.records` names them and its key).

A re-read record with the same version is silent; any difference in a shown field is news.
Wording a change is the
message builders' job (`bolt_app.blocks.messages.describe_change`), from the old and new records.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from enum import StrEnum

import orjson


class ChangeKind(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


# The canonical form: JSON with sorted keys, no spaces, text as UTF-8. orjson writes exactly
# that for text values (a test holds it to the json module's), nine times faster; anything it
# does not take (an integer past 64 bits) goes through the json module.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def version_of(fields: Mapping[str, object]) -> str:
    """Stable across processes and Python versions: canonical JSON, SHA-256."""
    try:
        text = orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        text = _CANONICAL.encode(fields).encode("utf-8")
    return hashlib.sha256(text).hexdigest()


def classify(version: str, previous_version: str | None) -> ChangeKind:
    if previous_version is None:
        return ChangeKind.NEW
    return ChangeKind.UNCHANGED if version == previous_version else ChangeKind.CHANGED
