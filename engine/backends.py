"""One seam per model family: what the rest of the engine needs from a family, and the registry of families.

A *family* (the Speech-Transformer, Whisper, ...) lives in a folder of its own
(``engine/speech_transformer/``, ``engine/whisper/``) with a ``backend`` module
that defines a :class:`Backend` as ``BACKEND``. The worker, the CLI, evaluation,
model files and the trainer call these methods and never ask which architecture
they hold. Adding a family is one new folder and one line in :data:`FAMILIES`.

Families are imported when first asked for, so loading one never imports another.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

from engine.errors import ModelFileError

if TYPE_CHECKING:  # types only: importing them here would import torch and every family
    import numpy as np
    import torch

    from engine.data.manifest import Utterance
    from engine.decode import StepInfo
    from engine.transcript import DecodeOptions
    from engine.evaluate import EvalReport
    from engine.models.attention import AttentionRecorder
    from engine.models.io import LoadedModel
    from engine.transcript import Chunk, Transcript

# architecture name in config.json -> module whose BACKEND drives it
FAMILIES: dict[str, str] = {
    "speech-transformer": "engine.speech_transformer.backend",
    "whisper": "engine.whisper.backend",
}

StepHook = Callable[["Chunk", "StepInfo"], None]
ChunkHook = Callable[["Chunk", "Transcript"], None]
# Asked before a chunk's audio is encoded: a recorder for that encoding's attention, or None.
EncodeHook = Callable[["Chunk"], "AttentionRecorder | None"]


class Backend(ABC):
    """How to load, feed, decode, score and train the models of one family."""

    architecture: str  # as written in config.json
    tokenizer_file: str  # the file beside config.json that holds its vocabulary
    takes_prompt = False  # DecodeOptions.initial_prompt applies (text that came before the audio)
    live_policy = "ctc"  # what live transcription's "auto" policy means (engine.live.policy)
    uses_feature_config = True  # [features] and [spec_augment] (VTLN, VTLP) shape what the model hears

    # ---- model files ---------------------------------------------------------------

    @abstractmethod
    def load(self, directory: Path, config: dict[str, Any], device: str | torch.device) -> LoadedModel:
        """Rebuild the model of a folder whose config.json has been read and checked."""

    @abstractmethod
    def save(self, directory: str | Path, model, tokenizer, feature_config, metadata: dict[str, Any] | None,
             extra: dict[str, Any] | None) -> Path:
        """Write a model folder (the trainer, ``parcero average``); ``extra`` is the family's own config section."""

    # ---- the front end ---------------------------------------------------------------

    @abstractmethod
    def sample_rate(self, loaded: LoadedModel) -> int:
        """Samples per second the model hears."""

    @abstractmethod
    def frame_seconds(self, loaded: LoadedModel) -> float:
        """Seconds of audio per encoder frame (the heatmaps' time axis)."""

    @abstractmethod
    def encoder_input(self, loaded: LoadedModel, samples: np.ndarray) -> torch.Tensor:
        """The features (T_in, n_mels) the encoder hears for one decoded chunk of ``samples``."""

    def audio_frames(self, loaded: LoadedModel, seconds: float) -> int | None:
        """Encoder frames that hold ``seconds`` of audio when the encoder sees padding beyond it; None: all."""
        return None

    # ---- decoding --------------------------------------------------------------------

    @abstractmethod
    def check_options(self, loaded: LoadedModel, options: DecodeOptions, names: dict[str, str]) -> None:
        """ParceroError naming the option (as ``names`` spells it) that this model cannot honour."""

    @abstractmethod
    def transcribe(self, loaded: LoadedModel, samples: np.ndarray, options: DecodeOptions, *,
                   max_chunk_seconds: float, on_step: StepHook | None = None, on_chunk: ChunkHook | None = None,
                   source: str | Path | None = None, on_encode: EncodeHook | None = None) -> Transcript:
        """Transcribe audio of any length (mono float32 at :meth:`sample_rate`).

        ``on_encode(chunk)`` is asked before a chunk is encoded alone; the recorder it returns
        records that encoding's self-attention (the heatmap's, at no second encoder pass). A
        family that encodes several chunks at once does not ask.
        """

    def transcribe_file(self, loaded: LoadedModel, path: str | Path, options: DecodeOptions, *,
                        max_chunk_seconds: float, on_step: StepHook | None = None) -> Transcript:
        """Read ``path`` and transcribe it; a family that can read long files in blocks overrides this."""
        from engine.audio import load_audio

        samples = load_audio(path, self.sample_rate(loaded))
        return self.transcribe(loaded, samples, options, max_chunk_seconds=max_chunk_seconds, on_step=on_step,
                               source=path)

    def ctc_words(self, loaded: LoadedModel, samples: np.ndarray) -> list | None:
        """The CTC head's own greedy reading of ``samples``: timed words (engine.transcript.TimedText), seconds
        from their start; None for a model without a CTC head. Live transcription's CTC-prefix rule uses it."""
        return None

    @abstractmethod
    def token_labels(self, loaded: LoadedModel, tokens: Sequence[int]) -> tuple[tuple[str, ...], tuple[bool, ...]]:
        """Each token's text as a heatmap row label, and whether it is special (not text)."""

    # ---- evaluation ------------------------------------------------------------------

    @abstractmethod
    def evaluate(self, loaded: LoadedModel, utterances: Sequence[Utterance], base_dir: str | Path | None,
                 options: DecodeOptions, on_progress: Callable[[int, int], None] | None = None) -> EvalReport:
        """Transcribe every utterance and score it (``parcero eval``, the Evaluate page)."""

    # ---- training (see engine.training.loop) -----------------------------------------

    always_fine_tunes = False  # a family that only ever starts from pretrained weights
    default_peak_lr = 1e-4  # the cosine schedule's peak when the run leaves train.peak_lr at 0

    def new_model(self, texts: Sequence[str], run_config, notes: list[str]):
        """(tokenizer, model) built from nothing for ``run_config``; only families that can train from scratch."""
        raise NotImplementedError(f"{self.architecture} models are fine-tuned from a model folder (--init)")

    @abstractmethod
    def init_from(self, loaded: LoadedModel, texts: Sequence[str], run_config, notes: list[str]):
        """(tokenizer, model) to fine-tune ``loaded`` on ``texts``; may adapt ``run_config`` and add notes."""

    def prepare_training(self, model, tokenizer, run_config, notes: list[str]) -> None:
        """Check the run's settings against the model; raise ConfigError or add notes."""

    @abstractmethod
    def encoder_parameters(self, model) -> Iterable[torch.nn.Parameter]:
        """The parameters ``freeze_encoder`` keeps fixed."""

    @abstractmethod
    def save_vocabulary(self, run_dir: Path, tokenizer) -> None:
        """Write the tokenizer into a run folder (beside config.toml)."""

    @abstractmethod
    def training_data(self, utterances: Sequence[Utterance], base_dir: Path, tokenizer, model, run_config,
                      train: bool):
        """(dataset, collate or None) that turn utterances into :class:`engine.losses.Batch` es."""

    @abstractmethod
    def dev_evaluate(self, model, tokenizer, run_config, utterances: Sequence[Utterance], base_dir: Path, *,
                     sample_ids: set[str], autocast_dtype, extra: dict[str, Any] | None) -> EvalReport:
        """The trainer's periodic evaluation: dev loss, CER/WER, and the cross-attention of ``sample_ids``."""


@cache
def backend_named(architecture: str) -> Backend:
    """The backend of ``architecture`` (as config.json names it); KeyError for an unknown one."""
    return importlib.import_module(FAMILIES[architecture]).BACKEND


def backend_of(loaded_or_model) -> Backend:
    """The backend of a :class:`LoadedModel` or of a model (each model class names its ``ARCHITECTURE``)."""
    model = getattr(loaded_or_model, "model", loaded_or_model)
    return backend_named(model.ARCHITECTURE)


def backend_for_config(directory: Path, config: dict[str, Any]) -> Backend:
    """The backend a model folder's config.json asks for, or ModelFileError naming the file."""
    arch = config.get("architecture")
    if arch not in FAMILIES:
        raise ModelFileError(directory / "config.json", f"unknown architecture {arch!r} "
                             f"(this Parcero knows {', '.join(FAMILIES)})", "bad_config")
    return backend_named(arch)
