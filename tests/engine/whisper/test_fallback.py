"""Whisper's temperature fallback: a window whose text looks wrong is decoded again by sampling.

A tiny random Whisper with Whisper's 30 s window stands in for the real model: its
text is improbable, so a log-probability threshold of 0 fails every attempt and
``None`` passes every one; which attempts ran is read from the step callback (each
attempt starts again at step 0), from the prompts the model was given and from
:func:`decode_window`'s results (a spy that calls it through). Which attempt is
kept when all fail, and the length check, are also tested on scripted attempts;
silence and low noise on the real Whisper base (skipped when it is not installed).
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from engine.whisper import decoding
from engine.whisper.decoding import (
    WhisperOptions, WindowResult, choose_attempt, decode_with_fallback, is_quiet, needs_fallback, transcribe_whisper,
)
from engine.whisper.tokenizer import WhisperTokenizer
from tests.engine.whisper.fixtures_whisper import SENTENCES, tiny_tokenizer_json, tiny_whisper

FAIL_ALL = dict(logprob_threshold=0.0, compression_ratio_threshold=None, no_speech_threshold=None,
                max_chars_per_second=None)
PASS_ALL = dict(logprob_threshold=None, compression_ratio_threshold=None, no_speech_threshold=None,
                max_chars_per_second=None)


@pytest.fixture(scope="module")
def loaded():
    tok_json = tiny_tokenizer_json()
    tok = WhisperTokenizer.from_str(tok_json)
    model = tiny_whisper(tok_json, n_vocab=tok.vocab_size, n_audio_ctx=1500, n_text_ctx=40)
    return SimpleNamespace(model=model, tokenizer=tok, metadata={})


def _window(loaded, seconds=6.0, seed=0):
    import torch

    from engine.whisper.audio import N_FRAMES, log_mel, pad_or_trim

    samples = (0.1 * np.random.default_rng(seed).standard_normal(int(16000 * seconds))).astype(np.float32)
    mel = pad_or_trim(log_mel(samples, loaded.model.config.n_mels))
    with torch.inference_mode():
        xa, _ = loaded.model.encode(mel[None], torch.tensor([N_FRAMES]))
    return xa


def _attempts(loaded, xa, options):
    starts = []
    result = decode_with_fallback(loaded.model, loaded.tokenizer, xa, options, language="es",
                                  on_step=lambda info: starts.append(info.step) if info.step == 0 else None)
    return result, len(starts)


def test_a_window_that_passes_is_decoded_once_by_the_beam_search(loaded):
    xa = _window(loaded)
    options = WhisperOptions(beam_size=2, word_timestamps=False, **PASS_ALL)
    result, attempts = _attempts(loaded, xa, options)
    assert attempts == 1 and result.temperature == 0.0 and result.tokens


def _spied_attempts(loaded, xa, options, monkeypatch):
    """(kept result, every attempt decode_window returned, in order)."""
    tried = []
    plain = decoding.decode_window

    def spy(*args, **kwargs):
        tried.append(plain(*args, **kwargs))
        return tried[-1]

    monkeypatch.setattr(decoding, "decode_window", spy)
    result = decode_with_fallback(loaded.model, loaded.tokenizer, xa, options, language="es")
    monkeypatch.undo()
    return result, tried


def test_a_window_that_fails_is_sampled_at_each_temperature_and_the_most_probable_attempt_kept(loaded, monkeypatch):
    xa = _window(loaded)
    options = WhisperOptions(beam_size=2, best_of=3, temperatures=(0.0, 0.5, 1.0), word_timestamps=False,
                             **FAIL_ALL)
    result, tried = _spied_attempts(loaded, xa, options, monkeypatch)
    assert [a.temperature for a in tried] == [0.0, 0.5, 1.0]
    best = max(tried, key=lambda a: a.avg_logprob)
    assert best.avg_logprob > tried[-1].avg_logprob  # so keeping the last attempt would be another answer
    assert (result.tokens, result.avg_logprob, result.temperature) == (best.tokens, best.avg_logprob, best.temperature)
    assert result.last_temperature == 1.0  # what the next window's prompt is decided by
    again, _ = _attempts(loaded, xa, options)
    assert again.tokens == result.tokens  # seeded: the same window gives the same transcript
    last, _ = _attempts(loaded, xa, dataclasses.replace(options, fallback_keeps="last"))  # openai/whisper's rule
    assert (last.tokens, last.temperature, last.last_temperature) == (tried[-1].tokens, 1.0, 1.0)
    beam, _ = _attempts(loaded, xa, dataclasses.replace(options, temperatures=(0.0,)))
    assert beam.temperature == 0.0  # one temperature: no fallback, whatever the thresholds say


def _result(text="hola", avg_logprob=-0.3, no_speech_prob=0.1, temperature=0.0):
    return WindowResult([], [], avg_logprob, no_speech_prob, avg_logprob, text, temperature, temperature)


LOOP = "la la la la la la la la la la la la la la la la la la"
LONG = " ".join(SENTENCES[:5])  # 166 characters that do not repeat: more than 2 s of speech can hold


def test_what_needs_a_fallback():
    options = WhisperOptions()  # Whisper's thresholds: compression 2.4, log-probability -1, no speech 0.6
    assert not needs_fallback(_result(), options)
    assert needs_fallback(_result(text=LOOP), options)
    assert needs_fallback(_result(avg_logprob=-1.5), options)
    # Probably silence: no fallback if the text is improbable (the window is then skipped as silence) ...
    assert not needs_fallback(_result(avg_logprob=-1.5, no_speech_prob=0.9), options)
    # ... but a probable loop there is still a loop (faster-whisper and openai/whisper decide so too).
    assert needs_fallback(_result(text=LOOP, no_speech_prob=0.9), options)
    off = WhisperOptions(compression_ratio_threshold=None, logprob_threshold=None)
    assert not needs_fallback(_result(text=LOOP, avg_logprob=-3.0), off)


def test_a_text_longer_than_its_audio_can_hold_needs_a_fallback():
    options = WhisperOptions()  # 50 characters a second of audio at most, a window counted as 1 s at least
    assert len(LONG) > 100 and decoding.compression_ratio(LONG) < 2.4
    assert needs_fallback(_result(text=LONG), options, audio_seconds=2.0)
    assert not needs_fallback(_result(text=LONG), options, audio_seconds=4.0)
    assert not needs_fallback(_result(text=LONG), options)  # the window's length unknown: no check
    assert needs_fallback(_result(text="x" * 51), options, audio_seconds=0.2)  # ... as 1 s: 50 characters
    assert not needs_fallback(_result(text=" " + LONG[:50] + " "), options, audio_seconds=0.2)  # spaces aside
    assert not needs_fallback(_result(text=LONG), dataclasses.replace(options, max_chars_per_second=None),
                              audio_seconds=2.0)
    with pytest.raises(ValueError, match="max_chars_per_second"):
        WhisperOptions(max_chars_per_second=0)


def test_which_attempt_is_kept_when_every_one_fails():
    # As faster-whisper's generate_with_fallback: the most probable of the attempts that are not too
    # repetitive (and here not too long either), the first of equals; if there is none, the most probable.
    attempts = [_result(LOOP, -0.2, temperature=0.0), _result("conde de bulnes", -1.3, temperature=0.2),
                _result("con la de volmes", -1.1, temperature=0.4), _result("conte de volmes", -1.1, temperature=0.6),
                _result(LONG, -0.5, temperature=0.8), _result("zz", -2.5, temperature=1.0)]
    options = WhisperOptions()
    assert choose_attempt(attempts, options, audio_seconds=2.0) is attempts[2]
    assert choose_attempt(attempts, options, audio_seconds=5.0) is attempts[4]  # 166 characters fit 5 s
    assert choose_attempt(attempts, options) is attempts[4]  # no length known: no length check
    assert choose_attempt(attempts, dataclasses.replace(options, compression_ratio_threshold=None),
                          audio_seconds=2.0) is attempts[0]
    loops = [_result(LOOP, -0.4), _result(LOOP + " la", -0.1), _result(LONG, -0.05)]
    assert choose_attempt(loops, options, audio_seconds=2.0) is loops[2]  # none plausible: the most probable
    assert choose_attempt(attempts, dataclasses.replace(options, fallback_keeps="last")) is attempts[-1]
    with pytest.raises(ValueError, match="fallback_keeps"):
        WhisperOptions(fallback_keeps="first")


def test_the_window_length_decides_whether_its_text_is_too_long(loaded, monkeypatch):
    samples = (0.1 * np.random.default_rng(3).standard_normal(16000 * 2)).astype(np.float32)
    base = WhisperOptions(beam_size=2, best_of=2, temperatures=(0.0, 1.0), word_timestamps=False, **PASS_ALL)

    def first_window(options):
        tried = []
        plain = decoding.decode_window
        monkeypatch.setattr(decoding, "decode_window", lambda *a, **k: tried.append(plain(*a, **k)) or tried[-1])
        attempts = []
        transcribe_whisper(loaded, samples, options,
                           on_step=lambda chunk, info: attempts.append(info) if chunk.index == 0 and info.step == 0
                           else None)
        monkeypatch.undo()
        return tried[:len(attempts)]

    [beam] = first_window(base)
    n = len(beam.text.strip())
    assert n > 10
    # 2 s of audio: at n / 1.5 characters a second the text fits, at n / 3 it does not and is sampled again.
    assert len(first_window(dataclasses.replace(base, max_chars_per_second=n / 1.5))) == 1
    tried = first_window(dataclasses.replace(base, max_chars_per_second=n / 3))
    assert [a.temperature for a in tried] == [0.0, 1.0]


def test_a_quiet_window_is_one_whose_loudest_20_ms_is_below_the_level():
    rng = np.random.default_rng(0)
    quiet = (1e-4 * rng.standard_normal(16000 * 30)).astype(np.float32)  # -80 dB
    assert is_quiet(quiet, -70.0) and not is_quiet(quiet, -90.0)
    assert is_quiet(np.zeros(16000, np.float32), -70.0) and is_quiet(np.zeros(0, np.float32), -70.0)
    click = quiet.copy()
    click[16000 * 29 + 100: 16000 * 29 + 420] = 0.01  # 20 ms at -40 dB, near the end
    assert not is_quiet(click, -70.0)
    assert not is_quiet(quiet[:100] + 0.01, -70.0)  # shorter than 20 ms


def _prompts(loaded, samples, options):
    """The prompt of every window: the tokens of the model's first decoding call for it."""
    model, seen = loaded.model, []
    plain = model.decode

    def spy(tokens, *args, **kwargs):
        if tokens.shape[1] > 1:  # a window's first call: its whole prompt at once
            seen.append(tokens[0].tolist())
        return plain(tokens, *args, **kwargs)

    model.decode = spy
    try:
        transcript = transcribe_whisper(loaded, samples, options)
    finally:
        del model.decode
    return transcript, seen


