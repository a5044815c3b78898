"""AttentionView and SelfAttentionView: stored rows, averages, hover and click times, time axis."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.widgets.attention_view import ALIGNMENT_HEADS, AttentionView, SelfAttentionView
from app.widgets.audio_view import AudioView
from tests.app.media import ARTIFACTS, SR, real_speech_clip, speech_like

FRAME = 0.04
N_FRAMES = 50
CHUNK_START = 1.0


def peaked_row(centre: int, height: float, n: int = N_FRAMES) -> np.ndarray:
    """A row with weight at ``centre`` and half of it on each neighbour, scaled to ``height``."""
    row = np.zeros(n, dtype=np.float32)
    row[centre] = 1.0
    row[max(0, centre - 1)] = row[min(n - 1, centre + 1)] = 0.5
    return row * height


def fill(view: AttentionView, n_tokens: int = 6, n_layers: int = 2, n_heads: int = 4) -> list[str]:
    texts = list("¿qué ñ")[:n_tokens]
    view.reset(N_FRAMES, n_layers, n_heads, FRAME, CHUNK_START)
    for step in range(n_tokens):
        for layer in range(n_layers):
            for head in range(n_heads):
                # Every head peaks at the same frame, with a different height: the
                # average is then easy to state and the span is the same for all.
                row = peaked_row(5 + 7 * step, (head + 1) / 10 + layer)
                view.add_row(layer, head, step, row, texts[step])
    return texts


def view_pos(view: AttentionView, seconds: float, row: float) -> QPoint:
    scene = view.plot.vb.mapViewToScene(QPointF(seconds, row))
    return view.plot_widget.mapFromScene(scene)


@pytest.fixture
def view(qtbot):
    v = AttentionView()
    qtbot.addWidget(v)
    v.resize(800, 360)
    v.show()
    qtbot.waitExposed(v)
    return v


def test_rows_for_layers_and_heads_give_matrices_and_their_average(view, qtbot):
    texts = fill(view)
    assert view.layer_combo.count() == 2
    assert [view.head_combo.itemText(i) for i in range(5)] == ["average", "0", "1", "2", "3"]
    heads = np.stack([view.matrix(1, h) for h in range(4)])
    assert heads.shape == (4, 6, N_FRAMES)
    np.testing.assert_allclose(view.matrix(1, None), heads.mean(axis=0), rtol=1e-3)
    assert view.matrix(0, 2)[3, 5 + 21] == pytest.approx(0.3, rel=1e-3)
    assert view.tokens() == texts

    assert view.image.image is None  # drawn by the timer, not on every row
    qtbot.waitUntil(lambda: view.image.image is not None, timeout=1000)
    assert view.image.image.shape == (6, N_FRAMES)
    rect = view.image.mapRectToParent(view.image.boundingRect())
    assert rect.left() == pytest.approx(CHUNK_START)
    assert rect.right() == pytest.approx(CHUNK_START + N_FRAMES * FRAME)
    assert (rect.top(), rect.bottom()) == (0.0, 6.0)
    labels = [text for _, text in view.plot.getAxis("left")._tickLevels[0]]
    assert labels == ["¿", "q", "u", "é", "␣", "ñ"]


def test_selected_head_is_shown_and_an_explicit_average_wins(view, qtbot):
    fill(view)
    view.row_scale_check.setChecked(False)
    view.select(0, 3)
    np.testing.assert_allclose(view.image.image, view.matrix(0, 3))
    sent = peaked_row(40, 0.9)
    view.add_row(0, None, 2, sent, "u")  # the worker may send the average itself
    np.testing.assert_allclose(view.matrix(0, None)[2], sent, rtol=1e-3)
    np.testing.assert_allclose(view.matrix(0, None)[1], np.mean([view.matrix(0, h)[1] for h in range(4)], 0),
                               rtol=1e-3)


def test_whisper_alignment_heads_are_a_choice_that_spans_layers(view, qtbot, tmp_path):
    import json

    from app.widgets.attention_view import ALIGNMENT_HEADS
    from app.widgets.model_picker import alignment_heads

    folder = tmp_path / "whisper-diminuto"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"whisper": {"alignment_heads": [[0, 1], [1, 3]]}}))
    assert alignment_heads(folder) == [(0, 1), (1, 3)] and alignment_heads(tmp_path) == []

    fill(view)
    view.row_scale_check.setChecked(False)
    view.select(1, 2)
    view.set_alignment_heads(alignment_heads(folder))
    assert [view.head_combo.itemText(i) for i in range(6)] == ["average", "alignment heads", "0", "1", "2", "3"]
    assert view.selected() == (1, 2)  # the shown head survives the new entry
    view.select(0, ALIGNMENT_HEADS)
    assert view.selected()[1] == ALIGNMENT_HEADS and not view.layer_combo.isEnabled()
    expected = (view.matrix(0, 1) + view.matrix(1, 3)) / 2
    np.testing.assert_allclose(view.matrix(0, ALIGNMENT_HEADS), expected, rtol=1e-3)
    np.testing.assert_allclose(view.image.image, expected, rtol=1e-3)
    view.set_alignment_heads([])  # a Speech-Transformer picked: the entry goes, the average is shown
    assert view.head_combo.count() == 5 and view.selected() == (0, None) and view.layer_combo.isEnabled()


def test_hover_and_click_carry_token_and_times(view, qtbot):
    fill(view)
    view.redraw()
    peak = 5 + 7 * 3
    start, end = CHUNK_START + (peak - 1) * FRAME, CHUNK_START + (peak + 2) * FRAME
    assert view.token_span(3) == pytest.approx((start, end))

    viewport = view.plot_widget.viewport()
    with qtbot.waitSignal(view.token_hovered) as blocker:
        qtbot.mouseMove(viewport, view_pos(view, CHUNK_START + 0.3, 3.5))
    index, hover_start, hover_end = blocker.args
    assert index == 3 and (hover_start, hover_end) == pytest.approx((start, end))
    assert view.hover_band.isVisible()

    with qtbot.waitSignal(view.token_clicked) as blocker:
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=view_pos(view, CHUNK_START + 1.2, 1.5))
    seconds_per_pixel = N_FRAMES * FRAME / view.plot.vb.width()
    assert blocker.args[0] == 1
    assert blocker.args[1] == pytest.approx(CHUNK_START + 1.2, abs=2 * seconds_per_pixel)

    with qtbot.waitSignal(view.token_hovered) as blocker:
        qtbot.mouseMove(viewport, view_pos(view, CHUNK_START + 0.3, 20.0))  # below the last row
    assert blocker.args[0] == -1


def test_many_tokens_get_thinned_labels_and_rows_past_capacity_grow(view, qtbot):
    view.reset(N_FRAMES, 1, 1, FRAME)
    for step in range(300):
        view.add_row(0, 0, step, peaked_row(step % N_FRAMES, 1.0), "a")
    view.redraw()
    assert view.matrix(0, 0).shape == (300, N_FRAMES)
    labels = view.plot.getAxis("left")._tickLevels[0]
    assert 1 < len(labels) < 300


def test_a_finished_result_is_shown_at_once(view):
    weights = np.random.default_rng(0).random((3, 2, 5, N_FRAMES)).astype(np.float32)
    view.set_attention(weights, list("hola!"), FRAME, CHUNK_START)
    assert view.n_tokens == 5 and view.layer_combo.count() == 3 and view.head_combo.count() == 3
    np.testing.assert_allclose(view.matrix(2, 1), weights[2, 1], rtol=1e-3)
    np.testing.assert_allclose(view.matrix(2, None), weights[2].mean(axis=0), rtol=1e-3)
    assert view.image.image.shape == (5, N_FRAMES)


def stacked(qtbot) -> tuple[QWidget, AudioView, AttentionView]:
    """The audio view above the attention view, as a page would lay them out."""
    page = QWidget()
    qtbot.addWidget(page)
    layout = QVBoxLayout(page)
    audio, attention = AudioView(), AttentionView()
    layout.addWidget(audio, 1)
    layout.addWidget(attention, 1)
    page.resize(1000, 760)
    page.show()
    qtbot.waitExposed(page)
    attention.link_x(audio.waveform_plot)
    return page, audio, attention


def test_link_x_shares_the_audio_time_axis_pixel_for_pixel(qtbot):
    page, audio, attention = stacked(qtbot)  # keep page: qtbot holds widgets weakly
    audio.set_audio(speech_like(4.0), SR)
    audio.set_visible_range(1.0, 2.0)
    (x0, x1), _ = attention.plot.vb.viewRange()
    assert (x0, x1) == pytest.approx((1.0, 2.0), abs=1e-6)
    # Equal left axes: the same second is at the same screen x in both.
    for seconds in (1.25, 1.75):
        a = audio.waveform_plot.vb.mapViewToScene(QPointF(seconds, 0))
        b = attention.plot.vb.mapViewToScene(QPointF(seconds, 0))
        assert audio.graphics.mapToGlobal(audio.graphics.mapFromScene(a)).x() == pytest.approx(
            attention.plot_widget.mapToGlobal(attention.plot_widget.mapFromScene(b)).x(), abs=1)
    audio.shutdown()


def test_self_attention_stores_heads_and_averages(qtbot):
    view = SelfAttentionView()
    qtbot.addWidget(view)
    assert view.note_label.text()  # an empty view says what will be there
    view.log_check.setChecked(False)
    view.reset(2, 2, frame_seconds=FRAME, chunk_start=2.0)
    rng = np.random.default_rng(0)
    mats = [rng.random((30, 30)).astype(np.float32) for _ in range(2)]
    view.set_matrix(1, 0, mats[0])
    view.set_matrix(1, 1, mats[1])
    view.select(1, None)
    np.testing.assert_allclose(view.matrix(1, None), (mats[0] + mats[1]) / 2)
    np.testing.assert_allclose(view.image.image, (mats[0] + mats[1]) / 2)
    rect = view.image.mapRectToParent(view.image.boundingRect())
    assert (rect.left(), rect.width()) == pytest.approx((2.0, 30 * FRAME))
    assert not view.note_label.text()
    view.log_check.setChecked(True)  # faint weights away from the diagonal show too
    floor = 0.1 / 30
    np.testing.assert_allclose(view.image.image, np.log10(np.maximum((mats[0] + mats[1]) / 2, floor)), rtol=1e-5)
    view.set_matrix(3, 5, mats[0])  # pickers grow for layers and heads not announced
    assert view.layer_combo.count() == 4 and view.head_combo.count() == 7
    with pytest.raises(ValueError, match="square"):
        view.set_matrix(0, 0, np.zeros((3, 4)))


def _alignment(n_tokens: int, n_frames: int, word_starts: list[float]) -> np.ndarray:
    """A plausible monotonic cross-attention, shape (2, 4, n_tokens, n_frames), for the screenshot."""
    rng = np.random.default_rng(0)
    centres = np.interp(np.arange(n_tokens), np.linspace(0, n_tokens - 1, len(word_starts)), word_starts)
    frames = np.arange(n_frames)
    out = np.empty((2, 4, n_tokens, n_frames), np.float32)
    for layer in range(2):
        for head in range(4):
            width = 1.5 + head + 2 * layer
            a = np.exp(-0.5 * ((frames[None] - centres[:, None] - rng.normal(0, 1, (n_tokens, 1))) / width) ** 2)
            out[layer, head] = a / a.sum(axis=1, keepdims=True)
    return out


def test_screenshot_under_the_audio_view(qtbot):
    """Saved for a person to look at: tests/artifacts/attention_view.png (audio above, attention below)."""
    samples, text = real_speech_clip()
    text = (text or "la reflexión sobre los problemas de la ciencia")[:60]
    page, audio, attention = stacked(qtbot)
    audio.set_audio(samples, SR)
    n_frames = int(audio.duration / FRAME)
    tokens = list(text)
    n_speech = int(n_frames * 0.9)
    weights = _alignment(len(tokens), n_frames, list(np.linspace(0.03 * n_frames, n_speech, 8)))
    attention.reset(n_frames, 2, 4, FRAME)
    for step in range(len(tokens)):  # as the worker streams them
        for layer in range(2):
            for head in range(4):
                attention.add_row(layer, head, step, weights[layer, head, step], tokens[step])
    qtbot.waitUntil(lambda: audio.spectrogram is not None, timeout=5000)
    attention.redraw()
    audio.highlight_span(*attention.token_span(10))
    qtbot.wait(100)
    ARTIFACTS.mkdir(exist_ok=True)
    assert page.grab().save(str(ARTIFACTS / "attention_view.png"))
    audio.shutdown()


def whisper_rows(view: AttentionView) -> tuple[list[str], list[bool]]:
    """Rows as Whisper's worker streams them: a timestamp, BPE pieces, a timestamp, then the end."""
    texts = ["<|0.00|>", " sospe", "chando", ",", "<|1.20|>", "⏎"]
    special = [True, False, False, False, True, True]
    view.reset(N_FRAMES, 1, 0, FRAME, CHUNK_START)
    for step, (text, flag) in enumerate(zip(texts, special)):
        view.add_row(0, None, step, peaked_row(5 + 7 * step, 1.0), text, flag)
    return texts, special


