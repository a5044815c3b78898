"""Synthetic speech with the real espeak-ng: voices, audio, manifest, determinism, failures.

Skipped only when espeak-ng is not installed (``make test`` installs it).
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.audio import SAMPLE_RATE, load_audio, signal_stats
from engine.data.manifest import read_manifest
from engine.data.sentences import generate_sentences, read_sentences
from engine.data.synth import SynthOptions, Voice, find_espeak, list_spanish_voices, synthesize
from engine.errors import ConfigError, ParceroError


def _need_espeak() -> None:
    try:
        find_espeak()
    except ParceroError as e:
        pytest.skip(f"espeak-ng is not installed: {e}")


def f0_median(x: np.ndarray, sr: int = SAMPLE_RATE) -> float:
    """Median pitch in Hz over voiced 40 ms frames (normalised autocorrelation peak > 0.5)."""
    n, hop = int(0.04 * sr), int(0.01 * sr)
    lo, hi = sr // 400, sr // 60  # lags for 400 Hz .. 60 Hz
    floor = 0.03 * np.max(np.abs(x))
    found = []
    for start in range(0, len(x) - n, hop):
        frame = x[start:start + n].astype(np.float64)
        if np.sqrt(np.mean(frame ** 2)) < floor:
            continue
        frame = (frame - frame.mean()) * np.hanning(n)
        ac = np.correlate(frame, frame, "full")[n - 1:]
        if ac[0] <= 0:
            continue
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] / ac[0] > 0.5:
            found.append(sr / lag)
    return float(np.median(found)) if found else float("nan")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    _need_espeak()
    out = tmp_path_factory.mktemp("synth")
    calls = []
    result = synthesize(out, SynthOptions(utterances=8, seed=0, female_fraction=0.5),
                        on_progress=lambda done, total: calls.append((done, total)))
    return out, result, calls


def test_gender_mix_voices_and_manifest(dataset):
    out, result, calls = dataset
    assert result.problems == []
    assert result.manifest == out / "manifest.jsonl"
    read = read_manifest(result.manifest)
    assert read.problems == []
    assert [u.to_dict() for u in read.utterances] == [u.to_dict() for u in result.utterances]
    genders = [u.gender for u in read.utterances]
    assert genders.count("female") == 4 and genders.count("male") == 4
    for u in read.utterances:
        assert u.speaker == u.extra["voice"]
        variant = u.speaker.split("+")[1]
        assert (u.gender == "female") == (variant.startswith("f") or variant == "linda")
        assert u.sample_rate == SAMPLE_RATE and u.audio == f"wavs/{u.id}.wav"
        assert 130 <= u.extra["speed"] <= 185 and 30 <= u.extra["pitch"] <= 70 and u.extra["snr_db"] is None
    assert len({u.speaker for u in read.utterances}) == 8  # round-robin: 4 distinct voices a gender
    assert calls[-1] == (8, 8) and len(calls) == 8


def test_texts_are_intact(dataset):
    _, result, _ = dataset
    assert [u.text for u in result.utterances] == generate_sentences(8, 0)


def test_audio_decodes_is_speech_and_matches_durations(dataset):
    out, result, _ = dataset
    for u in result.utterances:
        x = load_audio(u.audio_path(out))
        assert x.shape == (round(u.duration * SAMPLE_RATE),)
        stats = signal_stats(x)
        assert not stats.is_silent and stats.rms_dbfs > -35
        assert 0.6 < stats.peak < 0.75  # peak-normalised to about -3 dBFS
        assert 0.5 < u.duration < 12
        # Trimmed: a little quiet at each end, not the half second espeak leaves.
        assert np.max(np.abs(x[-int(0.2 * SAMPLE_RATE):])) > 0.01


def test_female_voices_are_higher_than_male(dataset):
    out, result, _ = dataset
    f0 = {"female": [], "male": []}
    for u in result.utterances:
        f0[u.gender].append(f0_median(load_audio(u.audio_path(out))))
    assert np.median(f0["female"]) > 165 and np.median(f0["male"]) < 150, f0
    assert min(f0["female"]) > max(f0["male"]), f0


def test_same_seed_same_dataset(dataset, tmp_path):
    out, first, _ = dataset
    again = synthesize(tmp_path, SynthOptions(utterances=8, seed=0))
    assert [u.to_dict() for u in again.utterances] == [u.to_dict() for u in first.utterances]
    for a, b in zip(first.utterances, again.utterances):
        assert np.array_equal(load_audio(a.audio_path(out)), load_audio(b.audio_path(tmp_path)))
    other = synthesize(tmp_path / "other", SynthOptions(utterances=2, seed=1))
    assert [u.text for u in other.utterances] == generate_sentences(2, 1)


def test_sentences_from_a_text_file(tmp_path):
    _need_espeak()
    path = tmp_path / "frases.txt"
    # A leading "-" and shell characters must reach espeak as text, never as options.
    lines = ["# prueba", "¿Dónde está el pingüino?", '-v "hola"; echo $HOME', "El niño comió."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = synthesize(tmp_path / "out", SynthOptions(utterances=4, seed=2), sentences=read_sentences(path))
    assert result.problems == []
    assert [u.text for u in read_manifest(result.manifest).utterances] == lines[1:] + lines[1:2]


def test_noise_changes_audio_at_the_asked_snr(tmp_path):
    _need_espeak()
    clean = synthesize(tmp_path / "clean", SynthOptions(utterances=2, seed=5))
    noisy = synthesize(tmp_path / "noisy", SynthOptions(utterances=2, seed=5, noise_snr_db=(10.0, 10.0)))
    for c, n in zip(clean.utterances, noisy.utterances):
        same = ("speed", "pitch")
        assert (c.text, c.speaker) == (n.text, n.speaker)
        assert [c.extra[k] for k in same] == [n.extra[k] for k in same]
        assert n.extra["snr_db"] == 10.0 and n.extra["noise"] in ("white", "pink")
        x, y = load_audio(c.audio_path(tmp_path / "clean")), load_audio(n.audio_path(tmp_path / "noisy"))
        assert x.shape == y.shape and not np.array_equal(x, y)
        gain = np.dot(x, y) / np.dot(x, x)  # the peak normalisation rescaled the speech
        snr = 20 * np.log10(np.linalg.norm(gain * x) / np.linalg.norm(y - gain * x))
        assert 9.0 < snr < 11.0


def test_one_failing_voice_does_not_sink_the_rest(tmp_path):
    _need_espeak()
    voices = (Voice("es+f3", "female", "es"), Voice("xx-nonexistent", "male", "xx"))
    result = synthesize(tmp_path, SynthOptions(utterances=2, voices=voices))
    assert [u.speaker for u in result.utterances] == ["es+f3"]
    assert len(result.problems) == 1 and "xx-nonexistent" in result.problems[0]
    assert len(read_manifest(result.manifest).utterances) == 1


def test_default_voices_cover_both_genders_and_accents():
    _need_espeak()
    voices = list_spanish_voices()
    assert {v.gender for v in voices} == {"female", "male"}
    assert {v.language for v in voices} == {"es", "es-419"}


def test_bad_options_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="utterances"):
        SynthOptions(utterances=0)
    with pytest.raises(ConfigError, match="pitch_range"):
        SynthOptions(pitch_range=(70, 30))
    _need_espeak()
    with pytest.raises(ConfigError, match="no female voice"):
        synthesize(tmp_path, SynthOptions(utterances=2, voices=(Voice("es+m3", "male", "es"),)))
    with pytest.raises(ConfigError, match="not installed"):
        synthesize(tmp_path, SynthOptions(utterances=2, voices=(Voice("es+nosuchvariant", "female", "es"),)))


def test_missing_espeak_gives_an_install_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(ParceroError, match="apt-get install espeak-ng"):
        find_espeak()
    with pytest.raises(ParceroError, match="espeak-ng was not found"):
        synthesize(tmp_path, SynthOptions(utterances=1))
    assert not (tmp_path / "manifest.jsonl").exists()
