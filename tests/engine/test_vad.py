"""Voice-activity detection: where the speech is, and the pieces of at most 30 s the model is given.

Silero runs on real speech from ../shared/data (skipped without it, or without
onnxruntime / faster-whisper's model file); the energy detector and the
span logic run on made-up signals whose speech is known to the sample.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine import vad
from engine.errors import ParceroError
from engine.vad import (
    FRAME, SAMPLE_RATE, VadOptions, group_spans, resolve_method, speech_groups, speech_pieces, speech_spans,
)

CAJAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "cajal-es"
SR = SAMPLE_RATE


def bursts(layout: list[tuple[str, float]], seed: int = 0) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Silence and noise bursts ("speech"), e.g. [("sil", 1.0), ("speech", 2.0)]; and the speech's times."""
    rng = np.random.default_rng(seed)
    parts, spans, t = [], [], 0.0
    for kind, seconds in layout:
        n = int(seconds * SR)
        if kind == "speech":
            parts.append((0.2 * rng.standard_normal(n)).astype(np.float32))
            spans.append((t, t + seconds))
        else:
            parts.append(np.zeros(n, np.float32))
        t += seconds
    return np.concatenate(parts), spans


def test_energy_finds_the_bursts_and_nothing_in_the_silence():
    x, truth = bursts([("sil", 1.0), ("speech", 2.0), ("sil", 3.0), ("speech", 1.5), ("sil", 5.0)])
    spans = speech_spans(vad.energy_probabilities(x), len(x), VadOptions(pad=0.0))
    assert len(spans) == 2
    for (a, b), (ta, tb) in zip(spans, truth):
        assert a / SR == pytest.approx(ta, abs=0.15) and b / SR == pytest.approx(tb, abs=0.15)


def test_short_clicks_are_not_speech_and_short_pauses_do_not_split():
    x, _ = bursts([("sil", 1.0), ("speech", 0.1), ("sil", 2.0), ("speech", 1.0), ("sil", 0.1), ("speech", 1.0),
                   ("sil", 1.0)])
    spans = speech_spans(vad.energy_probabilities(x), len(x), VadOptions(pad=0.0))
    assert len(spans) == 1  # the 0.1 s click is dropped; the 0.1 s pause (< min_silence) joins the two
    assert spans[0][0] / SR == pytest.approx(3.1, abs=0.15) and spans[0][1] / SR == pytest.approx(5.2, abs=0.15)


def test_spans_are_padded_but_never_past_the_audio():
    x, _ = bursts([("speech", 1.0), ("sil", 2.0)])
    [(a, b)] = speech_spans(vad.energy_probabilities(x), len(x), VadOptions(pad=0.3))
    assert a == 0 and b / SR == pytest.approx(1.3, abs=0.15)


def test_a_pause_shorter_than_two_pads_is_shared_at_its_middle():
    x, truth = bursts([("sil", 1.0), ("speech", 2.0), ("sil", 0.5), ("speech", 2.0), ("sil", 2.0)])
    spans = speech_spans(vad.energy_probabilities(x), len(x), VadOptions(pad=0.4))
    assert len(spans) == 2  # the neighbours stay apart, as two stretches of speech
    (a1, b1), (a2, b2) = spans
    assert b1 == a2  # touching: nothing of the pause is lost, nothing heard twice
    assert b1 / SR == pytest.approx((truth[0][1] + truth[1][0]) / 2, abs=0.1)
    assert a1 / SR == pytest.approx(truth[0][0] - 0.4, abs=0.1) and b2 / SR == pytest.approx(truth[1][1] + 0.4, abs=0.1)


def test_speech_groups_fill_each_window_and_end_between_sentences():
    # Twelve 7 s "sentences" 0.5 s apart: contiguous audio, 90 s. Packed sentence by sentence, a window
    # takes four (about 30 s), ends in a pause, and the next starts with the next sentence.
    layout = [("sil", 1.0)]
    for _ in range(12):
        layout += [("speech", 6.6), ("sil", 0.5)]
    x, truth = bursts(layout)
    groups = speech_groups(x, "energy")
    assert sum(len(g) for g in groups) == 12
    assert [len(g) for g in groups] == [4, 4, 4]
    for g in groups:
        assert sum(b - a for a, b in g) <= 30 * SR
    ends = [g[-1][1] / SR for g in groups[:-1]]
    pauses = [(truth[i][1], truth[i + 1][0]) for i in range(len(truth) - 1)]
    assert all(any(lo - 0.05 <= e <= hi + 0.05 for lo, hi in pauses) for e in ends)  # never inside a sentence


