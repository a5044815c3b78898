"""The Transcribe page's "More options…": each choice reaches the DecodeOptions the page sends, is remembered,
shapes the subtitles it exports, and is greyed out (and never sent) where the model chosen is no Whisper."""

from __future__ import annotations

import inspect
import json

import numpy as np
import pytest
from PySide6.QtCore import QSettings, Qt

from engine.audio import save_wav
from engine.transcript import DecodeOptions, TimedText, Transcript


def _page(qtbot, engine, model=None):
    from app.pages.transcribe_page import TranscribePage

    page = TranscribePage(engine)
    qtbot.addWidget(page)
    page.show()
    if model is not None:
        page.set_model_path(model)
    return page


def _open_options(qtbot, page):
    """Click "More options…" as a person does; the dialog comes up beside the page."""
    qtbot.mouseClick(page.options_button, Qt.MouseButton.LeftButton)
    dialog = page.options_dialog
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def _choose(combo, data) -> None:
    combo.setCurrentIndex(combo.findData(data))


def test_the_defaults_are_the_engines_and_the_clis(qtbot, engine, whisper_dir):
    from engine.export import make_cues

    page = _page(qtbot, engine, whisper_dir)
    sent, defaults = page.decode_options(), DecodeOptions()
    for name in ("temperature", "temperature_fallback", "condition_on_previous_text", "word_timestamps", "batch_size",
                 "vad", "vad_threshold"):
        assert getattr(sent, name) == getattr(defaults, name), name
    cue_defaults = inspect.signature(make_cues).parameters
    assert page.options_dialog.subtitle_shaping() == {"max_chars": cue_defaults["max_chars"].default,
                                                      "max_lines": cue_defaults["max_lines"].default}


def test_each_control_changes_the_options_the_page_sends(qtbot, engine, whisper_dir):
    page = _page(qtbot, engine, whisper_dir)
    dialog = _open_options(qtbot, page)
    assert dialog.whisper and dialog.batch_spin.isEnabled() and not dialog.whisper_note.isVisible()
    dialog.temperature_spin.setValue(0.4)
    assert page.decode_options().temperature == pytest.approx(0.4)
    qtbot.mouseClick(dialog.fallback_check, Qt.MouseButton.LeftButton)
    assert page.decode_options().temperature_fallback is False
    qtbot.mouseClick(dialog.condition_check, Qt.MouseButton.LeftButton)
    assert page.decode_options().condition_on_previous_text is False
    qtbot.mouseClick(dialog.word_times_check, Qt.MouseButton.LeftButton)
    assert page.decode_options().word_timestamps is False
    assert dialog.batch_spin.text() == "off: window after window"  # 0 says what it means
    assert not dialog.threshold_spin.isEnabled()  # "auto" without batching: no voice-activity detection
    dialog.batch_spin.setValue(16)
    assert page.decode_options().batch_size == 16
    assert not dialog.condition_check.isEnabled()  # batched pieces are never conditioned: said, not offered
    assert "no piece is conditioned" in dialog.batch_spin.toolTip() and "faster on long files" in \
        dialog.batch_spin.toolTip()
    assert dialog.threshold_spin.isEnabled()  # "auto" with batching: on
    _choose(dialog.vad_combo, "silero")
    assert page.decode_options().vad == "silero"
    dialog.threshold_spin.setValue(0.35)
    assert page.decode_options().vad_threshold == pytest.approx(0.35)
    _choose(dialog.vad_combo, "off")
    assert page.decode_options().vad == "off" and not dialog.threshold_spin.isEnabled()
    dialog.line_width_spin.setValue(20)
    dialog.line_count_spin.setValue(2)
    assert dialog.subtitle_shaping() == {"max_chars": 20, "max_lines": 2}
    # the rest of the page's choices still ride along
    page.beam_spin.setValue(3)
    page.prompt_edit.setText("Ramón y Cajal")
    sent = page.decode_options()
    assert (sent.beam_size, sent.initial_prompt, sent.language, sent.batch_size) == (3, "Ramón y Cajal", "es", 16)


