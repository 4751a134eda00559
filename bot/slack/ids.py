"""Every action_id, callback_id and block_id Tandem uses, in one place."""

from __future__ import annotations

__all__ = [
    "APPROVE", "EDIT", "QUOTE", "REGENERATE", "REJECT", "RETRY", "REROUTE", "EDIT_FROM_REACTION",
    "FEEDBACK_UP", "FEEDBACK_DOWN", "EDIT_VIEW", "REJECT_VIEW", "DRAFT_SHORTCUT",
    "EDIT_BLOCK_PREFIX", "EDIT_ACTION", "REASON_BLOCK", "REASON_ACTION", "SLASH_COMMAND",
    "REVIEW_ACTIONS",
]

APPROVE = "tandem_approve"
EDIT = "tandem_edit"
QUOTE = "tandem_quote"  # the edit modal, holding the best-matching sentence as the answer
REGENERATE = "tandem_regenerate"
REJECT = "tandem_reject"
RETRY = "tandem_retry"
REROUTE = "tandem_reroute"
EDIT_FROM_REACTION = "tandem_edit_from_reaction"
FEEDBACK_UP = "tandem_feedback_up"
FEEDBACK_DOWN = "tandem_feedback_down"

REVIEW_ACTIONS = (APPROVE, EDIT, REGENERATE, REJECT)

EDIT_VIEW = "tandem_edit_view"
REJECT_VIEW = "tandem_reject_view"
DRAFT_SHORTCUT = "tandem_draft_reply"
SLASH_COMMAND = "/tandem"

# The edit modal splits long drafts over several inputs: edit_part_0, edit_part_1, …
EDIT_BLOCK_PREFIX = "edit_part_"
EDIT_ACTION = "text"
REASON_BLOCK = "reason"
REASON_ACTION = "text"
