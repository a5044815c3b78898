"""Training from the command line: ``parcero train`` and ``torchrun -m engine.train``.

    parcero train --config RUN.toml [--resume] [--init MODEL] [--device auto|cpu|cuda] [--gpus N]
    torchrun --nproc-per-node 4 -m engine.train --config RUN.toml

Ctrl-C or SIGTERM saves a checkpoint at the next step and exits cleanly (a
second Ctrl-C aborts at once); ``--resume`` continues from the newest checkpoint.
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
    config = load_run_config(args.config)
    if args.init:
        from engine.models.catalog import resolve_model

        args.init = resolve_model(args.init)
    dist = init_distributed(args.device or config.train.device)
    stop = StopRequested()
    _install_stop_handlers(stop)
    try:
        trainer = Trainer(config, resume=args.resume, init=args.init, device=args.device, dist=dist,
                          should_stop=stop, progress=sys.stderr.isatty())
        if dist.is_main:
            m = trainer.module
            print(f"parcero: training {m.num_parameters() / 1e6:.1f} M parameters on {trainer.device} "
                  f"({trainer.precision}), {len(trainer.train_utts)} train / {len(trainer.dev_utts)} dev "
                  f"utterances, vocabulary {len(trainer.tokenizer)}; run folder {trainer.run_dir}", file=sys.stderr)
        result = trainer.run()
    finally:
        shutdown_distributed()
    if dist.is_main:
        state = "stopped" if result.stopped_early else "finished"
        best = f", best dev CER {result.best_cer:.2%}" if result.best_cer is not None else ""
        print(f"parcero: {state} at step {result.step}{best}; last checkpoint {result.last_checkpoint}",
              file=sys.stderr)
        if result.skipped_utterances:
            print(f"parcero: {result.skipped_utterances} utterance(s) skipped (unreadable audio); "
                  f"see {result.run_dir / 'metrics.jsonl'}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="parcero: %(message)s")
    p = argparse.ArgumentParser(prog="python -m engine.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(p)
    args = p.parse_args(argv)
    from engine.cli import run_guarded

    return run_guarded(lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())