def test_special_tokens_are_hidden_unless_asked_for(view, qtbot):
    texts, _ = whisper_rows(view)
    assert not view.special_check.isChecked()
    assert view.tokens() == texts and view.shown_tokens() == [" sospe", "chando", ","]
    view.redraw()
    assert view.image.image.shape == (3, N_FRAMES)
    assert view.image.image[0].argmax() == 5 + 7  # the first row shown is step 1's
    assert [t for _, t in view.plot.getAxis("left")._tickLevels[0]] == ["␣sospe", "chando", ","]
    with qtbot.waitSignal(view.token_hovered) as blocker:  # hovering the second row shown is token 2
        qtbot.mouseMove(view.plot_widget.viewport(), view_pos(view, CHUNK_START + 0.3, 1.5))
    assert blocker.args[0] == 2 and "chando" in view.hover_label.text()

    view.special_check.setChecked(True)
    assert view.shown_tokens() == texts and view.image.image.shape == (6, N_FRAMES)
    labels = [t for _, t in view.plot.getAxis("left")._tickLevels[0]]
    assert labels[0] == "<|0.00|>" and labels[-1] == "⏎"


def test_labels_follow_the_tokens_decoded_so_far(view):
    whisper_rows(view)
    view.set_tokens(["<|0.00|>", " sos", "pe"], [True, False, False])  # a beam search changed its mind
    assert view.tokens()[:3] == ["<|0.00|>", " sos", "pe"] and view.shown_tokens()[:2] == [" sos", "pe"]


