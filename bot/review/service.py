"""Review: the reviewer policy, idempotent decisions, publishing and expiry.

Every verdict goes through `repo.decide`, which lets exactly one of any number
of racing clicks, reactions and redeliveries win. Only the winner publishes;
everyone else gets a polite ephemeral note and nothing changes.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.drafting.contacts import invented_contacts, shown
from bot.drafting.context import asked, search_query
from bot.drafting.figures import FIGURE_JOBS, figures_shown, invented_figures
from bot.drafting.foreign import foreign_words
from bot.drafting.promises import PROMISE_JOBS, offered, unoffered_promises
from bot.drafting.split import MESSAGE_LIMIT, split_text
from bot.kb.citations import answer_basis, answer_part, unknown_citations, with_sources
from bot.kb.evidence import quoted_answer
from bot.kb.grounding import Grounding, grounding
from bot.prompts import model_part, opening_quote, repeats_example, without_lead
from bot.review import blocks as B
from bot.review.policy import refusal
from bot.store import repo
from bot.store.models import Decision, Draft, DraftStatus, Request, Verdict
from bot.texts import T

if TYPE_CHECKING:
    from bot.container import Services

__all__ = ["ReviewService", "thread_of"]

log = logging.getLogger(__name__)


FINAL_EVENT = "tandem_final_post"


def final_metadata(decision_id: str, part: int, parts: int) -> dict[str, Any]:
    """Slack message metadata marking part `part` of `parts` of a decision's final post."""
    return {"event_type": FINAL_EVENT,
            "event_payload": {"decision_id": decision_id, "part": part, "parts": parts}}


def final_part(metadata: Any, decision_id: str) -> int | None:
    """Which part of `decision_id`'s final post a message's metadata marks, if any."""
    if not isinstance(metadata, dict) or metadata.get("event_type") != FINAL_EVENT:
        return None
    payload = metadata.get("event_payload") or {}
    if payload.get("decision_id") != decision_id:
        return None
    part = payload.get("part")
    return part if isinstance(part, int) else None


def _when(moment: datetime | None = None) -> str:
    return (moment or datetime.now()).strftime("%Y-%m-%d %H:%M UTC")


