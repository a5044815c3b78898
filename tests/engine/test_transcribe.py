import numpy as np
import pytest

from engine.audio import save_wav
from engine.transcript import DecodeOptions
from engine.errors import AudioError
from engine.models.io import load_model
from engine.speech_transformer.transcribe import transcribe_samples
from engine.transcribe import transcribe_file
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import CHAR_SECONDS, tone_speech


@pytest.fixture(scope="module")
def loaded(saved_model_dir):
    return load_model(saved_model_dir)


def test_transcribe_file_at_another_sample_rate(loaded, tmp_path):
    # The model works at 16 kHz; a 44.1 kHz file is resampled on load.
    import torch
    import torchaudio.functional as AF

    text = OVERFIT_TEXTS[3]
    x16 = tone_speech(text, seed=3)
    x44 = AF.resample(torch.from_numpy(x16), 16000, 44100).numpy()
    path = tmp_path / "ñoquis 44k.wav"
    save_wav(path, x44, 44100)
    result = transcribe_file(loaded, path)
    assert result.text == text
    assert result.source == str(path)
    assert result.duration == pytest.approx(len(x16) / 16000, abs=0.01)


def test_character_and_word_timings_follow_the_audio(loaded):
    text = OVERFIT_TEXTS[4]  # "el miércoles"
    [result] = transcribe_samples(loaded, [tone_speech(text, seed=4)])
    assert result.text == text
    assert "".join(t.text for t in result.tokens) == text
    assert [w.text for w in result.words] == ["el", "miércoles"]
    starts = [t.start for t in result.tokens]
    assert starts == sorted(starts)
    assert all(0 <= t.start < t.end <= result.duration + 0.05 for t in result.tokens)
    # Each character's tone starts at 0.035 s + i * 0.07 s; CTC timings land within 2 encoder frames.
    for i, t in enumerate(result.tokens):
        if t.text != " ":
            assert abs(t.start - (CHAR_SECONDS / 2 + i * CHAR_SECONDS)) < 0.09, (i, t)
    assert result.words[1].start > result.words[0].end


def test_batched_transcription_with_beam_and_ctc(loaded):
    clips = [tone_speech(t, seed=i) for i, t in enumerate(OVERFIT_TEXTS)]
    results = transcribe_samples(loaded, clips, DecodeOptions(beam_size=3, ctc_weight=0.3, capture_attention=True))
    assert [r.text for r in results] == OVERFIT_TEXTS
    r = results[0]
    assert r.cross_attention.shape[2] == len(r.tokens) + 1
    assert "cross_attention" not in r.to_dict()


def test_silent_clip_gives_a_finite_result_not_a_crash(loaded):
    [result] = transcribe_samples(loaded, [np.zeros(16000, dtype=np.float32)])
    assert np.isfinite(result.score)
    assert isinstance(result.text, str)


def test_too_short_clip_is_refused_with_its_name(loaded, tmp_path):
    path = tmp_path / "corto.wav"
    save_wav(path, np.zeros(400, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match="corto.wav.*too short"):
        transcribe_file(loaded, path)


def test_a_long_file_is_read_block_by_block_and_gives_the_same_transcript(loaded, tmp_path, monkeypatch):
    import engine.speech_transformer.transcribe as tr

    gap = np.zeros(int(0.6 * 16000), np.float32)
    audio = np.concatenate([x for t in OVERFIT_TEXTS for x in (tone_speech(t, seed=1), gap)])
    path = tmp_path / "largo.wav"
    save_wav(path, audio, 16000)
    whole = transcribe_file(loaded, path, max_chunk_seconds=2.0)
    reads = []
    real_load = tr.load_audio
    monkeypatch.setattr(tr, "load_audio", lambda *a, **k: reads.append(k) or real_load(*a, **k))
    monkeypatch.setattr(tr, "STREAM_BLOCK_SECONDS", 3.0)  # a "long" file: several blocks of 3 s
    streamed = transcribe_file(loaded, path, max_chunk_seconds=2.0)
    assert len(reads) >= 3 and all(k["duration"] == 5.0 for k in reads)
    assert [k["offset"] for k in reads] == sorted(k["offset"] for k in reads)
    # (the tone model was trained on single utterances, so some chunks read wrongly: both ways alike)
    assert streamed.text == whole.text and whole.text.startswith(" ".join(OVERFIT_TEXTS[:2]))
    assert [w.text for w in streamed.words] == [w.text for w in whole.words]
    for a, b in zip(streamed.words, whole.words):
        assert abs(a.start - b.start) < 0.05 and abs(a.end - b.end) < 0.05  # times in the whole file
    assert streamed.duration == pytest.approx(len(audio) / 16000, abs=1e-3)
