"""The engine process end to end: a real spawned worker on the CPU with the tiny overfit model.

Spawning a worker costs about a second (importing torch), so one client is
shared by the module; only the crash test starts (and restarts) its own.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from engine.audio import resample, save_wav
from engine.client import EngineClient
from engine.errors import ParceroError
from engine.protocol import (
    ALL_HEADS, AttentionFrame, Cancel, Cancelled, ChunkResult, Command, EngineInfo, Evaluate, EvalResult, Event, Failed,
    Finished, GetInfo, LoadModel, PartialTranscript, Progress, Started, Train, TrainMetrics, Transcribe,
    WorkerExited, is_terminal,
)
from engine.training.checkpoint import list_checkpoints
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import SR, tone_speech, write_tone_corpus

N_LAYERS, N_HEAD = 2, 4  # the overfit model's decoder and encoder depth, and its heads


class EventLog:
    """Every event a client's reader thread hands over, for tests that react mid-job."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.changed = threading.Condition()

    def add(self, event: Event) -> None:
        with self.changed:
            self.events.append(event)
            self.changed.notify_all()

    def wait_for(self, match, timeout: float = 30.0) -> Event:
        """The first event (old or new) for which ``match(event)`` is true."""
        found: list[Event] = []

        def seen() -> bool:
            found[:] = [e for e in self.events if match(e)][:1]
            return bool(found)

        with self.changed:
            assert self.changed.wait_for(seen, timeout), "the expected event never came"
        return found[0]


@dataclass(frozen=True)
class Hola(Command):
    """A command this engine has never heard of."""

    saludo: str = "buenas"


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("audio")
    save_wav(folder / "corto.wav", tone_speech(OVERFIT_TEXTS[1], seed=1), SR)
    # 40 rounds of every text: about three minutes, cut into many chunks.
    long = [tone_speech(text, seed=i) for _ in range(40) for i, text in enumerate(OVERFIT_TEXTS)]
    save_wav(folder / "largo.wav", np.concatenate(long), SR)
    return folder


@pytest.fixture(scope="module")
def engine(saved_model_dir):
    log = EventLog()
    client = EngineClient(on_event=log.add)
    client.start()
    [*_, loaded] = client.wait(client.submit(LoadModel, path=str(saved_model_dir)), timeout=30)
    assert isinstance(loaded, Finished), loaded
    client.log = log
    yield client
    client.close()
    assert not client.alive


def of(events, kind) -> list:
    return [e for e in events if isinstance(e, kind)]


def row_sums(matrix: np.ndarray) -> np.ndarray:
    return matrix.astype(np.float32).sum(axis=-1)


def test_transcription_streams_partials_and_attention_then_the_cli_text(engine, audio_dir, saved_model_dir, capsys):
    from engine.cli import main

    wav = audio_dir / "corto.wav"
    events = engine.wait(engine.submit(Transcribe, path=str(wav)), timeout=60)

    assert isinstance(events[0], Started) and events[0].kind == "transcribe"
    assert isinstance(events[-1], Finished) and sum(map(is_terminal, events)) == 1
    partials = of(events, PartialTranscript)
    assert partials and partials[-1].text == OVERFIT_TEXTS[1]
    # one row label per token for the heatmap: a character model's characters, none of them special
    assert partials[-1].token_texts == tuple(OVERFIT_TEXTS[1]) and not any(partials[-1].special)
    assert all(len(p.token_texts) == len(p.special) == len(p.tokens) for p in partials)
    frames = of(events, AttentionFrame)
    assert frames and {f.kind for f in frames} == {"decoder_cross"}
    assert {f.layer for f in frames} == set(range(N_LAYERS)) and {f.head for f in frames} == {None}
    assert len(frames) == N_LAYERS * len(partials)  # one averaged row per layer and step
    for f in frames:
        assert f.matrix.dtype == np.float16 and f.matrix.ndim == 1
        assert row_sums(f.matrix) == pytest.approx(1.0, abs=1e-2)
    [chunk] = of(events, ChunkResult)
    assert chunk.text == OVERFIT_TEXTS[1] and [w for w, _, _ in chunk.words] == OVERFIT_TEXTS[1].split()
    progress = of(events, Progress)[-1]
    assert progress.unit == "seconds" and progress.done == progress.total == pytest.approx(chunk.end)

    result = events[-1].result
    assert result["model"] == "tonos-es" and result["source"] == str(wav)
    assert main(["transcribe", str(wav), "--model", str(saved_model_dir)]) == 0
    assert result["text"] == capsys.readouterr().out.strip() == OVERFIT_TEXTS[1]


