from __future__ import annotations

from bot.review import blocks as B
from bot.slack import ids


def _buttons(blocks: list[dict]) -> dict[str, str]:
    return {e["action_id"]: e["value"] for b in blocks if b["type"] == "actions"
            for e in b["elements"]}


def test_draft_blocks_carry_review_buttons_and_reroute_for_other_jobs() -> None:
    blocks = B.draft_blocks(draft_id="d1", text="hello", provenance="p", job="document")
    buttons = _buttons(blocks)
    for action in ids.REVIEW_ACTIONS:
        assert buttons[action] == "d1"
    assert buttons["tandem_reroute_question"] == "d1|question"
    assert "tandem_reroute_document" not in buttons
    assert blocks[0]["type"] == "context" and "Draft" in blocks[0]["elements"][0]["text"]


def test_long_draft_blocks_stay_under_slack_limits() -> None:
    blocks = B.draft_blocks(draft_id="d1", text="word " * 40000, provenance="p", job="document")
    assert len(blocks) <= 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks if b["type"] == "section")


def test_edit_modal_round_trips_long_text() -> None:
    text = "line of text\n" * 900  # ~11.7k characters
    view = B.edit_modal(draft_id="d1", text=text)
    assert view["private_metadata"] == "d1" and len(view["blocks"]) >= 4
    values = {b["block_id"]: {ids.EDIT_ACTION: {"type": "plain_text_input",
                                                "value": b["element"]["initial_value"]}}
              for b in view["blocks"]}
    assert B.edited_text(values) == text


def test_verdict_blocks_have_no_buttons() -> None:
    blocks = B.verdict_blocks(text="t", provenance="p", verdict_line="Approved")
    assert not [b for b in blocks if b["type"] == "actions"]


def test_home_view_lists_waiting_drafts_and_rates() -> None:
    view = B.home_view(waiting=[{"job": "support", "user_id": "U1", "channel_id": "C1",
                                 "preview": "Hi", "permalink": None}],
                       recent=[], rates=[{"job": "support", "model": "m", "n": 4,
                                          "approval": 0.5, "edit": 0.25, "reject": 0.25}])
    text = str(view)
    assert view["type"] == "home" and "customer reply" in text and "50% approved" in text


def test_home_view_has_a_knowledge_base_section_only_when_given_one() -> None:
    plain = B.home_view(waiting=[], recent=[], rates=[])
    assert "Knowledge base" not in str(plain)
    view = B.home_view(waiting=[], recent=[], rates=[], kb=["*default*: 3 files"])
    assert view["blocks"][-2]["text"]["text"] == "*Knowledge base*"
    assert view["blocks"][-1]["elements"][0]["text"] == "*default*: 3 files"


def test_provenance_names_each_source_page_once_in_order() -> None:
    sources = [{"n": 1, "title": "On-call handbook"}, {"n": 2, "title": "Expense policy"},
               {"n": 3, "title": "On-call handbook"}]
    line = B.provenance_line(job="question", prompt="question", version="2", model="m",
                             route_reason="", sources=sources)
    assert "sources: On-call handbook, Expense policy" in line
    assert line.count("On-call handbook") == 1


def test_an_answer_opening_with_a_quote_is_warned_about_what_it_adds_not_the_quote() -> None:
    from bot.kb.grounding import Grounding

    basis = Grounding(12, ("alice", "pager", "since", "midnight", "phone", "wait", "next",
                           "day", "number", "disconnected", "supervisor"))
    plain = B.provenance_line(job="question", prompt="question", version="4", model="m",
                              route_reason="", not_in_sources=basis)
    quoted = B.provenance_line(job="question", prompt="question", version="4", model="m",
                               route_reason="", not_in_sources=basis, after_quote=True)
    assert "*mostly not in its sources*: 11 of its 12 words" in plain
    assert "*what it adds to the quote is mostly not in its sources*: 11 of the 12 words " \
        "it adds" in quoted


def test_contact_details_no_one_gave_are_named_in_the_provenance_and_cannot_format() -> None:
    line = B.provenance_line(job="support", prompt="support", version="4", model="m",
                             route_reason="", invented_contacts=("a_b@x.example", "`<!here>`"))
    assert "*gives contact details it was not given*: `a_b@x.example`, `&lt;!here&gt;`" in line


def test_the_evidence_line_of_an_answer_opening_with_the_sentence_names_only_its_page() -> None:
    line = B.evidence_line(2, "Meals are paid up to 40 euros.", [{"n": 2, "title": "Expenses"}],
                           quoted=True)
    assert line == ":mag: It opens with the best match, from [2] Expenses"


def test_every_reason_a_draft_is_cut_for_is_said_in_its_provenance() -> None:
    from bot.drafting.loops import CUT_LENGTH, CUT_REPETITION, CUT_RESTART
    from bot.drafting.scripts import CUT_SCRIPT
    from bot.kb.citations import CUT_LISTING

    for cut in (CUT_LISTING, CUT_REPETITION, CUT_LENGTH, CUT_SCRIPT, CUT_RESTART):
        line = B.provenance_line(job="document", prompt="document", version="2", model="m",
                                 route_reason="", cut=cut)
        assert ":scissors:" in line, cut


def test_a_provenance_line_names_the_first_five_invented_figures_and_counts_the_rest() -> None:
    line = B.provenance_line(job="support", prompt="support", version="6", model="m",
                             route_reason="", invented_figures=[str(n) for n in range(8)])
    assert "*gives figures it was not given*: `0`, `1`, `2`, `3`, `4` and 3 more: in none" \
        in line


def test_a_provenance_line_names_the_remedies_no_one_on_the_team_offered() -> None:
    line = B.provenance_line(job="support", prompt="support", version="6", model="m",
                             route_reason="", unoffered_promises=["refund", "free of charge"])
    assert "*promises what no one on the team offered*: `refund`, `free of charge`: in none" \
        in line
