"""The Slack Web API client Tandem uses: slack_sdk's, behind the shared limiter.

Every call waits for its tier's budget first; 429s (with Retry-After), 5xx
and connection errors are retried by slack_sdk's own async retry handlers.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.errors import ConfigError
from bot.slack.limiter import SlackLimiter

__all__ = ["LimitedWebClient", "authenticate"]


class LimitedWebClient(AsyncWebClient):
    def __init__(self, *, limiter: SlackLimiter, team_id: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("retry_handlers", [
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ])
        super().__init__(**kwargs)
        self.limiter = limiter
        self.team_id = team_id

    async def api_call(
        self, api_method: str, *, http_verb: str = "POST", files: dict[str, Any] | None = None,
        data: dict[str, Any] | Any = None, params: dict[str, Any] | None = None,
        json: dict[str, Any] | None = None, headers: dict[str, Any] | None = None,
        auth: dict[str, Any] | None = None,
    ) -> AsyncSlackResponse:
        channel = None
        for source in (json, data, params):
            if isinstance(source, dict) and source.get("channel"):
                channel = str(source["channel"])
                break
        await self.limiter.acquire(api_method, team=self.team_id, channel=channel)
        return await super().api_call(api_method, http_verb=http_verb, files=files, data=data,
                                      params=params, json=json, headers=headers, auth=auth)


async def authenticate(client: LimitedWebClient, api_url: str) -> AsyncSlackResponse:
    """`auth.test` as the bot, with its workspace set on the client; a refused token or an
    unreachable Slack is a ConfigError that says which setting to fix."""
    try:
        auth = await client.auth_test()
    except SlackApiError as exc:
        raise ConfigError(f"Slack refused SLACK_BOT_TOKEN at {api_url} "
                          f"({exc.response.get('error')}): set a valid bot token (xoxb-…)"
                          ) from exc
    except Exception as exc:
        raise ConfigError(f"Slack at {api_url} cannot be reached ({exc}): "
                          "check SLACK_API_URL") from exc
    client.team_id = str(auth["team_id"])
    return auth