def test_samples_at_another_rate_are_resampled(engine):
    samples = resample(tone_speech(OVERFIT_TEXTS[3], seed=3), SR, 48000)
    events = engine.wait(engine.submit(Transcribe, samples=samples, sample_rate=48000, attention=()), timeout=60)
    assert events[-1].result["text"] == OVERFIT_TEXTS[3]
    assert not of(events, AttentionFrame)


def test_every_head_of_encoder_and_decoder_attention(engine, audio_dir):
    job = engine.submit(Transcribe, path=str(audio_dir / "corto.wav"), attention=("decoder_cross", "encoder_self"),
                        heads="all")
    events = engine.wait(job, timeout=60)
    assert isinstance(events[-1], Finished)
    encoder = [f for f in of(events, AttentionFrame) if f.kind == "encoder_self"]
    decoder = [f for f in of(events, AttentionFrame) if f.kind == "decoder_cross"]
    # one frame per layer holds all its heads, stacked: 8 heads are one event, not 8
    assert sorted((f.layer, f.head) for f in encoder) == [(l, ALL_HEADS) for l in range(N_LAYERS)]
    T = encoder[0].matrix.shape[-1]
    for f in encoder:
        assert f.matrix.shape == (N_HEAD, T, T) and f.matrix.dtype == np.float16 and f.step == 0
        assert np.allclose(row_sums(f.matrix), 1.0, atol=1e-2)
    assert len(decoder) == N_LAYERS * len(of(events, PartialTranscript))
    assert all(f.matrix.shape == (N_HEAD, T) and f.head == ALL_HEADS for f in decoder)
    assert sorted({(f.layer, f.step) for f in decoder}) == sorted((f.layer, f.step) for f in decoder)

    # the encoder's heads can be averaged while the decoder's all come
    job = engine.submit(Transcribe, path=str(audio_dir / "corto.wav"), attention=("decoder_cross", "encoder_self"),
                        heads="all", encoder_heads="average")
    frames = of(engine.wait(job, timeout=60), AttentionFrame)
    assert {(f.kind, f.head, f.matrix.ndim) for f in frames} == {("encoder_self", None, 2),
                                                                 ("decoder_cross", ALL_HEADS, 2)}
    failed = engine.wait(engine.submit(Transcribe, path=str(audio_dir / "corto.wav"), encoder_heads="some"))
    assert isinstance(failed[-1], Failed) and "encoder_heads" in failed[-1].message
    # encoder attention comes once per chunk, before the chunk's first partial transcript
    first_partial = next(i for i, e in enumerate(events) if isinstance(e, PartialTranscript))
    assert max(events.index(f) for f in encoder) < first_partial


def test_cancel_mid_transcription_while_info_still_answers(engine, audio_dir):
    log = engine.log
    long_job = engine.submit(Transcribe, path=str(audio_dir / "largo.wav"), max_chunk_seconds=10.0)
    queued = engine.submit(Transcribe, path=str(audio_dir / "corto.wav"))
    log.wait_for(lambda e: isinstance(e, PartialTranscript) and e.job_id == long_job)

    # GetInfo does not wait behind the heavy job
    asked = time.monotonic()
    info_events = engine.wait(engine.submit(GetInfo), timeout=5)
    assert time.monotonic() - asked < 1.0
    [info] = of(info_events, EngineInfo)
    assert info.model == "tonos-es" and info.device.startswith("CPU") and "torch" in info.versions
    assert (info.device_kind, info.threads) == ("cpu", torch_threads(info.device))  # facts the window words
    assert long_job in engine.running_jobs

    engine.cancel(queued)  # still in the queue: it must end without ever starting
    asked = time.monotonic()
    engine.cancel(long_job)
    events = engine.wait(long_job, timeout=10)
    assert time.monotonic() - asked < 1.0
    assert isinstance(events[-1], Cancelled) and isinstance(events[0], Started)
    assert len(of(events, ChunkResult)) < 5  # it stopped early, not after all the chunks
    assert engine.wait(queued, timeout=10) == [Cancelled(queued)]

    events = engine.wait(engine.submit(Transcribe, path=str(audio_dir / "corto.wav")), timeout=60)
    assert events[-1].result["text"] == OVERFIT_TEXTS[1]


