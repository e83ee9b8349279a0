"""Consistent State Machines: the worker package.

``faust -A app worker`` finds the Faust application as ``app.app``. It is created lazily, so
that the ingress can import the wire format and the machine definitions without it.
"""

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "app":
        from app.worker import app

        return app
    raise AttributeError(name)