def test_after_a_window_that_needed_a_high_temperature_the_next_is_not_prompted(loaded):
    tok = loaded.tokenizer
    samples = (0.1 * np.random.default_rng(1).standard_normal(16000 * 45)).astype(np.float32)
    base = WhisperOptions(beam_size=1, best_of=2, word_timestamps=False, initial_prompt="el pingüino",
                          **FAIL_ALL)
    # Decoded at temperature 0 only, every window is prompted with the text before it.
    _, prompts = _prompts(loaded, samples, dataclasses.replace(base, temperatures=(0.0,)))
    windows = [p for p in prompts if tok.sot in p]
    assert len(windows) >= 2 and all(tok.sot_prev in p for p in windows)
    # When a window's last attempt ran at 1.0, what came before is dropped from the next prompts, whichever
    # attempt was kept.
    transcript, prompts = _prompts(loaded, samples, dataclasses.replace(base, temperatures=(0.0, 1.0)))
    first_attempts = [p for p in prompts if tok.sot in p][::2]  # two attempts a window
    assert len(first_attempts) >= 2 and tok.sot_prev in first_attempts[0]
    assert all(tok.sot_prev not in p for p in first_attempts[1:])
    assert transcript.segments and {s.temperature for s in transcript.segments} <= {0.0, 1.0}


