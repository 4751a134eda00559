"""`tandem run`: start Tandem against Slack (or the sandbox) and vLLM (or the embedded one).

`start_bot` builds the services once and connects them to Slack in Socket
Mode or HTTP mode; tests call it in-process against the sandbox. `tandem run`
adds the offline defaults: with no Slack tokens it starts the sandbox, with
no LLM URL it starts the embedded vLLM.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import signal
import sys
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp

from bot.container import Services
from bot.drafting.foreign import warm as warm_foreign_words
from bot.errors import ConfigError, masked_url
from bot.llm.client import LLMClient
from bot.llm.errors import LLMError
from bot.metrics import BotMetrics, serve_metrics
from bot.ports import HTTP_PORT_CHANGE, METRICS_PORT_CHANGE, check_free, listen
from bot.prompts import PromptBook
from bot.routing.router import Router
from bot.settings import ChannelPolicy, Settings, load_settings
from bot.slack.app import build_app
from bot.slack.client import LimitedWebClient, authenticate
from bot.slack.directory import Directory
from bot.slack.http import events_handler
from bot.slack.limiter import SlackLimiter
from bot.slack.socket import EagerAckSocketModeHandler
from bot.store.db import Store
from bot.tuning.deploy import Registry, restore_adapters, routed_adapters

__all__ = ["Bot", "register", "start_bot"]

log = logging.getLogger("tandem")


@dataclass
class Bot:
    services: Services
    app: AsyncApp
    session: aiohttp.ClientSession
    socket: EagerAckSocketModeHandler | None = None
    http: web.AppRunner | None = None
    http_port: int | None = None
    metrics_server: web.AppRunner | None = None
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)

    async def stop(self) -> None:
        """Stop taking events, cancel work in flight (a restart marks it failed), close."""
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
        if self.http is not None:
            await self.http.cleanup()
        if self.metrics_server is not None:
            await self.metrics_server.cleanup()
        pending = [*self.tasks, *self.services.background]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        generations = list(self.services.generations.values())
        for task in generations:
            task.cancel()
        await asyncio.gather(*generations, return_exceptions=True)
        if self.services.kb is not None:
            await self.services.kb.close()
        await self.session.close()
        await self.services.store.close()


async def _open_kb(settings: Settings) -> tuple[Any | None, str | None]:
    """The knowledge base, or None and why: question drafts say so rather than let the
    model answer without the team's documents."""
    try:
        from bot.kb.service import KnowledgeBase
    except ImportError as exc:
        problem = f"it is not installed here ({exc}): install tandem[kb]"
        log.error("knowledge base unavailable: %s", problem)
        return None, problem
    try:
        # A store whose vectors another embedder made re-embeds in the background: the
        # bot answers at once, by keywords until the pass ends (`bot.kb.reembed`).
        return await KnowledgeBase.open(settings, background=True), None
    except Exception as exc:
        # Shown in Slack, under the question: no password of a database URL.
        kind = "" if isinstance(exc, ConfigError) else f"{type(exc).__name__}: "
        problem = (f"it could not be opened ({kind}{masked_url(str(exc))[:240]}); restart "
                   "Tandem once that is fixed")
        log.exception("knowledge base unavailable")
        return None, problem


async def _check_model(llm: LLMClient, url: str) -> None:
    """Pick the served model when none is set; refuse one the server does not serve."""
    try:
        models = await llm.models()
    except LLMError:
        models = []  # no model list (not vLLM): trust TANDEM_LLM_MODEL
    if not llm.model:
        if not models:
            raise ConfigError("the LLM server lists no models: set TANDEM_LLM_MODEL")
        llm.model = models[0]
    elif models and llm.model not in models:
        raise ConfigError(f"the LLM at {url} does not serve TANDEM_LLM_MODEL={llm.model!r}: "
                          f"set it to one it serves ({', '.join(models[:5])})")


async def restore_routed_adapters(session: aiohttp.ClientSession, settings: Settings,
                                  base_model: str) -> None:
    """Load the adapters the traffic split routes to that the LLM server has forgotten
    (it restarted since `tandem tune deploy`); log the ones it cannot."""
    wanted = routed_adapters(settings.traffic, base_model)
    if not wanted or not settings.tandem_llm_base_url:
        return
    registry = Registry(settings.tandem_data_dir / "adapters.json")
    try:
        restored, problems = await restore_adapters(session, settings.tandem_llm_base_url,
                                                    wanted, registry)
    except aiohttp.ClientError as exc:  # no /v1/models (not vLLM): nothing to check
        log.warning("could not check the LLM server's adapters: %s", exc)
        return
    if restored:
        log.info("loaded adapters the LLM server had forgotten: %s", ", ".join(restored))
    for problem in problems:
        log.error("%s", problem)


