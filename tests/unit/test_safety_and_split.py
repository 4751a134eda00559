from __future__ import annotations

from bot.drafting.safety import clean_slack_text, neutralise, referenced, to_mrkdwn
from bot.drafting.split import split_text
from bot.review.editdist import edit_distance


def test_neutralise_defuses_broadcasts_and_strangers_but_keeps_participants() -> None:
    text = "Hi <!channel> <!here|here> @everyone <!subteam^S1|@ops> <@U1> <@U2|bob>"
    out = neutralise(text, {"U1"})
    assert "<!channel>" not in out and "<!here" not in out and "<!subteam" not in out
    assert "@everyone" not in out.replace("`@everyone`", "")
    assert "<@U1>" in out and "<@U2" not in out


def test_to_mrkdwn_converts_markdown_but_not_code() -> None:
    md = "# Title\n**bold** and [docs](https://x.io)\n* item\n```**raw**```"
    out = to_mrkdwn(md)
    assert "*Title*" in out and "*bold*" in out and "<https://x.io|docs>" in out
    assert "• item" in out and "```**raw**```" in out


def test_clean_slack_text_names_people_and_unwraps_links() -> None:
    out = clean_slack_text("<@U1> see <https://a.b|the doc> in <#C1|general> &amp; more",
                           {"U1": "Alice"})
    assert out == "@Alice see the doc (https://a.b) in #general & more"


def test_clean_slack_text_names_a_channel_referred_to_without_its_name() -> None:
    text = "moved to <#C2> and <#C3|> on <!date^1700000000^{date}|Nov 14>, ask <@U1>"
    assert referenced(text) == ({"U1"}, {"C2", "C3"})
    out = clean_slack_text(text, {"U1": "Alice"}, {"C2": "deploys", "C3": "oncall"})
    assert out == "moved to #deploys and #oncall on Nov 14, ask @Alice"
    assert clean_slack_text("see <#C2>", {}) == "see #C2"  # unknown: the ID, as before


def test_split_text_respects_limit_and_rejoins() -> None:
    text = ("paragraph " * 50 + "\n\n") * 30
    parts = split_text(text, 1000)
    assert all(len(p) <= 1000 for p in parts)
    assert "".join(parts) == text


def test_split_text_without_spaces_still_splits() -> None:
    parts = split_text("x" * 2500, 1000)
    assert [len(p) for p in parts] == [1000, 1000, 500]


def test_edit_distance_counts_changed_words() -> None:
    assert edit_distance("a b c", "a b c") == 0
    assert edit_distance("a b c", "a x c") == 1
    assert edit_distance("a b c", "a b c d e") == 2
    assert edit_distance("", "one two") == 2
