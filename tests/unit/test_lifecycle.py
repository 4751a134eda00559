from __future__ import annotations

import pytest

from bot.store.lifecycle import TERMINAL, IllegalTransition, can_move, check_move
from bot.store.models import DraftStatus as S


@pytest.mark.parametrize("source,target", [
    (S.requested, S.generating), (S.generating, S.pending_review), (S.generating, S.failed),
    (S.pending_review, S.approved), (S.pending_review, S.edited), (S.pending_review, S.rejected),
    (S.pending_review, S.expired), (S.pending_review, S.superseded), (S.failed, S.generating),
    (S.generating, S.posted), (S.posted, S.approved),
])
def test_allowed_transitions_move(source: S, target: S) -> None:
    assert can_move(source, target)
    check_move(source, target)


@pytest.mark.parametrize("terminal", sorted(TERMINAL))
def test_terminal_states_never_move_again(terminal: S) -> None:
    for target in S:
        assert not can_move(terminal, target)


def test_illegal_transition_raises_with_both_states() -> None:
    with pytest.raises(IllegalTransition) as err:
        check_move(S.requested, S.approved)
    assert "requested" in str(err.value) and "approved" in str(err.value)
