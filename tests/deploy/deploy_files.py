"""Loading what `deploy/` holds: YAML documents, compose files, kustomize overlays.

Rendering prefers the real `kubectl kustomize` when it is installed; otherwise a
small resolver follows `resources:` (the only kustomize feature the overlays use,
and it refuses any other so it can never render something kustomize would not).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "DEPLOY", "OVERLAYS", "compose", "env_of", "interpolate", "load_docs", "objects",
    "render", "render_with_resolver", "yaml_files",
]

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
OVERLAYS = ("http", "socket-mode")
_KUSTOMIZE_KEYS = {"apiVersion", "kind", "namespace", "resources", "labels"}
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def yaml_files() -> list[Path]:
    return sorted(p for p in DEPLOY.rglob("*") if p.suffix in {".yaml", ".yml"})


def load_docs(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        return [doc for doc in yaml.safe_load_all(fh) if doc is not None]


def interpolate(value: Any, env: dict[str, str] | None = None) -> Any:
    """Compose-style `${VAR}`, `${VAR:-default}`, `${VAR:?error}` over a parsed file."""
    env = env or {}
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3)
        if name in env and (env[name] or not (op or "").startswith(":")):
            return env[name]
        if op and op.endswith("-"):
            return arg or ""
        if op and op.endswith("?"):
            return f"<{name}>"  # required: the user must set it
        return ""

    return _VAR.sub(sub, value)


def compose(env: dict[str, str] | None = None) -> dict[str, Any]:
    (doc,) = load_docs(DEPLOY / "docker-compose.yml")
    return dict(interpolate(doc, env))


def render_with_resolver(directory: Path) -> list[dict[str, Any]]:
    (kustomization,) = load_docs(directory / "kustomization.yaml")
    unknown = set(kustomization) - _KUSTOMIZE_KEYS
    if unknown:
        raise ValueError(f"{directory}: the test resolver does not handle {sorted(unknown)}")
    docs: list[dict[str, Any]] = []
    for resource in kustomization.get("resources", []):
        target = (directory / resource).resolve()
        docs += render_with_resolver(target) if target.is_dir() else load_docs(target)
    return docs


@cache
def _kustomize(kubectl: str, directory: Path) -> str:
    # Cached as text: every caller parses its own copy, so no test sees another's edits.
    return subprocess.run([kubectl, "kustomize", str(directory)], capture_output=True,
                          text=True, timeout=60, check=True).stdout


def render(directory: Path) -> list[dict[str, Any]]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        return render_with_resolver(directory)
    out = _kustomize(kubectl, directory)
    return [doc for doc in yaml.safe_load_all(out) if doc is not None]


def objects(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d.get("kind") == kind}


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    """Env var name -> literal value, or the valueFrom mapping."""
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container.get("env", [])}
