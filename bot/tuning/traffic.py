"""The traffic split: which model or LoRA adapter drafts a request.

`tandem.yaml` sets `traffic: {job: {name: share}}`, e.g. `support: {tandem-v2: 0.5}`
sends half of support drafts to the adapter; whatever the shares leave over goes
to the base model. Shares that sum past 1 are scaled down to sum to 1.

The choice is a pure function of (job, key). The drafting code passes the
*request* id as the key, so a Regenerate stays on the same arm: the versions
of one request then form a clean preference pair within one model, and each
arm's approval rate counts requests rather than clicks. The hash is SHA-256,
not Python's `hash()`, so the split is the same across processes and restarts.
"""

from __future__ import annotations

import hashlib

__all__ = ["choose_model", "unit_interval"]


def unit_interval(job: str, key: str) -> float:
    """A uniform number in [0, 1) fixed by (job, key)."""
    digest = hashlib.sha256(f"{job}\x00{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def choose_model(job: str, traffic: dict[str, dict[str, float]], base: str, key: str) -> str:
    """The model or adapter name for this job and request key."""
    shares = {name: share for name, share in traffic.get(job, {}).items() if share > 0}
    total = sum(shares.values())
    if total <= 0:
        return base
    scale = max(total, 1.0)
    point = unit_interval(job, key)
    edge = 0.0
    # Sorted so the arms do not move when the YAML lists them in another order.
    for name in sorted(shares):
        edge += shares[name] / scale
        if point < edge:
            return name
    return base
