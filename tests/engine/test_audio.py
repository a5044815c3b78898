"""Tests for engine.audio on tiny files written into tmp_path."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from engine.audio import (
    SAMPLE_RATE,
    AudioInfo,
    audio_info,
    load_audio,
    resample,
    save_wav,
    signal_stats,
)
from engine.errors import AudioError


def tone(freq: float, sample_rate: int, seconds: float, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_frequency(samples: np.ndarray, sample_rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / sample_rate)[np.argmax(spectrum)])


def write(path, samples, sample_rate, **kwargs):
    sf.write(str(path), samples, sample_rate, **kwargs)
    return path


# --- loading and resampling ---------------------------------------------------


def test_load_16k_wav_is_float32_mono_and_matches_file(tmp_path):
    x = tone(440, 16000, 0.5)
    path = write(tmp_path / "a.wav", x, 16000, subtype="FLOAT")
    y = load_audio(path)
    assert y.dtype == np.float32 and y.shape == (8000,)
    np.testing.assert_allclose(y, x, atol=1e-7)


@pytest.mark.parametrize("file_rate", [8000, 16000, 44100, 48000])
def test_resampled_tone_keeps_frequency_and_duration(tmp_path, file_rate):
    path = write(tmp_path / f"tone_{file_rate}.wav", tone(440, file_rate, 1.0), file_rate)
    y = load_audio(path)
    assert y.dtype == np.float32
    assert y.shape == (SAMPLE_RATE,)
    assert dominant_frequency(y, SAMPLE_RATE) == pytest.approx(440, abs=2)
    # Resampling must not change the level (a bad filter gain would).
    assert np.sqrt(np.mean(y[1000:-1000] ** 2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


def test_load_to_other_sample_rate(tmp_path):
    path = write(tmp_path / "a.wav", tone(440, 16000, 1.0), 16000)
    y = load_audio(path, sample_rate=8000)
    assert y.shape == (8000,)
    assert dominant_frequency(y, 8000) == pytest.approx(440, abs=2)


def test_stereo_mixdown_is_channel_mean(tmp_path):
    x = tone(440, 16000, 0.5)
    path = write(tmp_path / "opposite.wav", np.stack([x, -x], axis=1), 16000, subtype="FLOAT")
    assert np.max(np.abs(load_audio(path))) < 1e-6

    path = write(tmp_path / "left_only.wav", np.stack([x, 0 * x], axis=1), 16000, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(path), x / 2, atol=1e-7)


@pytest.mark.parametrize("fmt,ext", [("FLAC", "flac"), ("OGG", "ogg"), ("MP3", "mp3")])
def test_compressed_formats(tmp_path, fmt, ext):
    if fmt not in sf.available_formats():
        pytest.skip(f"this libsndfile cannot write {fmt}")
    path = write(tmp_path / f"tone.{ext}", tone(1000, 44100, 1.0), 44100, format=fmt)
    y = load_audio(path)
    # Lossy codecs add encoder delay/padding of a few ms.
    assert abs(len(y) - SAMPLE_RATE) < 0.1 * SAMPLE_RATE
    assert dominant_frequency(y, SAMPLE_RATE) == pytest.approx(1000, abs=3)


@pytest.mark.parametrize("file_rate", [16000, 48000])
def test_offset_and_duration_read_the_right_stretch(tmp_path, file_rate):
    # First second at 440 Hz, second second at 880 Hz.
    x = np.concatenate([tone(440, file_rate, 1.0), tone(880, file_rate, 1.0)])
    path = write(tmp_path / "two_tones.flac", x, file_rate)
    y = load_audio(path, offset=1.0, duration=0.5)
    assert y.shape == (8000,)
    assert dominant_frequency(y, SAMPLE_RATE) == pytest.approx(880, abs=3)
    assert dominant_frequency(load_audio(path, duration=0.5), SAMPLE_RATE) == pytest.approx(440, abs=3)
    # Running past the end is cut short.
    assert load_audio(path, offset=1.5, duration=10.0).shape == (8000,)


def test_resample_function(tmp_path):
    x = tone(440, 48000, 0.5).astype(np.float64)
    y = resample(x, 48000, 16000)
    assert y.dtype == np.float32 and y.shape == (8000,)
    assert dominant_frequency(y, 16000) == pytest.approx(440, abs=3)
    same = resample(x, 16000, 16000)
    np.testing.assert_array_equal(same, x.astype(np.float32))
    with pytest.raises(ValueError):
        resample(x, 0, 16000)


# --- errors ---------------------------------------------------------------------


def assert_audio_error(exc_info, path, *fragments):
    err = exc_info.value
    assert err.path == str(path)
    message = str(err)
    assert path.name in message
    for fragment in fragments:
        assert fragment in message


@pytest.fixture(params=["load", "info"])
def reader(request):
    return load_audio if request.param == "load" else audio_info


def test_missing_file(tmp_path, reader):
    path = tmp_path / "nope.wav"
    with pytest.raises(AudioError) as exc_info:
        reader(path)
    assert_audio_error(exc_info, path, "not found")


def test_directory(tmp_path, reader):
    path = tmp_path / "folder.wav"
    path.mkdir()
    with pytest.raises(AudioError) as exc_info:
        reader(path)
    assert_audio_error(exc_info, path, "directory")


def test_empty_file(tmp_path, reader):
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    with pytest.raises(AudioError) as exc_info:
        reader(path)
    assert_audio_error(exc_info, path, "file is empty (0 bytes)")


def test_corrupt_file(tmp_path, reader):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"this is not a wave file at all " * 20)
    with pytest.raises(AudioError) as exc_info:
        reader(path)
    assert_audio_error(exc_info, path, "cannot decode", ".wav", "Format not recognised")
    # The soundfile error is chained for debugging, not leaked.
    assert isinstance(exc_info.value.__cause__, RuntimeError)
    assert not isinstance(exc_info.value, RuntimeError)


@pytest.mark.parametrize("name", ["notes.txt", "clip.raw"])
def test_unsupported_extension_names_supported_ones(tmp_path, reader, name):
    path = tmp_path / name
    path.write_bytes(b"hola " * 100)
    with pytest.raises(AudioError) as exc_info:
        reader(path)
    assert_audio_error(exc_info, path, "cannot decode", path.suffix, ".flac")


def test_truncated_flac(tmp_path):
    good = write(tmp_path / "good.flac", tone(440, 16000, 1.0), 16000)
    path = tmp_path / "truncated.flac"
    path.write_bytes(good.read_bytes()[:30])
    with pytest.raises(AudioError) as exc_info:
        load_audio(path)
    assert_audio_error(exc_info, path, "cannot decode")


def test_zero_frames(tmp_path, reader):
    path = write(tmp_path / "no_samples.wav", np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioError) as exc_info:
        reader(path)
    assert_audio_error(exc_info, path, "contains no audio samples")


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_samples(tmp_path, bad_value):
    x = tone(440, 16000, 0.5)
    x[1000] = bad_value  # 0.0625 s
    x[3000] = bad_value
    x[3001] = bad_value
    path = write(tmp_path / "broken.wav", x, 16000, subtype="FLOAT")
    with pytest.raises(AudioError) as exc_info:
        load_audio(path)
    assert_audio_error(exc_info, path, "3 NaN or Inf samples", "0.0625 s")
    # Reading only a clean stretch is fine; the time is from the file start.
    assert load_audio(path, duration=0.05).shape == (800,)
    with pytest.raises(AudioError, match=r"2 NaN or Inf samples \(first at 0\.1875 s\)"):
        load_audio(path, offset=0.1, duration=0.1)


def test_offset_past_end(tmp_path):
    path = write(tmp_path / "short.wav", tone(440, 16000, 1.0), 16000)
    with pytest.raises(AudioError) as exc_info:
        load_audio(path, offset=2.5)
    assert_audio_error(exc_info, path, "offset 2.500 s is past the end", "1.000 s")


def test_bad_arguments(tmp_path):
    path = write(tmp_path / "a.wav", tone(440, 16000, 0.1), 16000)
    with pytest.raises(ValueError):
        load_audio(path, offset=-1)
    with pytest.raises(ValueError):
        load_audio(path, duration=0)


# --- header, stats, writing -----------------------------------------------------------


def test_audio_info_reads_header(tmp_path):
    x = tone(440, 44100, 1.5)
    path = write(tmp_path / "stereo.flac", np.stack([x, x], axis=1), 44100)
    info = audio_info(path)
    assert info == AudioInfo(
        path=str(path),
        sample_rate=44100,
        channels=2,
        frames=len(x),
        duration=pytest.approx(1.5),
        format="FLAC",
        subtype="PCM_16",
    )


def test_signal_stats():
    silence = signal_stats(np.zeros(16000, dtype=np.float32))
    assert silence.rms_dbfs == pytest.approx(-120.0)
    assert silence.is_silent and silence.peak == 0.0 and silence.clipped_fraction == 0.0

    half = signal_stats(tone(440, 16000, 1.0, amplitude=0.5))
    assert half.rms_dbfs == pytest.approx(20 * np.log10(0.5 / np.sqrt(2)), abs=0.01)  # -9.03
    assert half.peak == pytest.approx(0.5, abs=1e-3)
    assert half.clipped_fraction == 0.0 and not half.is_silent

    clipped = signal_stats(np.clip(tone(440, 16000, 1.0, amplitude=2.0), -1, 1))
    assert 0.5 < clipped.clipped_fraction < 0.8

    hiss = signal_stats(np.random.default_rng(0).normal(0, 10 ** (-70 / 20), 16000))
    assert hiss.rms_dbfs == pytest.approx(-70, abs=0.5) and hiss.is_silent

    assert signal_stats(np.zeros(0)).is_silent


def test_save_wav_round_trip(tmp_path):
    x = tone(440, 16000, 0.5, amplitude=0.8)
    x[10] = 1.5  # must clip, not wrap around
    path = tmp_path / "sub" / "out.wav"
    save_wav(path, x, 16000)
    info = sf.info(str(path))
    assert (info.format, info.subtype, info.samplerate) == ("WAV", "PCM_16", 16000)
    y = load_audio(path)
    assert y[10] == pytest.approx(1.0, abs=1e-4)
    np.testing.assert_allclose(np.delete(y, 10), np.delete(x, 10), atol=1 / 32768)
    assert [p.name for p in path.parent.iterdir()] == ["out.wav"]  # no temp left


def test_save_wav_refuses_nan(tmp_path):
    path = tmp_path / "nan.wav"
    with pytest.raises(AudioError, match="nan.wav"):
        save_wav(path, np.array([0.0, np.nan], dtype=np.float32), 16000)
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_audio_errors_carry_a_machine_readable_kind(tmp_path):
    from engine.audio import load_audio
    from engine.errors import AudioError

    empty = tmp_path / "vacío.wav"
    empty.write_bytes(b"")
    junk = tmp_path / "basura.wav"
    junk.write_bytes(b"not audio at all" * 10)
    cases = {tmp_path / "nada.wav": "missing", empty: "empty_file", junk: "unreadable", tmp_path: "not_a_file"}
    for path, kind in cases.items():
        with pytest.raises(AudioError) as info:
            load_audio(path)
        assert info.value.kind == kind and str(path) in str(info.value)