def test_a_run_sends_the_options_and_its_export_records_them(qtbot, engine, whisper_dir, tmp_path):
    wav = tmp_path / "ruido.wav"
    save_wav(wav, (0.1 * np.random.default_rng(3).standard_normal(16000 // 2)).astype(np.float32), 16000)
    page = _page(qtbot, engine, whisper_dir)
    assert page.load_audio_file(wav)
    dialog = _open_options(qtbot, page)
    dialog.temperature_spin.setValue(0.2)
    dialog.fallback_check.setChecked(False)
    dialog.word_times_check.setChecked(False)
    _choose(dialog.vad_combo, "off")
    sent = []
    submit = engine.submit  # the real engine gets every command; this only keeps a copy of what went

    def keep(command_type, **fields):
        sent.append((command_type.__name__, fields))
        return submit(command_type, **fields)

    engine.submit = keep
    try:
        with qtbot.waitSignal(page.transcription_finished, timeout=120_000):
            page.transcribe()
    finally:
        del engine.submit
    options = [fields["options"] for name, fields in sent if name == "Transcribe"]
    assert len(options) == 1
    assert (options[0].temperature, options[0].temperature_fallback, options[0].word_timestamps, options[0].vad) == \
        (0.2, False, False, "off")
    assert page.export(tmp_path / "ruido.json")
    settings = json.loads((tmp_path / "ruido.json").read_text(encoding="utf-8"))["settings"]
    assert settings["temperature"] == 0.2 and settings["temperature_fallback"] is False
    assert settings["word_timestamps"] is False and settings["vad"] == "off" and settings["batch_size"] == 0


def test_subtitles_are_exported_with_the_lines_chosen(qtbot, engine, whisper_dir, tmp_path):
    from app.transcript_result import TranscriptResult

    page = _page(qtbot, engine, whisper_dir)
    words = "¿qué tal señor núñez? la neurona es la unidad anatómica y fisiológica del sistema nervioso".split()
    timed = [TimedText(w, 0.4 * i, 0.4 * i + 0.35) for i, w in enumerate(words)]
    page.result = TranscriptResult(Transcript(" ".join(words), [], timed, 0.4 * len(words), 0.0),
                                   {"audio": tmp_path / "clase.wav", "model": "diminuto"})
    dialog = page.options_dialog
    dialog.line_width_spin.setValue(20)
    dialog.line_count_spin.setValue(2)
    assert page.export(tmp_path / "clase.srt") and page.export(tmp_path / "clase.vtt")
    for name in ("clase.srt", "clase.vtt"):
        text = (tmp_path / name).read_text(encoding="utf-8")
        blocks = [b.splitlines() for b in text.strip().split("\n\n")]
        cues = [b[2:] if name.endswith(".srt") else b[1:] for b in blocks if "-->" in "".join(b)]
        lines = [line for cue in cues for line in cue]
        assert max(map(len, lines)) <= 20 and max(map(len, cues)) == 2, text
        assert " ".join(lines).split() == words  # every word, in order, none split
    dialog.line_width_spin.setValue(42)
    dialog.line_count_spin.setValue(1)
    assert page.export(tmp_path / "larga.srt")
    lines = [line for line in (tmp_path / "larga.srt").read_text(encoding="utf-8").splitlines()
             if line and "-->" not in line and not line.isdigit()]
    assert max(map(len, lines)) > 20  # the width chosen is what shapes them


def test_the_choices_are_remembered_and_reset(qtbot, engine, whisper_dir):
    page = _page(qtbot, engine, whisper_dir)
    dialog = page.options_dialog
    dialog.temperature_spin.setValue(0.6)
    dialog.fallback_check.setChecked(False)
    dialog.condition_check.setChecked(False)
    dialog.word_times_check.setChecked(False)
    dialog.batch_spin.setValue(8)
    _choose(dialog.vad_combo, "energy")
    dialog.threshold_spin.setValue(0.7)
    dialog.line_width_spin.setValue(32)
    dialog.line_count_spin.setValue(2)
    expected = page.decode_options()

    again = _page(qtbot, engine, whisper_dir)  # the next start
    assert again.decode_options() == expected
    assert again.options_dialog.subtitle_shaping() == {"max_chars": 32, "max_lines": 2}
    restored = again.options_dialog
    assert restored.vad_combo.currentData() == "energy" and not restored.word_times_check.isChecked()

    qtbot.mouseClick(restored.reset_button, Qt.MouseButton.LeftButton)
    defaults = DecodeOptions(beam_size=expected.beam_size, initial_prompt=expected.initial_prompt)
    assert again.decode_options() == defaults and restored.subtitle_shaping() == {"max_chars": 42, "max_lines": 1}
    assert restored.fallback_check.isChecked() and restored.batch_spin.text() == "off: window after window"
    assert _page(qtbot, engine, whisper_dir).decode_options() == defaults  # the reset is remembered too


def test_whisper_only_options_are_greyed_and_never_sent_to_a_speech_transformer(qtbot, engine, whisper_dir,
                                                                                demo_dir):
    page = _page(qtbot, engine, whisper_dir)
    dialog = _open_options(qtbot, page)
    dialog.temperature_spin.setValue(0.4)
    dialog.word_times_check.setChecked(False)
    dialog.fallback_check.setChecked(False)
    dialog.batch_spin.setValue(8)
    page.set_model_path(demo_dir)  # the dialog open while another model is picked
    whisper_only = (dialog.fallback_check, dialog.condition_check, dialog.word_times_check, dialog.batch_spin,
                    dialog.vad_combo, dialog.threshold_spin)
    for widget in whisper_only:
        assert not widget.isEnabled(), widget
        assert "Whisper models only" in widget.toolTip(), widget
    assert dialog.whisper_note.isVisible() and "not a Whisper model" in dialog.whisper_note.text()
    # what a Speech-Transformer takes stays: the temperature (it samples) and the subtitle lines
    assert dialog.temperature_spin.isEnabled() and dialog.line_width_spin.isEnabled()
    sent = page.decode_options()
    assert sent.temperature == pytest.approx(0.4)
    assert (sent.word_timestamps, sent.temperature_fallback, sent.batch_size) == (True, True, 0)  # as it accepts

    from engine.models.io import load_model
    from engine.transcribe import check_decode_options

    check_decode_options(sent, load_model(demo_dir))  # the engine's own check: nothing it refuses
    page.set_model_path(whisper_dir)  # back: the choices come back with the controls
    assert all(w.isEnabled() for w in whisper_only if w is not dialog.condition_check)
    assert not dialog.whisper_note.isVisible()
    assert (page.decode_options().word_timestamps, page.decode_options().batch_size) == (False, 8)


def test_stored_nonsense_falls_back_to_the_defaults(qtbot, engine, whisper_dir):
    settings = QSettings()
    for key, value in (("temperature", "caliente"), ("batch_size", 500), ("vad", "webrtc"), ("vad_threshold", 1.5),
                       ("word_timestamps", "quizá"), ("max_line_width", 0), ("max_line_count", 3)):
        settings.setValue(f"transcribe/{key}", value)
    page = _page(qtbot, engine, whisper_dir)
    sent = page.decode_options()
    assert (sent.temperature, sent.batch_size, sent.vad, sent.vad_threshold, sent.word_timestamps) == \
        (0.0, 0, "auto", 0.5, True)
    assert page.options_dialog.subtitle_shaping() == {"max_chars": 42, "max_lines": 3}  # the good one is kept
