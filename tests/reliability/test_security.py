"""What a hostile file cannot do: run code when loaded, reach a network port, reach a shell, or make
Parcero write outside the folders it was told to write to."""

from __future__ import annotations

import ast
import json
import os
import shutil
import socket
from pathlib import Path

import pytest
import torch

from engine.cli import main
from engine.client import EngineClient
from engine.errors import ModelFileError
from engine.models.io import load_model
from engine.protocol import LoadModel, Transcribe
from engine.training.checkpoint import TRAINER_STATE, latest_checkpoint
from engine.training.loop import Trainer
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import SR, tone_speech, write_tone_corpus
from tests.reliability.tools import REPO, assert_clean_failure, tiny_run_config


class _Payload:
    """Unpickling this calls ``open(marker, "w")``: a file appears if the pickle's code ever runs."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _evil_pickle(path: Path, marker: Path, wrap=lambda payload: payload) -> Path:
    torch.save(wrap(_Payload(marker)), path)
    return path


def test_the_payload_is_live(tmp_path):
    """Without weights_only the pickle does run its code: the checks below would notice if it did."""
    marker = tmp_path / "ejecutado"
    evil = _evil_pickle(tmp_path / "malo.pt", marker)
    with open(evil, "rb") as f:
        torch.load(f, weights_only=False)
    assert marker.exists()


def test_importing_a_malicious_whisper_pt_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PARCERO_DATA_DIR", str(tmp_path / "datos"))
    marker = tmp_path / "ejecutado"
    dims = {"n_mels": 80, "n_vocab": 51865, "n_audio_ctx": 1500, "n_audio_state": 384, "n_audio_head": 6,
            "n_audio_layer": 4, "n_text_ctx": 448, "n_text_state": 384, "n_text_head": 6, "n_text_layer": 4}
    evil = _evil_pickle(tmp_path / "whisper-tiny.pt", marker,
                        lambda p: {"dims": dims, "model_state_dict": {"encoder.conv1.weight": p}})
    assert main(["models", "import", str(evil)]) == 1
    err = capsys.readouterr().err
    assert_clean_failure(err)
    assert f"{evil}: refused: the file would call io.open when loaded" in err  # builtins.open is io.open
    assert not marker.exists()
    assert not (tmp_path / "datos" / "models" / "whisper-tiny").exists()


def test_importing_a_hugging_face_folder_with_a_malicious_bin_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PARCERO_DATA_DIR", str(tmp_path / "datos"))
    marker = tmp_path / "ejecutado"
    folder = tmp_path / "whisper-hf"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({
        "model_type": "whisper", "num_mel_bins": 80, "max_source_positions": 1500, "d_model": 384,
        "encoder_attention_heads": 6, "encoder_layers": 4, "vocab_size": 51865, "max_target_positions": 448,
        "decoder_attention_heads": 6, "decoder_layers": 4}))
    _evil_pickle(folder / "pytorch_model.bin", marker, lambda p: {"model.encoder.conv1.weight": p})
    assert main(["models", "import", str(folder)]) == 1
    err = capsys.readouterr().err
    assert_clean_failure(err)
    assert f"{folder / 'pytorch_model.bin'}: refused" in err
    assert not marker.exists()


def test_a_pickle_disguised_as_model_safetensors_is_refused(saved_model_dir, tmp_path):
    marker = tmp_path / "ejecutado"
    folder = tmp_path / "modelo"
    shutil.copytree(saved_model_dir, folder)
    _evil_pickle(folder / "model.safetensors", marker, lambda p: {"x": p})
    with pytest.raises(ModelFileError, match=r"model\.safetensors: cannot read weights"):
        load_model(folder)
    assert not marker.exists()


def test_a_malicious_trainer_state_is_refused_on_resume(tmp_path):
    marker = tmp_path / "ejecutado"
    config = tiny_run_config(tmp_path, max_steps=1, checkpoint_every=1)
    Trainer(config).run()
    checkpoint = latest_checkpoint(config.resolve(config.out_dir))
    _evil_pickle(checkpoint / TRAINER_STATE, marker, lambda p: {"optimizer": p, "step": 1})
    config.train.max_steps = 2
    with pytest.raises(ModelFileError, match=rf"{TRAINER_STATE}: cannot read trainer state"):
        Trainer(config, resume=True)
    assert not marker.exists()


# ---- no network, no shell ------------------------------------------------------------------------------


def inet_sockets_of(pid: int) -> list[str]:
    """Rows of /proc/<pid>/net/{tcp,tcp6,udp,udp6,raw,raw6} for sockets the process holds, plus its
    listening Unix sockets: any of these would let another process (or machine) talk to it."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6", "raw", "raw6", "unix"):
        with open(f"/proc/{pid}/net/{table}") as f:
            rows = f.read().splitlines()[1:]
        for row in rows:
            cols = row.split()
            if table == "unix":
                inode, listening = cols[6], int(cols[3], 16) & 0x10000  # __SO_ACCEPTCON
                if inode in inodes and listening:
                    found.append(f"unix {row}")
            elif cols[9] in inodes:
                found.append(f"{table} {row}")
    return found


