"""The exception tree of the Sage side; `sage.client` translates every transport error into it.

    SageError                    anything wrong with reaching or reading the agent; str() is
    │                            one sentence an IT admin can act on, never SSL internals
    ├── AuthError                401 unauthenticated, 403 forbidden (credentials, company rights)
    ├── CertificateError         TLS: untrusted CA, expired or not yet valid, wrong hostname,
    │                            pin mismatch, our client certificate refused
    ├── NotFoundError            404: unknown company, unknown resource, record not found
    ├── UnavailableError         423/429/503 still failing after retries, 500, connection
    │                            errors and timeouts: worth trying again later
    └── BadResponseError         an answer outside the contract: not JSON, wrong shape, unknown
        │                        status or error code, a repeated page token, a 400
        └── ParseError           one value in Sage's formats is malformed (also a ValueError);
                                 row parsers turn it into a SkippedRecord with this message

Callers above `sage` catch `SageError` (or a child, to decide whether to retry later) and show
`str(error)`; `code` is the agent's error code where it gave one.
"""

from __future__ import annotations


class SageError(Exception):
    """An agent problem, described for the person who runs the agent."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class AuthError(SageError):
    """The agent refused our credentials (401) or our rights to a company (403)."""


class CertificateError(SageError):
    """The TLS handshake or the certificate checks failed; retrying will not help."""


class NotFoundError(SageError):
    """The company, resource or record does not exist on the agent."""


class UnavailableError(SageError):
    """The agent or Sage could not answer now; the same call may work later."""


class BadResponseError(SageError):
    """The agent answered something the contract does not allow."""


class ParseError(BadResponseError, ValueError):
    """A field value is not in the Sage format the contract promises."""
