import numpy as np

from engine.chunking import split_at_silences
from engine.models.io import load_model
from engine.transcribe import transcribe_long
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import SR, tone_speech


def long_audio(texts, gap=0.3):
    pieces, spans, t = [], [], 0
    for i, text in enumerate(texts):
        x = tone_speech(text, seed=i)
        pieces += [x, np.zeros(int(gap * SR), dtype=np.float32)]
        spans.append((t, t + len(x)))
        t += len(x) + int(gap * SR)
    return np.concatenate(pieces), spans


def test_short_audio_is_one_chunk():
    assert split_at_silences(np.zeros(SR * 5, dtype=np.float32), SR, max_seconds=20) == [(0, SR * 5)]


def test_cuts_fall_in_silences_and_cover_everything():
    x, spans = long_audio(OVERFIT_TEXTS)
    chunks = split_at_silences(x, SR, max_seconds=2.5, min_seconds=0.5)
    assert chunks[0][0] == 0 and chunks[-1][1] == len(x)
    assert all(a < b for a, b in chunks)
    assert all(b1 == a2 for (_, b1), (a2, _) in zip(chunks, chunks[1:]))
    assert all((b - a) / SR <= 2.5 * 1.25 for a, b in chunks)
    for _, cut in chunks[:-1]:
        assert not any(s + 0.02 * SR < cut < e - 0.02 * SR for s, e in spans), cut / SR  # never inside speech


def test_long_audio_is_transcribed_chunk_by_chunk_with_shifted_times(saved_model_dir):
    loaded = load_model(saved_model_dir)
    x, spans = long_audio(OVERFIT_TEXTS)
    seen = []
    result = transcribe_long(loaded, x, max_chunk_seconds=1.4, on_chunk=lambda c, t: seen.append((c, t)))
    assert result.text == " ".join(OVERFIT_TEXTS)
    assert len(seen) == len(OVERFIT_TEXTS) and seen[-1][0].count == len(seen)
    assert [t.text for _, t in seen] == OVERFIT_TEXTS
    assert result.duration == len(x) / SR
    starts = [w.start for w in result.words]
    assert starts == sorted(starts)
    # the first word of the last sentence starts near where that sentence's tones start
    last_first_word = seen[-1][1].words[0]
    assert abs(last_first_word.start - spans[-1][0] / SR) < 0.2
