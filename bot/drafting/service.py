"""Drafting: an ask becomes a request, a routed job and a streamed draft.

Every ask gets a visible answer: a draft, a friendly note for bad input, or a
failure message with Retry. Generation runs as a task per draft so that a
superseded draft's stream can be cancelled.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.drafting.contacts import INVENTED_CONTACT, invented_contacts, shown
from bot.drafting.context import (
    MAX_REQUEST_CHARS,
    build_context,
    clean_request,
    search_query,
)
from bot.drafting.echo import without_echo
from bot.drafting.figures import (
    FIGURE_JOBS,
    INVENTED_FIGURE,
    figures_shown,
    invented_figures,
)
from bot.drafting.foreign import FOREIGN_WORDS, foreign_words
from bot.drafting.intake import Ask, channel_kind, check_text, placement
from bot.drafting.language import reply_language
from bot.drafting.loops import CUT_LENGTH, CUT_REPETITION, CUT_RESTART, LoopGuard, finished_part
from bot.drafting.promises import (
    PROMISE_JOBS,
    UNOFFERED_PROMISE,
    offered,
    unoffered_promises,
)
from bot.drafting.safety import neutralise, to_mrkdwn
from bot.drafting.scripts import CUT_SCRIPT, ScriptGuard, allowed_scripts
from bot.drafting.writer import DraftWriter, Surface
from bot.kb.citations import CITATION, CUT_LISTING, ListingGuard, cite
from bot.kb.evidence import best_sentence
from bot.kb.grounding import NOT_IN_SOURCES, grounding
from bot.kb.service import is_answer_entry
from bot.llm.errors import LLMError
from bot.prompts import (
    REPEATS_EXAMPLE,
    Prompt,
    continues,
    joined,
    model_part,
    opening_quote,
    repeats_example,
    without_lead,
)
from bot.review import blocks as B
from bot.review.hand_replies import note_hand_reply
from bot.routing.router import RouteDecision, RouteInput
from bot.settings import ChannelPolicy
from bot.store import repo
from bot.store.models import NO_SOURCES_MODEL, Draft, DraftStatus, Request, utcnow
from bot.texts import T
from bot.tuning.traffic import choose_model

if TYPE_CHECKING:
    from bot.container import Services
    from bot.llm.stream import ChatStream

__all__ = ["DraftingService", "opening_for"]

log = logging.getLogger(__name__)
# How long an edit waits for the ask of the message it edits to arrive (Slack may send
# the edit first); one that has arrived is waited for until it is taken.
EDIT_WAIT_TRIES, EDIT_WAIT_STEP = 40, 0.25
# A draft's states before anyone decided it: an edit of its ask drafts it again.
OPEN = (DraftStatus.requested, DraftStatus.generating, DraftStatus.pending_review,
        DraftStatus.failed)
# `/tandem <word> …`: the words that name a job (`bot.routing.rules` maps them).
EXPLICIT = frozenset({"doc", "document", "ask", "question", "reply", "support"})
# What a teammate writes for the usage note, not for a draft: `/tandem help`, `@tandem ?`.
HELP = frozenset({"help", "-h", "--help", "usage"})


def asks_for_help(text: str) -> bool:
    return text.strip() == "?" or text.strip().lower().rstrip("?!. ") in HELP


class SearchFailed(Exception):
    """The knowledge base could not be searched for a question draft."""

    def __init__(self, kind: str, *, what: str | None = None) -> None:
        self.what = what or f"the knowledge base could not be searched ({kind})"
        super().__init__(self.what)


class DraftingService:
    def __init__(self, services: Services) -> None:
        self.s = services
        # Asks being taken, by (channel, message ts): set once each has opened its
        # request or decided not to, so an edit of the message can wait for that.
        self._taking: dict[tuple[str, str], asyncio.Event] = {}

    # ---- intake -------------------------------------------------------------
    async def handle_ask(self, ask: Ask) -> None:
        key = (ask.channel_id, ask.message_ts or "")
        taken = self._taking.setdefault(key, asyncio.Event())
        try:
            async with self.s.cpu_slots:
                await self._intake(ask)
        finally:
            if self._taking.get(key) is taken:
                del self._taking[key]
            taken.set()

    async def _intake(self, ask: Ask) -> None:
        s = self.s
        cleaned, mentioned = await clean_request(s.directory, ask.text, bot_user_id=s.bot_user_id)
        text, problem = check_text(cleaned, MAX_REQUEST_CHARS)
        external = problem != "empty" and await s.directory.is_external(ask.user_id,
                                                                        ask.user_team_id)
        # Nothing asked, or a teammate's "help" (a customer's "help?" is theirs to be
        # answered): the usage note, before any of the thread is read.
        if problem == "empty" or (asks_for_help(text) and not ask.explicit and not external):
            if await s.store.run(lambda x: repo.mark_seen(x, key=ask.event_key)):
                await self._say(ask, T.EMPTY_ASK)
            return
        channel = await s.directory.channel(ask.channel_id)
        policy = s.settings.policy_for(ask.channel_id, channel.name)
        kind = channel_kind(is_im=channel.is_im, is_shared=channel.is_shared, policy=policy)
        thread_root = ask.thread_ts or ask.message_ts
        conv = await build_context(s.client, s.directory, channel=ask.channel_id,
                                   thread_ts=ask.thread_ts, exclude_ts=ask.message_ts,
                                   bot_user_id=s.bot_user_id)
        parent_external = bool(conv.parent_user and conv.parent_user != ask.user_id
                               and await s.directory.is_external(conv.parent_user))
        # The word as given ("ask"): routing maps it to its job and names it in the reason.
        word = (ask.explicit or "").lower()
        explicit = word if word in EXPLICIT else None
        decision = await s.router.decide(RouteInput(
            text=text, channel_kind=kind, author="external" if external else "member",
            thread_parent=conv.parent_text, explicit=explicit,
            shortcut=ask.trigger == "shortcut"))
        job, reason, source = decision.job, decision.reason, decision.source
        if parent_external and not explicit and not external and job != "support":
            # An internal member asking in a customer's thread wants a reply to the customer.
            job, reason, source = "support", "asked in a customer's thread", "context"
        review_ref = policy.review_channel
        review_channel = await s.directory.resolve_channel(review_ref) if review_ref else None
        where = placement(job=job, kind=kind, channel=ask.channel_id, thread_ts=thread_root,
                          review_channel=review_channel)
        if job == "support" and kind == "shared" and not where.hidden_from_customer:
            log.warning("support draft for shared channel %s has no review_channel", ask.channel_id)
            if not external:
                await self._say(ask, "This channel is shared with customers and has no "
                                "`review_channel` in tandem.yaml, so I won't draft here.")
            return
        permalink = None
        if where.hidden_from_customer and ask.message_ts:
            try:
                permalink = (await s.client.chat_getPermalink(
                    channel=ask.channel_id, message_ts=ask.message_ts))["permalink"]
            except SlackApiError:
                permalink = None
        fields: dict[str, Any] = {
            "event_key": ask.event_key, "team_id": ask.team_id or s.team_id,
            "channel_id": ask.channel_id, "channel_kind": kind, "message_ts": ask.message_ts,
            "thread_ts": where.final_thread_ts, "user_id": ask.user_id,
            "author": "external" if external else "member", "trigger": ask.trigger, "text": text,
            "participants": sorted({ask.user_id} | mentioned | conv.users),
            "job": job, "route_reason": reason, "route_source": source,
            "review_channel_id": where.review_channel, "review_thread_ts": where.review_thread_ts,
            "source_permalink": permalink}

        opened = await s.store.core(
            lambda x: repo.open_request(x, context_text=conv.transcript, **fields))
        if opened is None:
            return  # a Slack retry of an ask we already took
        if problem == "truncated":
            await self._say(ask, T.TOO_LONG.format(n=len(ask.text), limit=MAX_REQUEST_CHARS))
        self.start(opened[0].id, loaded=opened)

    async def handle_external(self, ask: Ask) -> None:
        """A customer's message in a support channel gets a support draft by itself; a
        teammate's answer in a customer's thread is shown to its drafts' reviewers."""
        s = self.s
        channel = await s.directory.channel(ask.channel_id)
        policy = s.settings.policy_for(ask.channel_id, channel.name)
        if not (policy.support or channel.is_shared):
            return
        if not await s.directory.is_external(ask.user_id, ask.user_team_id):
            if ask.thread_ts and ask.message_ts and ask.thread_ts != ask.message_ts:
                # A teammate answering the customer in their thread, by hand.
                await note_hand_reply(s, channel=ask.channel_id, thread_ts=ask.thread_ts,
                                      ts=ask.message_ts, user=ask.user_id, text=ask.text)
            return
        # Routing sends an external author's message to support, and says so.
        await self.handle_ask(ask)

    async def handle_edit(self, ask: Ask, before: str) -> None:
        """The asker edited the message that asked (`before` was its text). A draft not
        yet decided is drafted again from the new text, the old one superseded; a decided
        one stays, and the asker is told. An edit that adds a mention to a message that
        asked nothing is an ask (Slack sends no `app_mention` for edits)."""
        s = self.s
        mention = f"<@{s.bot_user_id}"
        # Edited at once, the message may be ahead of its own ask (the app_mention of
        # the first text): give that a moment to open its request. A bare mention asked
        # nothing (it got the help text), so the edit that says what to draft is the ask.
        asked = mention in before or ask.channel_id.startswith("D")
        if asked:  # only then is the earlier text worth cleaning (it may look up names)
            said = (await clean_request(s.directory, before, bot_user_id=s.bot_user_id))[0]
            asked = check_text(said, MAX_REQUEST_CHARS)[1] != "empty"
        for _ in range(EDIT_WAIT_TRIES if asked else 1):
            # An ask already being taken is waited for however long it takes (its
            # routing may queue behind other drafts at the model).
            taking = self._taking.get((ask.channel_id, ask.message_ts or ""))
            if taking is not None:
                await taking.wait()
            request = await s.store.run(lambda x: repo.request_by_message(
                x, channel=ask.channel_id, ts=ask.message_ts or ""))
            if request is not None or not asked or taking is not None:
                break
            await asyncio.sleep(EDIT_WAIT_STEP)
        if request is None:
            if mention in ask.text and not asked:
                await self.handle_ask(replace(ask, trigger="mention"))
            return
        cleaned, _ = await clean_request(s.directory, ask.text, bot_user_id=s.bot_user_id)
        text, problem = check_text(cleaned, MAX_REQUEST_CHARS)
        if request.user_id != ask.user_id or problem == "empty" or text == request.text:
            return  # a link unfurled, or only the mention is left: nothing to redraft
        latest = await s.store.run(lambda x: repo.latest_draft(x, request_id=request.id))
        if latest is None:
            return
        if latest.status not in OPEN:
            if request.author == "member":  # a customer never hears of drafts
                await self._say(replace(ask, trigger="edit"), T.EDITED_TOO_LATE.format(
                    verdict=T.DECIDED_AS.get(latest.status.value, latest.status.value)))
            return
        routed = await self._reroute(ask, request, text)
        if routed is None:
            await self.new_version(latest.id, text=text)
        else:
            await self.new_version(latest.id, text=text, job=routed.job, reason=routed.reason,
                                   source=routed.source)

    async def _reroute(self, ask: Ask, request: Request, text: str) -> RouteDecision | None:
        """The job an edited ask is for now, if it changed: "write the release notes"
        edited to "what is our release process?" wants an answer. Only where routing
        chose the job (not a person, the ask's own word or its thread), and only between
        jobs reviewed in the same place: a customer reply of a support channel is
        reviewed elsewhere, and its thread was told nothing of this draft."""
        s = self.s
        if request.route_source not in ("classifier", "llm") \
                or request.review_channel_id not in (None, request.channel_id):
            return None
        conv = await build_context(s.client, s.directory, channel=ask.channel_id,
                                   thread_ts=ask.thread_ts, exclude_ts=ask.message_ts,
                                   bot_user_id=s.bot_user_id)
        decision = await s.router.decide(RouteInput(
            text=text, channel_kind=request.channel_kind, author=request.author,
            thread_parent=conv.parent_text, shortcut=request.trigger == "shortcut"))
        if decision.job == request.job or (decision.job == "support"
                                           and request.channel_kind in ("shared", "support")):
            return None
        return decision

    async def handle_command(self, ask: Ask) -> None:
        """`/tandem [doc|ask|reply] text`: an anchor message gives the draft its thread."""
        s = self.s
        words = ask.text.strip().split(maxsplit=1)
        explicit = words[0].lower() if words and words[0].lower() in EXPLICIT else None
        text = words[1] if explicit and len(words) > 1 else ("" if explicit else ask.text)
        if not check_text(text, MAX_REQUEST_CHARS)[0] or (not explicit and asks_for_help(text)):
            await self._say(ask, T.EMPTY_ASK)
            return
        if not await s.store.run(lambda x: repo.mark_seen(x, key=ask.event_key)):
            return
        try:
            resp = await s.client.chat_postMessage(
                channel=ask.channel_id, text=T.COMMAND_ANCHOR.format(
                    user=ask.user_id, text=neutralise(text[:2000], {ask.user_id})))
        except SlackApiError as exc:
            await self._say(ask, T.CANT_POST.format(error=exc.response.get("error")))
            return
        await self.handle_ask(replace(ask, text=text, explicit=explicit,
                                      message_ts=str(resp["ts"]),
                                      event_key=ask.event_key + ":ask"))

    async def _say(self, ask: Ask, text: str) -> None:
        """A short visible note: ephemeral for commands, shortcuts and edits, in-thread
        otherwise."""
        try:
            if ask.trigger in ("command", "shortcut", "edit"):
                # An edit's note goes under the edited message, for its author only.
                thread = ask.thread_ts or ask.message_ts if ask.trigger == "edit" else None
                await self.s.client.chat_postEphemeral(channel=ask.channel_id, user=ask.user_id,
                                                       text=text, thread_ts=thread)
            else:
                await self.s.client.chat_postMessage(
                    channel=ask.channel_id, thread_ts=ask.thread_ts or ask.message_ts, text=text)
        except SlackApiError as exc:
            log.warning("could not tell %s: %s", ask.user_id, exc.response.get("error"))

    async def _policy(self, channel_id: str) -> ChannelPolicy:
        channel = await self.s.directory.channel(channel_id)
        return self.s.settings.policy_for(channel_id, channel.name)

    # ---- generation ---------------------------------------------------------
    def start(self, draft_id: str,
              loaded: tuple[Draft, Request] | None = None) -> asyncio.Task[None]:
        """Generate a draft in the background; `loaded` spares re-reading a new one."""
        task = asyncio.create_task(self.generate(draft_id, loaded))
        self.s.generations[draft_id] = task
        task.add_done_callback(lambda _t: self.s.generations.pop(draft_id, None))
        return task

    def cancel(self, draft_id: str) -> None:
        task = self.s.generations.get(draft_id)
        if task and not task.done():
            task.cancel()

    async def _messages(self, request: Request, draft: Draft, query: str
                        ) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                   tuple[int, str] | None]:
        """The prompt's messages and, for a question, the sources found for `query` and
        the sentence of theirs that best matches it (`best_sentence`)."""
        s = self.s
        prompt = s.prompts.get(draft.job)
        sources: list[dict[str, Any]] = []
        if draft.job == "question" and s.kb is None and s.kb_problem:
            s.metrics.kb_searches.labels("failed").inc()
            raise SearchFailed("", what=f"no knowledge base to answer from: {s.kb_problem}")
        if draft.job == "question" and s.kb is not None:
            policy = await self._policy(request.channel_id)
            started = time.monotonic()
            try:
                found = await s.kb.search(query, k=5, collections=policy.collections,
                                          channel_id=request.channel_id)
                # Each page's hash as the draft read it: an answer approved from it goes
                # stale when the page changes, even between this draft and its approval.
                hashes = await s.kb.hashes(ids=[h.doc_id for h in found]) if found else {}
            except Exception as exc:
                # Not "nothing found": that would tell the asker the team has no answer.
                # The draft fails with Retry; the log has the details, the thread the kind.
                log.exception("knowledge-base search failed")
                s.metrics.kb_searches.labels("failed").inc()
                raise SearchFailed(type(exc).__name__) from exc
            s.metrics.kb_search.observe(time.monotonic() - started)
            s.metrics.kb_searches.labels("sources" if found else "nothing_relevant").inc()
            # An approved answer's title is its question: said as what it is, in the
            # prompt, the Sources block and the evidence line alike.
            sources = [{"n": h.n, "title": T.EARLIER_ANSWER.format(question=h.title)
                        if is_answer_entry(h.doc_id) else h.title,
                        "url": h.url, "text": h.text[:1500],
                        "heading": h.heading, "collection": h.collection,
                        "doc_id": h.doc_id, "doc_hash": hashes.get(h.doc_id),
                        "chunk_id": h.chunk_id, "score": h.score}
                       for h in found]
        numbered = "\n\n".join(f"[{x['n']}] {x['title']}\n{x['text']}" for x in sources)
        # A draft starts in the words its prompt has for its reader's language: the
        # asker's, or for a reply a teammate asked for, the customer's thread's.
        reader = draft.context_text if draft.job == "support" and request.author == "member" \
            and draft.context_text else request.text
        best = best_sentence(query, sources, request.text, await s.kb.closeness(
            query, sources, request.text)) if sources and s.kb is not None else None
        messages = prompt.render(request=request.text, context=draft.context_text or "(none)",
                                 sources=numbered or "(no sources found)",
                                 opening=opening_for(prompt, reply_language(reader), best))
        return messages, sources, best

    async def generate(self, draft_id: str, loaded: tuple[Draft, Request] | None = None) -> None:
        s = self.s
        if loaded is None:
            loaded = await s.store.core(lambda x: repo.load_generation(x, draft_id=draft_id))
        if loaded is None:
            return
        draft, request = loaded  # read-only rows
        prompt = s.prompts.get(draft.job)
        model = choose_model(draft.job, s.settings.traffic, s.llm.model, request.id)
        failure: SearchFailed | None = None
        # What a question is searched with (a short follow-up, with its thread's
        # question); the Sources block reads it again.
        searched = search_query(request.text, draft.context_text or "")
        try:
            messages, sources, best = await self._messages(request, draft, searched)
        except SearchFailed as exc:
            messages, sources, best, failure = [], [], None, exc
        source_status = draft.status
        params = prompt.params_for(messages)
        if not await s.store.core(lambda x: repo.move(
                x, draft_id=draft_id, source=source_status, target=DraftStatus.generating,
                prompt_name=prompt.name, prompt_version=prompt.version, model=model,
                params=params, messages=messages, sources=sources)):
            return
        header = None
        if request.review_channel_id != request.channel_id:
            header = T.SUPPORT_DRAFT_HEADER.format(permalink=request.source_permalink or "",
                                                   channel=request.channel_id)
        policy = await self._policy(request.channel_id)
        auto = draft.job in policy.auto_post \
            and request.review_channel_id == request.channel_id
        if auto:
            # Not streamed: the answer may be held for review, and then no one but a
            # reviewer may have read it (`feedback_blocks` label it once posted).
            header = T.AUTO_WRITING
        review_thread = await self._review_thread(request, header)
        allowed = {request.user_id, *request.participants} - {s.bot_user_id}
        surface = Surface(channel=request.review_channel_id or request.channel_id,
                          thread_ts=review_thread, team_id=request.team_id,
                          recipient_user_id=request.user_id if request.author == "member" else None,
                          header=header, assistant_thread=request.channel_kind == "im")
        writer = DraftWriter(s.client, surface, allowed_users=allowed,
                             streaming=s.settings.streaming,
                             interval=s.settings.stream_update_interval, quiet=auto)
        started = time.monotonic()
        ttft: float | None = None
        stream = None
        if failure is None and not (draft.job == "question" and s.kb is not None
                                    and not sources):
            # The server stops on the model's end-of-turn token (the embedded one has it
            # in generation_config.json); a base model rarely writes it, so each prompt
            # also names the template's own markers (`params.stop`). vLLM holds back
            # the longest one's length in characters while it streams (20: the first
            # text came 0.2-0.3 s later on the packaged model), and drafts end seconds
            # sooner without the turn they no longer write (bench_prompt_stops.py).
            stream = s.llm.stream_chat(
                messages, model=model, request_id=draft_id, params=params,
                affinity=f"{request.team_id}:{request.channel_id}:{request.thread_ts}")
            # The request goes out now: the model works while Slack opens the message.
            stream.start()
        try:
            await writer.open()
            if writer.ts:
                await s.store.core(lambda x: repo.update_draft(
                    x, draft_id=draft_id, message_channel_id=surface.channel,
                    message_ts=writer.ts))
            if failure is not None:
                raise failure
            cut = None  # why the model's text was cut short, if it was
            trimmed = False  # lines echoing the frame or introducing nothing dropped at its end
            if stream is None:
                # Nothing relevant in the knowledge base: say so, invent nothing.
                said = T.NO_SOURCES_IN.get(reply_language(request.text), T.NO_SOURCES)
                text, usage, model = said, {}, NO_SOURCES_MODEL
                ttft = time.monotonic() - started
                await writer.append(text)
                writer.hold_first_append()
            else:
                # An answer ends where the model starts listing sources of its own, and
                # any draft where it switches to a script no one in the conversation
                # used, starts repeating itself or writes its opening again.
                listing = ListingGuard({x["n"] for x in sources}) if sources else None
                script = ScriptGuard(allowed_scripts((m["content"] for m in messages),
                                                     request.text))
                loop = LoopGuard(continues(messages))
                ttft = await _stream_into(writer, stream, continues(messages), listing,
                                          script, loop, started)
                text, usage = loop.text.strip(), stream.usage or {}
                # Lines at its end that echo the prompt's frame ("(none)") or introduce
                # nothing ("Next steps:") go.
                kept = without_echo(text)
                if kept != text:
                    text, usage = kept, {**usage, "echo_chars": len(text) - len(kept)}
                    trimmed = True
                cut = CUT_LISTING if listing and listing.cut else CUT_SCRIPT if script.cut \
                    else CUT_RESTART if loop.restarted else CUT_REPETITION if loop.cut else None
                if cut is None and stream.finish_reason == "length":
                    # Stopped at max_tokens: the unfinished sentence goes, and it says so.
                    text, cut = finished_part(text), CUT_LENGTH
                if cut:  # recorded: the model wrote more than the draft keeps
                    usage = {**usage, "cut": cut}
                    s.metrics.flagged.labels(draft.job, cut).inc()
            stream_text = text if cut or trimmed else None  # what was shown beyond it goes
            # Said where the reviewer (or, posted without review, the reader) looks.
            echo = stream is not None and repeats_example(text, messages)
            if echo:
                s.metrics.flagged.labels(draft.job, REPEATS_EXAMPLE).inc()
            # Words of the answer that its sources, the question and the thread lack.
            # Without the opening it continued (and the quote in it, which is the sources').
            basis = grounding(model_part(text, messages), sources, request.text,
                              draft.context_text or "") \
                if stream is not None and sources else None
            unheld = basis is not None and basis.flagged
            if unheld:
                s.metrics.flagged.labels(draft.job, NOT_IN_SOURCES).inc()
            # The quote from its sources an answer opened with, still at its start.
            quoted = bool(opening_quote(messages)) and text.startswith(continues(messages))
            # Addresses, links and phone numbers that nothing it was shown holds.
            made_up = invented_contacts(text, shown(messages, sources, s.settings.contacts)) \
                if stream is not None else ()
            if made_up:
                s.metrics.flagged.labels(draft.job, INVENTED_CONTACT).inc()
            # Order numbers, deadlines and amounts that nothing it was shown holds.
            figures = invented_figures(text, figures_shown(messages)) \
                if stream is not None and draft.job in FIGURE_JOBS else ()
            if figures:
                s.metrics.flagged.labels(draft.job, INVENTED_FIGURE).inc()
            # Refunds, replacements and discounts no one on the team offered.
            promised = unoffered_promises(text, offered(messages, sources, request.author)) \
                if stream is not None and draft.job in PROMISE_JOBS else ()
            if promised:
                s.metrics.flagged.labels(draft.job, UNOFFERED_PROMISE).inc()
            # Words of another language it slipped in, that nothing it was shown holds.
            # (Off the loop: a draft in a language not seen since the start reads its lists.)
            foreign = await asyncio.to_thread(foreign_words, text, messages, request.text) \
                if stream is not None else ()
            if foreign:
                s.metrics.flagged.labels(draft.job, FOREIGN_WORDS).inc()
            provenance = B.provenance_line(
                job=draft.job, prompt=prompt.name, version=prompt.version, model=model,
                route_reason=request.route_reason, sources=sources,
                draft_version=draft.version, repeats_example=echo, cut=cut,
                not_in_sources=basis, after_quote=quoted, invented_contacts=made_up,
                invented_figures=figures, unoffered_promises=promised, foreign_words=foreign)
            # Beside the answer, the sentence of its sources that best matches what was
            # searched, or where the answer's opening quotes it, which page it is from.
            evidence = neutralise(B.evidence_line(*best, sources, quoted=quoted), allowed) \
                if best else None
            if not without_lead(text, messages):  # before the Sources block is added
                raise LLMError("empty answer", what=T.ONLY_MADE_UP_SOURCES if cut == CUT_LISTING
                               else "the model returned an empty answer")
            if sources:
                text, stream_text = cite(text, sources, searched)
            writer_ts_before = writer.ts
            final = neutralise(to_mrkdwn(text), allowed)
            # An answer that copies its prompt's example, or that its sources mostly do
            # not hold, is most likely not the sources' answer; one that gives a way to
            # reach someone that no one gave it sends the reader nowhere, one stating
            # figures or remedies no one gave it commits the team to them; and one cut
            # where the model lost the thread (another script, a loop) may have lost it
            # before: where the channel posts without review, it waits for a person.
            doubt = REPEATS_EXAMPLE if echo else NOT_IN_SOURCES if unheld \
                else INVENTED_CONTACT if made_up else INVENTED_FIGURE if figures \
                else UNOFFERED_PROMISE if promised else FOREIGN_WORDS if foreign \
                else cut if cut in (CUT_SCRIPT, CUT_REPETITION) else None
            held = auto and doubt is not None
            why = None if doubt is None else T.HELD_AFTER_QUOTE \
                if doubt == NOT_IN_SOURCES and quoted else T.HELD_BECAUSE[doubt]
            if auto and not held:
                full = B.feedback_blocks(draft_id=draft_id, text=final, provenance=provenance,
                                         evidence=evidence)
            else:
                full = B.draft_blocks(draft_id=draft_id, text=final, provenance=provenance,
                                      job=draft.job,
                                      header=T.AUTO_HELD.format(why=why)
                                      if held and why else header,
                                      evidence=evidence)
            tail = B.under_text(full)  # evidence, provenance, buttons: under streamed text
            elapsed = (time.monotonic() - started) * 1000
            target = DraftStatus.posted if auto and not held else DraftStatus.pending_review
            # Reviewable in the records before the buttons appear, so no click finds it unready.
            if not await s.store.core(lambda x: repo.move(
                    x, draft_id=draft_id, source=DraftStatus.generating, target=target,
                    text=final, usage=usage, ttft_ms=(ttft or 0) * 1000, model=model,
                    draft_ms=elapsed, completed_at=utcnow(),
                    message_channel_id=surface.channel, message_ts=writer.ts)):
                return  # superseded while the last tokens arrived
            ts = await writer.finish(text=final, blocks=full, stream_blocks=tail,
                                     stream_text=stream_text)
            if ts != writer_ts_before:
                await s.store.core(lambda x: repo.update_draft(
                    x, draft_id=draft_id, message_channel_id=surface.channel, message_ts=ts))
            await writer.clear_status()
            s.metrics.drafts.labels(draft.job, "ready").inc()
            # How soon streamed text shows; a quiet (auto_post) answer shows only whole.
            if ttft is not None and writer.first_visible_at is not None and not auto:
                s.metrics.first_visible.observe(max(0.0, writer.first_visible_at - started - ttft))
        except asyncio.CancelledError:
            await self._cancelled(writer)
            raise
        except (TimeoutError, LLMError, SearchFailed, SlackApiError, OSError) as exc:
            what = exc.what if isinstance(exc, (LLMError, SearchFailed)) \
                else "Slack refused the draft message"
            log.warning("draft %s failed: %s", draft_id, exc)
            s.metrics.drafts.labels(draft.job, "failed").inc()
            # (An auto_post answer's "being written" header would no longer be true.)
            await self._fail(draft_id, writer, what, None if auto else header)
        finally:
            if stream is not None:  # e.g. Slack refused the message before it was read
                await stream.aclose()

    async def _review_thread(self, request: Request, header: str | None) -> str | None:
        """Drafts reviewed in another channel get an anchor message there first."""
        review_channel = request.review_channel_id
        if request.review_thread_ts or not review_channel \
                or review_channel == request.channel_id:
            return request.review_thread_ts or request.thread_ts
        resp = await self.s.client.chat_postMessage(channel=review_channel,
                                                   text=header or T.DRAFT_LABEL)
        ts = str(resp["ts"])
        await self.s.store.run(lambda x: _set_review_thread(x, request.id, ts))
        return ts

    async def _fail(self, draft_id: str, writer: DraftWriter, what: str,
                    header: str | None) -> None:
        def mark(x: Any) -> None:
            for source in (DraftStatus.generating, DraftStatus.pending_review, DraftStatus.posted):
                if repo.can_fail(source) and repo.move(x, draft_id=draft_id, source=source,
                                                       target=DraftStatus.failed, error=what):
                    return

        await self.s.store.run(mark)
        try:
            ts = await writer.fail(B.failed_blocks(draft_id=draft_id, what=what, header=header),
                                   T.FAILED.format(what=what))
            await self.s.store.run(lambda x: repo.update_draft(
                x, draft_id=draft_id, message_channel_id=writer.surface.channel, message_ts=ts))
        except SlackApiError as exc:
            log.error("could not show the failure of draft %s: %s", draft_id, exc)
        await writer.clear_status()

    async def _cancelled(self, writer: DraftWriter) -> None:
        writer.hold_first_append()
        if writer.ts and writer.mode == "stream":
            try:
                await asyncio.shield(writer.client.api_call(
                    "chat.stopStream", json={"channel": writer.surface.channel, "ts": writer.ts}))
            except (SlackApiError, asyncio.CancelledError):
                pass  # the superseding version's message is what people see now

    # ---- new versions -------------------------------------------------------
    async def new_version(self, draft_id: str, *, job: str | None = None,
                          reason: str | None = None, text: str | None = None,
                          source: str = "person") -> Draft | None:
        """Regenerate, Retry or re-route: a new version; the old one is superseded. With
        `text` (the ask was edited) the request reads that now, and a draft still being
        written is stopped and superseded too. A new `job` is recorded as routed by
        `source` (a person's button, or routing of the edited text)."""
        s = self.s
        allowed = OPEN if text is not None else (DraftStatus.pending_review, DraftStatus.failed)

        def work(x: Any) -> tuple[Draft, list[Draft]] | None:
            old = repo.get_draft(x, draft_id=draft_id)
            if old is None or old.status not in allowed:
                return None
            latest = repo.latest_draft(x, request_id=old.request_id)
            if latest is None or latest.id != old.id:
                return None
            request = x.get(Request, old.request_id)
            if text is not None and request is not None:
                request.text = text
                x.add(request)
            if job and request is not None:
                request.job = job
                request.route_reason = reason or "re-routed by a person"
                request.route_source = source
                x.add(request)
            new, superseded = repo.create_draft(x, request_id=old.request_id,
                                                job=job or old.job)
            new.context_text = old.context_text
            x.add(new)
            return new, superseded

        result = await s.store.run(work)
        if result is None:
            return None
        new, superseded = result
        for old in superseded:
            self.cancel(old.id)
            await s.review.show_verdict(
                old, "superseded" if text is None else "superseded_by_edit", None)
        self.start(new.id)
        return new


