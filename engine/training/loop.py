"""The training loop: joint CTC-attention training with checkpoints, evaluation and exact resume.

One :class:`Trainer` serves ``parcero train``, ``torchrun -m engine.train`` (DDP) and
the GUI's engine process. It writes everything a person or the GUI needs to
follow the run into the run directory as it goes:

    runs/<name>/config.toml     the fully resolved configuration
    runs/<name>/vocab.json      the character vocabulary
    runs/<name>/metrics.jsonl   one JSON object a line, flushed at every log step and eval
    runs/<name>/checkpoints/    step-N folders (see engine.training.checkpoint)
    runs/<name>/best/           the checkpoint with the lowest dev CER
    runs/<name>/samples/        step-N.json (dev transcripts) + step-N.npz (their cross-attention)

Between log steps a caller that follows the run live (the GUI's engine process,
the terminal's progress line) also gets light "live" points through ``on_live``:
the step, loss, learning rate and throughput a few times a second, whatever
``train.log_every`` is, so a short run is never a frozen bar. They are not
written to metrics.jsonl, which keeps its log interval. The records, live points
and the terminal's progress bar are in :mod:`engine.training.records`.
"""

from __future__ import annotations

import logging
import time
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from engine.data.batching import DurationBucketSampler, make_loader, vtln_reference
from engine.data.manifest import Utterance, read_manifest
from engine.backends import backend_named
from engine.errors import ConfigError, ParceroError
from engine.fileio import atomic_path, write_json_atomic
from engine.losses import joint_loss
from engine.models.io import load_model
from engine.training import checkpoint as ckpt
from engine.training.config import RunConfig
from engine.training.distributed import DistInfo
from engine.training.records import LivePoints, LossValues, MetricsLog, ProgressBar, Window
from engine.training.schedule import learning_rate, resolve_schedule
from engine.configio import write_toml

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    run_dir: Path
    step: int
    stopped_early: bool  # stop requested (Ctrl-C, SIGTERM, Cancel) before max_steps
    best_cer: float | None
    last_checkpoint: Path | None
    skipped_utterances: int = 0
    notes: list[str] = field(default_factory=list)


class StopRequested:
    """A flag the caller sets (signal handler, GUI cancel) to stop at the next step boundary."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self) -> bool:
        return self.requested


def read_utterances(path: Path, config: RunConfig, role: str) -> tuple[list[Utterance], list[str]]:
    """A manifest's usable utterances and notes about what was left out."""
    try:
        result = read_manifest(path)
    except OSError as e:
        raise ParceroError(f"{path}: cannot read the {role} manifest: {e.strerror or e}", code="manifest.unreadable",
                           params={"path": str(path), "reason": str(e.strerror or e)}) from None
    notes = [str(p) for p in result.problems]
    kept = [u for u in result.utterances if config.data.min_duration <= u.duration <= config.data.max_duration]
    if len(kept) < len(result.utterances):
        notes.append(
            f"{path}: {len(result.utterances) - len(kept)} utterance(s) outside "
            f"{config.data.min_duration}–{config.data.max_duration} s left out"
        )
    if not kept:
        raise ParceroError(f"{path}: the {role} manifest has no usable utterances", code="manifest.no_usable",
                           params={"path": str(path), "min": config.data.min_duration,
                                   "max": config.data.max_duration})
    return kept, notes


