"""`tandem run` with a setting that cannot work stops at once with one line saying what to set."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.runner import start_bot
from bot.sandbox.server import Sandbox, SandboxConfig
from tests.support.fake_llm import FakeLLM
from tests.support.harness import Harness

ROOT = Path(__file__).resolve().parents[2]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def tandem_run(tmp_path: Path, **env: str) -> tuple[int, list[str]]:
    """Run `python -m bot run` with only `env` set; its exit code and its stderr lines
    that begin "tandem:"."""
    code, err = await tandem(tmp_path, "run", **env)
    return code, [line for line in err.splitlines() if line.startswith("tandem:")]


async def tandem(tmp_path: Path, *argv: str, **env: str) -> tuple[int, str]:
    """Run `python -m bot ARGV` with only `env` set; its exit code and all its stderr."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "TANDEM_"))}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *argv, cwd=ROOT,
        env={**base, "PYTHONPATH": str(ROOT), "TANDEM_DATA_DIR": str(tmp_path), **env},
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        _, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    except TimeoutError:
        proc.kill()
        raise
    return int(proc.returncode or 0), err.decode()


@pytest.mark.parametrize(("env", "says"), [
    ({"SLACK_APP_TOKEN": "xapp-1-A1-1-abc"}, "SLACK_BOT_TOKEN is not set"),
    ({"SLACK_BOT_TOKEN": "xoxb-1"}, "set SLACK_APP_TOKEN (xapp-…) for Socket Mode or "
                                    "SLACK_SIGNING_SECRET"),
    ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"},
     "SLACK_APP_TOKEN must be an app-level token"),
    ({"TANDEM_CONFIG": "/nonexistent/tandem.yaml"}, "which does not exist"),
])
async def test_slack_and_config_settings_that_cannot_work_stop_start_up_naming_the_fix(
        tmp_path: Path, env: dict[str, str], says: str) -> None:
    code, lines = await tandem_run(tmp_path, **env)
    assert code == 2 and len(lines) == 1 and says in lines[0], lines


async def test_an_unreachable_llm_stops_start_up_naming_its_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    code, lines = await tandem_run(tmp_path, SLACK_BOT_TOKEN="xoxb-1",
                                   SLACK_APP_TOKEN="xapp-1", TANDEM_LLM_BASE_URL=url)
    assert code == 2 and len(lines) == 1, lines
    assert url in lines[0] and "unreachable" in lines[0] and "TANDEM_LLM_BASE_URL" in lines[0]


async def test_a_wrong_model_a_refused_token_or_no_slack_stop_start_up(
        tmp_path: Path) -> None:
    llm = FakeLLM(model="tandem-base")
    await llm.start()
    sandbox = Sandbox(SandboxConfig(db_path=tmp_path / "sandbox.sqlite"))
    await sandbox.start()
    try:
        slack = {"SLACK_APP_TOKEN": "xapp-sandbox", "SLACK_API_URL": sandbox.api_url,
                 "TANDEM_LLM_BASE_URL": llm.base_url}
        code, lines = await tandem_run(tmp_path, SLACK_BOT_TOKEN="xoxb-sandbox",
                                       TANDEM_LLM_MODEL="gemma-7b", **slack)
        assert code == 2 and len(lines) == 1, lines
        assert "TANDEM_LLM_MODEL='gemma-7b'" in lines[0] and "tandem-base" in lines[0]
        code, lines = await tandem_run(tmp_path, SLACK_BOT_TOKEN="xoxb-stolen", **slack)
        assert code == 2 and len(lines) == 1, lines
        assert "Slack refused SLACK_BOT_TOKEN" in lines[0] and "(invalid_auth)" in lines[0]
        code, lines = await tandem_run(tmp_path, SLACK_BOT_TOKEN="xoxb-sandbox", **{
            **slack, "SLACK_API_URL": f"http://127.0.0.1:{_closed_port()}/api/"})
        assert code == 2 and len(lines) == 1 and "check SLACK_API_URL" in lines[0], lines
    finally:
        await sandbox.stop()
        await llm.stop()


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize(("argv", "env", "says"), [
    (("run",), {"TANDEM_SANDBOX_PORT": "{port}"}, "`tandem run --sandbox-port N`"),
    (("sandbox", "--port", "{port}", "--db", "{tmp}/sandbox.db"), {},
     "`tandem sandbox --port N`"),
    # Both before the LLM is even asked for (it is unreachable here): the embedded vLLM
    # would otherwise take a minute to start first.
    (("run",), {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
                "TANDEM_HTTP_PORT": "{port}", "TANDEM_LLM_BASE_URL": "http://127.0.0.1:9/v1"},
     "set TANDEM_HTTP_PORT to a free port"),
    (("run",), {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1",
                "TANDEM_METRICS_PORT": "{port}", "TANDEM_LLM_BASE_URL": "http://127.0.0.1:9/v1"},
     "set TANDEM_METRICS_PORT to a free port"),
])
async def test_a_port_another_program_holds_stops_start_up_naming_the_setting_to_change(
        tmp_path: Path, held_port: int, argv: tuple[str, ...], env: dict[str, str],
        says: str) -> None:
    code, err = await tandem(tmp_path, *(a.format(port=held_port, tmp=tmp_path) for a in argv),
                             **{k: v.format(port=held_port) for k, v in env.items()})
    lines = [line for line in err.splitlines() if line.startswith("tandem:")]
    assert code == 2 and len(lines) == 1, err
    assert f":{held_port}: another program is listening there" in lines[0] and says in lines[0]
    # One line, not an OSError traceback and an unclosed session.
    assert "Traceback" not in err and "Unclosed" not in err, err


@pytest.mark.harness(mode="http")
async def test_a_second_bot_on_a_running_bots_http_port_names_the_setting_and_the_first_works_on(
        tandem: Harness) -> None:
    assert tandem.bot is not None
    taken = tandem.bot.http_port
    with pytest.raises(ConfigError, match=f":{taken}: another program .* TANDEM_HTTP_PORT"):
        await start_bot(tandem.settings(taken))
    assert tandem.slack is not None
    ts = await tandem.slack.post("general", "alice", "<@U0BOT> write a short note about lunch")
    assert "short draft" in (await tandem.wait_draft("C0GENERAL", ts))["text"]
