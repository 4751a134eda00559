from __future__ import annotations

from bot.review.policy import refusal
from bot.settings import ChannelPolicy

GROUPS = {"reviewers": {"U0BOB"}}


def ask(user: str = "U0BOB", *, external: bool = False, member: bool = True,
        requester: str = "U0ALICE", policy: ChannelPolicy | None = None) -> str | None:
    return refusal(user_id=user, is_external=external, is_member=member, requester_id=requester,
                   policy=policy or ChannelPolicy(), groups=GROUPS)


def test_default_policy_lets_any_internal_member_review_including_requester() -> None:
    assert ask("U0BOB") is None
    assert ask("U0ALICE") is None


def test_external_users_never_review_even_when_listed() -> None:
    assert ask("U0CAROL", external=True, policy=ChannelPolicy(reviewers=["U0CAROL"]))


def test_non_member_is_refused_without_reviewer_list() -> None:
    assert ask("U0DAVE", member=False)


def test_reviewer_list_accepts_group_handles_and_ids() -> None:
    policy = ChannelPolicy(reviewers=["@reviewers", "U0ERIN"])
    assert ask("U0BOB", policy=policy) is None
    assert ask("U0ERIN", policy=policy) is None
    assert "reviewers" in (ask("U0ALICE", policy=policy) or "")


def test_self_approval_can_be_forbidden() -> None:
    policy = ChannelPolicy(allow_self_approve=False)
    assert ask("U0ALICE", requester="U0ALICE", policy=policy)
    assert ask("U0BOB", requester="U0ALICE", policy=policy) is None
