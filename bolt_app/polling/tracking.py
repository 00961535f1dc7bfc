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


class ChangeKind(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


# One encoder for every version: `json.dumps` with options builds a new one per call, which
# took half of a version's time.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def version_of(fields: Mapping[str, object]) -> str:
    """Stable across processes and Python versions: canonical JSON, SHA-256."""
    return hashlib.sha256(_CANONICAL.encode(fields).encode("utf-8")).hexdigest()


def classify(version: str, previous_version: str | None) -> ChangeKind:
    if previous_version is None:
        return ChangeKind.NEW
    return ChangeKind.UNCHANGED if version == previous_version else ChangeKind.CHANGED