# How often a running bot checks that the LLM server still serves the routed adapters: a
# vLLM restarted under it (a crash, a rollout) forgets the ones loaded at runtime.
ADAPTER_CHECK_SECONDS = 60.0


async def _watch_adapters(session: aiohttp.ClientSession, settings: Settings,
                          base_model: str) -> None:
    while True:
        await asyncio.sleep(ADAPTER_CHECK_SECONDS)
        try:
            await restore_routed_adapters(session, settings, base_model)
        except Exception:  # the server is down or restarting: the next check tries again
            log.warning("could not check the LLM server's adapters", exc_info=True)


async def start_bot(settings: Settings, *, limiter: SlackLimiter | None = None,
                    with_kb: bool = True) -> Bot:
    """Build the services, check they can work, and connect to Slack."""
    settings.check_slack()
    if not settings.tandem_llm_base_url:
        raise ConfigError("TANDEM_LLM_BASE_URL is not set: point it at a vLLM server's /v1 "
                          "(e.g. http://127.0.0.1:8000/v1) or use `tandem run` for the "
                          "embedded one")
    # aiohttp's default of 100 connections per session would queue LLM streams and Slack
    # calls behind each other in a burst: room for every stream plus Slack's calls.
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(
        limit=settings.tandem_llm_max_concurrency + 128))
    metrics = BotMetrics()
    try:
        llm = LLMClient(session, settings.tandem_llm_base_url,
                        model=settings.tandem_llm_model or "", timeouts=settings.llm_timeouts,
                        max_concurrency=settings.tandem_llm_max_concurrency,
                        metrics=metrics.llm)
        if not await llm.health():
            raise ConfigError(f"the LLM at {settings.tandem_llm_base_url} is unreachable: start "
                              "vLLM there or set TANDEM_LLM_BASE_URL")
        await _check_model(llm, settings.tandem_llm_base_url)
        await restore_routed_adapters(session, settings, llm.model)
        limiter = limiter or SlackLimiter()
        # One shared HTTP session: a new connection per Web API call costs more than the call.
        client = LimitedWebClient(limiter=limiter, token=settings.slack_bot_token,
                                  base_url=settings.slack_api_url, session=session)
        auth = await authenticate(client, settings.slack_api_url)
        store = await Store.open(settings.db_url)
        prompts = PromptBook(settings.tandem_prompts_dir)
        services = Services(
            settings=settings, store=store, llm=llm, prompts=prompts,
            router=Router(llm=llm, prompt=prompts.get("router")), client=client,
            directory=Directory(client, team_id=client.team_id), team_id=client.team_id,
            bot_user_id=str(auth["user_id"]), bot_id=str(auth.get("bot_id") or ""),
            metrics=metrics)
        if with_kb:
            services.kb, services.kb_problem = await _open_kb(settings)
    except BaseException:
        await session.close()
        raise
    # Train the router's classifier before events arrive: 0.5 s of CPU inside the first
    # event would stall every ack behind it.
    await asyncio.to_thread(lambda: services.router.classifier)
    # Likewise the word lists that drafts are checked against for another language's words.
    await asyncio.to_thread(warm_foreign_words)
    app = build_app(services)
    bot = Bot(services=services, app=app, session=session)
    try:
        await _connect(bot, settings, metrics, llm.model)
    except BaseException:
        # A port taken, Slack refusing the socket: nothing half-open is left behind.
        await bot.stop()
        raise
    return bot


async def _connect(bot: Bot, settings: Settings, metrics: BotMetrics, base_model: str) -> None:
    services, session = bot.services, bot.session
    await services.review.recover()
    bot.tasks.append(asyncio.create_task(services.review.expiry_loop()))
    if routed_adapters(settings.traffic, base_model):
        bot.tasks.append(asyncio.create_task(_watch_adapters(session, settings, base_model)))
    if settings.tandem_metrics_port:
        bot.metrics_server = await serve_metrics(metrics, settings.tandem_metrics_port)
    if settings.socket_mode:
        bot.socket = EagerAckSocketModeHandler(bot.app, settings.slack_app_token or "",
                                               metrics=metrics,
                                               bot_user_id=services.bot_user_id)
        await bot.socket.connect_async()  # type: ignore[no-untyped-call]
    else:
        bot.http, bot.http_port = await _serve_http(
            bot.app, settings.tandem_http_port,
            signing_secret=settings.slack_signing_secret or "", bot_user_id=services.bot_user_id)


