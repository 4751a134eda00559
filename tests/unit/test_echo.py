"""Lines at a draft's end that echo its prompt's frame, or introduce nothing, are dropped."""

from __future__ import annotations

from bot.drafting.echo import without_echo


def test_labels_written_a_little_off_and_empty_fillers_at_the_end_are_dropped() -> None:
    # What the packaged model wrote after its reply, with the shipped stops.
    reply = "Hi, thanks for reaching out to us. We will send it today."
    tail = "\n((no))\n\ncustomer email (not yet received)):\n(none)\n\nConversation sofar:\n"
    assert without_echo(reply + tail) == reply
    assert without_echo("您好，感谢您联系我们。我们会尽快处理。\n(none)\n") == \
        "您好，感谢您联系我们。我们会尽快处理。"


def test_labels_of_the_models_own_that_nothing_follows_are_dropped_from_the_end() -> None:
    # What the packaged model ended live customer replies with.
    reply = ("Hi, thanks for reaching out to us. We don't offer returns; please contact "
             "our Customer Service department.")
    for tail in ("\nImprovements/changes made by customer (or current issues):",
                 "\nNext steps: (no)", "\nProceeding conversation sofar:",
                 "\n\nNext steps:\n(none)\n", "\n## Next steps:\n* Default:"):
        assert without_echo(reply + tail) == reply, tail


def test_the_drafts_own_lines_stay() -> None:
    # A label that something follows, words in parentheses within a line, other headings,
    # and a draft that is nothing but a label (it is all there is to review).
    kept = ["Customer impact:\nNone expected.", "We'll check it (today).",
            "Next steps:", "Summary (draft)\nAll good.", "Thanks!\n(see attached)",
            "Steps:\n1. Open the app: it shows the order.", "Ratio 3:2\nSee the chart."]
    assert [without_echo(text) for text in kept] == kept


def test_a_stray_word_after_the_last_sentence_is_dropped() -> None:
    # Seen live (Dutch) and in the bench (an answer), where the model stopped.
    assert without_echo("Wij lossen het op als dat mogelijk is. prochain") == \
        "Wij lossen het op als dat mogelijk is."
    assert without_echo("It escalates to the secondary [1]. prochains") == \
        "It escalates to the secondary [1]."
    # A signature on its own line, a version, a sentence, a capitalised word all stay.
    kept = ["Thanks!\nAlice", "Upgrade to 2.4. v3", "Done. See you soon.", "Run it. 42",
            "Can I expense a chair? Yes", "We will fix it today. Cheers"]
    assert [without_echo(text) for text in kept] == kept
