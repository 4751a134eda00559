"""Routing: which job (document, question, support) a message asks for.

Context rules first (`rules`), then a multilingual text classifier trained
from `seeds.yaml` (`classifier`, `features`, `cues`), then the LLM when the
classifier is unsure (`router`). `tandem route eval` lives in `cli`.
"""

from __future__ import annotations

from bot.routing.router import JOBS, RouteDecision, RouteInput, Router

__all__ = ["JOBS", "RouteDecision", "RouteInput", "Router"]
