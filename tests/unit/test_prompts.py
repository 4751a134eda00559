"""The shipped prompts, and spotting a draft that copies its prompt's example answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.drafting.language import LANGUAGES, UNDETERMINED
from bot.drafting.service import opening_for
from bot.errors import ConfigError
from bot.kb.evidence import best_sentence
from bot.prompts import (
    MAX_STOPS,
    PromptBook,
    joined,
    model_part,
    opening_quote,
    repeats_example,
    without_lead,
)
from bot.texts import T

BOOK = PromptBook()


def _question(sources: str) -> list[dict[str, str]]:
    return BOOK.get("question").render(request="how do I stop npm running install scripts?",
                                       context="(none)", sources=sources)


NPM = "[1] npm-install\nSet ignore-scripts to true and npm runs no package scripts."


def test_a_draft_copying_the_example_answer_is_spotted() -> None:
    # What the packaged base model wrote for 18 of 24 npm questions.
    copied = ("After 15 minutes without an answer, the page escalates to the secondary "
              "on-call [1]. prochains")
    assert repeats_example(copied, _question(NPM))


def test_an_answer_from_its_sources_is_not_flagged() -> None:
    answer = "Set ignore-scripts to true, and npm runs no package scripts [1]."
    assert not repeats_example(answer, _question(NPM))


def test_words_the_sources_also_hold_are_not_a_copy() -> None:
    # The team's own handbook says what the example says: quoting it is grounded.
    handbook = ("[1] On-call handbook\nAfter 15 minutes without an answer, the page "
                "escalates to the secondary on-call engineer.")
    answer = "After 15 minutes without an answer, the page escalates to the secondary on-call."
    assert not repeats_example(answer, _question(handbook))


def test_a_prompt_without_examples_flags_nothing() -> None:
    messages = [{"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Say hello."}]
    assert not repeats_example("After 15 minutes the page escalates to the secondary", messages)


def test_each_drafting_prompt_stops_where_its_templates_next_turn_would_begin() -> None:
    for job, marker in (("question", "Question:"), ("document", "Request:"),
                        ("support", "Customer message:")):
        prompt = BOOK.get(job)
        stops = prompt.params["stop"]
        assert f"\n{marker}" in stops and marker in prompt.template, job
        # The packaged model writes the markers in lower case too.
        assert f"\n{marker.lower()}" in stops, job
        # vLLM refuses a request with more than 4 stop strings (HTTP 400, every draft).
        for params in (prompt.params, {**prompt.params, **prompt.params_after_quote}):
            assert len(params["stop"]) <= MAX_STOPS, job
        assert all(stop.startswith("\n") for stop in stops), "a stop mid-line cuts prose"


def test_a_reply_opens_in_the_customers_language_and_the_model_continues_it() -> None:
    support = BOOK.get("support")
    messages = support.render(request="Mi factura está mal", context="(none)",
                              opening=support.opening("es"))
    assert messages[-1] == {"role": "assistant", "content": "Hola, gracias por escribirnos."}
    assert messages[-2]["role"] == "user" and "Mi factura" in messages[-2]["content"]
    # Every language a reader is told to be writing in has an opening; others get none.
    for prompt in (support, BOOK.get("question")):
        assert all(prompt.opening(lang) for lang in LANGUAGES), prompt.name
        assert prompt.opening(UNDETERMINED) is None
    assert set(T.NO_SOURCES_IN) == LANGUAGES - {"en"}
    assert support.render(request="hi", context="(none)")[-1]["role"] == "user"


def test_a_reply_copying_the_example_is_spotted_behind_its_opening() -> None:
    support = BOOK.get("support")
    messages = support.render(request="the app logs me out", context="(none)",
                              opening=support.opening("en"))
    copied = ("Hi, thanks for reaching out to us. We need more. Could you reply with the "
              "correct company address? We'll issue a corrected invoice as soon as we have it.")
    assert repeats_example(copied, messages)
    assert not repeats_example("Hi, thanks for reaching out to us. We need your app "
                               "version, so we can see why it logs you out?", messages)


def test_the_models_first_words_are_spaced_from_the_opening_only_where_a_space_is_due() -> None:
    assert joined("According to [1],", "the page") == " the page"
    assert joined("According to [1],", " the page") == " the page"
    assert joined("Hi, thanks for reaching out to us. We", "'re on it") == "'re on it"
    assert joined("根据[1]，", "值班") == "值班"
    assert joined("お問い合わせいただきありがとうございます。", "確認") == "確認"
    assert joined("Здравствуйте, спасибо, что написали нам. Мы", "проверим") == " проверим"
    assert joined("안녕하세요, 문의해 주셔서 감사합니다. 저희는", "확인") == " 확인"
    assert joined("สวัสดี ขอบคุณที่ติดต่อเรา เรา", "จะตรวจสอบ") == "จะตรวจสอบ"  # no spaces
    assert joined("שלום, תודה שפנית אלינו. אנחנו", "נבדוק") == " נבדוק"
    assert joined("", "Hello") == "Hello"


def test_what_the_model_wrote_is_the_draft_without_its_opening() -> None:
    question = BOOK.get("question")
    messages = question.render(request="q", context="(none)", sources="[1] x",
                               opening=question.opening("en"))
    assert messages[-1]["content"] == "According to [1]:"
    assert model_part("According to [1]: the page escalates.", messages) == \
        "the page escalates."
    assert model_part("According to [1]:", messages) == ""
    assert model_part("Edited by a reviewer.", messages) == "Edited by a reviewer."


def test_an_answer_opens_with_its_best_sources_sentence_which_it_says_but_did_not_write(
        ) -> None:
    question = BOOK.get("question")
    quote = "Meals while travelling are reimbursed up to 40 euros a day."
    opening = question.opening("en", n=2, quote=quote)
    assert opening == "According to [2]: " + quote
    messages = question.render(request="q", context="(none)", sources="[2] x",
                               opening=opening)
    answer = opening + " Keep the receipts."
    assert model_part(answer, messages) == "Keep the receipts."  # what grounding reads
    assert without_lead(answer, messages) == quote + " Keep the receipts."  # what it says
    assert without_lead(opening, messages) == quote
    # Every language's lead comes off, and a reply's opening has no lead: all of it goes.
    for language in LANGUAGES:
        lead = question.opening(language, n=3)
        assert lead and "$" not in lead
        said = question.render(request="q", context="(none)", sources="[3] x",
                               opening=question.opening(language, n=3, quote="Zitat."))
        assert without_lead(f"{lead} Zitat.", said) == "Zitat.", language
        assert opening_quote(said) == "Zitat.", language
        bare = question.render(request="q", context="(none)", sources="[3] x", opening=lead)
        assert opening_quote(bare) == "", language  # a lead alone quotes nothing
    support = BOOK.get("support")
    reply = support.render(request="q", context="(none)", opening=support.opening("en"))
    assert without_lead("Hi, thanks for reaching out to us. We will.", reply) == "will."
    assert opening_quote(reply) == ""


def test_an_answer_opening_with_a_quote_ends_with_its_paragraph_and_one_without_does_not(
        ) -> None:
    question = BOOK.get("question")
    quoted = question.render(request="q", context="(none)", sources="[1] x",
                             opening=question.opening("en", quote="Meals are 40 euros."))
    bare = question.render(request="q", context="(none)", sources="[1] x",
                           opening=question.opening("en"))
    assert "\n\n" in question.params_for(quoted)["stop"]
    assert "\n\n" not in question.params_for(bare)["stop"]
    assert question.params_for(bare) == question.params
    # Only the stops change: the rest is the prompt's own.
    assert {k: v for k, v in question.params_for(quoted).items() if k != "stop"} == \
        {k: v for k, v in question.params.items() if k != "stop"}
    # Within vLLM's 4 stops: the paragraph's end takes the place of "Conversation so far",
    # which follows a blank line, and the question's markers stay.
    after = set(question.params_for(quoted)["stop"])
    assert after - {"\n\n"} < set(question.params["stop"])
    assert {"\nQuestion:", "\nquestion:"} < after


def test_an_answers_quote_is_its_best_sentence_without_the_pages_own_markers() -> None:
    question = BOOK.get("question")
    asked = "is NTCP sufficient to allow HBV infection?"
    sources = [{"n": 1, "title": "HepaRG", "text": "HepaRG cells were used."},
               {"n": 2, "title": "NTCP", "text": "NTCP itself is not sufficient to allow HBV "
                "infection, as most cells were not infected [8] . See [3, 4]."}]
    assert opening_for(question, "en", best_sentence(asked, sources, asked)) == (
        "According to [2]: NTCP itself is not sufficient to allow HBV infection, as most "
        "cells were not infected.")
    # Asked in another language than the sentence's, or with nothing found: the lead only.
    assert opening_for(question, "de", best_sentence(asked, sources, asked)) == "Laut [2]:"
    assert opening_for(question, "en", None) == "According to [1]:"


def test_a_prompt_with_more_stop_strings_than_vllm_takes_is_refused_at_start_up(
        tmp_path: Path) -> None:
    (tmp_path / "support.yaml").write_text(
        "name: support\nversion: '1'\nsystem: s\nparams:\n  stop: ['a', 'b', 'c', 'd']\n"
        "params_after_quote:\n  stop: ['a', 'b', 'c', 'd', 'e']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"params_after_quote.stop lists 5 strings; vLLM "
                                          r"takes at most 4"):
        PromptBook(tmp_path)
