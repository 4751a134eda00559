"""The records: requests, drafts (versioned), decisions, and seen events.

A *request* is one ask from Slack (a mention, DM, shortcut, command or an
external customer's message). Each generation for it is a *draft* with a
version number; regenerating supersedes the previous version but keeps it.
A *decision* is the one verdict on a draft, with its whole provenance copied in
so that datasets can be rebuilt from the records alone (never re-rendered from
today's prompts). *Seen events* de-duplicate Slack redeliveries and clicks.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = ["NO_SOURCES_MODEL", "Decision", "Draft", "DraftStatus", "Request", "SeenEvent",
           "Verdict", "utcnow"]


# A question draft's `model` when the knowledge base had nothing relevant and no model
# was asked (the draft says so plainly); `tandem kb gaps` lists those questions.
NO_SOURCES_MODEL = "none (no sources found)"


def utcnow() -> datetime:
    return datetime.now(UTC)


class DraftStatus(StrEnum):
    requested = "requested"
    generating = "generating"
    pending_review = "pending_review"
    approved = "approved"
    edited = "edited"
    rejected = "rejected"
    expired = "expired"
    failed = "failed"
    superseded = "superseded"
    posted = "posted"  # auto_post: published without review, feedback buttons attached


class Verdict(StrEnum):
    approved = "approved"
    edited = "edited"
    rejected = "rejected"
    expired = "expired"
    failed = "failed"


class Request(SQLModel, table=True):
    id: str = Field(primary_key=True)
    # Idempotency: the Slack event_id / envelope key that created this request.
    event_key: str = Field(unique=True, index=True)
    team_id: str = ""
    channel_id: str = Field(index=True)
    channel_kind: str = "internal"  # internal | support | shared | im
    message_ts: str | None = None  # the message that asked
    thread_ts: str | None = None  # the thread the final answer belongs in
    user_id: str = ""
    author: str = "member"  # member | external
    trigger: str = "mention"  # mention | dm | shortcut | command | external
    text: str = Field(default="", sa_column=Column(Text))
    # People in the conversation: the only ones a draft may @mention.
    participants: list[str] = Field(default_factory=list, sa_column=Column(JSON))
    job: str = "document"
    route_reason: str = ""
    route_source: str = ""  # context | explicit | classifier | llm
    # Where the draft is shown for review (differs from channel_id for support).
    review_channel_id: str | None = None
    review_thread_ts: str | None = None
    source_permalink: str | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Draft(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("request_id", "version"),)

    id: str = Field(primary_key=True)
    request_id: str = Field(foreign_key="request.id", index=True)
    version: int = 1
    status: DraftStatus = Field(default=DraftStatus.requested, index=True)
    job: str = "document"
    prompt_name: str = ""
    prompt_version: str = ""
    model: str = ""  # base model name, or the LoRA adapter name it came from
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    # Exactly the chat messages the model saw (system, context, sources, ask).
    messages: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    sources: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))
    context_text: str = Field(default="", sa_column=Column(Text))
    text: str = Field(default="", sa_column=Column(Text))
    error: str | None = None
    # The Slack message that shows this draft.
    message_channel_id: str | None = None
    message_ts: str | None = None
    usage: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    ttft_ms: float | None = None
    draft_ms: float | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = None


class Decision(SQLModel, table=True):
    id: str = Field(primary_key=True)
    # One decision per draft, enforced by the database.
    draft_id: str = Field(foreign_key="draft.id", unique=True)
    request_id: str = Field(foreign_key="request.id", index=True)
    idempotency_key: str = Field(unique=True)
    verdict: Verdict = Field(index=True)
    source: str = "button"  # button | reaction | modal | feedback | system
    reviewer_id: str | None = None
    reason: str | None = Field(default=None, sa_column=Column(Text))
    # Provenance, copied from the request and draft at decision time.
    job: str = Field(default="", index=True)
    prompt_name: str = ""
    prompt_version: str = ""
    model: str = Field(default="", index=True)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    request_text: str = Field(default="", sa_column=Column(Text))
    context_text: str = Field(default="", sa_column=Column(Text))
    draft_text: str = Field(default="", sa_column=Column(Text))
    final_text: str | None = Field(default=None, sa_column=Column(Text))
    edit_distance: int | None = None
    final_channel_id: str | None = None
    final_ts: str | None = None
    ttft_ms: float | None = None
    draft_ms: float | None = None
    decision_ms: float | None = None  # from draft ready to decision
    decided_at: datetime = Field(default_factory=utcnow, index=True)


class SeenEvent(SQLModel, table=True):
    key: str = Field(primary_key=True)
    created_at: datetime = Field(default_factory=utcnow)