def _set_review_thread(x: Any, request_id: str, ts: str) -> None:
    request = x.get(Request, request_id)
    if request is not None:
        request.review_thread_ts = ts
        x.add(request)


_SPACE_BEFORE_STOP = re.compile(r"\s+([.,;:!?])")


def opening_for(prompt: Prompt, language: str, best: tuple[int, str] | None) -> str | None:
    """The opening of a draft in `language`. An answer's goes on with `best`, the source
    number and sentence of its sources that best match the question (`best_sentence`, the
    one shown beside it as evidence), where that is in the asker's language: the packaged
    model's own answers held the annotated answer for 2 of 40 COVID-QA questions, these
    for 15 (`tests/bench/bench_kb_evidence.py --with-model`)."""
    quote = best[1] if best and reply_language(best[1]) == language else ""
    # Its own markers ("… not to be infected [8] .") are its page's references, which
    # the answer's would be taken for.
    quote = _SPACE_BEFORE_STOP.sub(r"\1", CITATION.sub("", quote)).strip()
    return prompt.opening(language, n=best[0] if best else 1, quote=quote)


async def _stream_into(writer: DraftWriter, stream: ChatStream, opening: str,
                       listing: ListingGuard | None, script: ScriptGuard, loop: LoopGuard,
                       started: float) -> float | None:
    """Show the `opening` the model continues, then the model's text as it comes, up to
    where `listing`, `script` or `loop` cuts it (the text kept is `loop.text`); returns
    the seconds from `started` to its first token."""
    ttft = None
    if opening:
        await writer.append(loop.feed(script.feed(opening)))
    async with stream:
        async for delta in stream:
            if ttft is None:
                ttft = time.monotonic() - started
                delta = joined(opening, delta)
            shown = loop.feed(script.feed(listing.feed(delta) if listing else delta))
            if shown:
                await writer.append(shown)
            if loop.cut or script.cut or (listing and listing.cut):
                break  # leaving the stream drops the connection: vLLM stops generating
        last = loop.feed(script.feed(listing.finish())) if listing else ""
        if last:
            await writer.append(last)
        writer.hold_first_append()
    # The script cut keeps finished sentences only, and so may take back words it had
    # already passed on ("… this month. yerine" before "我可以"): the draft ends there.
    loop.shorten(script.text)
    return ttft
