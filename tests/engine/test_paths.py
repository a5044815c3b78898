"""The user's folders (engine.paths) and how a command turns errors into one line (engine.errors.run_guarded)."""

from __future__ import annotations

import errno
import io
import sys

import platformdirs
import pytest

from engine import paths, resources
from engine.errors import AudioError, run_guarded


def test_the_data_folder_follows_the_variable_at_each_call(tmp_path, monkeypatch):
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path / "uno"))
    assert paths.data_dir() == tmp_path / "uno"
    assert paths.user_models_dir() == tmp_path / "uno" / "models"
    assert paths.runs_dir() == tmp_path / "uno" / "runs"
    assert paths.recordings_dir() == tmp_path / "uno" / "recordings"
    assert paths.downloads_dir() == tmp_path / "uno" / "downloads"
    assert paths.logs_dir() == tmp_path / "uno" / "logs"
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path / "dos"))  # Preferences moved it: no restart needed
    assert paths.user_models_dir() == tmp_path / "dos" / "models"


def test_without_the_variable_the_platform_folders_are_used(monkeypatch):
    monkeypatch.setenv(paths.DATA_DIR_ENV, "   ")  # blank counts as unset
    assert paths.data_dir() == paths.default_data_dir()
    assert paths.default_data_dir().name == "Parcero"
    assert str(paths.default_data_dir()) == platformdirs.user_data_dir("Parcero", "Parcero")
    assert str(paths.logs_dir()) == platformdirs.user_log_dir("Parcero", "Parcero")


def test_a_tilde_in_the_variable_is_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv(paths.DATA_DIR_ENV, "~/datos")
    assert paths.data_dir() == tmp_path / "datos"


def test_bundled_models_are_found_by_the_one_function_in_resources():
    assert paths.bundled_models_dir is resources.bundled_models_dir


def _stderr_of(job, monkeypatch) -> tuple[int, str]:
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    return run_guarded(job), err.getvalue()


def test_run_guarded_turns_user_errors_into_one_line(monkeypatch):
    def bad_file():
        raise AudioError("voz.wav", "not a sound file", kind="unreadable")

    assert _stderr_of(bad_file, monkeypatch) == (1, "parcero: error: voz.wav: not a sound file\n")
    assert _stderr_of(lambda: 0, monkeypatch) == (0, "")


def test_run_guarded_names_the_file_of_a_machine_error(monkeypatch):
    def full_disk():
        raise OSError(errno.ENOSPC, "No space left on device", "/runs/a/model.safetensors")

    assert _stderr_of(full_disk, monkeypatch) == (
        1, "parcero: error: /runs/a/model.safetensors: No space left on device\n")


def test_run_guarded_reports_an_interrupt_and_lets_a_library_failure_through(monkeypatch):
    def interrupted():
        raise KeyboardInterrupt

    assert _stderr_of(interrupted, monkeypatch) == (130, "parcero: interrupted\n")

    def library_failed():
        raise OSError("libsndfile.so: cannot open shared object file")  # errno None: engine.cli.main names it

    with pytest.raises(OSError, match="libsndfile"):
        run_guarded(library_failed)
