"""The SSE decoder: framing rules without a network."""

from __future__ import annotations

from bot.llm.sse import DONE, SSEDecoder


def test_decoder_joins_multiline_data_and_skips_comments() -> None:
    decoder = SSEDecoder()
    events = [decoder.feed(line) for line in
              [b": keep-alive\n", b'data: {"a":\n', b"data: 1}\n", b"\n", b"data: [DONE]\n", b"\n"]]
    assert [e for e in events if e is not None] == [{"a": 1}, DONE]


def test_decoder_flush_returns_unterminated_event() -> None:
    decoder = SSEDecoder()
    assert decoder.feed('data:{"b": 2}') is None
    assert decoder.flush() == {"b": 2}
    assert decoder.flush() is None
