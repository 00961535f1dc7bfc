"""Fault injection for the simulated agent: what a real agent does on a bad day.

Two kinds. Rates (`lock_rate`, `unavailable_rate`, ...) roll the injected RNG on each data
request, for demos and soak runs. Scripts (`script`, `malform`) are exact, for tests: "the
next 2 requests to this path answer 423 with Retry-After 1".
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass
from enum import StrEnum

ERROR_STATUS = {
    "invalid_parameter": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "unknown_company": 404,
    "unknown_resource": 404,
    "not_found": 404,
    "record_locked": 423,
    "too_many_requests": 429,
    "internal": 500,
    "sage_unavailable": 503,
}
RETRYABLE = {"record_locked", "too_many_requests", "sage_unavailable"}


class Malformation(StrEnum):
    """Ways a row can come out broken, as from a damaged table or a buggy agent build."""

    BAD_DATE = "bad_date"
    BAD_AMOUNT = "bad_amount"
    MISSING_KEY = "missing_key"
    LONE_SURROGATE = "lone_surrogate"  # half a UTF-16 pair in a text field, as JSON allows
    HUGE_AMOUNT = "huge_amount"  # 30 digits: a valid decimal no ledger can hold
    LONG_KEY = "long_key"  # a RecordKey over 255 characters
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"  # a number where the contract says a string


@dataclass(frozen=True, slots=True)
class Injected:
    """An error answer the app must give instead of the real one."""

    code: str
    retry_after: int | None

    @property
    def status(self) -> int:
        return ERROR_STATUS[self.code]


@dataclass(slots=True)
class _Script:
    pattern: str
    code: str
    remaining: int
    retry_after: int | None


_DATE_FIELDS = ("InvoiceDate", "PurchaseOrderDate", "PostingDate", "DateCreated")
_AMOUNT_FIELDS = ("InvoiceAmt", "TaxableAmt", "DebitAmount", "CreditAmount")
_TEXT_FIELDS = ("VendorName", "PurchaseName", "PostingComment", "AccountDesc")


class Faults:
    """Mutable fault settings shared by the app and whoever drives the simulator."""

    def __init__(
        self,
        *,
        rng: random.Random | None = None,
        lock_rate: float = 0.0,
        unavailable_rate: float = 0.0,
        throttle_rate: float = 0.0,
        slow_rate: float = 0.0,
        slow_seconds: float = 2.0,
        malformed_rate: float = 0.0,
        short_page_rate: float = 0.0,
        retry_after: int = 1,
    ) -> None:
        self.rng = rng or random.Random(0)
        self.lock_rate = lock_rate
        self.unavailable_rate = unavailable_rate
        self.throttle_rate = throttle_rate
        self.slow_rate = slow_rate
        self.slow_seconds = slow_seconds
        self.malformed_rate = malformed_rate
        self.short_page_rate = short_page_rate
        self.retry_after = retry_after
        self._scripts: list[_Script] = []
        self._malformed: dict[str, Malformation] = {}
        self._repeats = 0
        self._lock = threading.Lock()

    def script(
        self, path: str, code: str, *, times: int = 1, retry_after: int | None = None
    ) -> None:
        """The next `times` requests whose path matches `path` (fnmatch) answer error `code`."""
        if code not in ERROR_STATUS:
            raise ValueError(f"unknown error code {code!r}; known: {sorted(ERROR_STATUS)}")
        with self._lock:
            self._scripts.append(_Script(path, code, times, retry_after))

    def malform(self, record_key: str, how: Malformation | str) -> None:
        """Serve the row with this RecordKey broken in the given way, every time."""
        with self._lock:
            self._malformed[record_key] = Malformation(how)

    def repeat_page_token(self, times: int = 1) -> None:
        """The next `times` pages asked for with a token hand that same token back (a buggy
        agent); a client must call that a loop, not follow it forever."""
        with self._lock:
            self._repeats += times

    def clear(self) -> None:
        """Back to a healthy agent: scripts, malformed rows and every rate reset."""
        with self._lock:
            self._scripts.clear()
            self._malformed.clear()
            self._repeats = 0
        self.lock_rate = self.unavailable_rate = self.throttle_rate = 0.0
        self.slow_rate = self.malformed_rate = self.short_page_rate = 0.0

    # --- used by the app -----------------------------------------------------------------

    def scripted(self, path: str) -> Injected | None:
        with self._lock:
            for script in self._scripts:
                if script.remaining > 0 and fnmatch.fnmatchcase(path, script.pattern):
                    script.remaining -= 1
                    return Injected(script.code, script.retry_after)
            self._scripts = [script for script in self._scripts if script.remaining > 0]
        return None

    def random_error(self) -> Injected | None:
        roll = self.rng.random()
        for code, rate in (
            ("record_locked", self.lock_rate),
            ("sage_unavailable", self.unavailable_rate),
            ("too_many_requests", self.throttle_rate),
        ):
            if roll < rate:
                return Injected(code, self.retry_after)
            roll -= rate
        return None

    def delay(self) -> float:
        return self.slow_seconds if self.slow_rate and self.rng.random() < self.slow_rate else 0.0

    def repeated_token(self, token: str | None) -> str | None:
        """The incoming token when a repeat is due, else None."""
        with self._lock:
            if token is None or self._repeats == 0:
                return None
            self._repeats -= 1
            return token

    def page_limit(self, page_size: int) -> int:
        """Sometimes fewer than asked for, even none: the contract allows short pages."""
        if self.short_page_rate and self.rng.random() < self.short_page_rate:
            return self.rng.randint(0, max(page_size - 1, 0))
        return page_size

    def serve(self, row: dict) -> dict:
        """The row as it goes on the wire: broken if scripted for it or unlucky at the rate."""
        with self._lock:
            how = self._malformed.get(str(row.get("RecordKey")))
        if how is None and self.malformed_rate and self.rng.random() < self.malformed_rate:
            how = self.rng.choice(list(Malformation))
        if how is None:
            return row
        broken = dict(row)
        if how is Malformation.MISSING_KEY:
            broken.pop("RecordKey", None)
            return broken
        text = next(name for name in _TEXT_FIELDS if name in broken)
        if how is Malformation.LONG_KEY:
            broken["RecordKey"] = str(broken["RecordKey"]).ljust(300, "X")
            return broken
        if how is Malformation.LONE_SURROGATE:
            broken[text] = f"{broken[text]} \ud800"
            return broken
        if how is Malformation.MISSING_FIELD:
            broken.pop(text)
            return broken
        if how is Malformation.WRONG_TYPE:
            broken[text] = 12345
            return broken
        amount = next((name for name in _AMOUNT_FIELDS if name in broken), None)
        if how is Malformation.HUGE_AMOUNT and amount is not None:
            broken[amount] = "123456789012345678901234567890.00"
            return broken
        if how is Malformation.BAD_AMOUNT and amount is not None:
            broken[amount] = "12O.5O"
        else:  # gl-accounts carry no amount: a bad date breaks them just as well
            date = next(name for name in _DATE_FIELDS if name in broken)
            broken[date] = "20261341"
        return broken
