"""`parcero data ...` end to end, through the real command-line entry point."""

import json
import shutil

import pytest

from engine.cli import main
from engine.data.manifest import Utterance, read_manifest, write_manifest
from tests.helpers import write_tone_corpus

TEXTS = [f"frase número {i} con eñe y acentos: ¿qué?" for i in range(30)]


@pytest.fixture
def corpus(tmp_path):
    """A folder-layout corpus: 30 tone clips of 6 speakers, each WAV with a same-named .txt."""
    manifest = write_tone_corpus(tmp_path / "raw", TEXTS, "c", speakers=6)
    folder = tmp_path / "folder"
    for u in read_manifest(manifest).utterances:
        spk = folder / u.speaker
        spk.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "raw" / u.audio, spk / f"{u.id}.wav")
        (spk / f"{u.id}.txt").write_text(u.text, encoding="utf-8")
    (folder / "spk0" / "huérfano.wav").write_bytes((folder / "spk0" / "c-000.wav").read_bytes())
    return folder


def test_import_detects_the_layout_and_reports_problems(corpus, tmp_path, capsys):
    out = tmp_path / "m" / "manifest.jsonl"
    assert main(["data", "import", str(corpus), "--out", str(out), "--problems", str(tmp_path / "p.json")]) == 0
    err = capsys.readouterr().err
    assert "format folder (detected)" in err
    assert "audio_without_transcript" in err and "huérfano.wav" in err
    utts = read_manifest(out).utterances
    assert len(utts) == 30
    assert {u.text for u in utts} == set(TEXTS)  # accents, ñ, ¿ intact
    assert json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))["problems"][0]["kind"] == \
        "audio_without_transcript"


def test_validate_prints_a_table_writes_json_and_a_clean_manifest(corpus, tmp_path, capsys):
    out = tmp_path / "manifest.jsonl"
    main(["data", "import", str(corpus), "--out", str(out)])
    utts = read_manifest(out).utterances
    utts.append(Utterance("sin-audio", "no/existe.wav", 1.0, "hola"))
    utts.append(Utterance("sin-texto", utts[0].audio, utts[0].duration, ""))
    write_manifest(out, utts)
    capsys.readouterr()
    code = main(["data", "validate", str(out), "--json", str(tmp_path / "r.json"), "--out", str(tmp_path / "ok.jsonl")])
    text = capsys.readouterr().out
    assert code == 0
    assert "missing_audio" in text and "sin-audio" in text and "empty_text" in text
    assert "hours" in text and "ñ" in text
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    kinds = {p["kind"] for p in report["problems"]}
    assert {"missing_audio", "empty_text"} <= kinds
    kept = read_manifest(tmp_path / "ok.jsonl").utterances
    assert len(kept) == 30 and not {"sin-audio", "sin-texto"} & {u.id for u in kept}


def test_split_is_speaker_disjoint_and_check_leaks_agrees(corpus, tmp_path, capsys):
    out = tmp_path / "manifest.jsonl"
    main(["data", "import", str(corpus), "--out", str(out)])
    split = tmp_path / "split"
    assert main(["data", "split", str(out), "--dev", "0.2", "--test", "0.2", "--seed", "1",
                 "--out-dir", str(split)]) == 0
    sets = {n: read_manifest(split / f"{n}.jsonl").utterances for n in ("train", "dev", "test")}
    speakers = {n: {u.speaker for u in us} for n, us in sets.items()}
    assert all(speakers.values())
    assert not (speakers["train"] & speakers["dev"] or speakers["train"] & speakers["test"]
                or speakers["dev"] & speakers["test"])
    assert sum(len(us) for us in sets.values()) == 30
    capsys.readouterr()
    paths = [str(split / f"{n}.jsonl") for n in ("train", "dev", "test")]
    assert main(["data", "check-leaks", *paths]) == 0
    # plant a leak: a dev utterance copied into train
    train = sets["train"] + [sets["dev"][0]]
    write_manifest(split / "train.jsonl", train)
    assert main(["data", "check-leaks", *paths, "--json", str(tmp_path / "leaks.json")]) == 1
    kinds = {leak["kind"] for leak in json.loads((tmp_path / "leaks.json").read_text())["leaks"]}
    assert kinds == {"speaker", "id", "audio"}


def test_missing_manifest_is_a_clear_error(tmp_path, capsys):
    assert main(["data", "validate", str(tmp_path / "nada.jsonl")]) == 1
    err = capsys.readouterr().err
    assert "nada.jsonl" in err and "Traceback" not in err


def test_synth_writes_male_and_female_voices(tmp_path, capsys):
    from engine.data.synth import find_espeak
    from engine.errors import ParceroError

    try:
        find_espeak()
    except ParceroError as e:
        pytest.skip(str(e))
    text = tmp_path / "frases.txt"
    text.write_text("# frases de prueba\n¿Dónde está el pingüino?\n¡Qué año tan largo!\n", encoding="utf-8")
    out = tmp_path / "synth"
    assert main(["data", "synth", "--out", str(out), "--utterances", "4", "--text", str(text), "--seed", "2"]) == 0
    assert "2 female, 2 male" in capsys.readouterr().err
    utts = read_manifest(out / "manifest.jsonl").utterances
    assert [u.text for u in utts] == ["¿Dónde está el pingüino?", "¡Qué año tan largo!"] * 2
    assert all((out / u.audio).is_file() and u.duration > 0.3 for u in utts)
