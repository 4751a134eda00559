"""Where a draft switches to a script no one in its conversation used."""

from bot.drafting.scripts import ScriptGuard, allowed_scripts, scripts_in, stray_script_at

# What the packaged model wrote, asked in English to reply to a customer.
DRIFTED = ("Hi, thanks for your message. We are working on a solution now.我可以\n mennesu\n"
           "Please do not hesitate to contact Customer Service.我可以\n mennesu\n")


def feed(guard: ScriptGuard, text: str, size: int = 3) -> str:
    return "".join(guard.feed(text[i:i + size]) for i in range(0, len(text), size))


def test_a_draft_is_cut_where_a_script_missing_from_its_prompt_begins() -> None:
    guard = ScriptGuard(scripts_in(["You are Tandem.", "Customer message: deploys fail"]))
    shown = feed(guard, DRIFTED)
    assert guard.cut
    assert guard.text == "Hi, thanks for your message. We are working on a solution now."
    assert shown == guard.text  # nothing past the cut was shown
    assert guard.feed("more") == ""


def test_the_cut_drops_the_unfinished_words_leading_into_the_drift() -> None:
    guard = ScriptGuard(frozenset())
    feed(guard, "Hi, thanks for your message. Yes, we can send a receipt. keçingame我可以\n")
    assert guard.text == "Hi, thanks for your message. Yes, we can send a receipt."


def test_a_script_the_conversation_uses_is_not_a_cut() -> None:
    asked = "你们的接口从今天早上开始一直超时，麻烦看一下"
    guard = ScriptGuard(scripts_in(["You are Tandem.", asked]))
    reply = "您好，感谢您的消息。我们正在查看接口超时的问题，请提供 request ID。"
    assert feed(guard, reply) == reply and not guard.cut
    # Japanese kana in a Chinese conversation are a drift all the same.
    assert stray_script_at(reply + "に通客", scripts_in([asked])) == len(reply)


def test_accented_latin_greek_and_symbols_are_never_a_cut() -> None:
    text = "Café résumé naïve Ærø, β-coronavirus at 5 µs, → ✓ “quoted” — done…"
    assert stray_script_at(text, frozenset()) is None


def test_each_script_is_told_apart() -> None:
    assert scripts_in(["Привет", "こんにちは", "カタカナ", "中文", "한국어", "مرحبا"]) == {
        "cyrillic", "kana", "han", "hangul", "arabic"}


def test_a_language_the_ask_names_or_an_ask_to_translate_allows_its_script() -> None:
    prompt = ["You are Tandem, drafting documents."]
    assert allowed_scripts(prompt, "write the welcome note in Japanese") == {"kana", "han"}
    assert allowed_scripts(prompt, "escribe el aviso en ruso") == {"cyrillic"}
    assert allowed_scripts(prompt, "please translate this for our Tokyo customer") is None
    guard = ScriptGuard(allowed_scripts(prompt, "write the welcome note in Japanese"))
    note = "Here is the note:\n\nようこそ、東京オフィスへ！"
    assert feed(guard, note) == note and not guard.cut
    assert allowed_scripts(prompt, "write the welcome note") == frozenset()
