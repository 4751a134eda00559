"""The one container of services, built once at start-up and handed to listeners
through Bolt's context (see `bot.slack.app`)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.llm.client import LLMClient
from bot.metrics import BotMetrics
from bot.prompts import PromptBook
from bot.routing.router import Router
from bot.settings import Settings
from bot.slack.client import LimitedWebClient
from bot.slack.directory import Directory
from bot.store.db import Store

if TYPE_CHECKING:
    from bot.drafting.service import DraftingService
    from bot.review.service import ReviewService

__all__ = ["Services"]


@dataclass
class Services:
    settings: Settings
    store: Store
    llm: LLMClient
    prompts: PromptBook
    router: Router
    client: LimitedWebClient
    directory: Directory
    team_id: str
    bot_user_id: str
    bot_id: str = ""
    metrics: BotMetrics = field(default_factory=BotMetrics)
    kb: Any | None = None  # bot.kb.KnowledgeBase when the kb extra is installed
    # Why there is no knowledge base although one was wanted: a question draft fails
    # with this instead of letting the model answer without the team's documents.
    kb_problem: str | None = None
    drafting: DraftingService = field(init=False)
    review: ReviewService = field(init=False)
    # In-flight generations by draft id, so a superseded draft's stream is cancelled.
    generations: dict[str, asyncio.Task[None]] = field(default_factory=dict)
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    # CPU-bound steps (intake, opening a draft) run 32 at a time, so a burst of asks
    # cannot crowd out acks and stream appends on the event loop. At 4, each waited on the
    # one database thread in turn and a burst of 200 reached the model 0.2 s later.
    cpu_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(32))

    def __post_init__(self) -> None:
        from bot.drafting.service import DraftingService
        from bot.review.service import ReviewService

        self.drafting = DraftingService(self)
        self.review = ReviewService(self)

    def spawn(self, coro: Any) -> asyncio.Task[Any]:
        """Run work after the Slack ack without losing the task or its errors."""
        task = asyncio.create_task(coro)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    async def drain(self, timeout: float = 10.0) -> None:
        if self.background:
            await asyncio.wait(list(self.background), timeout=timeout)
