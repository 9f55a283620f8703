"""Pushes for generic-API users, POSTed to the webhook the operator configured (QINGSHEN_WEBHOOK_URL).

Each push is one request: JSON `{"key": ..., "address": ..., "message": {"text", "choices", ...}}`, with
the outbox idempotency key also in the `Idempotency-Key` header, so a receiver that remembers keys
drops a message re-sent after a crash. 2xx is delivered; 429, 5xx and network errors are worth
retrying (honouring Retry-After); any other status is final.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from bot.channels.base import DeliveryError

DEFAULT_TIMEOUT = 10.0
USER_AGENT = "qingshen-push/1"
MAX_RETRY_AFTER = 24 * 3600.0


class WebhookChannel:
    """`send` POSTs to one URL over a persistent connection pool; `close()` when done."""

    def __init__(
        self, url: str, timeout: float = DEFAULT_TIMEOUT, *, name: str = "api", client: httpx.Client | None = None
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook URL must be http:// or https://, not {url!r}")
        self.name = name
        self.url = url
        self.timeout = timeout
        self._client = client or httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT})

    def send(self, address: str, payload: Mapping[str, Any], *, key: str) -> None:
        body = {"key": key, "address": address, "message": dict(payload)}
        try:
            response = self._client.post(self.url, json=body, headers={"Idempotency-Key": key})
        except httpx.HTTPError as e:
            raise DeliveryError(f"POST {self.url} failed: {type(e).__name__}: {e}", retry=True) from e
        status = response.status_code
        if 200 <= status < 300:
            return
        message = f"POST {self.url} answered {status} for {key}"
        if status == 429 or status >= 500:
            raise DeliveryError(message, retry=True, retry_after=retry_after(response.headers.get("Retry-After")))
        raise DeliveryError(message, retry=False)

    def close(self) -> None:
        self._client.close()


def retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date); None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return min(max(0.0, seconds), MAX_RETRY_AFTER) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, (when - (now or datetime.now(UTC))).total_seconds()), MAX_RETRY_AFTER)
