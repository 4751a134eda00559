"""Traffic split: deterministic by key, shares honoured, base takes the rest."""

from __future__ import annotations

from collections import Counter

from bot.tuning.traffic import choose_model

BASE = "gemma3-270m"


def test_same_key_always_gets_the_same_arm() -> None:
    traffic = {"support": {"tandem-v2": 0.5}}
    picks = {choose_model("support", traffic, BASE, "req-42") for _ in range(20)}
    assert len(picks) == 1


def test_arm_does_not_depend_on_yaml_order() -> None:
    a = {"support": {"tandem-v1": 0.3, "tandem-v2": 0.3}}
    b = {"support": {"tandem-v2": 0.3, "tandem-v1": 0.3}}
    for i in range(500):
        key = f"r{i}"
        assert choose_model("support", a, BASE, key) == choose_model("support", b, BASE, key)


def test_shares_are_honoured_within_two_points() -> None:
    traffic = {"support": {"tandem-v2": 0.5, "tandem-v1": 0.2}}
    counts = Counter(choose_model("support", traffic, BASE, f"req-{i}") for i in range(20000))
    assert abs(counts["tandem-v2"] / 20000 - 0.5) < 0.02
    assert abs(counts["tandem-v1"] / 20000 - 0.2) < 0.02
    assert abs(counts[BASE] / 20000 - 0.3) < 0.02


def test_other_jobs_and_empty_config_stay_on_base() -> None:
    traffic = {"support": {"tandem-v2": 1.0}}
    assert choose_model("document", traffic, BASE, "r1") == BASE
    assert choose_model("support", {}, BASE, "r1") == BASE
    assert choose_model("support", {"support": {"tandem-v2": 0.0}}, BASE, "r1") == BASE


def test_full_share_sends_everything_to_the_adapter() -> None:
    traffic = {"support": {"tandem-v2": 1.0}}
    assert {choose_model("support", traffic, BASE, f"r{i}") for i in range(300)} == {"tandem-v2"}


def test_shares_over_one_are_scaled_and_never_reach_base() -> None:
    traffic = {"support": {"a": 1.0, "b": 1.0}}
    counts = Counter(choose_model("support", traffic, BASE, f"r{i}") for i in range(4000))
    assert counts[BASE] == 0 and abs(counts["a"] / 4000 - 0.5) < 0.04
