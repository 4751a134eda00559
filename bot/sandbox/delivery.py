"""Delivering events and interactive payloads to the app, over Socket Mode or HTTP.

Socket Mode: envelopes go to one connected socket (round-robin, as Slack spreads
them over an app's connections) and wait for an ack with the same envelope_id.
HTTP mode: the payload is POSTed to the request URL, signed with Slack's v0 HMAC.

Only `events_api` envelopes are redelivered (up to 3 times, retry_reason
"timeout" / X-Slack-Retry-Reason), because that is what Slack does: an
interactive payload or slash command that is not acked in time is shown to
the user as an error and never retried.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web

__all__ = ["Delivery", "DeliveryResult", "sign"]

log = logging.getLogger(__name__)
MAX_RETRIES = 3


@dataclass
class DeliveryResult:
    acked: bool
    payload: dict[str, Any] | None = None
    attempts: int = 1


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = f"v0:{timestamp}:".encode() + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class Delivery:
    def __init__(self, *, session: aiohttp.ClientSession, signing_secret: str,
                 request_url: str | None, ack_timeout: float) -> None:
        self._session = session
        self._secret = signing_secret
        self.request_url = request_url  # public: may be pointed elsewhere while running
        self._timeout = ack_timeout
        self.sockets: list[web.WebSocketResponse] = []
        self._next = 0
        self._pending: dict[str, asyncio.Future[dict[str, Any] | None]] = {}
        self.log: list[dict[str, Any]] = []  # every envelope/POST sent, for tests and the UI

    async def send(self, kind: str, payload: dict[str, Any]) -> DeliveryResult:
        """Deliver one payload; kind is events_api, interactive or slash_commands."""
        retries = MAX_RETRIES if kind == "events_api" else 0
        reason = ""
        for attempt in range(retries + 1):
            if self.request_url:
                ok, body, reason_now = await self._post(kind, payload, attempt, reason)
            else:
                ok, body = await self._envelope(kind, payload, attempt, reason)
                reason_now = "timeout"
            if ok:
                return DeliveryResult(True, body, attempt + 1)
            reason = reason_now
        return DeliveryResult(False, None, retries + 1)

    # Socket Mode -----------------------------------------------------------------
    async def _envelope(self, kind: str, payload: dict[str, Any], attempt: int,
                        reason: str) -> tuple[bool, dict[str, Any] | None]:
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {"envelope_id": envelope_id, "payload": payload, "type": kind,
                                    "accepts_response_payload": kind != "events_api"}
        if kind == "events_api":
            envelope.update(retry_attempt=attempt, retry_reason=reason)
        future: asyncio.Future[dict[str, Any] | None] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = future
        entry: dict[str, Any] = {"time": time.time(), **envelope}
        self.log.append(entry)
        try:
            sock = self._pick()
            if sock is None:
                # No app connected: behave like an unacked delivery so events still get
                # their retries once the app connects.
                await asyncio.sleep(self._timeout)
                return False, None
            sent = time.perf_counter()
            await sock.send_str(json.dumps(envelope))
            body = await asyncio.wait_for(future, self._timeout)
            entry["ack_ms"] = (time.perf_counter() - sent) * 1000  # for ack-latency benchmarks
            return True, body
        except (TimeoutError, ConnectionError, RuntimeError):
            return False, None
        finally:
            self._pending.pop(envelope_id, None)

    def _pick(self) -> web.WebSocketResponse | None:
        live = [s for s in self.sockets if not s.closed]
        if not live:
            return None
        self._next = (self._next + 1) % len(live)
        return live[self._next]

    def on_ack(self, message: dict[str, Any]) -> None:
        future = self._pending.get(str(message.get("envelope_id")))
        if future is not None and not future.done():
            payload = message.get("payload")
            future.set_result(payload if isinstance(payload, dict) else None)

    # HTTP Events API -------------------------------------------------------------
    async def _post(self, kind: str, payload: dict[str, Any], attempt: int,
                    reason: str) -> tuple[bool, dict[str, Any] | None, str]:
        assert self.request_url is not None
        if kind == "events_api":
            body, ctype = json.dumps(payload).encode(), "application/json"
        elif kind == "interactive":
            body = urlencode({"payload": json.dumps(payload)}).encode()
            ctype = "application/x-www-form-urlencoded"
        else:
            body, ctype = urlencode(payload).encode(), "application/x-www-form-urlencoded"
        stamp = str(int(time.time()))
        headers = {"Content-Type": ctype, "X-Slack-Request-Timestamp": stamp,
                   "X-Slack-Signature": sign(self._secret, stamp, body)}
        if attempt:
            headers.update({"X-Slack-Retry-Num": str(attempt), "X-Slack-Retry-Reason": reason})
        self.log.append({"time": time.time(), "type": kind, "payload": payload,
                         "retry_attempt": attempt, "retry_reason": reason})
        try:
            async with self._session.post(self.request_url, data=body, headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=self._timeout)) as r:
                text = await r.text()
                if not 200 <= r.status < 300:
                    return False, None, "http_error"
                try:
                    parsed = json.loads(text) if text.strip() else None
                except ValueError:
                    parsed = None
                return True, parsed if isinstance(parsed, dict) else None, ""
        except TimeoutError:
            return False, None, "http_timeout"
        except aiohttp.ClientError:
            return False, None, "connection_failed"