def test_the_worker_tells_the_window_when_a_window_is_decoded_again(loaded, tmp_path):
    from engine.audio import save_wav
    from engine.client import EngineClient
    from engine.whisper.files import save_whisper
    from engine.protocol import Finished, LoadModel, PartialTranscript, Transcribe

    from tests.engine.whisper.fixtures_whisper import tiny_tokenizer_json

    folder = save_whisper(tmp_path / "diminuto", (loaded.model, tiny_tokenizer_json(), {"source": "test"}))
    wav = tmp_path / "ruido.wav"
    save_wav(wav, (0.1 * np.random.default_rng(2).standard_normal(16000 * 3)).astype(np.float32), 16000)
    client = EngineClient()
    client.start()
    try:
        [*_, done] = client.wait(client.submit(LoadModel, path=str(folder), device="cpu"), timeout=60)
        assert isinstance(done, Finished)
        # Whisper's default thresholds: a random model's text is improbable, so every temperature is tried.
        events = client.wait(client.submit(Transcribe, path=str(wav), attention=()), timeout=120)
    finally:
        client.close()
    assert isinstance(events[-1], Finished)
    by_window: dict[int, list[float]] = {}
    for e in events:
        if isinstance(e, PartialTranscript):
            by_window.setdefault(e.chunk, []).append(e.temperature)
    assert by_window
    for temperatures in by_window.values():  # each window's attempts in order, each streamed as it runs
        assert temperatures[0] == 0.0 and max(temperatures) == 1.0
        assert temperatures == sorted(temperatures)
        assert set(temperatures) == {0.0, 0.2, 0.4, 0.6, 0.8, 1.0}


