"""Exceptions of the runtime. Each is named after what happened and says what happens next."""

from __future__ import annotations


class Rejected(Exception):
    """A handler refuses the call on purpose: the call ends with this error, nothing is retried
    and the machine's state is left as it was before the call."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class NonDeterministicHandler(Exception):
    """On replay the handler asked for a different durable step than its journal records.

    Retrying cannot help, so the call fails terminally."""


class Suspended(BaseException):
    """Raised inside a handler to park it until a durable step completes.

    It derives from ``BaseException`` so that a handler's ``except Exception`` cannot swallow it.
    """