class Trainer:
    def __init__(
        self,
        config: RunConfig,
        *,
        resume: bool = False,
        init: str | Path | None = None,
        device: str | None = None,
        dist: DistInfo = DistInfo(),
        should_stop: Callable[[], bool] = lambda: False,
        on_record: Callable[[dict[str, Any]], None] | None = None,
        on_live: Callable[[dict[str, Any]], None] | None = None,
        progress: bool = False,
    ):
        from engine.device import pick_device

        self.config = config
        self.tc = config.train
        self.dist = dist
        self.should_stop = should_stop
        self.on_live = on_live if dist.is_main else None
        self.progress = progress and dist.is_main  # a tqdm bar on stderr (parcero train in a terminal)
        self.run_dir = config.resolve(config.out_dir)
        self.metrics = MetricsLog(self.run_dir / "metrics.jsonl", is_main=dist.is_main, on_record=on_record)
        self.device = dist.device if dist.device is not None else pick_device(device or self.tc.device)
        self.notes: list[str] = []
        self.skipped_utterances = 0

        torch.manual_seed(self.tc.seed)
        if self.tc.deterministic:
            torch.use_deterministic_algorithms(True, warn_only=True)

        self.base_train = config.resolve(config.data.train).parent
        self.train_utts, notes = read_utterances(config.resolve(config.data.train), config, "train")
        self.notes += notes
        self.dev_utts: list[Utterance] = []
        if config.data.dev:
            self.base_dev = config.resolve(config.data.dev).parent
            self.dev_utts, notes = read_utterances(config.resolve(config.data.dev), config, "dev")
            self.notes += notes

        resume_from = ckpt.latest_checkpoint(self.run_dir) if resume else None
        if resume and resume_from is None:
            self.notes.append(f"{self.run_dir}: no checkpoint to resume from; starting from the beginning")
        if not resume and ckpt.list_checkpoints(self.run_dir):
            raise ConfigError(
                f"{self.run_dir} already holds checkpoints; resume it with --resume or choose another [run] name/dir"
            )
        self.resume_from = resume_from
        self._build_model(init)
        self._measure_vtln_reference()
        self.tc.schedule, self.tc.peak_lr = resolve_schedule(
            self.tc, fine_tuning=init is not None or self.backend.always_fine_tunes,
            default_peak_lr=self.backend.default_peak_lr)
        self._build_optimizer()
        self.step = 0
        self.epoch = 0
        self.batches_done = 0  # in the current epoch
        self.best_cer: float | None = None
        self.bad_in_a_row = 0
        self._saved_step = -1
        self._pending_best = False
        if resume_from is not None:
            self._restore(resume_from)
            self._saved_step = self.step

    # ---- set-up ------------------------------------------------------------------

    def _build_model(self, init: str | Path | None) -> None:
        c = self.config
        texts = [u.text for u in self.train_utts]
        if self.resume_from is not None:
            loaded = load_model(self.resume_from)
            self.backend, self.tokenizer, model = loaded.backend, loaded.tokenizer, loaded.model
            self.family_extra = loaded.extra
            if c.features.vtln != "none" and not c.features.vtln_reference_hz:
                # The reference the run measured when it started, not a new measurement.
                saved = getattr(loaded.feature_config, "vtln_reference_hz", 0.0)
                c.features = replace(c.features, vtln_reference_hz=saved)
        elif init is not None:
            loaded = load_model(init)
            self.backend, self.family_extra = loaded.backend, loaded.extra
            self.tokenizer, model = self.backend.init_from(loaded, texts, c, self.notes)
        else:
            self.backend, self.family_extra = backend_named(c.architecture), {}
            self.tokenizer, model = self.backend.new_model(texts, c, self.notes)
        self.backend.prepare_training(model, self.tokenizer, c, self.notes)
        if self.tc.freeze_encoder:
            for p in self.backend.encoder_parameters(model):
                p.requires_grad_(False)
        self.model = model.to(self.device)
        self.module = self.model  # unwrapped, for saving and decoding
        if self.dist.world_size > 1:
            self.model = torch.nn.parallel.DistributedDataParallel(
                self.model, device_ids=[self.device.index] if self.device.type == "cuda" else None,
                find_unused_parameters=getattr(self.module.config, "stochastic_depth", 0) > 0 or self.tc.freeze_encoder,
            )
        if self.tc.compile:
            self.model = torch.compile(self.model)
        self.d_model = self.module.config.d_model

    def _measure_vtln_reference(self) -> None:
        """With VTLN on and no reference yet, measure it on the training set; checkpoints then store it."""
        fc = self.config.features
        if fc.vtln == "none" or fc.vtln_reference_hz or not self.backend.uses_feature_config:
            return
        reference, voiced = vtln_reference(self.train_utts, self.base_train, fc, seed=self.tc.seed)
        self.config.features = replace(fc, vtln_reference_hz=round(reference, 2))
        self.notes.append(f"voice normalisation (VTLN): reference voice frequency {reference:.0f} Hz, "
                          f"measured on {voiced} training clip(s)")

    def _build_optimizer(self) -> None:
        params = [p for p in self.model.parameters() if p.requires_grad]
        # The schedule sets the learning rate itself at every step; Adam's settings are Vaswani et al.'s.
        self.optimizer = torch.optim.Adam(params, lr=0.0, betas=(0.9, 0.98), eps=1e-9)
        precision = self.tc.precision
        if precision == "auto":
            if self.device.type == "cuda":
                precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
            else:
                precision = "fp32"
        if precision in ("bf16", "fp16") and self.device.type != "cuda":
            self.notes.append(f"precision {precision} needs a CUDA GPU; training in fp32 on {self.device.type}")
            precision = "fp32"
        self.precision = precision
        self.amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
        self.scaler = torch.amp.GradScaler("cuda", enabled=precision == "fp16")

    def _restore(self, path: Path) -> None:
        state = ckpt.load_trainer_state(path)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scaler.load_state_dict(state["scaler"])
        self.step, self.epoch, self.batches_done = state["step"], state["epoch"], state["batches_done"]
        self.best_cer = state.get("best_cer")
        # the schedule the run started with, even when "auto" would now decide otherwise
        self.tc.schedule = state.get("schedule", self.tc.schedule)
        self.tc.peak_lr = state.get("peak_lr", self.tc.peak_lr)
        ckpt.set_rng_state(state["rng"])
        self.notes.append(f"resumed from {path} (step {self.step})")

    # ---- the loop ----------------------------------------------------------------

    def run(self) -> TrainResult:
        if self.dist.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            write_toml(self.run_dir / "config.toml", self.config.to_dict())
            self.backend.save_vocabulary(self.run_dir, self.tokenizer)
            for note in self.notes:
                log.warning(note)
                self._record({"kind": "note", "message": note})
        bar = ProgressBar(self.tc.max_steps) if self.progress else None
        try:
            stopped, last_ckpt = self._steps(bar)
            if self._saved_step != self.step:
                if self.dev_utts and not stopped:
                    self._evaluate_and_save_samples()
                last_ckpt = self._checkpoint() or last_ckpt
        finally:
            if bar is not None:
                bar.close()
        return TrainResult(self.run_dir, self.step, stopped, self.best_cer, last_ckpt, self.skipped_utterances, self.notes)

    def _steps(self, bar: ProgressBar | None) -> tuple[bool, Path | None]:
        """Train until max_steps, the last epoch or a stop request: (stopped early, the last checkpoint)."""
        c, tc = self.config, self.tc
        dataset, collate = self._dataset(self.train_utts, self.base_train, train=True)
        sampler = DurationBucketSampler(
            dataset.durations(), c.data.max_frames, num_buckets=c.data.num_buckets, seed=tc.seed,
            max_batch_size=c.data.max_batch_size or None, rank=self.dist.rank, world_size=self.dist.world_size,
        )
        last_ckpt = self.resume_from
        stopped = False
        window = Window()  # since the last log step (metrics.jsonl)
        live = LivePoints(self.step) if self.on_live is not None or bar is not None else None
        windows = (window, live.window) if live else (window,)
        self.model.train()
        loader = None
        while self.step < tc.max_steps and not stopped:
            if tc.epochs and self.epoch >= tc.epochs:
                break
            sampler.set_epoch(self.epoch)
            sampler.start_batch = self.batches_done
            dataset.epoch = self.epoch  # reaches persistent workers with every index (make_loader)
            if loader is None or not loader.persistent_workers:
                # One loader for the run: its workers live across epochs (a small dataset has an
                # epoch every step or two, and starting workers costs a fork of this process each).
                loader = make_loader(dataset, sampler, num_workers=c.data.num_workers, collate_fn=collate,
                                     pin_memory=self.device.type == "cuda", seed=tc.seed * 100003 + self.epoch,
                                     persistent=True)
            accum = 0
            for lb in loader:
                self.batches_done += 1
                if lb.skipped:
                    self.skipped_utterances += len(lb.skipped)
                    for uid, reason in lb.skipped:
                        self._record({"kind": "skipped", "id": uid, "reason": reason})
                if lb.batch is None:
                    continue
                try:
                    finite = self._train_batch(lb, windows, last=(accum + 1) % tc.accum_steps == 0)
                except torch.OutOfMemoryError:
                    self._out_of_memory(lb, last_ckpt)
                accum += 1
                if not finite:
                    accum = 0
                    continue
                if accum % tc.accum_steps:
                    continue
                self.step += 1
                logged = self.step % tc.log_every == 0 or self.step == 1
                if logged:
                    self._log_train(window)
                if live and live.due(self.step, logged or self.step >= tc.max_steps):
                    self._send_live(live, bar)
                if self.dev_utts and self.step % tc.eval_every == 0:
                    self._evaluate_and_save_samples()
                if self.step % tc.checkpoint_every == 0 or (self.dev_utts and self.step % tc.eval_every == 0):
                    last_ckpt = self._checkpoint()
                if self.step >= tc.max_steps:
                    break
                if self.should_stop():
                    stopped = True
                    break
            else:
                self.epoch += 1
                self.batches_done = 0
        return stopped, last_ckpt

    def _dataset(self, utterances: list[Utterance], base_dir: Path, train: bool):
        """The dataset and collate function of this model's family."""
        return self.backend.training_data(utterances, base_dir, self.tokenizer, self.module, self.config, train)

    def _train_batch(self, lb, windows: tuple[Window, ...], last: bool) -> bool:
        tc = self.tc
        batch = lb.batch.to(self.device)
        autocast = torch.autocast(self.device.type, dtype=self.amp_dtype) if self.amp_dtype else nullcontext()
        sync = nullcontext() if last or self.dist.world_size == 1 else self.model.no_sync()
        with sync:
            with autocast:
                logits, ctc_lp, enc_lens = self.model(batch.feats, batch.feat_lens, batch.tokens_in)
                parts = joint_loss(logits, ctc_lp, enc_lens, batch, tc.ctc_weight, tc.label_smoothing)
            loss = parts.total
            if not torch.isfinite(loss):
                self.optimizer.zero_grad(set_to_none=True)
                self.bad_in_a_row += 1
                msg = f"non-finite loss at step {self.step + 1}; batch skipped (utterances: {', '.join(lb.ids[:8])})"
                log.warning(msg)
                self._record({"kind": "bad_batch", "step": self.step + 1, "ids": lb.ids, "message": msg})
                if self.bad_in_a_row >= tc.max_bad_batches:
                    raise ParceroError(
                        f"{self.bad_in_a_row} batches in a row gave a non-finite loss; stopping. "
                        "Check the data (engine validation), lower the learning rate, or use fp32.",
                        code="train.non_finite_loss", params={"count": self.bad_in_a_row},
                    )
                return False
            self.bad_in_a_row = 0
            self.scaler.scale(loss / tc.accum_steps).backward()
        if last:
            lr = learning_rate(self.step + 1, tc, self.d_model)
            for g in self.optimizer.param_groups:
                g["lr"] = lr
            self.scaler.unscale_(self.optimizer)
            params = [p for p in self.model.parameters() if p.requires_grad]
            norm = torch.nn.utils.clip_grad_norm_(params, tc.grad_clip if tc.grad_clip > 0 else float("inf"))
            self.scaler.step(self.optimizer)
            self.scaler.update()
            self.optimizer.zero_grad(set_to_none=True)
            for window in windows:
                window.grad_norm = float(norm)
                window.lr = lr
        values = LossValues(parts)  # one device sync for every window
        for window in windows:
            window.add(values, float(batch.feat_lens.sum()) / 100.0 * self.dist.world_size,
                       int(batch.target_lens.sum()) * self.dist.world_size)
        return True

    def _out_of_memory(self, lb, last_ckpt: Path | None) -> None:
        frames = int(lb.batch.feats.shape[0] * lb.batch.feats.shape[1])
        self.optimizer.zero_grad(set_to_none=True)
        torch.cuda.empty_cache()
        saved = self._checkpoint() if self._saved_step != self.step and self.step > 0 else last_ckpt
        raise ParceroError(
            f"the GPU ran out of memory on a batch of {len(lb.ids)} utterances ({frames} padded frames). "
            f"Lower data.max_frames (now {self.config.data.max_frames}) and raise train.accum_steps "
            f"to keep the same effective batch, or use a smaller model preset."
            + (f" Progress is saved in {saved}; continue with --resume." if saved else ""),
            code="train.out_of_memory",
            params={"utterances": len(lb.ids), "max_frames": self.config.data.max_frames,
                    "saved": str(saved) if saved else ""},
        )

    # ---- logging, evaluation, checkpoints ---------------------------------------------

    def _record(self, record: dict[str, Any]) -> None:
        self.metrics.write(record)

    def _train_stats(self, kind: str, window: Window) -> dict[str, Any]:
        record = {"kind": kind, "step": self.step, "epoch": self.epoch, "lr": window.lr,
                  "grad_norm": window.grad_norm, **window.flush()}
        if self.device.type == "cuda":
            record["gpu_memory_gb"] = round(torch.cuda.max_memory_allocated(self.device) / 2**30, 3)
        return record

    def _log_train(self, window: Window) -> None:
        self._record(self._train_stats("train", window))

    def _send_live(self, live: LivePoints, bar: ProgressBar | None) -> None:
        """A live point: the means since the previous one, and the ETA from the measured time per step."""
        record = {"time": round(time.time(), 3), **self._train_stats("live", live.window)}
        eta = live.eta(self.step, self.tc.max_steps)
        if eta is not None:
            record["eta_seconds"] = round(eta, 1)
        if self.on_live is not None:
            self.on_live(record)
        if bar is not None:
            bar.show(self.step, record)

    def _evaluate_and_save_samples(self) -> None:
        if not self.dist.is_main:
            return
        utts = self.dev_utts[: self.tc.eval_max_utterances or None]
        sample_ids = {u.id for u in utts[: self.tc.num_samples]}
        report = self.backend.dev_evaluate(self.module, self.tokenizer, self.config, utts, self.base_dev,
                                           sample_ids=sample_ids, autocast_dtype=self.amp_dtype,
                                           extra=self.family_extra)
        self.model.train()
        cer = report.overall.cer
        improved = self.best_cer is None or cer < self.best_cer
        if improved:
            self.best_cer = cer
        self._pending_best = improved
        self._record({"kind": "eval", "step": self.step, "epoch": self.epoch, "dev_loss": report.loss,
                      "cer": cer, "wer": report.overall.wer, "utterances": report.overall.utterances,
                      "skipped": len(report.skipped), "best": improved})
        samples = self.run_dir / "samples"
        samples.mkdir(exist_ok=True)
        rows = [vars(r) for r in report.rows if r.id in sample_ids]
        write_json_atomic(samples / f"step-{self.step:06d}.json", {"step": self.step, "samples": rows})
        if report.attention:
            arrays = {uid: att.astype(np.float16) for uid, att in report.attention.items()}
            with atomic_path(samples / f"step-{self.step:06d}.npz") as tmp, open(tmp, "wb") as f:
                np.savez_compressed(f, **arrays)  # a viewer polling samples/ never sees half a file

    def _checkpoint(self) -> Path | None:
        self._saved_step = self.step
        self.dist.barrier()
        if not self.dist.is_main:
            return None
        state = {
            "optimizer": self.optimizer.state_dict(), "scaler": self.scaler.state_dict(),
            "step": self.step, "epoch": self.epoch, "batches_done": self.batches_done,
            "best_cer": self.best_cer, "rng": ckpt.rng_state(),
            "schedule": self.tc.schedule, "peak_lr": self.tc.peak_lr,
        }
        meta = {"name": self.config.name, "step": self.step, "epoch": self.epoch, "best_dev_cer": self.best_cer}
        path = ckpt.save_checkpoint(self.run_dir, self.step, self.module, self.tokenizer, self.config.features,
                                    state, meta, extra=self.family_extra)
        if self._pending_best:
            ckpt.update_best(self.run_dir, path)
            self._pending_best = False
        ckpt.prune_checkpoints(self.run_dir, self.tc.keep_last)
        self._record({"kind": "checkpoint", "step": self.step, "path": str(path)})
        return path