async def _serve_http(app: AsyncApp, port: int, *, signing_secret: str,
                      bot_user_id: str) -> tuple[web.AppRunner, int]:
    """HTTP Events API mode: Bolt's aiohttp adapter on /slack/events."""
    handle = events_handler(app, signing_secret=signing_secret, bot_user_id=bot_user_id)
    web_app = web.Application()
    web_app.router.add_post("/slack/events", handle)
    runner = web.AppRunner(web_app)
    await runner.setup()
    return runner, await listen(runner, "0.0.0.0", port, what="the bot's HTTP events endpoint",
                                change=HTTP_PORT_CHANGE)


SANDBOX_CHANNELS = {
    # The sandbox's seeded workspace: #support is an internal queue, #acme-shared is shared
    # with the customer Acme, so its support drafts are reviewed in #reviews.
    "support": ChannelPolicy(support=True),
    "acme-shared": ChannelPolicy(support=True, review_channel="#reviews"),
}


async def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    settings.tandem_data_dir.mkdir(parents=True, exist_ok=True)
    stack: list[Any] = []
    sandbox = None
    try:
        if not settings.slack_bot_token and not settings.slack_app_token \
                and not settings.slack_signing_secret:
            from bot.sandbox.server import Sandbox, SandboxConfig

            port = args.sandbox_port or settings.tandem_sandbox_port
            sandbox = Sandbox(SandboxConfig(db_path=settings.tandem_data_dir / "sandbox.sqlite",
                                            port=port))
            await sandbox.start()
            stack.append(sandbox)
            settings.slack_bot_token, settings.slack_app_token = "xoxb-sandbox", "xapp-sandbox"
            settings.slack_api_url = sandbox.api_url
            for name, policy in SANDBOX_CHANNELS.items():
                settings.channels.setdefault(name, policy)
            print(f"Sandbox Slack workspace: {sandbox.url}  (open it in a browser)", flush=True)  # noqa: T201
        # Wrong Slack settings must not wait a minute for the embedded vLLM to say so;
        # nor must a port another program holds.
        settings.check_slack()
        if not settings.socket_mode:
            check_free("0.0.0.0", settings.tandem_http_port,
                       what="the bot's HTTP events endpoint", change=HTTP_PORT_CHANGE)
        if settings.tandem_metrics_port:
            check_free("0.0.0.0", settings.tandem_metrics_port, what="the metrics endpoint",
                       change=METRICS_PORT_CHANGE)
        server = None
        if not settings.tandem_llm_base_url:
            from bot.llm.embedded import EmbeddedVLLM

            # Its output goes to a file: a crash (restarted by `supervise`) leaves its reason.
            server = EmbeddedVLLM(log_path=settings.tandem_data_dir / "vllm.log")
            await server.start()
            stack.append(server)
            settings.tandem_llm_base_url, settings.tandem_llm_model = server.base_url, server.model
            print(f"Embedded vLLM: {server.base_url}", flush=True)  # noqa: T201
        bot = await start_bot(settings)
        stack.append(bot)
        if sandbox is not None and bot.services.kb is not None:
            from bot.sandbox.demo import seed_handbook

            if await seed_handbook(bot.services.kb):
                print("Knowledge base: the sample handbook (on-call, expenses, VPN, "  # noqa: T201
                      "deploys) was ingested, as it was empty", flush=True)
        if server is not None:
            restore = functools.partial(restore_routed_adapters, bot.session, settings,
                                        bot.services.llm.model)
            bot.tasks.append(asyncio.create_task(server.supervise(on_restart=restore)))
        mode = "Socket Mode" if settings.socket_mode else f"HTTP mode on :{bot.http_port}"
        print(f"Tandem is running ({mode}). Ctrl-C stops it.", flush=True)  # noqa: T201
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        return 0
    finally:
        for part in reversed(stack):
            await part.stop()


def _cmd_run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        return asyncio.run(_run(args))
    except ConfigError as exc:
        print(f"tandem: {exc}", file=sys.stderr)  # noqa: T201
        return 2


def register(sub: Any) -> None:
    parser = sub.add_parser("run", help="run Tandem (sandbox + embedded vLLM when nothing is set)")
    parser.add_argument("--sandbox-port", type=int, default=None)
    parser.set_defaults(func=_cmd_run)


