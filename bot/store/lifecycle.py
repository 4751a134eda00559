"""The draft lifecycle as pure code.

requested → generating → pending_review → approved | edited | rejected | expired
| failed, plus superseded (a newer version replaced it) and posted (auto_post).
A failed draft can be retried: it goes back to generating. Terminal states
never change again, which is what makes duplicate clicks harmless.
"""

from __future__ import annotations

from bot.store.models import DraftStatus as S

__all__ = ["IllegalTransition", "TERMINAL", "can_move", "check_move"]

_ALLOWED: dict[S, frozenset[S]] = {
    S.requested: frozenset({S.generating, S.failed, S.superseded}),
    S.generating: frozenset({S.pending_review, S.posted, S.failed, S.superseded}),
    S.pending_review: frozenset(
        {S.approved, S.edited, S.rejected, S.expired, S.superseded, S.failed}
    ),
    S.failed: frozenset({S.generating, S.superseded}),
    S.posted: frozenset({S.approved, S.rejected, S.failed}),  # feedback on an auto-posted answer
}

TERMINAL = frozenset({S.approved, S.edited, S.rejected, S.expired, S.superseded})


class IllegalTransition(Exception):
    def __init__(self, current: S, target: S) -> None:
        super().__init__(f"draft cannot move from {current} to {target}")
        self.current = current
        self.target = target


def can_move(current: S, target: S) -> bool:
    return target in _ALLOWED.get(current, frozenset())


def check_move(current: S, target: S) -> None:
    if not can_move(current, target):
        raise IllegalTransition(current, target)
