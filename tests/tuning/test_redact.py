"""PII redaction: each kind replaced, consistently, and ordinary prose kept."""

from __future__ import annotations

from bot.tuning.redact import Redactor, luhn_ok, redact_row


def test_email_and_slack_mailto_become_the_same_placeholder() -> None:
    r = Redactor()
    out = r.text("Mail bob@example.com or <mailto:bob@example.com|bob@example.com>; cc a.b@x.io")
    assert out == "Mail [EMAIL_1] or [EMAIL_1]; cc [EMAIL_2]"


def test_slack_user_mentions_and_bare_ids_are_redacted_consistently() -> None:
    out = Redactor().text("<@U024BE7LH> asked <@U0G9QF9C6|sam>, then U024BE7LH again")
    assert out == "[USER_1] asked [USER_2], then [USER_1] again"


def test_channel_mentions_are_not_users() -> None:
    assert Redactor().text("see <#C024BE7LR|general>") == "see <#C024BE7LR|general>"


def test_card_numbers_need_a_valid_luhn_checksum() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    out = Redactor().text("card 4111 1111 1111 1111, ref 4111 1111 1111 1112")
    assert out == "card [CARD_1], ref 4111 1111 1111 1112"


def test_phone_numbers_are_redacted_but_dates_and_small_numbers_are_not() -> None:
    out = Redactor().text("Call +1 (415) 555-0132 or 020 7946 0958 by 2025-01-15 about order 42")
    assert out == "Call [PHONE_1] or [PHONE_2] by 2025-01-15 about order 42"


def test_names_found_by_list_and_by_greeting_cue() -> None:
    text = "Hi Oluwaseun, Sarah Connor said Sarah would call. Thanks, The Tandem team"
    out = Redactor().text(text)
    assert out == "Hi [NAME_1], [NAME_2] said [NAME_3] would call. Thanks, The Tandem team"


def test_prose_without_pii_is_unchanged() -> None:
    text = "Version 2.3 ships on Monday. The invoice shows 3 seats; we refunded $120.50."
    assert Redactor().text(text) == text


def test_row_placeholders_are_consistent_across_prompt_and_completion() -> None:
    row = {"prompt": [{"role": "user", "content": "I am jo@ex.com"}],
           "completion": [{"role": "assistant", "content": "We wrote to jo@ex.com"}], "label": True}
    out = redact_row(row)
    assert out["prompt"][0]["content"] == "I am [EMAIL_1]"
    assert out["completion"][0] == {"role": "assistant", "content": "We wrote to [EMAIL_1]"}
    assert out["label"] is True
