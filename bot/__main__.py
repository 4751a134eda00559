"""`python -m bot` is the same as the `tandem` console script."""

from __future__ import annotations

from bot.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
