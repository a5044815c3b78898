"""The Transcribe page's initial prompt: shown for Whisper models only, sent in DecodeOptions, remembered."""

from __future__ import annotations

import json

import numpy as np

from engine.audio import save_wav


def _page(qtbot, engine):
    from app.pages.transcribe_page import TranscribePage

    page = TranscribePage(engine)
    qtbot.addWidget(page)
    page.show()
    return page


def test_the_prompt_is_offered_and_sent_for_whisper_only(qtbot, engine, whisper_dir, demo_dir):
    page = _page(qtbot, engine)
    page.set_model_path(whisper_dir)
    assert page.prompt_edit.isVisible()
    assert page.decode_options().initial_prompt is None  # nothing typed: no prompt
    page.prompt_edit.setText("  Núñez, Ramón y Cajal ")
    assert page.decode_options().initial_prompt == "Núñez, Ramón y Cajal"
    page.set_model_path(demo_dir)  # a Speech-Transformer: it would refuse a prompt
    assert not page.prompt_edit.isVisible() and page.decode_options().initial_prompt is None
    page.set_model_path(whisper_dir)
    assert page.prompt_edit.isVisible() and page.decode_options().initial_prompt == "Núñez, Ramón y Cajal"
    again = _page(qtbot, engine)  # the next session finds the names typed before
    assert again.prompt_edit.text() == "  Núñez, Ramón y Cajal "


def test_a_prompted_run_crosses_to_the_engine_and_is_recorded_in_the_export(qtbot, engine, whisper_dir, tmp_path):
    wav = tmp_path / "ruido.wav"
    save_wav(wav, (0.1 * np.random.default_rng(2).standard_normal(16000 // 2)).astype(np.float32), 16000)
    page = _page(qtbot, engine)
    page.set_model_path(whisper_dir)
    assert page.load_audio_file(wav)
    page.prompt_edit.setText("el pingüino")
    with qtbot.waitSignal(page.transcription_finished, timeout=120_000):
        page.transcribe()
    assert not page.error_label.isVisible(), page.error_label.text()
    assert page.export(tmp_path / "ruido.json")
    settings = json.loads((tmp_path / "ruido.json").read_text(encoding="utf-8"))["settings"]
    assert settings["initial_prompt"] == "el pingüino"
