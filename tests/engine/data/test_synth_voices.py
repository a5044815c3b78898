"""`parcero data synth --voices / --list-voices`, through the real entry point and the real espeak-ng.

Skipped only when espeak-ng is not installed (``make test`` installs it).
"""

from __future__ import annotations

import pytest

from engine.cli import main
from engine.data.manifest import read_manifest
from engine.data.synth import DEFAULT_VOICES, find_espeak, list_spanish_voices
from engine.errors import ParceroError

GENDER = {v.name: v.gender for v in DEFAULT_VOICES}


@pytest.fixture
def espeak() -> None:
    try:
        find_espeak()
    except ParceroError as e:
        pytest.skip(f"espeak-ng is not installed: {e}")


@pytest.fixture
def text(tmp_path):
    path = tmp_path / "frases.txt"
    path.write_text("Sí.\n¿Qué?\n", encoding="utf-8")  # short: each clip costs one espeak call
    return path


def synth(out, text, *extra: str) -> int:
    return main(["data", "synth", "--out", str(out), "--text", str(text), "--seed", "1", *extra])


def test_voices_restrict_the_speakers(espeak, tmp_path, text, capsys):
    out = tmp_path / "synth"
    # Both forms at once: a comma-separated list, and the flag repeated.
    assert synth(out, text, "--utterances", "4", "--voices", "es+m3,es-419+f5", "--voices", "es+f2") == 0
    utts = read_manifest(out / "manifest.jsonl").utterances
    assert {u.speaker for u in utts} == {"es+m3", "es-419+f5", "es+f2"}
    assert all(u.gender == GENDER[u.speaker] for u in utts)
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert "2 female, 2 male" in summary
    assert all(name in summary.split("voices: ")[-1] for name in ("es+m3", "es-419+f5", "es+f2"))


@pytest.mark.parametrize("fraction", [None, "0"])
def test_one_gender_gets_every_clip(espeak, tmp_path, text, capsys, fraction):
    out = tmp_path / "synth"
    extra = [] if fraction is None else ["--female-fraction", fraction]
    assert synth(out, text, "--utterances", "3", "--voices", "es+m3,es-419+m6", *extra) == 0
    utts = read_manifest(out / "manifest.jsonl").utterances
    assert len(utts) == 3 and {u.gender for u in utts} == {"male"}
    assert {u.speaker for u in utts} <= {"es+m3", "es-419+m6"}
    err = capsys.readouterr().err
    assert "all clips get a male voice" in err and "0 female, 3 male" in err


def test_a_fraction_asking_for_the_missing_gender_is_refused(espeak, tmp_path, text, capsys):
    out = tmp_path / "synth"
    assert synth(out, text, "--utterances", "2", "--voices", "es+f3,es+linda", "--female-fraction", "0.5") == 2
    err = capsys.readouterr().err
    assert "--female-fraction 0.5 asks for male clips" in err and "every chosen voice is female" in err
    assert not out.exists()


def test_unknown_voices_are_named_and_nothing_is_written(espeak, tmp_path, text, capsys):
    out = tmp_path / "synth"
    assert synth(out, text, "--utterances", "2", "--voices", "es+m3, es+m9,robot") == 2
    err = capsys.readouterr().err
    assert "unknown voice(s) es+m9, robot;" in err
    assert all(v.name in err.split("available: ")[1] for v in list_spanish_voices())
    assert "Traceback" not in err
    assert not out.exists()


def test_list_voices_needs_no_out(espeak, capsys):
    assert main(["data", "synth", "--list-voices"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows and all(len(row) == 2 for row in rows)
    assert {name: gender for name, gender in rows} == {v.name: v.gender for v in list_spanish_voices()}
    assert {gender for _, gender in rows} == {"female", "male"}


def test_synthesising_needs_out():
    with pytest.raises(SystemExit) as exit_:
        main(["data", "synth", "--utterances", "2"])
    assert exit_.value.code == 2
