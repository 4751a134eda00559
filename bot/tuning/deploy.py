"""Deploy a LoRA adapter into the running vLLM, under a versioned name.

vLLM loads adapters at runtime through `POST /v1/load_lora_adapter` (the server
needs `--enable-lora` and `VLLM_ALLOW_RUNTIME_LORA_UPDATING=True`). Names are
`tandem-v1`, `tandem-v2`, …; a name is never reused for other weights. Two
places are checked: the server's `/v1/models` (what is loaded now) and a small
JSON registry in the data dir (what was ever deployed, which survives a server
restart that forgot the adapters). The registry is append-only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bot.errors import ConfigError

__all__ = ["Registry", "deploy_adapter", "list_models", "next_name", "restore_adapters",
           "routed_adapters", "server_root"]

_VERSIONED = re.compile(r"^(?P<prefix>.+)-v(?P<n>\d+)$")


def server_root(base_url: str) -> str:
    """`http://host:port` from a base URL given with or without `/v1`."""
    root = base_url.rstrip("/")
    return root[: -len("/v1")] if root.endswith("/v1") else root


def next_name(taken: Iterable[str], prefix: str = "tandem") -> str:
    """The next free `prefix-vN`, one past the highest version ever used."""
    highest = 0
    for name in taken:
        m = _VERSIONED.match(name)
        if m and m.group("prefix") == prefix:
            highest = max(highest, int(m.group("n")))
    return f"{prefix}-v{highest + 1}"


class Registry:
    """Append-only record of deployed adapters: `{data_dir}/adapters.json`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        data = json.loads(self.path.read_text(encoding="utf-8"))
        return list(data.get("adapters", []))

    def names(self) -> set[str]:
        return {str(e["name"]) for e in self.entries()}

    def path_of(self, name: str) -> str | None:
        paths = [str(e["path"]) for e in self.entries() if e.get("name") == name]
        return paths[-1] if paths else None

    def add(self, name: str, path: str, server: str) -> dict[str, Any]:
        entry = {"name": name, "path": path, "server": server,
                 "deployed_at": datetime.now(UTC).isoformat(timespec="seconds")}
        entries = [*self.entries(), entry]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"adapters": entries}, indent=2), encoding="utf-8")
        tmp.replace(self.path)  # atomic: a crash never leaves half a registry
        return entry


async def list_models(session: aiohttp.ClientSession, base_url: str) -> list[str]:
    """Model and adapter names the server serves now."""
    async with session.get(f"{server_root(base_url)}/v1/models") as resp:
        resp.raise_for_status()
        body = await resp.json()
    return [str(m["id"]) for m in body.get("data", [])]


def _check_adapter_dir(path: Path) -> None:
    if not (path / "adapter_config.json").is_file():
        raise ConfigError(f"{path} is not an adapter directory (no adapter_config.json)")
    config = json.loads((path / "adapter_config.json").read_text(encoding="utf-8"))
    if config.get("modules_to_save"):
        raise ConfigError(f"{path} has modules_to_save, which vLLM refuses to load")


async def deploy_adapter(
    session: aiohttp.ClientSession, base_url: str, name: str, path: Path, registry: Registry,
) -> dict[str, Any]:
    """Load `path` as `name`; refuses a name that is loaded or was ever deployed."""
    path = path.resolve()  # the server resolves relative paths against its own cwd
    _check_adapter_dir(path)
    loaded = await list_models(session, base_url)
    if name in loaded or name in registry.names():
        raise ConfigError(f"adapter name {name!r} is already used; versions are never "
                          f"overwritten: try {next_name([*loaded, *registry.names()])}")
    try:
        await _load(session, base_url, name, str(path))
    except ConfigError as exc:
        raise ConfigError(f"{exc}; the server needs --enable-lora and "
                          "VLLM_ALLOW_RUNTIME_LORA_UPDATING=True") from exc
    return registry.add(name, str(path), server_root(base_url))


def routed_adapters(traffic: dict[str, dict[str, float]], base: str) -> set[str]:
    """The adapter names `tandem.yaml`'s traffic split sends drafts to."""
    return {name for shares in traffic.values() for name, share in shares.items()
            if share > 0 and name != base}


async def _load(session: aiohttp.ClientSession, base_url: str, name: str, path: str) -> None:
    url = f"{server_root(base_url)}/v1/load_lora_adapter"
    async with session.post(url, json={"lora_name": name, "lora_path": path}) as resp:
        if resp.status >= 400 and "already" not in (detail := (await resp.text())[:500]):
            raise ConfigError(f"vLLM refused adapter {name!r} from {path} ({resp.status}): "
                              f"{detail}")


async def restore_adapters(session: aiohttp.ClientSession, base_url: str,
                           wanted: Iterable[str], registry: Registry
                           ) -> tuple[list[str], list[str]]:
    """Load the adapters in `wanted` that the server does not serve now, from the paths
    they were deployed from: a vLLM that restarted (a crash, a new `tandem run`) has
    forgotten every adapter loaded at runtime, and each draft routed to one would fail.
    Returns (names loaded, problems): an adapter deployed from elsewhere (another bot
    replica's data dir, vLLM's LoRA resolver directory) is not an error here, as the
    server may still load it by name on the first request."""
    served = set(await list_models(session, base_url))
    restored: list[str] = []
    problems: list[str] = []
    for name in sorted(set(wanted) - served):
        path = registry.path_of(name)
        if path is None:
            problems.append(f"traffic routes drafts to {name!r}, which the LLM server does "
                            "not serve now and `tandem tune deploy` did not record here; "
                            "drafts routed to it fail unless the server loads it by name "
                            "(vLLM's LoRA resolver)")
            continue
        try:
            await _load(session, base_url, name, path)
        except ConfigError as exc:
            problems.append(str(exc))
            continue
        restored.append(name)
    return restored, problems
