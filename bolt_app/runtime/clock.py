"""The one wall clock and the one worker identity of a process; everything else is passed them."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_worker_id(role: str | None = None) -> str:
    """host:pid:random, so two processes (or two runs of one pid) never share leases and claims."""
    parts = [socket.gethostname(), str(os.getpid()), uuid.uuid4().hex[:8]]
    return ":".join([role, *parts] if role else parts)
