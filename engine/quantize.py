"""Weights for inference on the CPU: int8, float16 or bfloat16 Linear layers, or float32 laid out for oneDNN.

"none" keeps float32 and, on the CPU, gives a model whose large output projection is tied to its
token embedding (Whisper's, 51865 x 512) a copy in oneDNN's blocked layout (``PackedLinear``):
the decoding step's costliest product, twice as fast there, the same numbers to float32 rounding.
"int8" and "fp16" keep that projection in float32 too, and pack it the same way.

Decoding one utterance at a time multiplies a single row by every weight matrix
of the decoder at every step, so the CPU spends its time reading weights from
memory, not computing. Stored as int8, the weights take a quarter of the bytes.
Embeddings, convolutions, layer norms and the output projection tied to the
embedding stay float32. It is an option, off by default, and CUDA has no such kernels.

"int8" (``Int8Linear``) is CTranslate2's int8, the one faster-whisper runs: each
weight in int8 with one scale per output channel, each call's input quantised to
8 bits row by row, each row with its own scale. Where PyTorch's fbgemm kernel sums
8-bit activations exactly (CPUs with VNNI) it does the product, the rows divided by
their largest |x| first; elsewhere ``torch._int_mm`` (int8 x int8 -> int32) does.

Until issue 20 it was PyTorch's dynamic quantisation (torch.ao ``quantize_dynamic``,
default qconfig): one scale for a whole weight, and one per call for the whole input,
on 7 bits (reduce_range). ``bench/bench_int8.py`` measured where that loses accuracy
(``bench/results/int8-layers-cpu2.json``: 40 seeded clips of cv-es-sample and cajal-es,
186 s of audio, beam 5, no fallback, one thread, load 1.2; "moved" is the WER against
float32's own transcripts, which the reference's noise does not blur; time: decoding,
relative to float32):

| int8 scheme | WER | CER | moved | time |
| --- | --- | --- | --- | --- |
| float32 | 14.47 % | 4.54 % | — | 1 |
| old: per-tensor weights and activations (7 bits) | 18.53 % | 6.21 % | 9.2 % | 0.74 |
| old, 8-bit activations | 16.24 % | 5.50 % | 8.7 % | 0.74 |
| old, encoder float32 / decoder float32 | 14.97 / 19.29 % | 4.50 / 6.37 % | 5.2 / 10.6 % | 0.84 / 0.88 |
| old, attention float32 / MLPs float32 | 15.23 / 16.75 % | 4.96 / 4.91 % | 9.2 / 7.9 % | 0.81 / 0.87 |
| old, each MLP's second layer float32 | 14.21 % | 4.41 % | 8.2 % | 0.79 |
| old, first and last encoder layer float32 | 15.74 % | 5.41 % | 7.4 % | 0.74 |
| per-channel weights, per-tensor activations | 17.26 % | 5.83 % | 9.7 % | 0.71 |
| weight-only int8 (activations not quantised) | 14.97 % | 4.79 % | 2.5 % | 0.89 |
| per-row activations, 7 bits (fbgemm, reduce_range) | 15.48 % | 5.00 % | 3.7 % | 0.78 |
| per-row, ``torch._int_mm`` | 14.21 % | 4.58 % | 3.5 % | 0.78 |
| the same, decoding steps (<= 8 rows) one 7-bit scale | 15.23 % | 4.87 % | 4.0 % | 0.75 |
| per-row, fbgemm 8 bits, decoding steps one scale | 13.96 % | 4.71 % | 3.5 % | 0.77 |
| **per-row, fbgemm 8 bits (this, on this CPU)** | **13.20 %** | **4.46 %** | **3.0 %** | **0.78** |

What lost the accuracy is the one activation scale per call: a few activations far
larger than the rest set the scale for every frame of the window and leave the others
a handful of levels (the encoder's matter most; each MLP's second layer, fed by GELU
outputs, most of all). Per-channel weights alone change little, 8 bits instead of 7
help partly, a scale per row repairs it. On the 10-minute file (same options, two
threads, load 3.6): float32 11.65 % WER, the old int8 11.58 % (yet 8.2 % of its words
moved from float32's), this 9.77 % (5.9 % moved), ``torch._int_mm`` 10.61 % (5.5 %);
faster-whisper's int8 10.82 % (``bench/results/whisper-base-longform10-int8-cpu2.json``).

Cost: the row scaling is a few more tensor operations per call than the old single
kernel. Whisper base decodes in 0.78 of float32's time on one thread (0.74 before);
on two, OpenMP wakes the second thread for each of them, which costs the
``torch._int_mm`` path most: the 10-minute file took 0.89 of float32's time (0.93
with ``torch._int_mm``, 0.85 the old int8), and faster-whisper's int8 decodes it in
0.67 of ours. The Speech-Transformer `small` (RTF, two threads, greedy, one
utterance): 0.047 with fbgemm, 0.058 with ``torch._int_mm``, 0.044 the old int8,
0.058 float32, 0.050 fp16.

"fp16" keeps every Linear weight in float16 and the arithmetic in float32
(``HalfWeightLinear``): half the bytes per decoding step, with PyTorch's
float16 matrix-vector kernels (they read float16, accumulate in float32) and no
per-call quantisation of the activations. Logits move by about 1e-4 relative, so
transcripts stay the same. It pays for the Speech-Transformer's `small` and `base`
decoding one utterance at a time; it loses when batching, and buys nothing for `tiny`
or for Whisper, whose output layer stays float32 (``docs/benchmarks.md``).
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from engine.errors import ParceroError

QUANTIZE_CHOICES = ("none", "int8", "fp16", "bf16")


def quantize_model(model: nn.Module, mode: str | None, device: torch.device | str = "cpu") -> nn.Module:
    """``model`` with its ``nn.Linear`` layers in int8 ("int8") or with float16 weights ("fp16"), in place.

    Parameters
    ----------
    model : a model in eval mode (Speech-Transformer or Whisper).
    mode : None (unchanged), "none" (float32; on the CPU a large output projection is laid out for
        oneDNN, :func:`packed_output`: the same arithmetic, faster), "int8", "fp16" or "bf16".
    device : where the model runs; int8 kernels exist for the CPU only.

    Raises
    ------
    ParceroError naming the option when the mode is unknown, the device is not the
    CPU, or this PyTorch has no int8 matrix product.
    """
    check_quantize(mode, device)
    if mode is None or (mode == "none" and torch.device(device).type != "cpu"):
        return model
    if mode == "none":  # float32 on the CPU: the vocabulary's projection in oneDNN's layout
        return packed_output(model.eval())
    for module in model.modules():  # one product for query, key and value: fewer, larger calls to speed up
        if hasattr(module, "fuse_qkv"):
            module.fuse_qkv()
    if mode == "bf16":  # every weight and activation in bfloat16; logits and scores stay float32
        return model.eval().to(torch.bfloat16)
    # fp16 leaves the projection tied to the float32 embedding: it is packed as in float32. int8 gives
    # a large one an int8 copy whose best logits are recomputed in float32 (Int8Projection).
    if mode == "fp16":
        return packed_output(half_weights(model.eval()))
    return packed_output(int8_weights(model.eval()), int8=True)


def check_quantize(mode: str | None, device: torch.device | str = "cpu") -> None:
    """ParceroError when ``mode`` is unknown or cannot run on ``device`` (call before loading a model)."""
    if mode in (None, "none"):
        return
    if mode not in QUANTIZE_CHOICES:
        raise ParceroError(f"quantize: expected one of {', '.join(QUANTIZE_CHOICES)}, got {mode!r}")
    if mode == "bf16":
        if torch.device(device).type == "cpu" and not cpu_has_bf16():
            raise ParceroError("quantize bf16: this CPU has no bfloat16 instructions (AVX-512 BF16 or AMX), "
                               "so bfloat16 would be slower, not faster; use --quantize int8 or none")
        return
    if torch.device(device).type != "cpu":
        raise ParceroError(f"quantize {mode}: this option is for the CPU only, not {device}; "
                           "use --device cpu or no quantisation")
    if mode == "int8" and not _has_int8_matmul():
        raise ParceroError(f"quantize int8: PyTorch {torch.__version__} has no int8 matrix product "
                           "(torch._int_mm) on this CPU; use --quantize fp16 or none")


def cpu_has_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX-512 BF16 or AMX): then bf16 decodes about twice
    as fast as float32 (``docs/benchmarks.md``); without, PyTorch emulates it, slower than float32."""
    cpu = getattr(torch, "cpu", None)
    checks = [getattr(cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(check() for check in checks if check is not None)


@functools.cache
def _has_int8_matmul() -> bool:
    try:
        a = torch.ones(2, 8, dtype=torch.int8)
        return torch._int_mm(a, a.T.contiguous()).eq(8).all().item()
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


def _pack(weight: Tensor, scale: Tensor):
    """fbgemm's packed form of an int8 weight (N, K) with one scale per output channel (no bias)."""
    q = torch._make_per_channel_quantized_tensor(weight, scale.double(), torch.zeros_like(scale, dtype=torch.long), 0)
    return torch.ops.quantized.linear_prepack(q, None)


@functools.cache
def fbgemm_sums_8_bits_exactly() -> bool:
    """Whether PyTorch's int8 kernel (fbgemm, ``torch.ops.quantized.linear_dynamic``) multiplies 8-bit
    activations exactly on this CPU.

    x86 CPUs without VNNI add pairs of 8-bit products in 16 bits, which overflows for 8-bit
    activations (255 x 127 x 2 > 32767); that is why PyTorch quantises activations on 7 bits
    there (``reduce_range``), which cost Whisper base a point of WER. The worst case is tried.
    """
    try:
        weight = torch.tensor([[127] * 64, [-127] * 64], dtype=torch.int8)
        y = torch.ops.quantized.linear_dynamic(torch.ones(1, 64), _pack(weight, torch.ones(2)), False)
        return torch.allclose(y, torch.tensor([[64.0 * 127, -64.0 * 127]]), rtol=1e-4)
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


def is_quantized(model: nn.Module) -> bool:
    """Whether any layer of ``model`` holds int8 or float16 weights."""
    return any(isinstance(m, (Int8Linear, HalfWeightLinear)) for m in model.modules())


class Int8Linear(nn.Module):
    """A Linear layer in int8 as CTranslate2 runs one: weights per output channel, activations per row.

    The weight (N, K) is stored as int8 with one float32 scale per output channel; the
    input of each call is quantised to 8 bits row by row, each row with its own scale, so
    a row with a few large activations (Whisper's have them) costs only that row its
    precision, not every row of the window. Two kernels, the same numbers to int8's precision:

    - ``fbgemm``: PyTorch's packed int8 kernel, where it sums 8-bit activations exactly
      (:func:`fbgemm_sums_8_bits_exactly`). It takes one activation scale per call, so the
      rows are first divided by their largest |x| (each row then spans the same range) and
      the product multiplied back; a single row (greedy decoding of one utterance) skips that.
    - otherwise ``torch._int_mm`` (int8 x int8 -> int32), rows quantised with max |x| / 127.
    """

    # Calls of at most this many rows share one activation scale (fbgemm only). Sharing it across a
    # decoding step's rows (8: one window's beams) decodes Whisper 3 % faster on two threads and was
    # as accurate on the clips, but lets one row's outlier blur the others: kept to what is exact.
    ONE_SCALE_ROWS = 1
    # torch._int_mm: rows quantised and multiplied at a time on one thread. A 30 s window is 1500
    # rows: in one piece, the (1500, 2048) int32 product of an MLP's first layer is rescaled from
    # memory, not from the cache (20 ms instead of 12); on more threads each block's ~8 operations
    # wake the others, which cost more than that.
    BLOCK_ROWS = 256

    def __init__(self, linear: nn.Linear, fbgemm: bool | None = None):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        w = linear.weight.detach().float()
        scale = w.abs().amax(1).clamp_min(1e-12) / 127  # (N,)
        weight = (w / scale[:, None]).round().to(torch.int8)  # (N, K)
        self.register_buffer("scale", scale)
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().float())
        use_fbgemm = fbgemm_sums_8_bits_exactly() if fbgemm is None else fbgemm
        self.packed = _pack(weight, scale) if use_fbgemm else None  # one copy of the weights, not two
        self.register_buffer("weight", None if use_fbgemm else weight)

    def int8_weight(self) -> Tensor:
        """The int8 weight (N, K); ``int8_weight() * scale[:, None]`` approximates the float32 one."""
        if self.packed is None:
            return self.weight
        return torch.ops.quantized.linear_unpack(self.packed)[0].int_repr()

    def forward(self, x: Tensor) -> Tensor:
        x2 = x.reshape(-1, self.in_features)  # (rows, K)
        if x2.dtype != torch.float32:
            x2 = x2.float()
        if self.packed is not None:
            y = self._fbgemm(x2)
        else:
            y = torch.empty(x2.shape[0], self.out_features, device=x2.device)  # (rows, N)
            step = self.BLOCK_ROWS if torch.get_num_threads() == 1 else max(x2.shape[0], 1)
            for i in range(0, x2.shape[0], step):
                self._int_mm(x2[i: i + step], y[i: i + step])
        y = y.view(*x.shape[:-1], self.out_features)
        return y if x.dtype == torch.float32 else y.to(x.dtype)

    def _fbgemm(self, x: Tensor) -> Tensor:
        if x.shape[0] <= self.ONE_SCALE_ROWS:
            y = torch.ops.quantized.linear_dynamic(x, self.packed, False)
            return y if self.bias is None else y.add_(self.bias)
        # Few operations: a decoding step makes ~50 of these calls, each costing about as much around the
        # kernel as in it (5 rows: 87 -> 70 us with the norm and addcmul instead of abs, amax, mul_, add_).
        row_max = torch.linalg.vector_norm(x, float("inf"), dim=1, keepdim=True).clamp_min_(1e-12)  # (rows, 1)
        y = torch.ops.quantized.linear_dynamic(x / row_max, self.packed, False)
        return y.mul_(row_max) if self.bias is None else torch.addcmul(self.bias, y, row_max)

    def _int_mm(self, x: Tensor, out: Tensor) -> None:
        row_scale = x.abs().amax(1, keepdim=True).clamp_min_(1e-12).div_(127)  # (rows, 1)
        xq = (x / row_scale).round_().to(torch.int8)
        torch.mul(torch._int_mm(xq, self.weight.T), row_scale, out=out).mul_(self.scale)  # int32 -> float32
        if self.bias is not None:
            out.add_(self.bias)

    def extra_repr(self) -> str:
        kernel = "fbgemm" if self.packed is not None else "torch._int_mm"
        return f"in_features={self.in_features}, out_features={self.out_features}, int8 per channel ({kernel})"


def int8_weights(model: nn.Module, fbgemm: bool | None = None) -> nn.Module:
    """Replace every ``nn.Linear`` of ``model`` by an ``Int8Linear`` (in place); returns ``model``."""
    for module in list(model.modules()):
        for child_name, child in list(module.named_children()):
            if type(child) is nn.Linear:
                setattr(module, child_name, Int8Linear(child, fbgemm))
    return model


class HalfWeightLinear(nn.Module):
    """A Linear layer whose weight and bias are stored in float16; it takes and returns float32.

    A few rows at a time (a decoding step: one row per utterance or beam) go through
    PyTorch's float16 matrix-vector kernels, which read half the bytes of float32 and
    accumulate in float32: a step of `small` is memory-bound, so this is where the
    time goes. Many rows (the encoder, cross-attention keys) are faster in float32
    on the CPU, so the weight is converted for that call (30 us per MB of weights,
    once per utterance there).
    """

    ROWS = 8  # up to this many rows the float16 kernel won, measured on this project's AVX-512 CPU

    def __init__(self, linear: nn.Linear):
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.register_buffer("weight", linear.weight.detach().to(torch.float16))
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().to(torch.float16))

    def forward(self, x: Tensor) -> Tensor:
        if x.numel() <= self.ROWS * self.in_features:
            return F.linear(x.to(torch.float16), self.weight, self.bias).to(x.dtype)
        bias = None if self.bias is None else self.bias.to(x.dtype)
        return F.linear(x, self.weight.to(x.dtype), bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, weights=float16"


@functools.cache
def onednn_packing_works() -> bool:
    """Whether this PyTorch lays out float32 Linear weights for oneDNN (``torch.ops.mkldnn``) and its
    product gives F.linear's numbers: then :func:`packed_output` applies."""
    try:
        if not torch.backends.mkldnn.is_available():
            return False
        w, x = torch.randn(24, 16), torch.randn(3, 16)
        packed = torch.ops.mkldnn._reorder_linear_weight(w, 3)
        y = torch.ops.mkldnn._linear_pointwise(x, packed, None, "none", [], "")
        return torch.allclose(y, F.linear(x, w), atol=1e-5)
    except (AttributeError, RuntimeError, NotImplementedError):
        return False


class PackedLinear(nn.Module):
    """A float32 Linear layer whose weight is laid out in oneDNN's blocked format, for CPU inference.

    Decoding multiplies a few rows (a step's beams) by each weight, and the time goes in reading the
    weight. For the largest one, the projection onto the vocabulary (Whisper's 51865 x 512, 106 MB),
    MKL's product (F.linear) reads it at about 12 GB/s for 5 rows, oneDNN's kernel on its own layout
    twice as fast (5.1 ms against 7.9-9.0 ms, caches cold). It loses for one row (4.8 against 4.1 ms)
    and for small layers (0.45 against 0.31 ms for 512 x 512: its call costs more than the read), so
    one row goes to ``plain`` (F.linear on the original weight, not copied) when given. Same float32
    arithmetic, summed in another order (logits move by about 1e-5 relative).
    """

    ROWS_HINT = 8  # oneDNN lays the weight out for about this many rows a call (a step's beams)

    def __init__(self, weight: Tensor, bias: Tensor | None = None, plain: Tensor | None = None):
        super().__init__()
        self.out_features, self.in_features = weight.shape
        w = weight.detach().float().contiguous()
        self.register_buffer("packed_weight", torch.ops.mkldnn._reorder_linear_weight(w, self.ROWS_HINT))
        self.register_buffer("bias", None if bias is None else bias.detach().float().contiguous())
        self.plain = plain  # not a buffer: the model holds it already (e.g. the tied embedding)

    def forward(self, x: Tensor) -> Tensor:
        x2 = x.reshape(-1, self.in_features).float()
        if x2.shape[0] <= 1 and self.plain is not None:
            y = F.linear(x2, self.plain, self.bias)
        else:
            y = torch.ops.mkldnn._linear_pointwise(x2.contiguous(), self.packed_weight, self.bias, "none", [], "")
        return y.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, float32 packed for oneDNN"


def best_columns(y: Tensor, k: int, block: int = 128) -> Tensor:
    """The columns of each row's ``k`` largest values of ``y`` (rows, V), in no order: ``y.topk(k).indices``'s set.

    ``topk`` over Whisper's 51865 columns cost 0.5-2 ms for 5 rows (a tenth of a decoding step). Here the
    row is cut into blocks of ``block`` columns: a value among the row's k largest lies in one of the k
    blocks with the largest maxima (else k blocks would each hold a larger value), so only those k blocks,
    and the columns after the last whole block, are searched.
    """
    n_rows, V = y.shape
    whole = V // block
    if whole <= 2 * k:  # small rows: no gain
        return y.topk(k, dim=-1, sorted=False).indices
    maxima = y[:, :whole * block].reshape(n_rows, whole, block).amax(-1)  # (rows, whole): a view, no copy
    blocks = maxima.topk(k, dim=-1, sorted=False).indices  # (rows, k)
    columns = (blocks[:, :, None] * block + torch.arange(block, device=y.device)).reshape(n_rows, -1)
    if whole * block < V:  # the columns after the last whole block, for every row
        tail = torch.arange(whole * block, V, device=y.device).expand(n_rows, -1)
        columns = torch.cat([columns, tail], dim=1)
    chosen = y.gather(1, columns).topk(k, dim=-1, sorted=False).indices
    return columns.gather(1, chosen)


class Int8Projection(nn.Module):
    """The projection onto a large vocabulary in int8, each row's best logits recomputed in float32.

    Reading Whisper base's 51865 x 512 float32 projection is a fifth of a decoding step on the CPU;
    in int8 (:class:`Int8Linear`: weights per output channel, activations per row) it is a quarter of
    the bytes and 4.8x faster for 5 rows (0.97 against 4.66 ms), 2.2x for 40. But its logits move by
    about 1 % and the search's choices with them: the 10-minute file, sequential, 11.03 % WER instead
    of 9.77 %. So the ``exact`` largest logits of each row, those a beam search chooses among and that
    dominate the softmax's sum, are computed again from the float32 weight (``plain``, the model's own
    tied embedding, not copied): the tokens chosen and their log-probabilities are float32's, where
    the int8 ranking puts them among a row's first ``exact`` (for a 1 % error, always in practice).
    """

    EXACT = 16  # a row's best logits recomputed in float32: a beam of 5 looks at the first 10

    def __init__(self, weight: Tensor, exact: int = EXACT):
        super().__init__()
        linear = nn.Linear(weight.shape[1], weight.shape[0], bias=False, device="meta")  # no random init to discard
        linear.weight = nn.Parameter(weight.detach().float(), requires_grad=False)
        self.int8 = Int8Linear(linear)
        self.plain = weight.detach().float()  # not a buffer: the model holds it already (the tied embedding)
        self.exact = min(exact, weight.shape[0])
        self.in_features, self.out_features = linear.in_features, linear.out_features

    def forward(self, x: Tensor) -> Tensor:
        x2 = x.reshape(-1, self.in_features).float()  # (rows, K)
        y = self.int8(x2)  # (rows, V)
        if self.exact:
            best = best_columns(y, self.exact)  # (rows, exact)
            rows = self.plain[best]  # (rows, exact, K): float32 weights of those tokens
            y.scatter_(1, best, torch.bmm(rows, x2[:, :, None])[:, :, 0])
        return y.reshape(*x.shape[:-1], self.out_features)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8, best {self.exact} float32"


# Output projections at least this large (elements) are packed: Whisper's (26.6 M); a Speech-Transformer's
# characters or BPE pieces (a few hundred thousand) are faster as they are.
PACK_MIN_ELEMENTS = 4_000_000


def packed_output(model: nn.Module, int8: bool = False) -> nn.Module:
    """Give ``model`` a :class:`PackedLinear` copy of its output projection (``set_output_layer``) where it
    ties a large one to its token embedding and weights are float32 on the CPU; returns ``model``.

    Costs the projection's size in memory once more (106 MB for Whisper base): the embedding keeps the
    original layout for its lookups. Nothing changes where oneDNN packing does not work. ``int8``: an
    :class:`Int8Projection` instead (a quarter of that memory), which needs no oneDNN.
    """
    tied = getattr(model, "tied_output_weight", None)
    if tied is None or (not int8 and not onednn_packing_works()):
        return model
    weight = tied()
    if weight.dtype != torch.float32 or weight.device.type != "cpu" or weight.numel() < PACK_MIN_ELEMENTS:
        return model
    model.set_output_layer(Int8Projection(weight) if int8 else PackedLinear(weight, None, plain=weight.detach()))
    return model


def half_weights(model: nn.Module) -> nn.Module:
    """Replace every ``nn.Linear`` of ``model`` by a ``HalfWeightLinear`` (in place); returns ``model``.

    Raises ParceroError when a weight does not fit float16 (|w| > 65504 would become infinite).
    """
    linears = [(module, f"{name}.{child_name}".lstrip("."), child_name, child)
               for name, module in model.named_modules() for child_name, child in module.named_children()
               if type(child) is nn.Linear]
    for _, full_name, _, child in linears:  # all checked first: a refusal leaves the model as it was
        if not torch.isfinite(child.weight.detach().to(torch.float16)).all():
            raise ParceroError(f"quantize fp16: layer {full_name} has weights beyond float16's range")
    for module, _, child_name, child in linears:
        setattr(module, child_name, HalfWeightLinear(child))
    return model