def test_the_socket_check_sees_a_listening_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert [row for row in inet_sockets_of(os.getpid()) if row.startswith("tcp ")]


def test_the_engine_process_listens_on_no_port(saved_model_dir, tmp_path):
    from engine.audio import save_wav

    audio = tmp_path / "hola.wav"
    save_wav(audio, tone_speech(OVERFIT_TEXTS[1], seed=1), SR)
    with EngineClient() as engine:
        assert inet_sockets_of(engine.pid) == []
        engine.wait(engine.submit(LoadModel, path=str(saved_model_dir)), timeout=60)
        engine.wait(engine.submit(Transcribe, path=str(audio)), timeout=60)
        assert inet_sockets_of(engine.pid) == []


SHELL_CALLS = {("os", "system"), ("os", "popen"), ("os", "spawnlp"), ("os", "spawnvp"), ("pty", "spawn"),
               ("commands", "getoutput"), ("asyncio", "create_subprocess_shell"), ("subprocess", "getoutput"),
               ("subprocess", "getstatusoutput")}


def shell_uses(source: str, filename: str = "<source>") -> list[str]:
    """Calls in ``source`` that hand a string to a shell: os.system & co., or any ``shell=<not False>``."""
    found = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and (f.value.id, f.attr) in SHELL_CALLS:
            found.append(f"{filename}:{node.lineno}: {f.value.id}.{f.attr}")
        for kw in node.keywords:
            if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value is False):
                found.append(f"{filename}:{node.lineno}: shell={ast.unparse(kw.value)}")
    return found


def test_the_shell_scan_finds_what_it_looks_for():
    sample = "import os, subprocess\nos.system('ls')\nsubprocess.run('ls', shell=True)\nsubprocess.run(['ls'])\n"
    assert shell_uses(sample) == ["<source>:2: os.system", "<source>:3: shell=True"]


def test_no_file_name_can_reach_a_shell():
    files = sorted((REPO / "engine").rglob("*.py")) + sorted((REPO / "app").rglob("*.py"))
    assert len(files) > 50
    found = [hit for f in files for hit in shell_uses(f.read_text(encoding="utf-8"), str(f.relative_to(REPO)))]
    assert found == []


# ---- manifest paths cannot steer writes ----------------------------------------------------------------


def test_manifest_ids_and_paths_cannot_make_parcero_write_elsewhere(tmp_path, saved_model_dir, capsys):
    """Ids and audio paths full of ``..`` and absolute paths, through validate, split, train and eval."""
    work = tmp_path / "trabajo"
    data = write_tone_corpus(work / "datos", OVERFIT_TEXTS, "train")
    escape = "../" * (len(tmp_path.parts) + 2)
    far = tmp_path / "fuera.wav"  # outside the dataset folder, and a legitimate thing to read
    shutil.copy(data.parent / "wavs" / "train-000.wav", far)
    ids = [f"{escape}tmp/fuera-id", f"/tmp/fuera-abs-{os.getpid()}", "../../fuera-rel", "..", "a/../../b"]
    lines = data.read_text(encoding="utf-8").splitlines()
    hostile = []
    for uid, line in zip(ids, lines):
        d = json.loads(line)
        hostile.append(json.dumps({**d, "id": uid, "audio": os.path.relpath(far, data.parent)}, ensure_ascii=False))
    data.write_text("\n".join(hostile + lines[len(ids):]) + "\n", encoding="utf-8")
    before = {p for p in tmp_path.rglob("*")}
    out = work / "salida"

    assert main(["data", "validate", str(data), "--out", str(out / "limpio.jsonl"), "--json", str(out / "v.json")]) == 0
    assert main(["data", "split", str(data), "--out-dir", str(out / "partes"), "--by", "utterance"]) == 0
    config = tiny_run_config(work, data, dev_manifest=data, max_steps=2, eval_every=2, checkpoint_every=2)
    run_dir = config.resolve(config.out_dir)
    Trainer(config).run()  # writes samples/step-N.json and .npz keyed by the hostile ids
    assert main(["eval", "--model", str(run_dir / "best"), "--manifest", str(data), "--json", str(out / "e.json"),
                 "--device", "cpu"]) == 0
    capsys.readouterr()

    new = {p for p in tmp_path.rglob("*") if p not in before}
    allowed = (out, run_dir)
    outside = [p for p in new if not any(p == a or a in p.parents or p in a.parents for a in allowed)]
    assert new and outside == []
    for folder in [*tmp_path.parents, Path("/tmp")]:
        assert not list(folder.glob("fuera-*")), folder
    samples = json.loads(next((run_dir / "samples").glob("*.json")).read_text(encoding="utf-8"))
    assert ids[0] in {s["id"] for s in samples["samples"]}  # the hostile ids were there to be written
