"""One transcription of the Transcribe page (app.transcription_job) and the transcript it leaves.

The last tests are of what a run leaves: app.transcript_result (label, model check, export).

The run is driven through the real engine client's signals (a real engine process
behind them); job ids the engine never gave out stand for a run in flight, so each
event arrives exactly as the client relays it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PySide6.QtCore import SIGNAL

from app.model_session import ModelChoice, ModelSession
from app.transcript_result import TranscriptResult
from app.transcription_job import TranscriptionRun
from engine.audio import save_wav
from engine.protocol import AttentionFrame, ChunkResult, PartialTranscript
from engine.transcript import DecodeOptions, TimedText, Transcript
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import SR, tone_speech

pytestmark = pytest.mark.timeout(180, func_only=True)

JOB = 90_001  # far above any id the engine of this module hands out


def follow(engine, views, load_job=None, job=JOB, **kwargs) -> tuple[TranscriptionRun, list]:
    """A run following ``job``; returns it and the list its ending signals land in, as (name, args)."""
    run = TranscriptionRun(engine, views, load_job, job, **kwargs)
    ended = []
    for name in ("finished", "failed", "cancelled", "interrupted"):
        getattr(run, name).connect(lambda *args, name=name: ended.append((name, args)))
    return run, ended


def partial(text: str, temperature: float = 0.0, job: int = JOB) -> PartialTranscript:
    return PartialTranscript(job, 0, tuple(range(len(text))), text, 0.0, temperature)


def cross_row(step: int, job: int = JOB) -> AttentionFrame:
    row = np.zeros(50, dtype=np.float16)
    row[min(step, 49)] = 1
    return AttentionFrame(job, "decoder_cross", 0, None, step, row)


def test_a_window_decoded_again_says_so_and_its_heatmap_starts_afresh(engine, views):
    run, _ = follow(engine, views)

    def step(step, text, temperature):
        engine.partial_transcript.emit(JOB, partial(text, temperature))
        engine.attention_frame.emit(JOB, cross_row(step))

    for i in range(6):  # the first attempt, at temperature 0, runs on and on ("la la la ...")
        step(i, "la la"[: i + 1], 0.0)
    assert views.attention.n_tokens == 6
    assert "temperature" not in views.transcript.partial
    step(0, "h", 0.4)  # the window again, sampled
    assert "temperature 0.4" in views.transcript.partial
    assert views.transcript.partial.endswith("h")
    assert views.attention.n_tokens == 1  # the old attempt's rows are gone
    step(1, "ho", 0.4)
    assert views.attention.n_tokens == 2
    run.abandon()


def test_a_run_draws_its_own_job_only_on_the_files_time_axis(engine, views):
    run, _ = follow(engine, views, offset=2.0)  # the selection decoded starts 2 s into the file
    assert not views.progress.isHidden()
    engine.chunk_finished.emit(JOB + 1, ChunkResult(JOB + 1, 0, 0.0, 1.0, "otro", (("otro", 0.1, 0.5),)))
    engine.partial_transcript.emit(JOB + 1, partial("otro"))
    engine.progress_changed.emit(JOB + 1, 9.0, 10.0, "seconds")
    assert views.transcript.plain_text() == "" and views.progress.maximum() == 0  # another job's: not drawn

    engine.chunk_finished.emit(JOB, ChunkResult(JOB, 0, 0.0, 1.0, "hola", (("hola", 0.1, 0.5),)))
    assert views.transcript.words == [("hola", 2.1, 2.5)]
    engine.progress_changed.emit(JOB, 3.0, 10.0, "seconds")
    assert (views.progress.value(), views.progress.format()) == (300, "0:03 / 0:10")
    engine.progress_changed.emit(JOB, 1.0, 4.0, "chunks")
    assert views.progress.format() == "1/4"
    run.abandon()
    assert views.progress.isHidden() and not run.running
    engine.chunk_finished.emit(JOB, ChunkResult(JOB, 1, 1.0, 2.0, "tarde", (("tarde", 1.1, 1.5),)))
    assert views.transcript.words == [("hola", 2.1, 2.5)]  # abandoned: what it still sends is not drawn


def listeners(engine) -> list[int]:
    signals = ("job_finished(int,PyObject)", "job_failed(int,QString,QString)", "job_cancelled(int)",
               "job_stopped_early(int,PyObject)",
               "partial_transcript(int,PyObject)", "attention_frame(int,PyObject)", "chunk_finished(int,PyObject)",
               "progress_changed(int,double,double,QString)", "worker_exited(int,QString)")
    return [engine.receivers(SIGNAL(signal)) for signal in signals]


def test_a_finished_run_names_the_model_of_the_engines_answer_and_lets_go(engine, views, tmp_path):
    audio = tmp_path / "entrevista.wav"
    before = listeners(engine)
    run, ended = follow(engine, views, load_job=JOB - 1, offset=1.0, audio=audio, settings={"beam_size": 2})
    assert listeners(engine) == [n + 1 for n in before]
    engine.job_finished.emit(JOB - 1, {"name": "whisper-base"})  # the load: the run goes on
    assert run.running and ended == []

    answer = {"text": "hola mundo", "duration": 2.0, "score": -0.1, "model": "whisper-base",
              "model_path": "/modelos/whisper-base",
              "words": [{"text": "hola", "start": 0.0, "end": 0.4}, {"text": "mundo", "start": 0.5, "end": 1.0}]}
    engine.job_finished.emit(JOB, answer)
    [(name, (result,))] = ended
    assert name == "finished" and not run.running and views.progress.isHidden()
    assert result.meta == {"audio": audio, "settings": {"beam_size": 2}, "model": "whisper-base",
                           "model_path": "/modelos/whisper-base", "language": None, "language_probability": None,
                           "stopped_at": None}
    assert [(w.text, w.start, w.end) for w in result.transcript.words] == [("hola", 1.0, 1.4), ("mundo", 1.5, 2.0)]
    assert views.transcript.plain_text() == "hola mundo" and views.transcript.words[0] == ("hola", 1.0, 1.4)

    engine.partial_transcript.emit(JOB, partial("eco"))
    engine.job_finished.emit(JOB, answer)
    assert views.transcript.plain_text() == "hola mundo" and len(ended) == 1  # ended: nothing more is drawn
    assert listeners(engine) == before  # it let go of the engine's signals


def test_a_run_with_no_speech_leaves_the_heatmaps_empty(engine, views):
    run, ended = follow(engine, views)
    engine.partial_transcript.emit(JOB, partial(""))
    engine.attention_frame.emit(JOB, cross_row(0))  # the end-of-text row
    assert views.attention.n_tokens == 1
    engine.job_finished.emit(JOB, {"text": " ", "duration": 3.0, "model": "demo-es"})
    [(name, (result,))] = ended
    assert name == "finished" and not result.has_text and views.attention.n_tokens == 0


def test_a_failed_load_ends_the_run_once_and_the_transcription_that_waited_is_not_followed(engine, views):
    run, ended = follow(engine, views, load_job=JOB - 1)
    engine.job_failed.emit(JOB - 1, "demo-es: the model folder has no config.json", "detail")
    assert ended == [("failed", ("demo-es: the model folder has no config.json",))] and not run.running
    engine.job_cancelled.emit(JOB)  # the session cancels the transcription that waited for the load
    engine.job_failed.emit(JOB, "late", "")
    assert len(ended) == 1 and views.progress.isHidden()


def test_a_cancelled_run_and_an_engine_that_stopped_each_end_it_once(engine, views):
    run, ended = follow(engine, views)
    engine.job_cancelled.emit(JOB + 5)  # someone else's
    assert ended == [] and run.running
    engine.job_cancelled.emit(JOB)
    engine.worker_exited.emit(-9, "killed")
    assert ended == [("cancelled", (None,))]  # nothing had been finished: nothing kept

    run, ended = follow(engine, views)
    engine.worker_exited.emit(-9, "killed")
    engine.job_finished.emit(JOB, {"text": "tarde", "model": "demo-es"})
    assert ended == [("interrupted", ())] and not run.running


def test_a_long_run_says_how_long_is_left_at_the_pace_so_far(engine, views, monkeypatch):
    import app.transcription_job as job

    now = [100.0]
    monkeypatch.setattr(job.time, "monotonic", lambda: now[0])  # the clock, the one thing not ours
    run, _ = follow(engine, views)
    engine.progress_changed.emit(JOB, 600.0, 3600.0, "seconds")  # 10 of 60 minutes done when it starts
    assert views.progress.format() == "10:00 / 1:00:00"  # no pace yet, no guess
    now[0] = 130.0
    engine.progress_changed.emit(JOB, 720.0, 3600.0, "seconds")  # 2 minutes of audio in 30 s
    assert views.progress.format() == "12:00 / 1:00:00 · about 12:00 left"  # 48 min of audio at 4x
    run.abandon()


def test_a_cancelled_run_keeps_and_shows_what_the_engine_had_finished(engine, views, tmp_path):
    run, ended = follow(engine, views, offset=5.0, audio=tmp_path / "charla.wav")
    engine.chunk_finished.emit(JOB, ChunkResult(JOB, 0, 0.0, 20.0, "buenas tardes", (("buenas", 0.5, 0.9),
                                                                                      ("tardes", 1.0, 1.4))))
    done = {"text": "buenas tardes", "words": [{"text": "buenas", "start": 0.5, "end": 0.9},
                                               {"text": "tardes", "start": 1.0, "end": 1.4}],
            "duration": 60.0, "model": "demo-es", "model_path": "/modelos/demo-es", "stopped_at": 20.0}
    engine.job_stopped_early.emit(JOB, done)
    engine.job_cancelled.emit(JOB)
    [(kind, (kept,))] = ended
    assert kind == "cancelled" and kept.transcript.text == "buenas tardes"
    assert kept.meta["stopped_at"] == 25.0 and kept.meta["model"] == "demo-es"  # on the file's time axis
    assert [w.start for w in kept.transcript.words] == [5.5, 6.0]
    assert views.transcript.words == [("buenas", 5.5, 5.9), ("tardes", 6.0, 6.4)]
    assert "cancelled: the first 0:25 only" in kept.label()
    kept.export(tmp_path / "charla.json")
    written = json.loads((tmp_path / "charla.json").read_text(encoding="utf-8"))
    assert written["text"] == "buenas tardes" and written["settings"]["cancelled_at_seconds"] == 25.0


def test_start_sends_the_selection_and_the_result_names_the_model_that_made_it(qtbot, engine, views,
                                                                             saved_model_dir, tmp_path):
    wav = tmp_path / "frase.wav"
    samples = tone_speech(OVERFIT_TEXTS[1], seed=1)
    save_wav(wav, samples, SR)
    session = ModelSession(engine)
    choice = ModelChoice(str(saved_model_dir))

    run = TranscriptionRun.start(session, choice, DecodeOptions(beam_size=1), views, audio=wav, samples=samples,
                                 settings={"beam_size": 1})
    assert run.load_job is not None and not views.progress.isHidden()  # the engine held no model: a load first
    with qtbot.waitSignal(run.finished, timeout=60_000) as done:
        pass
    result = done.args[0]
    assert result.transcript.text == OVERFIT_TEXTS[1] and views.transcript.plain_text() == OVERFIT_TEXTS[1]
    assert result.meta["model"] == "tonos-es" and result.meta["model_path"] == str(saved_model_dir)
    assert result.meta["audio"] == wav and session.loaded_path == str(saved_model_dir)

    # the second half of the recording, held in memory: times stay the file's
    half = len(samples) / SR / 2
    run = TranscriptionRun.start(session, choice, DecodeOptions(beam_size=1), views, audio=None, samples=samples,
                                 region=(half, len(samples) / SR))
    assert run.load_job is None  # the engine holds it already
    with qtbot.waitSignal(run.finished, timeout=60_000) as done:
        pass
    result = done.args[0]
    assert result.meta["audio"] is None and result.transcript.duration == pytest.approx(half, abs=0.05)
    assert all(w.start >= half for w in result.transcript.words), result.transcript.words
    session.deleteLater()


# ---- the transcript it leaves -------------------------------------------------------------------


def result(tmp_path, **meta) -> TranscriptResult:
    words = [TimedText("hola", 0.0, 0.4), TimedText("mundo", 0.5, 1.0)]
    transcript = Transcript("hola mundo", words, words, 1.0, -0.1)
    base = {"audio": tmp_path / "entrevista.wav", "settings": {"beam_size": 1}, "model": "demo-es",
            "model_path": str(tmp_path / "demo-es"), "language": None, "language_probability": None}
    return TranscriptResult(transcript, {**base, **meta})


def test_the_label_names_the_audio_the_model_and_the_language_found(tmp_path):
    assert result(tmp_path).label() == "Transcript of entrevista.wav by demo-es"
    assert result(tmp_path, audio=None, model="").label() == "Transcript of the recording by ?"
    found = result(tmp_path, model="whisper-base", settings={"beam_size": 1, "language": "auto", "task": "translate"},
                   language="es", language_probability=0.934)
    assert found.label() == ("English translation of entrevista.wav by whisper-base · "
                             "language found: Spanish (es, 93 % sure)")
    unnamed = result(tmp_path, language="sw", language_probability=0.5)  # a language the list does not name
    assert unnamed.label().endswith("language found: sw (sw, 50 % sure)")


def test_another_model_chosen_now_is_told_apart_from_the_one_that_made_it(tmp_path):
    (tmp_path / "demo-es").mkdir()
    (tmp_path / "otros").mkdir()
    done = result(tmp_path)
    assert not done.made_by_another_model(tmp_path / "demo-es")
    assert not done.made_by_another_model(tmp_path / "otros" / ".." / "demo-es")  # the same folder, written otherwise
    assert done.made_by_another_model(tmp_path / "whisper-base")
    assert not done.made_by_another_model("")  # nothing chosen: nothing to warn about
    assert not result(tmp_path, model_path="").made_by_another_model(tmp_path / "whisper-base")


def test_export_is_named_after_its_own_audio_and_says_how_it_was_made(tmp_path):
    done = result(tmp_path, settings={"beam_size": 1, "language": "auto", "task": "transcribe"}, language="es",
                  language_probability=0.9)
    assert done.export_suggestion() == tmp_path / "entrevista.srt"
    assert result(tmp_path, audio=None).export_suggestion().name == "transcripcion.srt"
    out = tmp_path / "salida.json"
    done.export(out)
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["model"] == "demo-es"
    assert written["settings"] == {"beam_size": 1, "language": "auto", "task": "transcribe",
                                   "detected_language": "es", "language_probability": 0.9}
    with pytest.raises(ValueError, match="salida.docx"):
        done.export(tmp_path / "salida.docx")
    assert not (tmp_path / "salida.docx").exists()