def test_only_averages_offer_no_heads_that_would_draw_nothing(view):
    whisper_rows(view)
    view.add_row(5, None, 0, peaked_row(3, 1.0), None)
    assert [view.head_combo.itemText(i) for i in range(view.head_combo.count())] == ["average"]
    assert view.layer_combo.count() == 6


def test_alignment_heads_are_shown_first_for_whisper_and_drawn_from_the_heads(view, qtbot):
    n_layers, n_heads = 6, 8
    view.set_alignment_heads([(3, 1), (4, 2), (5, 6)])
    view.reset(N_FRAMES, 1, 0, FRAME)
    for step in range(4):
        for layer in range(n_layers):
            for head in range(n_heads):
                # only the alignment heads follow the speech; the others look at the first frame
                centre = 5 + 9 * step if (layer, head) in [(3, 1), (4, 2), (5, 6)] else 0
                view.add_row(layer, head, step, peaked_row(centre, 1.0), f"t{step}")
    assert view.selected()[1] == ALIGNMENT_HEADS  # the picture that follows the speech comes first
    assert view.layer_combo.count() == n_layers and view.head_combo.count() == 2 + n_heads
    view.redraw()
    assert [int(row.argmax()) for row in view.image.image] == [5, 14, 23, 32]
    view.select(0, None)
    assert [int(row.argmax()) for row in view.image.image] == [0, 0, 0, 0]
