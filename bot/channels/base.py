"""What the outbox sender needs from a channel that can push: a name and `send(address, payload, key)`.

A push channel delivers one stored outbox payload (`{"text", "choices": [{"id", "label"}], ...}`) to one
address and either returns (delivered) or raises DeliveryError, saying whether a later attempt may
succeed and, when the platform said so, how long to wait. The `key` is the outbox row's idempotency key:
channels whose platform accepts one pass it on, so a message re-sent after a crash is dropped there.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from rules.errors import QingshenError


class DeliveryError(QingshenError):
    """A push was not delivered. `retry`: a later attempt may succeed (429, 5xx, network);
    `retry_after`: seconds the platform asked us to wait, when it said."""

    def __init__(self, message: str, *, retry: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry = retry
        self.retry_after = retry_after


@runtime_checkable
class PushChannel(Protocol):
    name: str

    def send(self, address: str, payload: Mapping[str, Any], *, key: str) -> None:
        """Deliver the payload to the address, or raise DeliveryError."""
        ...
