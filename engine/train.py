"""Training from the command line: ``parcero train`` and ``torchrun -m engine.train``.

    parcero train --config RUN.toml [--resume] [--init MODEL] [--device auto|cpu|cuda] [--gpus N]
    torchrun --nproc-per-node 4 -m engine.train --config RUN.toml

Ctrl-C or SIGTERM saves a checkpoint at the next step and exits cleanly (a
second Ctrl-C aborts at once); ``--resume`` continues from the newest checkpoint.

Besides what the trainer writes (metrics.jsonl, checkpoints, samples), the
process keeps ``<run>/run.json`` (its pid, start, command; at the end finished,
stopped or failed with the error) and ``<run>/live.jsonl`` (the live points
between log steps), so the window can follow, stop and re-attach to a run it
did not keep in memory (engine.training.runstate).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from pathlib import Path



def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", "-c", type=Path, required=True, help="run configuration (TOML)")
    p.add_argument("--resume", action="store_true", help="continue from the run's newest checkpoint")
    p.add_argument("--init", metavar="MODEL", help="start from this model's weights (fine-tuning): a model name "
                   "from `parcero models list` or a model folder")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], help="overrides train.device")
    p.add_argument("--gpus", type=int, default=1, help="launch N processes with torchrun (DDP)")


def _install_stop_handlers(stop) -> None:
    def handler(signum, frame):
        if stop.requested:
            raise KeyboardInterrupt
        stop.requested = True
        print(f"\nparcero: {signal.Signals(signum).name}: saving a checkpoint at the next step "
              "(press Ctrl-C again to abort without saving)", file=sys.stderr)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def launch_torchrun(args: argparse.Namespace) -> int:
    """Re-run this command under torchrun with ``--gpus`` processes on this machine."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={args.gpus}",
           "-m", "engine.train", "--config", str(args.config)]
    if args.resume:
        cmd.append("--resume")
    if args.init:
        cmd += ["--init", str(args.init)]
    if args.device:
        cmd += ["--device", args.device]
    os.execv(sys.executable, cmd)
    return 0  # not reached


def run(args: argparse.Namespace) -> int:
    from engine.training.config import load_run_config
    from engine.training.distributed import init_distributed, shutdown_distributed
    from engine.training.loop import StopRequested, Trainer

    if args.gpus > 1 and "RANK" not in os.environ:
        return launch_torchrun(args)
    record = _RunRecord(args.config)
    # From here on SIGTERM or Ctrl-C stops the run cleanly, even while the data is still being read.
    stop = StopRequested()
    _install_stop_handlers(stop)
    try:
        config = load_run_config(args.config)
        record.begin(config.resolve(config.out_dir))
        if args.init:
            from engine.models.catalog import resolve_model

            args.init = resolve_model(args.init)
        dist = init_distributed(args.device or config.train.device)
        try:
            record.trainer = trainer = Trainer(
                config, resume=args.resume, init=args.init, device=args.device, dist=dist, should_stop=stop,
                progress=sys.stderr.isatty(), on_live=record.live)
            if dist.is_main:
                m = trainer.module
                print(f"parcero: training {m.num_parameters() / 1e6:.1f} M parameters on {trainer.device} "
                      f"({trainer.precision}), {len(trainer.train_utts)} train / {len(trainer.dev_utts)} dev "
                      f"utterances, vocabulary {len(trainer.tokenizer)}; run folder {trainer.run_dir}",
                      file=sys.stderr)
            result = trainer.run()
        finally:
            shutdown_distributed()
    except BaseException as e:
        record.fail(e)
        raise
    record.end(result)
    if dist.is_main:
        state = "stopped" if result.stopped_early else "finished"
        best = f", best dev CER {result.best_cer:.2%}" if result.best_cer is not None else ""
        print(f"parcero: {state} at step {result.step}{best}; last checkpoint {result.last_checkpoint}",
              file=sys.stderr)
        if result.skipped_utterances:
            print(f"parcero: {result.skipped_utterances} utterance(s) skipped (unreadable audio); "
                  f"see {result.run_dir / 'metrics.jsonl'}", file=sys.stderr)
    return 0


class _RunRecord:
    """``run.json`` and ``live.jsonl`` of the run this process trains (rank 0 only; see engine.training.runstate).

    Written at the start, at the end (finished or stopped) and on any failure, so a window following the
    folder knows whether the process is still at work and how it ended.
    """

    def __init__(self, config_path: Path):
        from engine.training import runstate

        self.rs = runstate
        self.config_path = Path(config_path)
        self.main = os.environ.get("RANK", "0") == "0"
        self.world_size = int(os.environ.get("WORLD_SIZE", "1") or 1)
        self.run_dir: Path | None = None
        self.trainer = None
        self.live = None

    def begin(self, run_dir: Path) -> None:
        if not self.main:
            return
        current = self.rs.read_run_state(run_dir)
        if (current is not None and current.active and current.pid != os.getpid()
                and self.rs.process_alive(current)):
            from engine.errors import ConfigError

            raise ConfigError(f"{run_dir}: process {current.pid} is training this run folder now (see "
                              f"{run_dir / self.rs.RUN_STATE}); stop it first, or choose another [run] dir")
        self.rs.begin_run(run_dir, world_size=self.world_size)
        self.run_dir = run_dir
        self.live = self.rs.LiveLog(run_dir)

    def end(self, result) -> None:
        if self.run_dir is None:
            return
        self._close_live()
        self.rs.end_run(self.run_dir, self.rs.STOPPED if result.stopped_early else self.rs.FINISHED,
                        step=result.step, last_checkpoint=result.last_checkpoint, best_cer=result.best_cer)

    def fail(self, error: BaseException) -> None:
        """Record ``error`` as the run's end (a second Ctrl-C: stopped without a last checkpoint)."""
        from engine.errors import ParceroError
        from engine.training.checkpoint import latest_checkpoint

        self._close_live()
        run_dir = self.run_dir
        if run_dir is None and self.main:
            # The config did not load, so the run folder is unknown; the window writes its config and a
            # run.json naming this process into the run folder before starting it: say it there.
            claimed = self.rs.read_run_state(self.config_path.parent)
            if claimed is not None and claimed.pid == os.getpid() and claimed.active:
                run_dir = self.config_path.parent
        if run_dir is None:
            return
        if isinstance(error, KeyboardInterrupt):
            state, message, code, params = self.rs.STOPPED, "interrupted; the steps since the last checkpoint " \
                "are lost", "", {}
        elif isinstance(error, ParceroError):
            state, message, code, params = self.rs.FAILED, str(error), error.code, error.params
        else:
            state, message, code, params = self.rs.FAILED, f"{type(error).__name__}: {error}", "", {}
        try:
            last = latest_checkpoint(run_dir)
            step = self.trainer.step if self.trainer is not None else None
            self.rs.end_run(run_dir, state, step=step, last_checkpoint=last, message=message, code=code,
                            params=params)
        except Exception as e:  # noqa: BLE001 - the error being reported matters more than this one
            print(f"parcero: warning: {run_dir / self.rs.RUN_STATE} not updated: {e}", file=sys.stderr)

    def _close_live(self) -> None:
        if self.live is not None:
            self.live.close()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="parcero: %(message)s")
    p = argparse.ArgumentParser(prog="python -m engine.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    args = p.parse_args(argv)
    from engine.errors import run_guarded

    return run_guarded(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
