"""Every audio case through the four doors that read audio: load_audio, ``parcero transcribe``,
``parcero data validate`` and the trainer; the good items of the same job must still be processed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.audio import load_audio, save_wav
from engine.data.manifest import Utterance, write_manifest
from engine.errors import AudioError
from engine.training.loop import Trainer
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import SR, write_tone_corpus
from tests.reliability.corpus import AUDIO_CASES, SHELL_MARKERS, VOICE_TEXT, make_audio_corpus, voice
from tests.reliability.tools import REPO, assert_clean_failure, assert_names, run_cli, tiny_run_config

CASES = pytest.mark.parametrize("case", AUDIO_CASES, ids=str)
FAILING = [c for c in AUDIO_CASES if c.error or c.transcribe_error]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, Path]:
    """Every case written once into one folder, plus ``good``: an ordinary 16 kHz WAV."""
    folder = tmp_path_factory.mktemp("audio")
    paths = make_audio_corpus(folder)
    paths["good"] = folder / "bueno.wav"
    save_wav(paths["good"], voice(seed=1), SR)
    return paths


@pytest.fixture(scope="module")
def manifest(corpus) -> Path:
    """All cases in one manifest (relative paths, a plausible duration each), the good file last."""
    folder = corpus["good"].parent
    utts = [Utterance(name, path.name, 1.0, VOICE_TEXT, speaker="spk") for name, path in corpus.items()]
    path = folder / "todo.jsonl"
    write_manifest(path, utts)
    return path


@CASES
def test_load_audio(case, corpus):
    path = corpus[case.name]
    if case.error is not None:
        with pytest.raises(AudioError) as caught:
            load_audio(path)
        assert caught.value.kind == case.error
        assert_names(str(caught.value), path, case.problem)
    else:
        x = load_audio(path)
        assert x.dtype == np.float32 and x.ndim == 1 and np.isfinite(x).all()
        assert len(x) / SR == pytest.approx(case.seconds, abs=0.002)
        assert np.abs(x).max() <= 1.0


# ---- parcero transcribe: one process for all files, as a user would run it ---------------------


@pytest.fixture(scope="module")
def transcribed(corpus, saved_model_dir):
    """``parcero transcribe <every case> good.wav --format json``, run in the corpus folder."""
    paths = [str(p) for p in corpus.values()]
    out = run_cli(["transcribe", *paths, "--model", str(saved_model_dir), "--format", "json"],
                  cwd=corpus["good"].parent)
    results = {}
    for line in out.stdout.splitlines():
        r = json.loads(line)
        results[r["source"]] = r
    return out, results


@CASES
def test_parcero_transcribe(case, corpus, transcribed):
    out, results = transcribed
    path = str(corpus[case.name])
    assert_clean_failure(out.stderr)
    if case in FAILING:
        assert path not in results
        problem = case.problem if case.error else case.transcribe_error
        line = f"parcero: error: {path}: "
        assert line in out.stderr, out.stderr[-2000:]
        assert_names(out.stderr[out.stderr.index(line):], path, problem)
    else:
        assert path in results, out.stderr[-2000:]
        if case.text is not None:
            assert results[path]["text"] == case.text


def test_parcero_transcribe_goes_on_past_bad_files(corpus, transcribed):
    out, results = transcribed
    assert out.returncode == 1
    assert results[str(corpus["good"])]["text"] == VOICE_TEXT  # the last file, after all the bad ones
    assert f"parcero: {len(FAILING)} of {len(corpus)} file(s) failed" in out.stderr
    assert out.stderr.count("parcero: error: ") == len(FAILING)


# ---- parcero data validate ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def validated(manifest):
    folder = manifest.parent
    out = run_cli(["data", "validate", str(manifest), "--json", str(folder / "informe.json"),
                   "--out", str(folder / "limpio.jsonl"), "--keep-case", "--keep-punctuation"], cwd=folder)
    report = json.loads((folder / "informe.json").read_text(encoding="utf-8"))
    kept = {json.loads(line)["id"] for line in (folder / "limpio.jsonl").read_text(encoding="utf-8").splitlines()}
    return out, report, kept


@CASES
def test_parcero_data_validate(case, corpus, validated):
    out, report, kept = validated
    assert out.returncode == 0, out.stderr[-2000:]
    assert_clean_failure(out.stderr)
    problems = [p for p in report["problems"] if p["where"] == case.name]
    if case.validate is None:
        assert problems == [] and case.name in kept
        return
    [problem] = [p for p in problems if p["kind"] == case.validate]
    assert problem["excluded"] == case.excluded
    assert (case.name in kept) != case.excluded
    if case.error is not None:
        assert_names(problem["message"], corpus[case.name], case.problem)


def test_parcero_data_validate_keeps_the_good_item(validated):
    out, report, kept = validated
    assert "good" in kept
    assert report["total"] == len(AUDIO_CASES) + 1
    assert report["kept"] == len(kept)


# ---- the trainer ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(manifest, tmp_path_factory):
    """One epoch of a tiny model over every case (one utterance a batch) next to good tone speech."""
    folder = tmp_path_factory.mktemp("train")
    good = write_tone_corpus(folder / "data", OVERFIT_TEXTS, "train")
    mixed = good.parent / "mixed.jsonl"  # beside it: its relative paths stay right
    mixed.write_bytes(good.read_bytes() + b"".join(
        json.dumps({**json.loads(line), "audio": str(manifest.parent / json.loads(line)["audio"])},
                   ensure_ascii=False).encode() + b"\n"
        for line in manifest.read_bytes().splitlines()))
    config = tiny_run_config(folder, mixed, max_steps=1000, epochs=1)
    config.data.max_batch_size = 1
    result = Trainer(config).run()
    records = [json.loads(line) for line in (result.run_dir / "metrics.jsonl").read_text("utf-8").splitlines()]
    return result, records


@CASES
def test_trainer(case, corpus, trained):
    result, records = trained
    skipped = {r["id"]: r["reason"] for r in records if r["kind"] == "skipped"}
    bad = {i for r in records if r["kind"] == "bad_batch" for i in r["ids"]}
    if case.error is not None:
        assert_names(skipped[case.name], corpus[case.name], case.problem)
    elif case.transcribe_error is not None:
        # Too short to give any encoder frame: left out with the reason, not fed to the model.
        assert_names(skipped[case.name], corpus[case.name], r"too short")
    else:
        assert case.name not in skipped and case.name not in bad


def test_trainer_goes_on_past_bad_files(trained):
    result, records = trained
    steps = [r["step"] for r in records if r["kind"] == "train"]
    # every good file and odd-but-valid case is one step: the bad ones cost nothing
    n_good = len(OVERFIT_TEXTS) + 1 + sum(1 for c in AUDIO_CASES if c.error is None and c.transcribe_error is None)
    assert result.step == n_good and steps[-1] == n_good
    assert result.skipped_utterances == len(FAILING)
    assert result.last_checkpoint is not None and result.last_checkpoint.is_dir()


def test_no_file_name_went_through_a_shell(corpus, transcribed, validated, trained):
    for folder in (corpus["good"].parent, REPO, Path.cwd()):
        for marker in SHELL_MARKERS:
            assert not (folder / marker).exists()