class ReviewService:
    # How long an edit's check may wait for its draft before the modal closes: Slack
    # wants the answer within three seconds. Past it, the check runs after (`on_edit`).
    edit_check_seconds: float = 1.0

    def __init__(self, services: Services) -> None:
        self.s = services

    async def load(self, draft_id: str) -> tuple[Draft, Request] | None:
        return await self.s.store.run(partial(repo.draft_with_request, draft_id=draft_id))

    async def vet_edit(self, draft_id: str, text: str, *, in_time: bool = True
                       ) -> tuple[str | None, str, bool | None]:
        """A reviewer's edited text, checked: (what is wrong with it; the text to post;
        whether it is the draft unchanged, None when the draft could not be read in
        time). An answer's edit may cite only the answer's sources (a "[7]" would be a
        dead citation posted in the team's name), and its Sources block follows what it
        cites (`with_sources`). `in_time`: before the modal closes, so the draft is read
        within `edit_check_seconds`; past that the caller checks again after closing it."""
        try:
            loaded = await asyncio.wait_for(
                self.load(draft_id), timeout=self.edit_check_seconds if in_time else None)
        except TimeoutError:
            return None, text, None
        draft = loaded[0] if loaded else None
        if draft is None:
            return None, text, False
        if draft.job == "question":
            numbers = sorted({int(x["n"]) for x in draft.sources or []})
            bad = unknown_citations(text, numbers)
            if bad:
                markers = ", ".join(f"[{n}]" for n in bad)
                if not numbers:
                    return T.EDIT_CITATION_NO_SOURCES.format(markers=markers), text, False
                valid = ", ".join(f"[{n}]" for n in numbers)
                return T.EDIT_UNKNOWN_CITATION.format(markers=markers, valid=valid), text, False
            text = with_sources(text, draft.sources or [], draft.text or "")
        return None, text, (draft.text or "").strip() == text.strip()

    async def edit_refused(self, draft_id: str, user_id: str, problem: str, text: str) -> None:
        """Tell a reviewer whose modal closed before their edit was checked what the check
        found, in the draft's thread, with their text: nothing was posted."""
        loaded = await self.load(draft_id)
        if loaded is not None:
            draft, request = loaded
            await self.notify(draft.message_channel_id, user_id,
                              T.EDIT_NOT_POSTED.format(problem=problem, text=text),
                              thread_of(request))

    async def notify(self, channel: str | None, user: str, text: str,
                     thread_ts: str | None = None, blocks: list[dict[str, Any]] | None = None
                     ) -> None:
        """An ephemeral note, in the draft's thread when there is one."""
        if not channel:
            return
        try:
            await self.s.client.chat_postEphemeral(channel=channel, user=user, text=text,
                                                   thread_ts=thread_ts, blocks=blocks)
        except SlackApiError as exc:
            log.warning("ephemeral to %s failed: %s", user, exc.response.get("error"))

    async def gate(self, draft_id: str, user_id: str, user_team_id: str | None,
                   *, channel: str | None = None) -> tuple[Draft, Request] | None:
        """The draft if this user may review it now; otherwise tell them why and None."""
        loaded = await self.load(draft_id)
        if loaded is None:
            await self.notify(channel, user_id, T.UNKNOWN_DRAFT)
            return None
        draft, request = loaded
        where = draft.message_channel_id or channel
        thread = thread_of(request)
        if draft.status == DraftStatus.superseded:
            await self.notify(where, user_id, T.SUPERSEDED, thread)
            return None
        if draft.status in (DraftStatus.generating, DraftStatus.requested):
            await self.notify(where, user_id, T.NOT_READY, thread)
            return None
        if draft.status not in (DraftStatus.pending_review, DraftStatus.failed, DraftStatus.posted):
            await self._already(draft, user_id, request)
            return None
        d = self.s.directory
        review_channel = request.review_channel_id or request.channel_id
        info = await d.channel(review_channel)
        policy = self.s.settings.policy_for(request.channel_id,
                                            (await d.channel(request.channel_id)).name)
        groups = await d.groups(policy.reviewers) if policy.reviewers else {}
        is_member = info.is_im or user_id in await d.members(review_channel)
        why = refusal(user_id=user_id, is_external=await d.is_external(user_id, user_team_id),
                      is_member=is_member, requester_id=request.user_id, policy=policy,
                      groups=groups)
        if why and not (draft.status == DraftStatus.posted and why == T.WHY_SELF):
            await self.notify(where, user_id, T.NOT_ALLOWED.format(why=why), thread)
            return None
        return draft, request

    async def _already(self, draft: Draft, user_id: str, request: Request | None = None) -> None:
        decision = await self.s.store.run(lambda x: repo.get_decision(x, draft_id=draft.id))
        who = f"<@{decision.reviewer_id}>" if decision and decision.reviewer_id else "Tandem"
        verdict = decision.verdict.value if decision else draft.status.value
        await self.notify(draft.message_channel_id, user_id,
                          T.ALREADY_DECIDED.format(verdict=verdict, who=who),
                          thread_of(request) if request else None)

    # ---- verdicts -----------------------------------------------------------
    async def decide(self, draft_id: str, *, verdict: Verdict, user_id: str,
                     user_team_id: str | None, key: str, source: str,
                     final_text: str | None = None, reason: str | None = None,
                     channel: str | None = None) -> Decision | None:
        gated = await self.gate(draft_id, user_id, user_team_id, channel=channel)
        if gated is None:
            return None
        draft, request = gated
        from_status = DraftStatus.posted if draft.status == DraftStatus.posted \
            else DraftStatus.pending_review
        if verdict == Verdict.approved and final_text is None:
            final_text = draft.text
        decision = await self.s.store.run(lambda x: repo.decide(
            x, draft_id=draft_id, verdict=verdict, key=key, source=source, reviewer_id=user_id,
            final_text=final_text, reason=reason, from_status=from_status))
        if decision is None:
            await self._already(draft, user_id, request)  # a racing reviewer or retry won
            return None
        self.s.metrics.decisions.labels(decision.job, verdict.value).inc()
        if from_status == DraftStatus.posted:
            await self.notify(draft.message_channel_id, user_id, T.FEEDBACK_THANKS,
                              thread_of(request))
            # 👍 on an answer posted without review is the approval it skipped: the
            # answer becomes knowledge as a reviewed one does. 👎 teaches nothing here.
            if verdict == Verdict.approved and draft.message_channel_id and draft.message_ts:
                await self._learn(request, draft.text, draft.message_channel_id,
                                  draft.message_ts, draft.id)
            return decision
        if verdict in (Verdict.approved, Verdict.edited):
            await self.publish(decision)
        await self.show_verdict(draft, verdict.value, user_id, reason=reason)
        return decision

    async def publish(self, decision: Decision, *, recovering: bool = False) -> None:
        """Post the final text where it belongs, once, and remember where.

        Each part carries message metadata naming its decision and place. `recovering`:
        a stop after some posts but before their record left them in the thread, so
        read the thread first and post only the parts that are not there."""
        s = self.s
        request = await s.store.run(lambda x: x.get(Request, decision.request_id))
        if request is None or decision.final_text is None:
            return
        thread = request.thread_ts or request.message_ts
        parts = split_text(decision.final_text, MESSAGE_LIMIT)
        ts_of = (await self._parts_posted(decision, request.channel_id, thread)
                 if recovering and thread else {})
        for i, part in enumerate(parts):
            if i not in ts_of:
                resp = await s.client.chat_postMessage(
                    channel=request.channel_id, thread_ts=thread, text=part, unfurl_links=False,
                    metadata=final_metadata(decision.id, i, len(parts)))
                ts_of[i] = str(resp["ts"])
        first_ts = ts_of.get(0)
        await s.store.run(lambda x: _set_final(x, decision.id, request.channel_id, first_ts))
        if first_ts:
            await self._learn(request, decision.final_text, request.channel_id, first_ts,
                              decision.draft_id)

    async def _learn(self, request: Request, answer: str, channel: str, ts: str,
                     draft_id: str) -> None:
        """An approved answer becomes a knowledge-base entry linked to its message, based
        on the sources it cites (all its draft's, if it cites none)."""
        s = self.s
        if request.job != "question" or s.kb is None or not answer.strip():
            return
        try:
            draft = await s.store.run(lambda x: x.get(Draft, draft_id))
            sources = draft.sources if draft else None
            link = (await s.client.chat_getPermalink(channel=channel,
                                                     message_ts=ts))["permalink"]
            info = await s.directory.channel(request.channel_id)
            # Only answers from public internal channels may be cited elsewhere.
            private = info.confined
            # The entry says what the answer says, without its lead ("According to
            # [1]:") that pointed at the draft's own sources.
            said = without_lead(answer, draft.messages) if draft else answer
            # A follow-up ("and what about hotels?") is stored with the question it follows.
            question = asked(request.text, draft.context_text or "") if draft else request.text
            await s.kb.add_answer(question=question, answer=said, permalink=link,
                                  channel_id=request.channel_id, private=private,
                                  basis=answer_basis(answer, sources or []))
        except Exception:  # the answer is posted; learning from it is best effort
            log.exception("could not add the approved answer to the knowledge base")

    async def show_verdict(self, draft: Draft, verdict: str, user_id: str | None,
                           reason: str | None = None) -> None:
        """Replace the draft's buttons with who decided what, and when."""
        if not draft.message_ts or not draft.message_channel_id:
            return
        loaded = await self.load(draft.id)
        request = loaded[1] if loaded else None
        line = T.VERDICT[verdict].format(who=user_id or "", when=_when())
        if reason:
            line += "  " + T.REJECT_REASON.format(reason=reason)
        header = None
        if request and request.review_channel_id != request.channel_id:
            header = T.SUPPORT_DRAFT_HEADER.format(permalink=request.source_permalink or "",
                                                   channel=request.channel_id)
        # (Off the loop: a draft in a language not checked since the start reads its lists.)
        foreign = await asyncio.to_thread(_foreign, draft, request)
        provenance = B.provenance_line(job=draft.job, prompt=draft.prompt_name,
                                       version=draft.prompt_version, model=draft.model,
                                       route_reason=request.route_reason if request else "",
                                       sources=draft.sources, draft_version=draft.version,
                                       repeats_example=repeats_example(draft.text,
                                                                       draft.messages),
                                       cut=(draft.usage or {}).get("cut"),
                                       not_in_sources=_grounding(draft, request),
                                       after_quote=bool(opening_quote(draft.messages or [])),
                                       invented_contacts=_invented(
                                           draft, self.s.settings.contacts),
                                       invented_figures=_figures(draft),
                                       unoffered_promises=_promises(draft, request),
                                       foreign_words=foreign)
        try:
            await self.s.client.chat_update(
                channel=draft.message_channel_id, ts=draft.message_ts,
                text=line, blocks=B.verdict_blocks(text=draft.text or "(no text)",
                                                   provenance=provenance, verdict_line=line,
                                                   header=header))
        except SlackApiError as exc:
            log.warning("could not mark draft %s %s: %s", draft.id, verdict,
                        exc.response.get("error"))

    # ---- modals -------------------------------------------------------------
    async def open_edit(self, draft_id: str, *, user_id: str, user_team_id: str | None,
                        trigger_id: str, channel: str | None = None, quote: bool = False
                        ) -> None:
        """The edit modal, holding the draft, or with `quote` the sentence of its sources
        that best matches the question, as an answer citing it (`quoted_answer`)."""
        gated = await self.gate(draft_id, user_id, user_team_id, channel=channel)
        if gated is None:
            return
        draft, request = gated
        if draft.status != DraftStatus.pending_review:
            await self._already(draft, user_id, request)
            return
        text = draft.text
        if quote and request is not None:
            asked = search_query(request.text, draft.context_text or "")
            sources = draft.sources or []
            # Weighed as the draft's evidence was, so it quotes the sentence named there.
            near = await self.s.kb.closeness(asked, sources, request.text) \
                if self.s.kb is not None else None
            text = quoted_answer(asked, sources, request.text, closeness=near) or text
        try:
            await self.s.client.views_open(trigger_id=trigger_id,
                                           view=B.edit_modal(draft_id=draft_id, text=text))
        except SlackApiError as exc:
            await self.notify(draft.message_channel_id, user_id,
                              T.EDITOR_FAILED.format(error=exc.response.get("error")),
                              thread_of(request))

    async def open_reject(self, draft_id: str, *, user_id: str, user_team_id: str | None,
                          trigger_id: str, channel: str | None = None) -> None:
        gated = await self.gate(draft_id, user_id, user_team_id, channel=channel)
        if gated is None:
            return
        try:
            await self.s.client.views_open(trigger_id=trigger_id, view=B.reject_modal(draft_id))
        except SlackApiError:
            # No modal (e.g. an expired trigger): reject without a reason rather than lose it.
            await self.decide(draft_id, verdict=Verdict.rejected, user_id=user_id,
                              user_team_id=user_team_id, key=f"reject:{draft_id}",
                              source="button", channel=channel)

    # ---- housekeeping -------------------------------------------------------
    async def expire_due(self) -> int:
        s = self.s
        due = await s.store.run(lambda x: repo.due_for_expiry(
            x, older_than=s.settings.draft_expiry_seconds))
        count = 0
        for draft in due:
            decision = await s.store.run(partial(
                repo.decide, draft_id=draft.id, verdict=Verdict.expired,
                key=f"expire:{draft.id}", source="system", reviewer_id=None))
            if decision is not None:
                count += 1
                await self.show_verdict(draft, "expired", None)
        return count

    async def expiry_loop(self) -> None:
        interval = max(0.5, min(60.0, self.s.settings.draft_expiry_seconds / 4))
        while True:
            await asyncio.sleep(interval)
            try:
                await self.expire_due()
            except Exception:  # keep the loop alive; the next round retries
                log.exception("expiry round failed")

    async def recover(self) -> None:
        """After a restart: in-flight drafts fail visibly with Retry; acked decisions publish."""
        s = self.s
        stuck = await s.store.run(lambda x: repo.fail_inflight(x, error=T.FAILED_RESTART))
        for draft in stuck:
            if draft.message_ts and draft.message_channel_id:
                try:
                    await s.client.chat_update(
                        channel=draft.message_channel_id, ts=draft.message_ts,
                        text=T.FAILED.format(what=T.FAILED_RESTART),
                        blocks=B.failed_blocks(draft_id=draft.id, what=T.FAILED_RESTART))
                except SlackApiError as exc:
                    log.warning("could not mark draft %s failed: %s", draft.id, exc)
        for decision in await s.store.run(repo.unpublished_decisions):
            await self.publish(decision, recovering=True)

    async def _parts_posted(self, decision: Decision, channel: str, thread: str
                            ) -> dict[int, str]:
        """The ts of each part of the decision's final text already in the thread."""
        found: dict[int, str] = {}
        cursor = None
        while True:
            try:
                resp = await self.s.client.conversations_replies(
                    channel=channel, ts=thread, limit=200, cursor=cursor,
                    include_all_metadata=True)
            except SlackApiError as exc:
                log.warning("could not read thread of decision %s: %s", decision.id, exc)
                return found
            for message in resp.get("messages") or []:
                part = final_part(message.get("metadata"), decision.id)
                if part is not None and message.get("bot_id"):
                    found.setdefault(part, str(message["ts"]))
            cursor = (resp.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return found

    async def home(self, user_id: str) -> None:
        s = self.s
        pending = await s.store.read(lambda x: repo.pending_for_home(x))
        waiting = []
        for draft, request in pending:
            channel = request.review_channel_id or request.channel_id
            if user_id not in await s.directory.members(channel):
                continue
            waiting.append({"job": draft.job, "user_id": request.user_id,
                            "channel_id": channel, "preview": (draft.text or "")[:80],
                            "permalink": None})
        recent = [{"verdict": d.verdict.value, "job": d.job, "reviewer_id": d.reviewer_id,
                   "when": _when(d.decided_at)}
                  for d in await s.store.read(lambda x: repo.recent_decisions(x))]
        rates = await s.store.read(lambda x: repo.rates_by_job(x))
        await s.client.views_publish(user_id=user_id, view=B.home_view(
            waiting=waiting, recent=recent, rates=rates, kb=await self._kb_lines()))

    async def _kb_lines(self) -> list[str] | None:
        """What the knowledge base holds, by collection, or why there is none. Counts
        only: which private channels hold what is not for every user's home."""
        s = self.s
        if s.kb is None:
            return [T.HOME_KB_DOWN.format(problem=s.kb_problem)] if s.kb_problem else None
        from bot.kb.inventory import collections

        try:
            summaries = await collections(s.kb)
        except Exception as exc:  # the home still opens; the log has the details
            log.exception("could not read the knowledge base for the App Home")
            return [f":warning: Could not be read ({type(exc).__name__})."]
        lines = [T.HOME_KB_REEMBED_MIXED if s.kb.vectors_mid_pass else T.HOME_KB_REEMBED] \
            if s.kb.reembedding else []
        for c in summaries:
            kinds = ", ".join(f"{n} {k}{'' if n == 1 else 's'}" for k, n in sorted(c.kinds.items()))
            old = f", {c.stale_answers} stale (not searched)" if c.stale_answers else ""
            updated = _when(datetime.fromtimestamp(c.updated_at, UTC))
            lines.append(f"*{c.name}*: {kinds}{old} · updated {updated}")
        return lines or [T.HOME_KB_EMPTY]


def _set_final(x: Any, decision_id: str, channel: str, ts: str | None) -> None:
    decision = x.get(Decision, decision_id)
    if decision is not None:
        decision.final_channel_id = channel
        decision.final_ts = ts
        x.add(decision)


def _grounding(draft: Draft, request: Request | None) -> Grounding | None:
    """The draft's answer against its sources, as drafting judged it (`bot.kb.grounding`)."""
    if draft.job != "question" or not draft.sources or not draft.text:
        return None
    return grounding(model_part(answer_part(draft.text), draft.messages), draft.sources,
                     request.text if request else "", draft.context_text or "")


def _invented(draft: Draft, team: list[str]) -> tuple[str, ...]:
    """The contact details of the draft's text it was not given (`bot.drafting.contacts`),
    as drafting judged them (the `team`'s own were given): without the Sources block,
    which lists the sources' links."""
    if not draft.text or not draft.messages:
        return ()
    return invented_contacts(answer_part(draft.text),
                             shown(draft.messages, draft.sources or [], team))


def _figures(draft: Draft) -> tuple[str, ...]:
    """The figures of a reply's or answer's text it was not given (`bot.drafting.figures`),
    as drafting judged them: without the Sources block."""
    if not draft.text or not draft.messages or draft.job not in FIGURE_JOBS:
        return ()
    return invented_figures(answer_part(draft.text),
                            figures_shown(draft.messages))


def _promises(draft: Draft, request: Request | None) -> tuple[str, ...]:
    """The remedies a customer reply promises that no one on the team offered
    (`bot.drafting.promises`), as drafting judged them."""
    if not draft.text or not draft.messages or draft.job not in PROMISE_JOBS:
        return ()
    return unoffered_promises(draft.text, offered(draft.messages, draft.sources or [],
                                                  request.author if request else "member"))


def _foreign(draft: Draft, request: Request | None) -> tuple[str, ...]:
    """The words of another language in the draft's text (`bot.drafting.foreign`), as
    drafting judged them: without the Sources block, whose titles it was given."""
    if not draft.text or not draft.messages:
        return ()
    return foreign_words(answer_part(draft.text), draft.messages,
                         request.text if request else "")


def thread_of(request: Request) -> str | None:
    """The thread that shows the request's drafts."""
    if request.review_channel_id and request.review_channel_id != request.channel_id:
        return request.review_thread_ts
    return request.thread_ts or request.message_ts
