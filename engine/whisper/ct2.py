"""Read CTranslate2 models (``model.bin``) with numpy, and Whisper's weights out of them.

The file is what CTranslate2's ``ModelSpec._serialize`` writes and its C++
``Model::load`` reads; all numbers little-endian::

    u32  binary version (4, 5 or 6 here)
    str  spec name, e.g. "WhisperSpec"    str = u16 length (with the NUL), UTF-8 bytes, NUL
    u32  spec revision (WhisperSpec: 3)
    u32  number of variables, then for each, sorted by name:
         str name, u8 rank, rank x u32 dims, u8 dtype id, u32 byte count, the raw bytes
    u32  number of aliases, then for each: str alias, str name of the variable it stands for

dtype ids: 0 float32, 1 int8, 2 int16, 3 int32, 4 float16, 5 bfloat16. Scalars
(``num_heads``, flags) are rank-0 variables. A variable equal to one earlier in
alphabetical order is stored once and aliased (Whisper: ``decoder/projection/weight``
-> ``decoder/embeddings/weight``, the tied output layer).

Quantised weights carry a ``<name>_scale`` companion: int8 with one float32 scale
per output row (row ``r`` was stored as ``rint(w[r] * scale[r])``, ``scale = 127 /
max|w[r]|``, conv kernels flattened per output channel), int16 with one scale for
the whole tensor (``2**10 / max|w|``). Either way ``w = stored / scale``.

Versions 1-3 predate Whisper in CTranslate2 and use another dtype encoding; they
are refused rather than guessed at.
"""

from __future__ import annotations

import re
import struct
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import NoReturn
from pathlib import Path

import numpy as np

from engine.errors import ModelFileError
from engine.whisper.model import WhisperConfig

SUPPORTED_VERSIONS = (4, 5, 6)
DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")
_NUMPY = {"float32": "<f4", "int8": "i1", "int16": "<i2", "int32": "<i4", "float16": "<f2", "bfloat16": "<u2"}
_MAX_RANK = 8
_MAX_VARIABLES = 1_000_000  # far above any real model; a bigger count means we are reading garbage


@dataclass
class Ct2Model:
    """The content of a ``model.bin``: arrays keyed by CTranslate2's variable names.

    ``variables`` hold the stored values, read-only views into the memory-mapped file
    wherever a variable lies within one part (a copy only for one that straddles two
    parts). bfloat16 has no numpy type, so those are widened to float32 on reading;
    ``dtypes`` records every variable's dtype in the file.
    """

    spec: str
    revision: int
    variables: dict[str, np.ndarray]
    aliases: dict[str, str]
    binary_version: int = 6
    dtypes: dict[str, str] = field(default_factory=dict)
    paths: list[Path] = field(default_factory=list)

    def resolve(self, name: str) -> str | None:
        """The stored variable behind ``name`` (following aliases), or None."""
        for _ in range(len(self.aliases) + 1):
            if name in self.variables:
                return name
            if name in self.aliases:
                name = self.aliases[name]
            elif name.endswith("_scale") and name[: -len("_scale")] in self.aliases:
                # CTranslate2 aliases the scale of an aliased quantised weight implicitly.
                name = self.aliases[name[: -len("_scale")]] + "_scale"
            else:
                return None
        return None  # an alias cycle: treat as absent

    def __contains__(self, name: str) -> bool:
        return self.resolve(name) is not None

    def array(self, name: str) -> np.ndarray:
        """The stored array of ``name``; ModelFileError naming the file when absent."""
        key = self.resolve(name)
        if key is None:
            raise ModelFileError(self._where, f"variable {name} not found (spec {self.spec} revision {self.revision})")
        return self.variables[key]

    def scalar(self, name: str) -> int | float:
        return self.array(name).reshape(-1)[0].item()

    def float32(self, name: str) -> np.ndarray:
        """``name`` as a new float32 array, int8/int16 dequantised with their scales."""
        w = self.array(name)
        if w.dtype.kind == "f":
            return w.astype(np.float32)
        if w.dtype not in (np.int8, np.int16):
            raise ModelFileError(self._where, f"variable {name} is {w.dtype}, not a weight")
        if f"{name}_scale" not in self:
            raise ModelFileError(self._where, f"quantised variable {name} has no {name}_scale")
        scale = self.array(f"{name}_scale").astype(np.float32)
        if scale.size == 1:
            return w.astype(np.float32) / scale.reshape(())
        if scale.shape != (w.shape[0],):
            raise ModelFileError(self._where, f"{name}_scale has shape {scale.shape}, expected ({w.shape[0]},)")
        return w.astype(np.float32) / scale.reshape((-1,) + (1,) * (w.ndim - 1))

    @property
    def _where(self) -> Path | str:
        return self.paths[0] if len(self.paths) == 1 else ", ".join(map(str, self.paths))


