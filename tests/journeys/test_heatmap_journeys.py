"""Journeys through the attention heatmaps: a person transcribes a real clip and reads where each token looked.

Issue 17, defect 4: with Whisper the cross-attention rows were labelled one character each ("N, o, ␣, n…")
although Whisper writes BPE pieces, the "alignment heads" view was blank and Layer and Head offered only 0.
Here a person transcribes real Spanish (cajal-es) with Whisper base and with the demo model in the real
window, on the real engine process, and reads the heatmap: its rows are the model's own tokens, every
layer and head can be picked, Whisper's alignment heads draw the path through the speech, and the encoder
tab shows the clip's self-attention.
"""

from __future__ import annotations

import numpy as np
import pytest

from app.widgets.attention_view import ALIGNMENT_HEADS
from tests.journeys.conftest import choose_model, copy_to, open_with_dialog, snapshot, transcribe

WHISPER_FRAME = 0.02  # seconds per Whisper encoder frame
DEMO_FRAME = 0.04  # the Speech-Transformer's (10 ms features, subsampled 4 times)


def combo_items(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def pick(combo, text: str) -> None:
    index = combo.findText(text)
    assert index >= 0, f"{text!r} is not offered: {combo_items(combo)}"
    combo.setCurrentIndex(index)


def drawn(view) -> np.ndarray:
    """The picture the heatmap shows now; fails if there is none or it is one flat colour."""
    view.redraw()
    image = view.image.image
    assert image is not None, "the heatmap shows nothing"
    assert np.isfinite(image).all() and np.ptp(image) > 0, "the heatmap is one flat colour"
    return image


def test_whisper_heatmap_rows_are_its_tokens_and_every_head_can_be_read(journey_window, qtbot, monkeypatch,
                                                                          tmp_path, whisper_base, cajal):
    window, page = journey_window, journey_window.transcribe_page
    view, encoder_view = page.attention_view, page.self_attention_view
    choose_model(page.model_picker, whisper_base)
    page.beam_spin.setValue(1)
    wav, _reference = cajal[1]  # "Conmiseración, por el talento consumido persiguiendo quimeras; …": 120 characters
    open_with_dialog(window, monkeypatch, copy_to(wav, tmp_path / "audio"))
    transcript = transcribe(qtbot, page)
    assert len(transcript.text) > 100

    # The rows read as Whisper wrote the text: its BPE pieces, not one character each.
    pieces = [t.text for t in transcript.tokens]
    assert view.shown_tokens() == pieces
    assert "".join(pieces).strip() == transcript.text
    assert len(pieces) < len(transcript.text) / 2 and sum(len(p.strip()) > 2 for p in pieces) > 10
    labels = [label for _, label in view.plot.getAxis("left")._tickLevels[0]]
    assert labels and "".join(labels) != "".join(transcript.text)  # not the characters of the text

    # Timestamps and the end of the text are rows too, hidden until asked for.
    view.special_check.setChecked(True)
    shown = view.shown_tokens()
    assert shown[0] == "<|0.00|>" and shown[-1] == "⏎" and len(shown) > len(pieces)
    assert all(t.startswith("<|") and t.endswith("|>") for t in shown if t not in pieces and t != "⏎")
    view.special_check.setChecked(False)

    # Every layer and head of Whisper base's decoder, their mean, and the alignment heads.
    assert combo_items(view.layer_combo) == [str(i) for i in range(6)]
    assert combo_items(view.head_combo) == ["average", "alignment heads"] + [str(i) for i in range(8)]
    assert view.selected()[1] == ALIGNMENT_HEADS  # Whisper's heatmap opens on the heads that follow the speech
    pick(view.head_combo, "alignment heads")
    image = drawn(view)
    assert image.shape == (len(pieces), round(transcript.duration / WHISPER_FRAME))
    peaks = image.argmax(axis=1) * WHISPER_FRAME
    assert np.mean(np.diff(peaks) >= -0.1) > 0.8  # read top to bottom, the tokens walk through the audio
    assert peaks[-1] - peaks[0] > transcript.duration / 2
    snapshot(view, "heatmap_whisper_alignment_heads")
    for layer, head in (("5", "7"), ("0", "average"), ("3", "1")):
        pick(view.layer_combo, layer)
        pick(view.head_combo, head)
        drawn(view)
    pick(view.layer_combo, "2")
    pick(view.head_combo, "average")
    snapshot(view, "heatmap_whisper_layer2_average")
    pick(view.head_combo, "alignment heads")

    # The encoder's self-attention covers the clip's frames, not Whisper's 30 s of padding.
    page.attention_tabs.setCurrentWidget(encoder_view)
    qtbot.wait(50)
    n_frames = round(transcript.duration / WHISPER_FRAME)
    assert drawn(encoder_view).shape == (n_frames, n_frames)
    assert combo_items(encoder_view.layer_combo) == [str(i) for i in range(6)]
    snapshot(encoder_view, "heatmap_whisper_encoder")
    page.attention_tabs.setCurrentWidget(view)
    qtbot.wait(50)
    snapshot(window, "heatmap_whisper_window")


def test_demo_heatmap_rows_are_its_characters(journey_window, qtbot, monkeypatch, tmp_path, demo_model, cajal):
    window, page, view = journey_window, journey_window.transcribe_page, journey_window.transcribe_page.attention_view
    choose_model(page.model_picker, demo_model)
    page.beam_spin.setValue(1)
    wav, _reference = cajal[0]
    open_with_dialog(window, monkeypatch, copy_to(wav, tmp_path / "audio"))
    transcript = transcribe(qtbot, page)
    assert transcript.text

    # A character model's tokens are characters: one row each, the end of the text hidden with the specials.
    assert view.shown_tokens() == list(transcript.text)
    view.special_check.setChecked(True)
    assert view.shown_tokens() == list(transcript.text) + ["⏎"]
    view.special_check.setChecked(False)

    assert combo_items(view.layer_combo) == ["0", "1"]  # demo-es: 2 decoder layers of 4 heads, no alignment heads
    assert combo_items(view.head_combo) == ["average", "0", "1", "2", "3"]
    for layer, head in (("1", "3"), ("0", "average")):
        pick(view.layer_combo, layer)
        pick(view.head_combo, head)
        image = drawn(view)
        assert image.shape[0] == len(transcript.text)
    encoder_rows = drawn(page.self_attention_view).shape[0]
    assert encoder_rows == pytest.approx(transcript.duration / DEMO_FRAME, abs=2)
    snapshot(view, "heatmap_demo")
    snapshot(window, "heatmap_demo_window")
