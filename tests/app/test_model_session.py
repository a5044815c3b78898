"""One owner of "which model the engine holds", against the real engine process."""

from __future__ import annotations

import shutil

import pytest

from app.model_session import ModelChoice, ModelSession
from engine.audio import save_wav
from engine.protocol import Transcribe
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import SR, tone_speech

pytestmark = pytest.mark.timeout(180, func_only=True)


@pytest.fixture
def wav(tmp_path):
    path = tmp_path / "frase.wav"
    save_wav(path, tone_speech(OVERFIT_TEXTS[1], seed=1), SR)
    return path


@pytest.fixture
def session(qtbot, engine):
    s = ModelSession(engine)
    yield s
    s.deleteLater()


def run(qtbot, session, choice, **fields):
    """Submit a Transcribe with ``choice``; returns (load job or None, the finished result)."""
    results = {}
    session.engine.job_finished.connect(lambda job, result: results.__setitem__(job, result))
    load_job, job = session.submit(choice, Transcribe, **fields)
    qtbot.waitUntil(lambda: job in results, timeout=60_000)
    return load_job, results[job]


def test_a_model_is_loaded_once_and_every_result_names_it(qtbot, session, saved_model_dir, tmp_path, wav):
    other = tmp_path / "otro-modelo"
    shutil.copytree(saved_model_dir, other)
    mine, theirs = ModelChoice(str(saved_model_dir)), ModelChoice(str(other))

    load_job, result = run(qtbot, session, mine, path=str(wav))
    assert load_job is not None and session.loaded_path == str(saved_model_dir)
    assert result["model_path"] == str(saved_model_dir) and result["text"] == OVERFIT_TEXTS[1]
    load_job, result = run(qtbot, session, mine, path=str(wav))
    assert load_job is None  # the engine holds it already

    # another page (say Evaluate) runs another model through the same session ...
    load_job, result = run(qtbot, session, theirs, path=str(wav))
    assert load_job is not None and result["model_path"] == str(other)
    # ... and the first page's next run loads its own again instead of decoding with that one
    load_job, result = run(qtbot, session, mine, path=str(wav))
    assert load_job is not None and result["model_path"] == str(saved_model_dir)
    # a different device or CPU weights is another load too
    assert not session.will_hold(ModelChoice(str(saved_model_dir), "cpu", "fp16"))


def test_a_failed_load_cancels_the_job_that_waited_for_it_and_keeps_the_old_model(qtbot, session, saved_model_dir,
                                                                                  tmp_path, wav):
    mine = ModelChoice(str(saved_model_dir))
    run(qtbot, session, mine, path=str(wav))
    broken = tmp_path / "roto"
    broken.mkdir()
    ended = {}
    session.engine.job_failed.connect(lambda job, message, detail: ended.__setitem__(job, "failed"))
    session.engine.job_cancelled.connect(lambda job: ended.__setitem__(job, "cancelled"))
    session.engine.job_finished.connect(lambda job, result: ended.__setitem__(job, "finished"))
    with qtbot.waitSignal(session.load_failed, timeout=30_000) as failed:
        load_job, job = session.submit(ModelChoice(str(broken)), Transcribe, path=str(wav))
    assert failed.args[0] == str(broken) and "roto" in failed.args[1]
    qtbot.waitUntil(lambda: job in ended, timeout=30_000)
    assert ended == {load_job: "failed", job: "cancelled"}  # never run with the model that stayed loaded
    assert session.loaded_path == str(saved_model_dir) and session.will_hold(mine)


def test_a_new_engine_process_holds_no_model(qtbot, session, saved_model_dir, wav):
    run(qtbot, session, ModelChoice(str(saved_model_dir)), path=str(wav))
    with qtbot.waitSignal(session.model_changed, timeout=60_000) as changed:
        session.engine.restart()
    assert changed.args[0] == {} and session.loaded_path is None
    qtbot.waitUntil(lambda: session.engine.state == "ready", timeout=60_000)
    load_job, result = run(qtbot, session, ModelChoice(str(saved_model_dir)), path=str(wav))
    assert load_job is not None and result["text"] == OVERFIT_TEXTS[1]