# --- the real Whisper base: no text over silence or low noise -------------------------------------------------

@pytest.mark.parametrize("level_db", [None, -80.0, -50.0])  # digital silence, noise below and above the gate
def test_thirty_seconds_of_silence_or_low_noise_give_no_text(base, level_db):
    # Over digital silence Whisper base writes "y y y y ..." with confidence (no-speech probability 0.93,
    # average log-probability -0.5: above every threshold); the level gate keeps it from being decoded.
    # At -50 dB the window is decoded, and the no-speech rule skips it (0.99, and an improbable text).
    rng = np.random.default_rng(0)
    if level_db is None:
        samples = np.zeros(16000 * 30, np.float32)
    else:
        samples = (10 ** (level_db / 20) * rng.standard_normal(16000 * 30)).astype(np.float32)
    chunks = []
    result = transcribe_whisper(base, samples, WhisperOptions(word_timestamps=False, capture_attention=False),
                                on_chunk=lambda chunk, part: chunks.append(chunk))
    assert result.text == "" and result.segments == [] and result.words == []
    assert chunks and chunks[-1].end == pytest.approx(30.0)


def test_max_tokens_per_second_stops_a_window_early(loaded):
    """A live pass caps its tokens by its audio's length: a greedy loop costs a few steps, not half the context."""
    xa = _window(loaded)
    free = decode_with_fallback(loaded.model, loaded.tokenizer, xa, WhisperOptions(beam_size=1, **PASS_ALL),
                                language="es", audio_seconds=1.0)
    capped = decode_with_fallback(loaded.model, loaded.tokenizer, xa,
                                  WhisperOptions(beam_size=1, max_tokens_per_second=2.0, **PASS_ALL),
                                  language="es", audio_seconds=1.0)
    assert len(free.tokens) > 10  # the random tiny model rambles on
    assert len(capped.tokens) <= 2 + 8