class _Parts:
    """Several files read as one byte stream, each memory-mapped: reading never copies the model."""

    def __init__(self, paths: list[Path]):
        self.paths = paths
        self.maps, self.starts, total = [], [], 0
        for p in paths:
            try:
                size = p.stat().st_size
                self.maps.append(np.memmap(p, np.uint8, mode="r") if size else np.zeros(0, np.uint8))
            except OSError as e:
                raise ModelFileError(p, f"cannot read: {e.strerror or e}") from None
            self.starts.append(total)
            total += size
        self.size, self.pos = total, 0

    def where(self, pos: int) -> tuple[Path, int]:
        """The file holding stream byte ``pos`` and the offset inside it."""
        i = max(0, bisect_right(self.starts, pos) - 1)
        return self.paths[i], pos - self.starts[i]

    def fail(self, problem: str, pos: int | None = None) -> NoReturn:
        path, offset = self.where(self.pos if pos is None else pos)
        raise ModelFileError(path, f"{problem} (at byte {offset}; not a CTranslate2 model.bin, or a damaged one?)")

    def read(self, n: int, what: str) -> np.ndarray:
        start, end = self.pos, self.pos + n
        if end > self.size:
            path, _ = self.where(max(self.size - 1, 0))
            raise ModelFileError(path, f"truncated: {what} needs {n} bytes at byte {start} of the model "
                                       f"but it ends at {self.size}")
        self.pos = end
        i = max(0, bisect_right(self.starts, start) - 1)
        local = start - self.starts[i]
        if local + n <= len(self.maps[i]):
            # A plain ndarray view (np.memmap's subclass makes every later slice slower); the map
            # stays open for as long as a view of it lives.
            return np.asarray(self.maps[i][local: local + n])
        pieces = []  # a variable split across two files: the one place we copy
        while n > 0:
            piece = self.maps[i][local: local + n]
            pieces.append(piece)
            n -= len(piece)
            i, local = i + 1, 0
        return np.concatenate(pieces)

    def number(self, fmt: str, what: str) -> int:
        return struct.unpack("<" + fmt, self.read(struct.calcsize(fmt), what).tobytes())[0]

    def string(self, what: str) -> str:
        n = self.number("H", f"length of {what}")
        raw = self.read(n, what).tobytes()
        if n == 0 or raw[-1] != 0:
            self.fail(f"{what} is not a NUL-terminated string", self.pos - n)
        try:
            return raw[:-1].decode("utf-8")
        except UnicodeDecodeError:
            self.fail(f"{what} is not UTF-8", self.pos - n)


