"""A bare Socket Mode client for protocol tests: records envelopes, acks on request."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp


class RawSocket:
    """Connects like slack_sdk does; `auto_ack` False lets tests withhold acks."""

    def __init__(self, http: aiohttp.ClientSession, api_url: str, app_token: str) -> None:
        self.http, self.api_url, self.app_token = http, api_url, app_token
        self.frames: list[dict[str, Any]] = []
        self.auto_ack = True
        self.ack_payloads: dict[str, dict[str, Any]] = {}  # payload type -> ack payload
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._task: asyncio.Task[None] | None = None

    async def connect(self) -> None:
        async with self.http.post(self.api_url + "apps.connections.open",
                                  headers={"Authorization": f"Bearer {self.app_token}"}) as r:
            url = (await r.json())["url"]
        self._ws = await self.http.ws_connect(url)
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self._ws is not None
        async for msg in self._ws:
            frame = json.loads(msg.data)
            self.frames.append(frame)
            if self.auto_ack and "envelope_id" in frame:
                ack: dict[str, Any] = {"envelope_id": frame["envelope_id"]}
                extra = self.ack_payloads.get(frame["payload"].get("type", ""))
                if extra:
                    ack["payload"] = extra
                await self._ws.send_str(json.dumps(ack))

    def of(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        """Envelope payloads of an envelope type whose payload (or event) matches `match`."""
        out = []
        for f in self.frames:
            if f.get("type") != kind:
                continue
            body = f["payload"]
            target = body.get("event", body) if kind == "events_api" else body
            if all(target.get(k) == v for k, v in match.items()):
                out.append(f)
        return out

    async def close(self) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            await self._task