def test_speech_groups_cut_a_span_longer_than_a_window():
    x, _ = bursts([("sil", 1.0), ("speech", 70.0), ("sil", 1.0)])
    groups = speech_groups(x, "energy")
    runs = [r for g in groups for r in g]
    assert all(sum(b - a for a, b in g) <= 30 * SR for g in groups) and len(groups) == 3
    assert all(p[1] == q[0] for p, q in zip(runs, runs[1:]))  # nothing lost between the parts


def test_pieces_hold_at_most_30_s_and_never_a_long_pause():
    s = lambda a, b: (int(a * SR), int(b * SR))  # noqa: E731
    spans = [s(0, 10), s(11, 20), s(21.5, 28), s(29, 35), s(40, 45), s(45.5, 50)]
    probs = np.ones(int(60 * SR) // FRAME, np.float32)
    pieces = group_spans(spans, probs, max_seconds=30.0, max_gap=2.0)
    assert pieces == [s(0, 28), s(29, 35), s(40, 50)]  # 0-35 would be too long; 35-40 is a 5 s pause
    for a, b in pieces:
        assert b - a <= 30 * SR


def test_a_long_span_is_cut_at_its_quietest_moment():
    probs = np.ones(int(70 * SR) // FRAME + 1, np.float32)
    dip = int(22 * SR) // FRAME
    probs[dip] = 0.1  # the least speech-like frame in the second half of the first 30 s
    pieces = group_spans([(0, 70 * SR)], probs, max_seconds=30.0)
    assert pieces[0] == (0, dip * FRAME)
    assert all(b - a <= 30 * SR for a, b in pieces) and pieces[-1][1] == 70 * SR
    assert all(p[1] == q[0] for p, q in zip(pieces, pieces[1:]))  # nothing lost between pieces


def test_silence_gives_no_pieces():
    assert speech_pieces(np.zeros(10 * SR, np.float32), "energy") == []
    assert speech_pieces(np.zeros(0, np.float32), "energy") == []


def test_auto_means_on_for_batches_only_and_unknown_names_are_refused(monkeypatch):
    assert resolve_method("auto", batched=False) == "off"
    assert resolve_method("auto", batched=True) in ("silero", "energy")
    assert resolve_method("energy", batched=False) == "energy"
    monkeypatch.setattr(vad, "silero_model_path", lambda: None)
    assert resolve_method("auto", batched=True) == "energy"
    with pytest.raises(ParceroError, match="vad silero: the faster-whisper package"):
        resolve_method("silero", batched=True)
    with pytest.raises(ParceroError, match="expected auto, off, silero or energy"):
        resolve_method("webrtc", batched=True)


# --- Silero on real speech ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def speech_with_pauses():
    if not vad.silero_available():
        pytest.skip("Silero VAD needs onnxruntime and faster-whisper's model file")
    if not (CAJAL / "metadata.csv").is_file():
        pytest.skip("../shared/data/cajal-es is absent")
    from engine.audio import load_audio

    ids = [line.split("|")[0] for line in (CAJAL / "metadata.csv").read_text(encoding="utf-8").splitlines()[:2]]
    clips = [load_audio(CAJAL / "wavs" / f"{i}.wav", SR) for i in ids]
    gap = lambda s: np.zeros(int(s * SR), np.float32)  # noqa: E731
    x = np.concatenate([gap(2.0), clips[0], gap(6.0), clips[1], gap(3.0)])
    first = (2.0, 2.0 + len(clips[0]) / SR)
    second = (first[1] + 6.0, first[1] + 6.0 + len(clips[1]) / SR)
    return x, [first, second]


def test_silero_finds_each_sentence_and_not_the_pauses(speech_with_pauses):
    x, truth = speech_with_pauses
    pieces = speech_pieces(x, "silero")
    assert len(pieces) == 2  # the 6 s pause between the sentences splits them
    for (a, b), (ta, tb) in zip(pieces, truth):
        assert ta - 0.5 <= a / SR <= ta + 0.3 and tb - 0.3 <= b / SR <= tb + 0.5


def test_silero_gives_the_same_probabilities_block_by_block(speech_with_pauses, monkeypatch):
    x, _ = speech_with_pauses
    whole = vad.silero_probabilities(x)
    monkeypatch.setattr(vad, "BLOCK_FRAMES", 100)  # the recurrent state and context carried across calls
    blocks = vad.silero_probabilities(x)
    assert whole.shape == blocks.shape == (-(-len(x) // FRAME),)
    np.testing.assert_allclose(blocks, whole, atol=1e-4)
