"""The engine's errors and device in the interface's language (issue 17, defect 7).

The engine speaks English and sends codes with params; ``app.engine_messages`` words them. These tests
take real errors from the real engine functions, so a code the engine starts raising without a sentence
here, or params that no longer fit their sentence, fail here rather than in front of a person.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from app import engine_messages, i18n
from app.engine_messages import (
    MESSAGES, device_text, device_words, engine_message, error_text, exit_reason_text, failure_text,
)
from engine.audio import load_audio, save_wav
from engine.errors import AudioError, ModelFileError, ParceroError
from engine.models.io import load_model
from engine.protocol import EngineInfo, Failed

ROOT = Path(__file__).resolve().parents[2]
CODE = re.compile(r"[a-z]+\.[a-z0-9_]+")  # "audio.unreadable"


@pytest.fixture
def language(qapp):
    yield lambda choice: i18n.install_translator(qapp, choice)
    i18n.remove_translators(qapp)


def _strings(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def engine_codes() -> set[str]:
    """Every code the engine can raise: ``code=`` arguments, Failed's fourth argument, values given to a
    variable named ``code``, and the kinds of the coded exceptions."""
    codes = set()
    for path in (ROOT / "engine").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                codes |= {s for k in node.keywords if k.arg == "code" for s in _strings(k.value)}
                if getattr(node.func, "id", "") == "Failed" and len(node.args) >= 4:
                    codes |= _strings(node.args[3])
            elif isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
                tuples = [t for t in node.targets if isinstance(t, ast.Tuple)]
                if "code" in names:
                    codes |= _strings(node.value)
                for t in tuples:  # message, code = "...", "engine.stopped"
                    for i, e in enumerate(t.elts):
                        if isinstance(e, ast.Name) and e.id == "code" and isinstance(node.value, ast.Tuple):
                            codes |= _strings(node.value.elts[i])
    codes = {c for c in codes if CODE.fullmatch(c)}
    codes |= {f"audio.{kind}" for kind in AudioError.KINDS}
    codes |= {f"model.{kind}" for kind in ModelFileError.KINDS}
    return codes


def test_every_code_the_engine_raises_has_a_sentence():
    codes = engine_codes()
    assert {"audio.unreadable", "model.missing", "config.bad_value", "engine.crashed", "disk.full"} <= codes
    missing = sorted(c for c in codes if c not in MESSAGES)
    assert not missing, f"no sentence in app/engine_messages.py for: {missing}"
    # and none is left over from a code the engine no longer raises
    assert not {k.split(":")[0] for k in MESSAGES} - codes


def real_errors(tmp_path: Path, saved_model_dir: Path) -> list[ParceroError]:
    errors = []

    def catch(fn, *args, **kwargs):
        with pytest.raises(ParceroError) as info:
            fn(*args, **kwargs)
        errors.append(info.value)

    catch(load_audio, tmp_path / "no-existe.wav")
    (tmp_path / "vacío.wav").write_bytes(b"")
    catch(load_audio, tmp_path / "vacío.wav")
    (tmp_path / "roto.wav").write_bytes(b"RIFF esto no es audio" * 20)
    catch(load_audio, tmp_path / "roto.wav")
    save_wav(tmp_path / "corto.wav", np.zeros(1600, dtype=np.float32), 16000)
    catch(load_audio, tmp_path / "corto.wav", offset=3.0)
    catch(load_model, tmp_path / "sin-modelo")
    catch(load_model, tmp_path)
    from engine.speech_transformer.transcribe import transcribe_samples

    catch(transcribe_samples, load_model(saved_model_dir), [np.zeros(80, dtype=np.float32)])
    return errors


def test_real_errors_get_their_sentence_with_their_params(tmp_path, saved_model_dir):
    for error in real_errors(tmp_path, saved_model_dir):
        fallback = "FALLBACK " + str(error)
        text = engine_message(error.code, error.params, fallback)
        assert text != fallback, f"{error.code} {error.params} does not fit {MESSAGES.get(error.code)!r}"
        assert "{" not in text
        if error.params.get("path"):
            assert error.params["path"] in text
    no_path = real_errors(tmp_path, saved_model_dir)[-1]  # samples without a file: "The audio is too short…"
    assert error_text(no_path).startswith("The audio is too short to transcribe: 5 ms")


def test_unknown_codes_and_params_that_do_not_fit_fall_back_to_the_english_message():
    assert engine_message("", {}, "as the engine said") == "as the engine said"
    assert engine_message("audio.from_a_newer_engine", {"path": "a.wav"}, "a.wav: new") == "a.wav: new"
    assert engine_message("audio.too_short", {"path": "a.wav"}, "a.wav: too short") == "a.wav: too short"
    assert engine_message("audio.past_end", {"path": "a.wav", "offset": "x", "length": 1.0}, "old") == "old"
    assert failure_text(Failed(1, "plain English")) == "plain English"
    assert error_text(ValueError("duration must be > 0 seconds")) == "duration must be > 0 seconds"


def test_variants_and_exit_reasons():
    assert engine_message("engine.stopped", {"reason": "restarted"}, "x") == \
        "The engine was restarted before the job ended"
    assert engine_message("engine.stopped", {"reason": "shut down"}, "x") == \
        "The engine was shut down before the job ended"
    assert engine_message("disk.full", {"path": ""}, "x") == "The disk is full. Free some space and try again."
    assert exit_reason_text("killed by signal SIGKILL") == "killed by signal SIGKILL"
    assert exit_reason_text("something new") == "something new"


def test_the_errors_in_spanish(language, tmp_path, saved_model_dir):
    language("es")
    missing, empty, broken, late, no_model, not_a_model, short = real_errors(tmp_path, saved_model_dir)
    assert error_text(missing) == f"{tmp_path / 'no-existe.wav'}: no se encuentra el archivo"
    assert error_text(empty).startswith(f"{tmp_path / 'vacío.wav'} está vacío")
    assert "No se puede leer" in error_text(broken) and "roto.wav" in error_text(broken)
    assert "queda después del final del audio" in error_text(late)
    assert error_text(no_model) == f"{tmp_path / 'sin-modelo'}: no existe esa carpeta de modelo"
    assert "no es una carpeta de modelo" in error_text(not_a_model)
    assert error_text(short).startswith("El audio es demasiado corto para transcribirlo")
    crashed = Failed(4, "the engine process stopped unexpectedly (killed by signal SIGKILL)", "", "engine.crashed",
                     {"reason": "killed by signal SIGKILL"})
    assert failure_text(crashed) == ("El proceso del motor se detuvo inesperadamente (terminado por la señal "
                                     "SIGKILL); vuelva a lanzar la tarea")


@pytest.mark.parametrize("choice, two, one", [("en", "CPU (2 threads)", "CPU (1 thread)"),
                                              ("es", "CPU (2 hilos)", "CPU (1 hilo)")])
def test_the_device_in_words(language, choice, two, one):
    language(choice)
    info = EngineInfo(0, device="CPU (2 threads)", cuda_available=False, gpu_name=None, gpu_memory_gb=None,
                      versions={}, device_kind="cpu", threads=2)
    assert device_text(info) == two
    assert device_words("cpu", 1) == one
    assert device_words("cuda", 8, "NVIDIA H100 80GB HBM3", 79.6) == "CUDA: NVIDIA H100 80GB HBM3, 80 GB"
    old_engine = EngineInfo(0, device="CPU (2 threads)", cuda_available=False, gpu_name=None, gpu_memory_gb=None,
                            versions={})
    assert device_text(old_engine) == "CPU (2 threads)"  # no facts: its English line


def test_the_window_relays_failures_in_its_language(qtbot, language):
    from app.engine_client import QtEngineClient

    language("es")
    client = QtEngineClient()  # not started: its relay slot is what the reader thread's events reach
    failed = Failed(9, "/datos/a.wav: file not found", "tb", "audio.missing", {"path": "/datos/a.wav"})
    with qtbot.waitSignal(client.job_failed) as signal:
        client.on_client_event_arrived(failed)
    assert signal.args == [9, "/datos/a.wav: no se encuentra el archivo", "tb"]


def test_background_work_reports_coded_errors_in_the_window_language(qtbot, language, tmp_path):
    from app.background import BackgroundRunner

    language("es")
    runner = BackgroundRunner()
    with qtbot.waitSignal(runner.failed, timeout=10000) as signal:
        runner.start(lambda progress: load_audio(tmp_path / "falta.wav"))
    assert signal.args == [f"{tmp_path / 'falta.wav'}: no se encuentra el archivo"]
    runner.shutdown()


def test_the_table_is_marked_for_translation():
    # lupdate reads QT_TRANSLATE_NOOP("EngineMessages", "..."): every sentence must be one, in this context.
    from tests.app.test_i18n import messages_in_code

    marked = {text for context, text in messages_in_code(ROOT / "app" / "engine_messages.py")
              if context == engine_messages.CONTEXT}
    assert set(MESSAGES.values()) <= marked
