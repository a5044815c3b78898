import json
import subprocess
import sys

import numpy as np
import pytest

from engine import __version__
from engine.audio import save_wav
from engine.cli import main
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import tone_speech


@pytest.fixture
def wavs(tmp_path):
    paths = []
    for i in (0, 2):
        p = tmp_path / f"clip {i} ñ.wav"
        save_wav(p, tone_speech(OVERFIT_TEXTS[i], seed=i), 16000)
        paths.append(p)
    return paths


def test_version_from_the_real_entry_point():
    out = subprocess.run([sys.executable, "-m", "engine.cli", "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"parcero {__version__}"


def test_transcribe_prints_the_transcript(saved_model_dir, wavs, capsys):
    assert main(["transcribe", str(wavs[0]), "--model", str(saved_model_dir)]) == 0
    assert capsys.readouterr().out == OVERFIT_TEXTS[0] + "\n"


def test_transcribe_several_files_with_beam_as_json(saved_model_dir, wavs, capsys):
    code = main(["transcribe", *map(str, wavs), "--model", str(saved_model_dir), "--beam", "3",
                 "--ctc-weight", "0.3", "--format", "json"])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["text"] for r in records] == [OVERFIT_TEXTS[0], OVERFIT_TEXTS[2]]
    assert records[0]["source"] == str(wavs[0])
    assert "".join(t["text"] for t in records[1]["tokens"]) == OVERFIT_TEXTS[2]
    assert all({"start", "end"} <= set(t) for t in records[1]["tokens"])
    assert "¡El" in lines[1]  # UTF-8 text, not \u escapes


def test_a_bad_file_is_named_and_the_others_still_run(saved_model_dir, wavs, tmp_path, capsys):
    empty = tmp_path / "vacío.wav"
    empty.write_bytes(b"")
    code = main(["transcribe", str(empty), str(wavs[1]), "--model", str(saved_model_dir)])
    captured = capsys.readouterr()
    assert code == 1
    assert f"{wavs[1]}\t{OVERFIT_TEXTS[2]}" in captured.out
    assert "vacío.wav" in captured.err and "empty" in captured.err
    assert "1 of 2 file(s) failed" in captured.err


def test_missing_model_is_a_one_line_error(tmp_path, wavs, capsys):
    code = main(["transcribe", str(wavs[0]), "--model", str(tmp_path / "no-model")])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("parcero: error:") and "no-model" in err
    assert "Traceback" not in err


def test_bad_options_are_refused(saved_model_dir, wavs, capsys):
    assert main(["transcribe", str(wavs[0]), "--model", str(saved_model_dir), "--beam", "0"]) == 1
    assert "--beam" in capsys.readouterr().err
    assert main(["transcribe", str(wavs[0]), "--model", str(saved_model_dir), "--ctc-weight", "1.5"]) == 1


@pytest.mark.slow
def test_transcribe_subprocess_end_to_end(saved_model_dir, wavs):
    out = subprocess.run(
        [sys.executable, "-m", "engine.cli", "transcribe", str(wavs[0]), "--model", str(saved_model_dir)],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == OVERFIT_TEXTS[0]


def test_info_names_the_device(capsys):
    assert main(["info"]) == 0
    import torch

    out = capsys.readouterr().out
    assert ("device: CUDA" if torch.cuda.is_available() else "device: CPU") in out
    assert "torch 2.11" in out


def test_silence_file_transcribes_without_error(saved_model_dir, tmp_path, capsys):
    p = tmp_path / "silencio.wav"
    save_wav(p, np.zeros(16000, dtype=np.float32), 16000)
    assert main(["transcribe", str(p), "--model", str(saved_model_dir)]) == 0


def test_transcribe_to_subtitles(saved_model_dir, wavs, tmp_path, capsys):
    assert main(["transcribe", str(wavs[0]), "--model", str(saved_model_dir), "--format", "srt"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("1\n00:00:00,") and OVERFIT_TEXTS[0] in out
    assert main(["transcribe", *map(str, wavs), "--model", str(saved_model_dir), "--format", "vtt"]) == 1
    assert "--out-dir" in capsys.readouterr().err
    assert main(["transcribe", *map(str, wavs), "--model", str(saved_model_dir), "--format", "vtt",
                 "--out-dir", str(tmp_path / "subs")]) == 0
    files = sorted((tmp_path / "subs").glob("*.vtt"))
    assert len(files) == 2 and files[0].read_text(encoding="utf-8").startswith("WEBVTT")


def test_eval_prints_the_gender_gap_with_its_interval(saved_model_dir, tmp_path, capsys):
    from tests.helpers import write_tone_corpus

    # Every clip twice: as a man's with its own text, and as a woman's with a word the
    # model never says, so every woman's utterance has errors and no man's has any.
    corpus = write_tone_corpus(tmp_path, OVERFIT_TEXTS, "test")
    lines = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines()]
    doubled = [{**line, "id": f"m-{line['id']}", "gender": "male"} for line in lines] + [
        {**line, "id": f"f-{line['id']}", "gender": "female", "text": line["text"] + " ayer"} for line in lines]
    manifest = tmp_path / "doubled.jsonl"
    manifest.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in doubled), encoding="utf-8")
    out = tmp_path / "eval.json"
    assert main(["eval", "--model", str(saved_model_dir), "--manifest", str(manifest), "--json", str(out)]) == 0
    gap = json.loads(out.read_text(encoding="utf-8"))["gender_gap"]
    assert gap["utterances"] == {"female": 6, "male": 6} and gap["cer"]["low"] > 0 and gap["wer"]["low"] > 0
    printed = [line.strip() for line in capsys.readouterr().out.splitlines()]
    c, w = gap["cer"], gap["wer"]
    assert (f"women - men: CER {100 * c['estimate']:+.1f} pt (95 % CI {100 * c['low']:+.1f} to "
            f"{100 * c['high']:+.1f}), WER {100 * w['estimate']:+.1f} pt (95 % CI {100 * w['low']:+.1f} to "
            f"{100 * w['high']:+.1f}) (6 vs 6 utterances)") in printed
