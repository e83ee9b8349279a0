"""The durable-execution runtime: what a machine definition needs."""

from app.runtime.context import Context
from app.runtime.errors import Rejected
from app.runtime.machine import Machine

__all__ = ["Context", "Machine", "Rejected"]
