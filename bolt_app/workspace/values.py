"""One validator per configuration value, shared by the workspace file and the App Home modals.

Each `check_*` raises ValueError with the problem alone (no field name), so the file names
`sage.companies[0]` and a modal names its own field around the same sentence. The id patterns
here are the only definitions of what a Slack id or a company code looks like.
"""

from __future__ import annotations

import re
import string
from datetime import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization

from bolt_app.workspace.schedule import CronSchedule, parse_schedule
from sage.client import COMPANY_CODE, normalise_pin
from sage.parsing import MAX_AMOUNT_DIGITS

TEAM_ID = re.compile(r"^T[A-Z0-9]{2,}$")
USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
USER_GROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
RECORD_URL_FIELDS = frozenset({"company", "resource", "record_key"})
WAREHOUSE_CODE = re.compile(r"[A-Z0-9]{1,3}")
MAX_MIN_AMOUNT = Decimal(10) ** (MAX_AMOUNT_DIGITS - 2)


def check_days(value: object) -> int:
    """A count of days from 0 to 366 (backfill, reminder thresholds)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 366:
        raise ValueError("must be a whole number of days from 0 to 366")
    return value


def check_cron_line(value: str) -> CronSchedule:
    """A five-field cron line: something that happens at a time of day, not every few minutes."""
    schedule = parse_schedule(value)
    if not isinstance(schedule, CronSchedule):
        raise ValueError(f"{value!r} is a duration; give a cron line such as '0 8 * * 1-5'")
    return schedule


def check_bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def check_team_id(value: str) -> str:
    if not TEAM_ID.match(value):
        raise ValueError(
            f"{value!r} is not a Slack team ID (T followed by upper-case letters and digits)"
        )
    return value


def check_user_id(value: str) -> str:
    if not USER_ID.match(value):
        raise ValueError(
            f"{value!r} is not a Slack user ID (U or W followed by upper-case letters and digits)"
        )
    return value


def check_channel_id(value: str) -> str:
    if not CHANNEL_ID.match(value):
        raise ValueError(
            f"{value!r} is not a Slack channel ID (C or G followed by upper-case letters and digits)"
        )
    return value


def check_company(value: str) -> str:
    if not COMPANY_CODE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a three-character company code (upper-case letters and digits)"
        )
    return value


def check_bot_token(value: str) -> str:
    if not value.startswith("xoxb-"):
        raise ValueError("is not a Slack bot token (it must start with 'xoxb-')")
    return value


def check_https_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (reading it raises for a port outside 0-65535 or not a number)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a valid URL ({error})") from None
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"{value!r} is not an https:// URL")
    if any(character.isspace() for character in value):
        raise ValueError(f"{value!r} contains a blank")
    return value.rstrip("/")


def check_agent_url(value: str) -> str:
    """The agent's base address: https, host, optional port and path; no credentials (they
    would be stored and shown in clear), query or fragment (the client appends /v1/...)."""
    if "@" in value.partition("://")[2].partition("/")[0]:
        raise ValueError(
            "must not hold a user name or password; the agent authenticates with auth = "
            "'mtls' or 'api_key'"
        )
    url = check_https_url(value)
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise ValueError(f"{value!r} has a query or fragment; give the agent's base address")
    return url


def check_record_url(value: str) -> str:
    check_https_url(value)
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as error:
        raise ValueError(f"{value!r} is not a valid template ({error})") from None
    unknown = names - RECORD_URL_FIELDS
    if unknown:
        raise ValueError(
            f"unknown placeholder {{{sorted(unknown)[0]}}} (use {{company}}, {{resource}}, {{record_key}})"
        )
    return value


def check_warehouse(value: str) -> str:
    """A Sage 100 warehouse code as records carry it: up to three letters and digits."""
    if not WAREHOUSE_CODE.fullmatch(value):
        shown = value if len(value) <= 20 else value[:20] + "…"
        raise ValueError(
            f"{shown!r} is not a Sage warehouse code (up to three upper-case letters and "
            "digits, such as 000 or EST)"
        )
    return value


def check_min_amount(value: object) -> Decimal:
    """A rule's minimum amount: a plain number within what a Sage amount can be (18 digits,
    two of them cents), so it compares, prints and stores like the amounts it is matched to."""
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        amount = None
    if isinstance(value, bool) or amount is None or not amount.is_finite():
        raise ValueError("must be a number such as 5000 or 1250.50")
    if abs(amount) >= MAX_MIN_AMOUNT:
        raise ValueError(f"must be below {MAX_MIN_AMOUNT:,}, the largest Sage amount")
    return amount


def check_timezone(value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a known time zone (e.g. 'America/Chicago')") from None


def check_pin(value: str) -> str:
    """Accepts what the client accepts ('AB:CD:...', plain hex); returns 'AB:CD:...' pairs."""
    try:
        digits = normalise_pin(value).upper()
    except ValueError:
        raise ValueError(
            "is not a SHA-256 fingerprint (32 hex pairs such as 'AB:CD:...')"
        ) from None
    return ":".join(digits[i : i + 2] for i in range(0, 64, 2))


def check_certificates(pem: str) -> str:
    """One or more PEM certificates (a chain or a CA bundle)."""
    try:
        x509.load_pem_x509_certificates(pem.encode("utf-8"))
    except ValueError:
        raise ValueError("does not hold a PEM certificate that parses") from None
    return pem


def check_current_certificate(pem: str, now: datetime) -> str:
    """The first certificate (the client's own) has not expired: the agent would refuse it."""
    expires = x509.load_pem_x509_certificates(pem.encode("utf-8"))[0].not_valid_after_utc
    if expires <= now:
        raise ValueError(
            f"expired on {expires:%Y-%m-%d %H:%M} UTC, so the agent would refuse it; "
            "issue a new client certificate"
        )
    return pem


def check_key_pair(cert_pem: str, key_pem: str) -> str:
    """The key parses as an unencrypted PEM private key and matches the first certificate."""
    try:
        key = serialization.load_pem_private_key(key_pem.encode("utf-8"), password=None)
    except TypeError:
        raise ValueError("the private key is password-protected; give it unencrypted") from None
    except (ValueError, UnsupportedAlgorithm):
        raise ValueError("does not hold a PEM private key that parses") from None
    cert = x509.load_pem_x509_certificates(cert_pem.encode("utf-8"))[0]
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, spki) != cert.public_key().public_bytes(der, spki):
        raise ValueError("the private key does not match the certificate in sage.client_cert")
    return key_pem
