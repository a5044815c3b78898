"""What the engine process sends a heatmap about a Whisper transcription: token labels and attention.

The rows of Whisper's cross-attention heatmap are its tokens, BPE pieces (" sospe", "chando") and
timestamps, so every PartialTranscript carries one label per token and says which are special.
Attention arrives one frame per layer holding every head, and covers the frames of the 30 s window
that hold audio, not its silent padding.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.whisper.decoding import token_pieces
from engine.whisper.tokenizer import WhisperTokenizer
from tests.engine.whisper.fixtures_whisper import tiny_tokenizer_json, tiny_whisper

SECONDS = 3.0
FRAME_SECONDS = 0.02  # one Whisper encoder frame
N_LAYERS = N_HEADS = 2  # the tiny Whisper's decoder


@pytest.fixture(scope="module")
def tok() -> WhisperTokenizer:
    return WhisperTokenizer.from_str(tiny_tokenizer_json())


def test_token_pieces_are_bpe_text_with_specials_flagged(tok):
    text = " el pingüino comió ñoquis"
    words = tok.encode(text)
    ts = tok.timestamp_begin
    ids = [ts, *words, ts + 7, tok.eot]
    texts, special = token_pieces(tok, ids)
    assert len(texts) == len(special) == len(ids)
    assert special == (True,) + (False,) * len(words) + (True, True)
    assert texts[0] == "<|0.00|>" and texts[-2] == "<|0.14|>" and texts[-1] == "<|endoftext|>"
    assert "".join(texts[1:-2]) == text  # the pieces read as the text, nothing lost or doubled
    assert "\ufffd" not in "".join(texts)  # a character split over two tokens is written once, whole
    assert len(words) < len(text.replace(" ", ""))  # BPE pieces, not one token per character
    assert any(len(piece.strip()) > 1 for piece in texts[1:-2])


@pytest.fixture(scope="module")
def whisper_folder(tmp_path_factory):
    from engine.whisper.files import save_whisper

    tok_json = tiny_tokenizer_json()
    n_vocab = WhisperTokenizer.from_str(tok_json).vocab_size
    model = tiny_whisper(tok_json, n_vocab=n_vocab, n_audio_ctx=1500, n_text_ctx=40)  # Whisper's 30 s window
    return save_whisper(tmp_path_factory.mktemp("modelos") / "diminuto", (model, tok_json, {"source": "test"}))


def test_the_worker_sends_token_labels_and_every_head_of_the_audio_frames(whisper_folder, tok, tmp_path):
    from engine.audio import save_wav
    from engine.client import EngineClient
    from engine.transcript import DecodeOptions
    from engine.protocol import ALL_HEADS, AttentionFrame, Finished, LoadModel, PartialTranscript, Transcribe

    wav = tmp_path / "ruido.wav"
    save_wav(wav, (0.1 * np.random.default_rng(2).standard_normal(int(16000 * SECONDS))).astype(np.float32), 16000)
    client = EngineClient()
    client.start()
    try:
        [*_, done] = client.wait(client.submit(LoadModel, path=str(whisper_folder), device="cpu"), timeout=60)
        assert isinstance(done, Finished)
        events = client.wait(client.submit(
            Transcribe, path=str(wav), options=DecodeOptions(beam_size=1), attention=("decoder_cross", "encoder_self"),
            heads="all", encoder_heads="average"), timeout=120)
    finally:
        client.close()
    assert isinstance(events[-1], Finished)

    partials = [e for e in events if isinstance(e, PartialTranscript)]
    assert partials and any(p.tokens for p in partials)
    for p in partials:
        assert len(p.token_texts) == len(p.special) == len(p.tokens)
        assert p.special == tuple(t >= tok.eot for t in p.tokens)
        try:  # a random model's text can be broken UTF-8: compare where it is whole
            whole = b"".join(tok.token_bytes(t) for t in p.tokens).decode("utf-8")
        except UnicodeDecodeError:
            whole = None
        if whole is not None:
            assert "".join(t for t, s in zip(p.token_texts, p.special) if not s) == whole == p.text
        for token, label, special in zip(p.tokens, p.token_texts, p.special):
            if token >= tok.timestamp_begin:
                assert label == f"<|{tok.timestamp(token):.2f}|>" and special

    frames = [e for e in events if isinstance(e, AttentionFrame)]
    decoder = [f for f in frames if f.kind == "decoder_cross"]
    encoder = [f for f in frames if f.kind == "encoder_self"]

    def audio_frames(f: AttentionFrame) -> int:  # a window runs to the end of the audio: 150 frames of 1500 at most
        return math.ceil(round((SECONDS - f.chunk_start) / FRAME_SECONDS, 6))

    assert decoder and all(f.head == ALL_HEADS and f.matrix.shape == (N_HEADS, audio_frames(f)) for f in decoder)
    assert decoder[0].matrix.shape == (N_HEADS, round(SECONDS / FRAME_SECONDS))
    assert all(f.frame_seconds == FRAME_SECONDS and f.matrix.dtype == np.float16 for f in decoder)
    assert len(decoder) == N_LAYERS * len(partials)  # a frame per layer and step, whatever the number of heads
    windows = {f.chunk for f in decoder}
    assert len(encoder) == N_LAYERS * len(windows)
    assert all(f.head is None and f.matrix.shape == (audio_frames(f),) * 2 for f in encoder)


def test_in_a_batch_the_followed_piece_draws_no_attention_once_its_search_has_ended(whisper_folder):
    """A batch's steps go on after its first piece (the one the window follows) has ended: its text stays,
    but no heatmap row is sent for steps that are not its; a piece decoded alone still sends its last step."""
    import threading

    import torch

    from engine.decode import StepInfo
    from engine.models.io import load_model
    from engine.protocol import AttentionFrame, PartialTranscript, Transcribe
    from engine.transcript import Chunk, DecodeOptions
    from engine.transcription_job import TranscriptionJob

    loaded = load_model(whisper_folder, device="cpu")
    events = []
    command = Transcribe(1, samples=np.zeros(16000 * 3, np.float32), options=DecodeOptions(beam_size=1),
                         heads="all", attention=("decoder_cross",))
    job = TranscriptionJob(command, loaded, threading.Event(), events.append)
    chunk = Chunk(0, 0.0, SECONDS, 2)
    rows = [torch.rand(2, N_HEADS, 1500) for _ in range(N_LAYERS)]  # (pieces, heads, frames) per layer
    steps = [StepInfo(step=3, tokens=[[5, 6], [7]], cross_attention=rows, finished=[False, False]),
             StepInfo(step=4, tokens=[[5, 6], [7, 8]], cross_attention=rows, finished=[True, False]),
             StepInfo(step=5, tokens=[[5, 6], [7, 8, 9]], cross_attention=rows, finished=[True, False])]
    for info in steps:
        job._on_step(chunk, info)
    frames = [e for e in events if isinstance(e, AttentionFrame)]
    assert [f.step for f in frames] == [3] * N_LAYERS  # none for steps 4 and 5: the piece had ended
    assert [e.tokens for e in events if isinstance(e, PartialTranscript)] == [(5, 6)] * 3  # its text stays
    events.clear()
    job._on_step(chunk, StepInfo(step=2, tokens=[[5, 6]], cross_attention=[r[:1] for r in rows], finished=[True]))
    assert len([e for e in events if isinstance(e, AttentionFrame)]) == N_LAYERS  # alone: its last step is drawn


def test_the_encoder_heatmap_comes_from_the_window_s_own_encoding_one_pass_a_window(whisper_folder):
    """The heatmap of a window's encoder self-attention is what the decoder heard, at no second encoder pass.

    It used to be recorded by encoding each window again (a third of a window's time for Whisper base);
    now the window's own encoding records it, each layer reduced to its frame as it is recorded.
    """
    import threading

    import torch

    from engine.models.attention import AttentionRecorder
    from engine.models.io import load_model
    from engine.protocol import AttentionFrame, Finished, Transcribe
    from engine.transcript import DecodeOptions
    from engine.transcription_job import TranscriptionJob
    from engine.whisper.audio import N_FRAMES, N_SAMPLES, log_mel, pad_or_trim

    loaded = load_model(whisper_folder, device="cpu")
    samples = (0.1 * np.random.default_rng(5).standard_normal(16000 * 45)).astype(np.float32)  # two windows at least
    encode, passes = loaded.model.encode, []

    def counted(*args, **kwargs):
        passes.append(args[0].shape[0])
        return encode(*args, **kwargs)

    loaded.model.encode = counted
    events = []
    command = Transcribe(1, samples=samples, options=DecodeOptions(beam_size=1), heads="all", encoder_heads="average",
                         attention=("decoder_cross", "encoder_self"))
    assert isinstance(TranscriptionJob(command, loaded, threading.Event(), events.append).run(), Finished)

    encoder = [e for e in events if isinstance(e, AttentionFrame) and e.kind == "encoder_self"]
    windows = sorted({f.chunk for f in encoder})
    assert len(windows) >= 2 and len(encoder) == N_LAYERS * len(windows)
    assert len(passes) == len(windows)  # one encoder pass a window: the decoding's own
    mel = log_mel(samples, loaded.model.config.n_mels, padding=N_SAMPLES)  # as the decoding reads the file
    for chunk in windows:
        frames = [f for f in encoder if f.chunk == chunk]
        seek = round(frames[0].chunk_start * 100)
        size = min(N_FRAMES, mel.shape[0] - N_FRAMES - seek)
        n = frames[0].matrix.shape[0]
        assert n == math.ceil(size / 2) and all(f.head is None and f.matrix.shape == (n, n) for f in frames)
        recorder = AttentionRecorder(("encoder_self",))
        with torch.inference_mode():
            encode(pad_or_trim(mel[seek: seek + size])[None], torch.tensor([N_FRAMES]), recorder)
        for frame, weights in zip(frames, recorder.of_kind("encoder_self")):
            expected = weights[0, :, :n, :n].float().mean(dim=0).numpy()
            np.testing.assert_allclose(frame.matrix.astype(np.float32), expected, atol=2e-3)
            rows = frame.matrix.astype(np.float32).sum(axis=1)  # a softmax's rows, the silent padding cut off
            assert frame.matrix.min() > 0 and (rows <= 1.01).all()
