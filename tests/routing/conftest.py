"""Shared fixtures for routing tests: one trained classifier per session."""

from __future__ import annotations

import pytest

from bot.routing.classifier import TextClassifier


@pytest.fixture(scope="session")
def classifier() -> TextClassifier:
    return TextClassifier.from_seeds()
