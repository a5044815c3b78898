"""`parcero transcribe`'s Whisper options, end to end through the command line.

A tiny random Whisper with Whisper's 30 s window stands in for the real model
(its text is improbable, so Whisper's default thresholds send every window
through the whole temperature fallback). What the options change is read from
what the model is asked: every call of its decoder is recorded, calls with a
KV cache and a whole prompt being the start of one decoding attempt, calls
without a cache the word-timing pass; every call of its encoder is one window.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.audio import save_wav
from engine.cli import main
from engine.whisper.model import Whisper
from engine.whisper.tokenizer import WhisperTokenizer
from tests.engine.test_export import parse_srt
from tests.engine.whisper.fixtures_whisper import save_tiny_whisper, tiny_tokenizer_json

PROMPT = "Núñez, el pingüino"


@pytest.fixture(scope="module")
def whisper_dir(tmp_path_factory):
    return save_tiny_whisper(tmp_path_factory.mktemp("models") / "diminuto")


@pytest.fixture(scope="module")
def tok():
    return WhisperTokenizer.from_str(tiny_tokenizer_json())


def _noise(path, seconds, seed=2):
    save_wav(path, (0.1 * np.random.default_rng(seed).standard_normal(int(16000 * seconds))).astype(np.float32),
             16000)
    return path


@pytest.fixture(scope="module")
def short_wav(tmp_path_factory):
    return _noise(tmp_path_factory.mktemp("audio") / "ruido 3 s.wav", 3)


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory):
    return _noise(tmp_path_factory.mktemp("audio") / "ruido 45 s.wav", 45)


class Calls:
    """What the model was asked during one `parcero transcribe`."""

    def __init__(self):
        self.attempts: list[list[int]] = []  # each decoding attempt's prompt
        self.alignments = 0  # word-timing passes
        self.windows = 0  # encoder calls: one per 30 s window


@pytest.fixture
def run(monkeypatch, capsys, whisper_dir):
    encode, decode = Whisper.encode, Whisper.decode

    def run(wav, *flags):
        calls = Calls()

        def spy_decode(self, tokens, xa, enc_lens, cache=None, recorder=None):
            if cache is None:
                calls.alignments += 1
            elif tokens.shape[1] > 1:
                calls.attempts.append(tokens[0].tolist())
            return decode(self, tokens, xa, enc_lens, cache, recorder)

        def spy_encode(self, *args, **kwargs):
            calls.windows += 1
            return encode(self, *args, **kwargs)

        monkeypatch.setattr(Whisper, "decode", spy_decode)
        monkeypatch.setattr(Whisper, "encode", spy_encode)
        code = main(["transcribe", str(wav), "--model", str(whisper_dir), "--format", "json", *flags])
        out, err = capsys.readouterr()
        assert code == 0, err
        return json.loads(out), calls

    return run


def test_the_initial_prompt_precedes_the_first_window_s_sot_sequence(run, short_wav, tok):
    sot_sequence = tok.sot_sequence("es", "transcribe", timestamps=True)
    _, plain = run(short_wav, "--no-fallback", "--no-word-timestamps")
    assert plain.attempts[0] == sot_sequence
    _, prompted = run(short_wav, "--initial-prompt", f"  {PROMPT} ", "--no-fallback", "--no-word-timestamps")
    assert prompted.attempts[0] == [tok.sot_prev, *tok.encode(" " + PROMPT), *sot_sequence]


def test_no_fallback_decodes_each_window_once_at_the_temperature_given(run, short_wav):
    result, calls = run(short_wav, "--no-word-timestamps")
    assert calls.windows >= 1 and len(calls.attempts) == 6 * calls.windows  # 0, 0.2, ..., 1.0: all fail
    assert {s["temperature"] for s in result["segments"]} <= {0.0, 0.2, 0.4, 0.6, 0.8, 1.0}
    result, calls = run(short_wav, "--no-fallback", "--no-word-timestamps")
    assert calls.windows >= 1 and len(calls.attempts) == calls.windows
    assert {s["temperature"] for s in result["segments"]} == {0.0}
    result, calls = run(short_wav, "--temperature", "0.6", "--no-fallback", "--no-word-timestamps")
    assert len(calls.attempts) == calls.windows and {s["temperature"] for s in result["segments"]} == {0.6}
    result, calls = run(short_wav, "--temperature", "0.6", "--no-word-timestamps")
    assert len(calls.attempts) == 3 * calls.windows  # 0.6, 0.8, 1.0
    assert {s["temperature"] for s in result["segments"]} <= {0.6, 0.8, 1.0}


def test_word_timestamps_off_skips_the_alignment_pass(run, short_wav):
    timed, calls = run(short_wav, "--no-fallback")
    assert calls.alignments >= 1 and timed["words"]
    untimed, calls = run(short_wav, "--no-fallback", "--no-word-timestamps")
    assert calls.alignments == 0 and untimed["words"] == []
    # The first window decodes the same; where the next one starts differs (a word's end, or a timestamp).
    assert untimed["segments"][0]["text"] == timed["segments"][0]["text"]


def test_each_window_is_prompted_with_the_text_before_it_unless_told_not_to(run, long_wav, tok):
    _, conditioned = run(long_wav, "--no-fallback", "--no-word-timestamps")
    assert conditioned.windows >= 2
    assert tok.sot_prev not in conditioned.attempts[0]
    assert all(a[0] == tok.sot_prev for a in conditioned.attempts[1:])
    _, independent = run(long_wav, "--no-fallback", "--no-word-timestamps", "--no-condition-on-previous-text")
    assert independent.windows >= 2 and all(tok.sot_prev not in a for a in independent.attempts)


def test_the_initial_prompt_still_prompts_the_first_window_when_not_conditioning(run, long_wav, tok):
    _, calls = run(long_wav, "--initial-prompt", PROMPT, "--no-condition-on-previous-text", "--no-fallback",
                   "--no-word-timestamps")
    assert calls.attempts[0][0] == tok.sot_prev
    assert all(tok.sot_prev not in a for a in calls.attempts[1:])


def test_batch_size_decodes_pieces_of_speech_together_and_skips_the_silence(run, tmp_path):
    # 45 s: noise, 20 s of silence, noise. Whisper's own reading encodes two windows (0-30 s, 30-45 s);
    # with --batch-size the energy detector finds the two stretches of sound, decoded in one batch.
    rng = np.random.default_rng(3)
    noise = lambda s: (0.1 * rng.standard_normal(16000 * s)).astype(np.float32)  # noqa: E731
    wav = tmp_path / "ruido, silencio, ruido.wav"
    save_wav(wav, np.concatenate([noise(10), np.zeros(16000 * 20, np.float32), noise(15)]), 16000)
    result, calls = run(wav, "--batch-size", "4", "--vad", "energy", "--no-fallback", "--no-word-timestamps")
    assert calls.windows == 1 and len(calls.attempts) == 1  # one encoder call, one search, for both pieces
    assert all(not 10.5 < s["start"] < 29.5 for s in result["segments"])  # nothing placed in the silence
    _, sequential = run(wav, "--vad", "energy", "--no-fallback", "--no-word-timestamps")
    assert sequential.windows == 2  # Whisper's own reading, on the two stretches of sound only
    _, whole = run(wav, "--no-fallback", "--no-word-timestamps")
    assert whole.windows >= 2 and calls.windows < whole.windows


def test_subtitles_shaped_from_the_command_line(whisper_dir, short_wav, capsys):
    flags = ["transcribe", str(short_wav), "--model", str(whisper_dir), "--format", "srt", "--no-fallback"]
    assert main([*flags]) == 0
    one_line = parse_srt(capsys.readouterr().out)
    assert main([*flags, "--max-line-width", "6", "--max-line-count", "2"]) == 0
    cues = parse_srt(capsys.readouterr().out)
    blocks = [c[3].split("\n") for c in cues]
    assert blocks and all(1 <= len(lines) <= 2 for lines in blocks) and any(len(lines) == 2 for lines in blocks)
    # The random model's "words" may be longer than 6 characters: only such a word, alone, passes the width.
    assert all(len(line) <= 6 or " " not in line for lines in blocks for line in lines)
    assert [c[3] for c in cues] != [c[3] for c in one_line]  # the flags reached the subtitles
    assert " ".join(c[3] for c in one_line).split() == " ".join(c[3] for c in cues).split()


@pytest.mark.parametrize("flags,named", [
    (["--max-line-width", "0", "--format", "srt"], "--max-line-width must be at least 1"),
    (["--max-line-count", "2"], "--max-line-count shapes subtitles: use it with --format srt or vtt"),
    (["--max-line-width", "30", "--format", "vtt", "--no-word-timestamps"], "--max-line-width needs word timings"),
    (["--temperature", "-1"], "--temperature must be from 0 to 10"),
    (["--vad-threshold", "1.5"], "--vad-threshold must be between 0 and 1"),
    (["--batch-size", "-2"], "--batch-size must be 0 or more"),
])
def test_bad_shaping_and_temperature_are_refused_before_the_model_loads(flags, named, short_wav, tmp_path, capsys):
    # A model folder that does not exist: the options are refused before anyone looks for it.
    assert main(["transcribe", str(short_wav), "--model", str(tmp_path / "no-model"), *flags]) == 1
    err = capsys.readouterr().err
    assert named in err and "no-model" not in err


@pytest.mark.parametrize("flags,named", [
    (["--initial-prompt", PROMPT], "--initial-prompt"),
    (["--no-fallback"], "--no-fallback"),
    (["--no-condition-on-previous-text"], "--no-condition-on-previous-text"),
    (["--no-word-timestamps"], "--no-word-timestamps"),
    (["--batch-size", "4"], "--batch-size"),
    (["--vad", "energy"], "--vad"),
])
def test_a_speech_transformer_refuses_the_whisper_only_options(flags, named, saved_model_dir, short_wav, capsys):
    assert main(["transcribe", str(short_wav), "--model", str(saved_model_dir), *flags]) == 1
    err = capsys.readouterr().err
    assert named in err and "Whisper models only" in err


def test_a_speech_transformer_samples_at_the_temperature_given(saved_model_dir, capsys, tmp_path):
    from engine.transcript import DecodeOptions
    from tests.conftest import OVERFIT_TEXTS
    from tests.helpers import tone_speech

    wav = tmp_path / "tono.wav"
    save_wav(wav, tone_speech(OVERFIT_TEXTS[0], seed=0), 16000)
    assert DecodeOptions().temperature == 0.0
    assert main(["transcribe", str(wav), "--model", str(saved_model_dir), "--temperature", "0.5"]) == 0
    assert capsys.readouterr().out.strip()  # a sampled transcript, not a refusal


def test_temperature_chains_as_openai_whisper_builds_them():
    from engine.transcript import DecodeOptions
    from engine.whisper.backend import fallback_temperatures, whisper_options
    from engine.whisper.decoding import WhisperOptions

    assert whisper_options(DecodeOptions()).temperatures == WhisperOptions().temperatures  # 0, 0.2, ..., 1.0
    assert fallback_temperatures(0.3) == (0.3, 0.5, 0.7, 0.9)  # numpy.arange(0.3, 1.0 + 1e-6, 0.2)
    assert fallback_temperatures(0.3, fallback=False) == (0.3,)
    assert fallback_temperatures(1.0) == (1.0,) and fallback_temperatures(1.5) == (1.5,)
    assert whisper_options(DecodeOptions(initial_prompt="   ")).initial_prompt is None