def read_ct2_model(path_or_paths: str | Path | list) -> Ct2Model:
    """Read a CTranslate2 ``model.bin``, or its parts in order as if concatenated.

    Parameters
    ----------
    path_or_paths
        ``model.bin``, or a list such as ``[model.bin.part1, model.bin.part2]``.

    Returns
    -------
    Ct2Model
        Variables as numpy arrays in their stored dtype (bfloat16 read as float32).

    Raises
    ------
    ModelFileError
        Naming the file, for a missing, truncated or garbled file or an unsupported version.
    """
    paths = [Path(p) for p in path_or_paths] if isinstance(path_or_paths, (list, tuple)) else [Path(path_or_paths)]
    if not paths:
        raise ValueError("no model.bin given")
    s = _Parts(paths)
    version = s.number("I", "binary version")
    if version not in SUPPORTED_VERSIONS:
        if 1 <= version < SUPPORTED_VERSIONS[0]:
            raise ModelFileError(paths[0], f"CTranslate2 binary version {version} is older than any Whisper "
                                           "conversion; convert the model again with a current CTranslate2")
        s.fail(f"binary version field reads {version}, expected one of {SUPPORTED_VERSIONS}", 0)
    spec = s.string("spec name")
    revision = s.number("I", "spec revision")
    count = s.number("I", "variable count")
    if count > _MAX_VARIABLES:
        s.fail(f"variable count reads {count}", s.pos - 4)
    variables, dtypes = {}, {}
    for _ in range(count):
        name = s.string("variable name")
        rank = s.number("B", f"rank of {name}")
        if rank > _MAX_RANK:
            s.fail(f"variable {name} has rank {rank}", s.pos - 1)
        shape = tuple(s.number("I", f"shape of {name}") for _ in range(rank))
        type_id = s.number("B", f"dtype of {name}")
        if type_id >= len(DTYPES):
            s.fail(f"variable {name} has unknown dtype id {type_id}", s.pos - 1)
        dtype = DTYPES[type_id]
        n_bytes = s.number("I", f"size of {name}")
        expected = int(np.prod(shape, dtype=np.int64)) * np.dtype(_NUMPY[dtype]).itemsize
        if n_bytes != expected:
            s.fail(f"variable {name}: {n_bytes} bytes for shape {shape} of {dtype} (expected {expected})", s.pos - 4)
        value = s.read(n_bytes, f"data of {name}").view(_NUMPY[dtype]).reshape(shape)
        if dtype == "bfloat16":
            # bfloat16 is the top half of a float32: widen by shifting the bits into place.
            value = (value.astype(np.uint32) << 16).view(np.float32)
        variables[name], dtypes[name] = value, dtype
    aliases = {}
    for _ in range(s.number("I", "alias count")):
        alias = s.string("alias name")
        aliases[alias] = s.string(f"target of alias {alias}")
    return Ct2Model(spec, revision, variables, aliases, version, dtypes, paths)


_LAYER = re.compile(r"^(encoder|decoder)/layer_(\d+)/")


