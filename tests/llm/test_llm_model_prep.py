"""Model cache sealing: a partial or corrupted cache is never taken as ready."""

from __future__ import annotations

from pathlib import Path

from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.llm.model_prep import (
    MARKER,
    STOP,
    cache_is_valid,
    chat_template_path,
    prepare_model,
    write_marker,
)


def _fake_build(folder: Path) -> Path:
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights" * 100)
    (folder / "config.json").write_text("{}")
    write_marker(folder)
    return folder


def test_cache_valid_after_marker_written(tmp_path: Path) -> None:
    assert cache_is_valid(_fake_build(tmp_path / "m"))


def test_cache_invalid_when_marker_missing(tmp_path: Path) -> None:
    folder = _fake_build(tmp_path / "m")
    (folder / MARKER).unlink()
    assert not cache_is_valid(folder)


def test_cache_invalid_when_file_corrupted(tmp_path: Path) -> None:
    folder = _fake_build(tmp_path / "m")
    (folder / "model.safetensors").write_bytes(b"weights" * 99)
    assert not cache_is_valid(folder)


def test_cache_invalid_when_file_missing(tmp_path: Path) -> None:
    folder = _fake_build(tmp_path / "m")
    (folder / "config.json").unlink()
    assert not cache_is_valid(folder)


def test_prepare_model_reuses_valid_cache_without_rebuilding(tmp_path: Path) -> None:
    folder = _fake_build(tmp_path / "m")
    before = (folder / MARKER).stat().st_mtime_ns
    notes: list[str] = []
    assert prepare_model(folder, progress=notes.append) == folder
    assert notes == [] and (folder / MARKER).stat().st_mtime_ns == before


def test_chat_template_frames_turns_and_ends_on_model_prompt() -> None:
    template = ImmutableSandboxedEnvironment().from_string(chat_template_path().read_text())
    text = template.render(bos_token="<bos>", add_generation_prompt=True, messages=[
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Draft a note."}])
    assert text.startswith("<bos><start_of_turn>user\n")
    assert text.endswith("<start_of_turn>user\nBe brief.\n\nDraft a note." + STOP
                         + "\n<start_of_turn>model\n")
    assert text.count(STOP) == 3  # the one-shot example (2 turns) plus the real turn


def test_chat_template_skips_example_when_conversation_has_model_turns() -> None:
    template = ImmutableSandboxedEnvironment().from_string(chat_template_path().read_text())
    text = template.render(bos_token="<bos>", add_generation_prompt=False, messages=[
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}])
    assert text == ("<bos><start_of_turn>user\nhi<end_of_turn>\n"
                    "<start_of_turn>model\nhello<end_of_turn>\n")
