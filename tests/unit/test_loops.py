"""A draft that starts repeating itself is cut after the first copy."""

from __future__ import annotations

import pytest

from bot.drafting.loops import LoopGuard, finished_part, loop_start, restart_key

HANDBOOK_LOOP = ("The following will be available on the main server:\n#production\n"
                 "#deployment\n" + "#security\n" * 40)


def _streamed(text: str, step: int) -> tuple[str, LoopGuard]:
    guard, shown = LoopGuard(), ""
    for i in range(0, len(text), step):
        shown += guard.feed(text[i:i + step])
    return shown, guard


@pytest.mark.parametrize("step", [1, 3, 7, 50])
def test_a_line_repeated_to_the_token_limit_keeps_one_copy_however_it_streams(
        step: int) -> None:
    shown, guard = _streamed(HANDBOOK_LOOP, step)
    assert guard.cut
    assert guard.text == ("The following will be available on the main server:\n"
                          "#production\n#deployment\n#security\n")
    # It stopped soon after the loop was plain: the rest was never shown.
    assert len(shown) < len(guard.text) + 100


@pytest.mark.parametrize(("opening", "sentence", "copies"), [
    ("Pages escalate after 15 minutes. ", "The secondary on-call engineer is paged next.", 5),
    # Japanese: no space after the stop, and the loop must not be cut mid-word.
    ("当番は15分後にエスカレーションします。", "当番の次に副当番のエンジニアが呼び出されます。", 6),
])
def test_a_repeated_sentence_is_kept_once_to_its_full_stop(
        opening: str, sentence: str, copies: int) -> None:
    gap = " " if sentence.endswith(".") else ""
    text = opening + (sentence + gap) * copies
    at = loop_start(text)
    assert at is not None
    assert text[:at] == opening + sentence


def test_structure_that_repeats_by_design_is_not_a_loop() -> None:
    table = "| Step | Owner |\n|---|---|\n" + "| | |\n" * 12
    checklist = "Before you deploy:\n" + "- [ ] \n" * 15
    rule = "Results\n" + "=" * 120
    short = "Ha ha ha."  # three copies, but too short to be a runaway model
    for text in (table, checklist, rule, short):
        shown, guard = _streamed(text, 2)
        assert not guard.cut and guard.text == shown == text, text


def test_punctuation_that_draws_no_structure_is_a_loop() -> None:
    # What the packaged model wrote under a customer reply, to its token limit.
    text = "Could you please provide them?\n" + "(.*)\n" * 40
    shown, guard = _streamed(text, 3)
    assert guard.cut and guard.text == "Could you please provide them?\n(.*)\n"


def test_layout_repeated_past_any_documents_structure_is_a_loop() -> None:
    # What the packaged model wrote under a customer reply, live, to its token limit.
    text = "conversations with users 100% paid by default.\n" + "* " * 300
    shown, guard = _streamed(text, 5)
    assert guard.cut and guard.text == "conversations with users 100% paid by default.\n"
    assert len(shown) < 600  # stopped long before the token limit


def test_a_draft_with_no_loop_is_passed_through_whole() -> None:
    text = ("Deploys run Monday to Thursday. Production is frozen on Fridays; an exception "
            "needs the engineering manager's approval in #deploys.\n\n"
            "1. Merge to main.\n2. Wait for CI.\n3. Run deploy-prod.\n") * 2
    shown, guard = _streamed(text, 4)
    # The whole paragraph twice is two copies: not yet a loop.
    assert not guard.cut and shown == guard.text == text


def test_a_draft_stopped_mid_sentence_keeps_its_last_whole_sentence() -> None:
    assert finished_part("Deploys run Monday to Thursday. Production is frozen on Fri") \
        == "Deploys run Monday to Thursday."
    assert finished_part("1. Merge to main.\n2. Wait for CI.\n3. Run deploy-pr") \
        == "1. Merge to main.\n2. Wait for CI."
    assert finished_part("当番は15分後にエスカレーションします。次に副当番のエンジ") \
        == "当番は15分後にエスカレーションします。"
    # Hindi ends a sentence with a danda, and Arabic asks with its own question mark.
    assert finished_part("हम आज आपका इनवॉइस ठीक कर देंगे। कृपया अपना ऑर्डर नंबर भे") \
        == "हम आज आपका इनवॉइस ठीक कर देंगे।"
    assert finished_part("هل يمكنك إرسال رقم الطلب؟ سنقوم بإصلاح الفاتو") \
        == "هل يمكنك إرسال رقم الطلب؟"


def test_abbreviations_and_decimals_end_no_sentence() -> None:
    assert finished_part("Use a stable release, e.g. 3.5 or later, and then e.g. mor") \
        == "Use a stable release, e.g. 3.5 or later, and then e.g. mor"


def test_a_draft_with_no_sentence_end_late_enough_is_kept_whole() -> None:
    # Cutting back to the first line would drop most of it: the reviewer gets it all.
    text = "Intro.\n" + "a long list item without any end " * 10
    assert finished_part(text) == text.rstrip()


def test_a_draft_stopped_inside_a_code_block_gets_it_closed() -> None:
    text = "Run these:\n```\nmake build\nmake test\nmake depl"
    assert finished_part(text) == "Run these:\n```\nmake build\nmake test\n```"


OPENING = "Hi, thanks for reaching out to us. We"
# What the adapter of a learning-loop proof run wrote for 1 of 20 held-out questions:
# its reply, the sign-off it had learnt, then a second reply from the opening on.
SECOND_REPLY = (OPENING + " are sorry the export stopped halfway. Could you send us the "
                "file name?\n\n— The Tandem team. Hi, thanks for reaching out to us! We "
                "will look into it and get back to you.")


@pytest.mark.parametrize("step", [1, 4, 9, 200])
def test_a_draft_that_writes_its_opening_again_ends_before_the_second_reply(
        step: int) -> None:
    guard, shown = LoopGuard(OPENING), ""
    for i in range(0, len(SECOND_REPLY), step):
        shown += guard.feed(SECOND_REPLY[i:i + step])
    assert guard.cut and guard.restarted
    assert guard.text.rstrip().endswith("file name?\n\n— The Tandem team.")
    assert "will look into it" not in shown


def test_the_opening_itself_and_its_words_within_a_sentence_are_no_restart() -> None:
    guard = LoopGuard(OPENING)
    text = OPENING + (" have forwarded your note; she said hi, thanks for reaching out to "
                      "us so quickly. We will write again tomorrow.")
    assert guard.feed(text) == text and not guard.cut


@pytest.mark.parametrize(("opening", "key"), [
    ("Hi, thanks for reaching out to us. We", "Hi, thanks for reaching"),
    ("您好，感谢您联系我们。我们", "您好，感谢您联系我们。"),  # its first sentence, shorter
    ("According to [1]: Pages go to the primary on-call engineer first.",
     "According to [1]: Pages"),
    # A lead alone: an answer may name its source again for another point.
    ("According to [1]:", None),
    ("根据[1]：", None),
])
def test_what_of_an_opening_written_again_begins_a_second_reply(
        opening: str, key: str | None) -> None:
    assert restart_key(opening) == key