def test_a_cancelled_transcription_hands_back_the_chunks_it_finished(engine, audio_dir):
    log = engine.log
    job = engine.submit(Transcribe, path=str(audio_dir / "largo.wav"), max_chunk_seconds=10.0)
    log.wait_for(lambda e: isinstance(e, ChunkResult) and e.job_id == job and e.chunk == 1)
    engine.cancel(job)
    events = engine.wait(job, timeout=10)
    chunks, end = of(events, ChunkResult), events[-1]
    assert isinstance(end, Cancelled) and 2 <= len(chunks) < 10
    done = end.result
    assert done["model"] == "tonos-es" and done["stopped_at"] == chunks[-1].end
    assert done["text"] == " ".join(c.text for c in chunks)  # every chunk finished, none of the one stopped
    assert [w["text"] for w in done["words"]] == [w for c in chunks for w, _, _ in c.words]
    assert done["duration"] > done["stopped_at"]  # the whole file's length, not the part done
    # Cancelled before any chunk ended: nothing to hand back.
    job = engine.submit(Transcribe, path=str(audio_dir / "largo.wav"), max_chunk_seconds=10.0)
    log.wait_for(lambda e: isinstance(e, PartialTranscript) and e.job_id == job)
    engine.cancel(job)
    events = engine.wait(job, timeout=10)
    assert isinstance(events[-1], Cancelled)
    assert (events[-1].result is None) == (not of(events, ChunkResult))


def test_evaluate_streams_progress_then_scores(engine, tmp_path):
    manifest = write_tone_corpus(tmp_path, OVERFIT_TEXTS, "dev")
    events = engine.wait(engine.submit(Evaluate, manifest=str(manifest)), timeout=60)
    assert isinstance(events[-1], Finished), events[-1]
    progress = of(events, Progress)
    assert progress[-1].unit == "utterances" and progress[-1].done == progress[-1].total == len(OVERFIT_TEXTS)
    [result] = of(events, EvalResult)
    assert result.cer == 0.0 and result.wer == 0.0 and len(result.report["rows"]) == len(OVERFIT_TEXTS)


@pytest.mark.slow
def test_cancelled_training_saves_a_checkpoint(engine, tmp_path):
    train = write_tone_corpus(tmp_path / "data", OVERFIT_TEXTS, "train")
    run_dir = tmp_path / "runs" / "cancelada"
    config = {
        "run": {"name": "cancelada", "dir": str(run_dir)},
        # one DataLoader process: the worker must be allowed children of its own
        "data": {"train": str(train), "num_workers": 1, "max_frames": 100_000, "num_buckets": 1},
        "model": {"preset": "tiny", "d_model": 48, "d_ff": 96, "n_enc_layers": 1, "n_dec_layers": 1},
        "text": {"lowercase": False, "punctuation": "keep"},
        "train": {"max_steps": 100_000, "warmup": 10, "log_every": 1, "checkpoint_every": 100_000},
        "spec_augment": {"enabled": False},
    }
    job = engine.submit(Train, config=config, base_dir=str(tmp_path))
    engine.log.wait_for(lambda e: isinstance(e, TrainMetrics) and e.job_id == job and e.record["kind"] == "train")
    engine.cancel(job)
    events = engine.wait(job, timeout=60)
    assert isinstance(events[-1], Cancelled), events[-1]
    saved = [e.record for e in of(events, TrainMetrics) if e.record["kind"] == "checkpoint"]
    assert saved and list_checkpoints(run_dir) and Path(saved[-1]["path"]).is_dir()
    assert of(events, Progress)[0].unit == "steps"


