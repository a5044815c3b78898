"""Whisper's temperature fallback: a window whose text looks wrong is decoded again by sampling.

A tiny random Whisper with Whisper's 30 s window stands in for the real model: its
text is improbable, so a log-probability threshold of 0 fails every attempt and
``None`` passes every one; which attempts ran is read from the step callback (each
attempt starts again at step 0) and from the prompts the model was given.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pytest

from engine.whisper.decoding import (
    WhisperOptions, WindowResult, decode_with_fallback, needs_fallback, transcribe_whisper,
)
from engine.whisper.tokenizer import WhisperTokenizer
from tests.engine.whisper.fixtures_whisper import tiny_tokenizer_json, tiny_whisper

FAIL_ALL = dict(logprob_threshold=0.0, compression_ratio_threshold=None, no_speech_threshold=None)
PASS_ALL = dict(logprob_threshold=None, compression_ratio_threshold=None, no_speech_threshold=None)


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


def test_a_window_that_fails_is_sampled_at_each_temperature_and_the_last_attempt_kept(loaded):
    xa = _window(loaded)
    options = WhisperOptions(beam_size=2, best_of=3, temperatures=(0.0, 0.5, 1.0), word_timestamps=False,
                             **FAIL_ALL)
    result, attempts = _attempts(loaded, xa, options)
    assert attempts == 3 and result.temperature == 1.0
    assert result.avg_logprob < 0 and result.tokens
    again, _ = _attempts(loaded, xa, options)
    assert again.tokens == result.tokens  # seeded: the same window gives the same transcript
    beam, _ = _attempts(loaded, xa, dataclasses.replace(options, temperatures=(0.0,)))
    assert beam.temperature == 0.0  # one temperature: no fallback, whatever the thresholds say


def _result(text="hola", avg_logprob=-0.3, no_speech_prob=0.1):
    return WindowResult([], [], avg_logprob, no_speech_prob, avg_logprob, text, 0.0)


def test_what_needs_a_fallback():
    options = WhisperOptions()  # Whisper's thresholds: compression 2.4, log-probability -1, no speech 0.6
    assert not needs_fallback(_result(), options)
    assert needs_fallback(_result(text="la la la la la la la la la la la la la la la la la la"), options)
    assert needs_fallback(_result(avg_logprob=-1.5), options)
    # Probably silence: no fallback, even if the text is improbable (silence is decided elsewhere).
    assert not needs_fallback(_result(avg_logprob=-1.5, no_speech_prob=0.9), options)
    off = WhisperOptions(compression_ratio_threshold=None, logprob_threshold=None)
    assert not needs_fallback(_result(text="la la la la la la la la la la la la la la la la la la",
                                      avg_logprob=-3.0), off)


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
    # When a window's last attempt ran at 1.0, what came before is dropped from the next prompts.
    transcript, prompts = _prompts(loaded, samples, dataclasses.replace(base, temperatures=(0.0, 1.0)))
    first_attempts = [p for p in prompts if tok.sot in p][::2]  # two attempts a window
    assert len(first_attempts) >= 2 and tok.sot_prev in first_attempts[0]
    assert all(tok.sot_prev not in p for p in first_attempts[1:])
    assert transcript.segments and all(s.temperature == 1.0 for s in transcript.segments)


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