def whisper_from_ct2(m: Ct2Model) -> tuple[WhisperConfig, dict[str, np.ndarray]]:
    """Our Whisper's config and float32 weights (OpenAI names) from a CTranslate2 ``WhisperSpec``.

    Sizes come from the shapes (conv1 gives ``n_mels``, the position tables the context
    lengths, the embedding the vocabulary) and the ``encoder/num_heads`` and
    ``decoder/num_heads`` scalars. CTranslate2 fuses projections: self-attention
    ``linear_0`` is [query; key; value] (3D, D), cross-attention ``linear_0`` is the
    query and ``linear_1`` [key; value]; they are split back here. Every array
    returned owns its memory (safetensors refuses tensors that share it).
    """
    if m.spec != "WhisperSpec":
        raise ModelFileError(m._where, f"a CTranslate2 {m.spec or 'unnamed'} model, not Whisper (WhisperSpec)")
    layers = {"encoder": set(), "decoder": set()}
    for name in list(m.variables) + list(m.aliases):
        hit = _LAYER.match(name)
        if hit:
            layers[hit.group(1)].add(int(hit.group(2)))
    n_enc, n_dec = len(layers["encoder"]), len(layers["decoder"])
    conv1 = m.array("encoder/conv1/weight")
    d_audio, n_mels = conv1.shape[0], conv1.shape[1]
    vocab, d_text = m.array("decoder/embeddings/weight").shape

    def heads(stack: str, d: int) -> int:
        # Older WhisperSpec revisions may lack the scalar; every released Whisper uses 64-wide heads.
        return int(m.scalar(f"{stack}/num_heads")) if f"{stack}/num_heads" in m else max(1, d // 64)

    config = WhisperConfig(
        n_mels=n_mels, n_audio_ctx=m.array("encoder/position_encodings/encodings").shape[0],
        n_audio_state=d_audio, n_audio_head=heads("encoder", d_audio), n_audio_layer=n_enc,
        n_vocab=vocab, n_text_ctx=m.array("decoder/position_encodings/encodings").shape[0],
        n_text_state=d_text, n_text_head=heads("decoder", d_text), n_text_layer=n_dec,
    )
    f = m.float32
    out: dict[str, np.ndarray] = {}

    def linear(ours: str, theirs: str, bias: bool = True) -> None:
        out[f"{ours}.weight"] = f(f"{theirs}/weight")
        if bias:
            out[f"{ours}.bias"] = f(f"{theirs}/bias")

    def norm(ours: str, theirs: str) -> None:
        out[f"{ours}.weight"], out[f"{ours}.bias"] = f(f"{theirs}/gamma"), f(f"{theirs}/beta")

    def split(ours: list[str | None], theirs: str) -> None:
        # Whisper's key has no bias: the fused bias holds zeros there (and a key bias would
        # only add the same number to every score of a query, which softmax ignores).
        w, b = f(f"{theirs}/weight"), f(f"{theirs}/bias")
        for name, wp, bp in zip(ours, np.split(w, len(ours)), np.split(b, len(ours))):
            out[f"{name}.weight"] = wp.copy()
            if not name.endswith(".key"):
                out[f"{name}.bias"] = bp.copy()

    linear("encoder.conv1", "encoder/conv1")
    linear("encoder.conv2", "encoder/conv2")
    out["encoder.positional_embedding"] = f("encoder/position_encodings/encodings")
    for i in range(n_enc):
        a, t = f"encoder.blocks.{i}", f"encoder/layer_{i}"
        split([f"{a}.attn.query", f"{a}.attn.key", f"{a}.attn.value"], f"{t}/self_attention/linear_0")
        linear(f"{a}.attn.out", f"{t}/self_attention/linear_1")
        norm(f"{a}.attn_ln", f"{t}/self_attention/layer_norm")
        linear(f"{a}.mlp.0", f"{t}/ffn/linear_0")
        linear(f"{a}.mlp.2", f"{t}/ffn/linear_1")
        norm(f"{a}.mlp_ln", f"{t}/ffn/layer_norm")
    norm("encoder.ln_post", "encoder/layer_norm")
    out["decoder.token_embedding.weight"] = f("decoder/embeddings/weight")
    out["decoder.positional_embedding"] = f("decoder/position_encodings/encodings")
    for i in range(n_dec):
        a, t = f"decoder.blocks.{i}", f"decoder/layer_{i}"
        split([f"{a}.attn.query", f"{a}.attn.key", f"{a}.attn.value"], f"{t}/self_attention/linear_0")
        linear(f"{a}.attn.out", f"{t}/self_attention/linear_1")
        norm(f"{a}.attn_ln", f"{t}/self_attention/layer_norm")
        linear(f"{a}.cross_attn.query", f"{t}/attention/linear_0")
        split([f"{a}.cross_attn.key", f"{a}.cross_attn.value"], f"{t}/attention/linear_1")
        linear(f"{a}.cross_attn.out", f"{t}/attention/linear_2")
        norm(f"{a}.cross_attn_ln", f"{t}/attention/layer_norm")
        linear(f"{a}.mlp.0", f"{t}/ffn/linear_0")
        linear(f"{a}.mlp.2", f"{t}/ffn/linear_1")
        norm(f"{a}.mlp_ln", f"{t}/ffn/layer_norm")
    norm("decoder.ln", "decoder/layer_norm")
    _check_tied_projection(m)
    return config, out


def _check_tied_projection(m: Ct2Model) -> None:
    """Our decoder reuses the embedding as output layer; refuse a model whose projection differs."""
    if "decoder/projection/weight" not in m:
        return
    if m.resolve("decoder/projection/weight") != m.resolve("decoder/embeddings/weight"):
        if not np.array_equal(m.float32("decoder/projection/weight"), m.float32("decoder/embeddings/weight")):
            raise ModelFileError(m._where, "the output projection is not tied to the token embedding; "
                                           "Whisper ties them, so this is not a Whisper we can run")
    if "decoder/projection/bias" in m and np.any(m.float32("decoder/projection/bias")):
        raise ModelFileError(m._where, "the output projection has a bias; Whisper's has none")