def test_bad_commands_and_bad_audio_fail_clearly_and_the_worker_survives(engine, audio_dir, tmp_path):
    engine._send("hola")  # not even a command: there is no job id to answer to
    failed = engine.log.wait_for(lambda e: isinstance(e, Failed) and e.job_id == 0, timeout=10)
    assert "not a command" in failed.message and "str" in failed.message

    def failure(command_type, **fields) -> Failed:
        [*_, last] = engine.wait(engine.submit(command_type, **fields), timeout=30)
        assert isinstance(last, Failed), last
        return last

    assert "unknown command Hola" in failure(Hola).message
    assert failure(Transcribe, path=123).message == "Transcribe.path: expected str or None, got int 123"
    assert "Transcribe.options.beam_size: expected int" in failure(Transcribe, path="x.wav",
                                                                   options=_options(beam_size="4")).message
    assert "exactly one of path" in failure(Transcribe).message
    hot = failure(Transcribe, path=str(audio_dir / "corto.wav"), options=_options(temperature=-1.0)).message
    assert hot == "options.temperature must be from 0 to 10, got -1.0"
    assert "options.best_of must be at least 1" in failure(Transcribe, path=str(audio_dir / "corto.wav"),
                                                          options=_options(best_of=0)).message
    corrupt = tmp_path / "roto.wav"
    corrupt.write_bytes(b"RIFF esto no es audio" * 20)
    broken = failure(Transcribe, path=str(corrupt))
    assert str(corrupt) in broken.message and "cannot decode" in broken.message
    # ... and as a code with params, which the window words in its own language (app.engine_messages)
    assert broken.code == "audio.unreadable" and broken.params["path"] == str(corrupt)
    missing = tmp_path / "no-hay-modelo"
    no_model = failure(LoadModel, path=str(missing))
    assert str(missing) in no_model.message
    assert (no_model.code, no_model.params["path"]) == ("model.missing", str(missing))

    # still alive, and a failed LoadModel kept the model that was loaded
    events = engine.wait(engine.submit(Transcribe, path=str(audio_dir / "corto.wav")), timeout=60)
    assert events[-1].result["text"] == OVERFIT_TEXTS[1]
    with pytest.raises(ValueError, match="cancel"):
        engine.submit(Cancel, target=1)
    with pytest.raises(KeyError):
        engine.wait(10_000)


def _options(**fields):
    from engine.transcript import DecodeOptions

    options = DecodeOptions()
    for name, value in fields.items():
        object.__setattr__(options, name, value)  # a malformed object, as a buggy client could send
    return options


@pytest.mark.slow
def test_a_killed_worker_fails_its_job_within_a_second_and_restarts(saved_model_dir, audio_dir):
    log = EventLog()
    client = EngineClient(on_event=log.add)
    client.start()
    try:
        [*_, no_model] = client.wait(client.submit(Transcribe, path=str(audio_dir / "corto.wav")), timeout=30)
        assert isinstance(no_model, Failed) and no_model.message == "no model loaded: load one first"
        client.wait(client.submit(LoadModel, path=str(saved_model_dir)), timeout=30)
        job = client.submit(Transcribe, path=str(audio_dir / "largo.wav"))
        log.wait_for(lambda e: isinstance(e, PartialTranscript) and e.job_id == job)
        old_pid = client.pid
        killed = time.monotonic()
        os.kill(old_pid, signal.SIGKILL)
        [*_, failed] = client.wait(job, timeout=5)
        assert time.monotonic() - killed < 1.0
        assert isinstance(failed, Failed)
        assert failed.message == "the engine process stopped unexpectedly (killed by signal SIGKILL)"
        assert (failed.code, failed.params["reason"]) == ("engine.crashed", "killed by signal SIGKILL")
        exited = log.wait_for(lambda e: isinstance(e, WorkerExited), timeout=2)
        assert exited.exitcode == -signal.SIGKILL and log.events.index(exited) > log.events.index(failed)
        assert not client.alive and client.pid is None and not process_exists(old_pid)
        with pytest.raises(ParceroError, match="not running"):
            client.submit(GetInfo)

        client.restart()
        assert client.alive and client.pid != old_pid
        client.wait(client.submit(LoadModel, path=str(saved_model_dir)), timeout=30)
        events = client.wait(client.submit(Transcribe, path=str(audio_dir / "corto.wav")), timeout=60)
        assert events[-1].result["text"] == OVERFIT_TEXTS[1]
        new_pid = client.pid
    finally:
        client.close()
    client.close()  # a second close does nothing
    assert not client.alive and not process_exists(new_pid)
    assert new_pid not in [p.pid for p in multiprocessing.active_children()]
    assert isinstance(log.events[-1], WorkerExited) and log.events[-1].reason == "shut down"


def process_exists(pid: int) -> bool:
    """True while ``pid`` runs or lingers as a zombie (a child nobody reaped)."""
    try:
        os.waitpid(pid, os.WNOHANG)  # a zombie child of ours would be reaped (and reported) here
        return True
    except ChildProcessError:
        pass  # not our child (any more): reaped already
    return Path(f"/proc/{pid}").exists()


def torch_threads(device_line: str) -> int:
    """The thread count in describe_device's English line, "CPU (N threads)"."""
    return int(device_line.split("(")[1].split()[0])
