"""Run a snippet of Python under several hash seeds, for tests of what must not depend on
a set's order (which Python's hash seed sets, process by process)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def outputs_under_hash_seeds(script: str, seeds: range) -> set[str]:
    """What `script` prints (stripped) in a fresh process per seed of `seeds`, each
    different output once."""
    return {subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           check=True, cwd=ROOT,
                           env={**os.environ, "PYTHONHASHSEED": str(seed),
                                "PYTHONPATH": str(ROOT)}).stdout.strip()
            for seed in seeds}
