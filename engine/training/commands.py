"""``parcero eval`` and ``parcero average``."""

from __future__ import annotations

import argparse
import sys

from engine.errors import ParceroError
from engine.fileio import write_json_atomic


def evaluate_command(args: argparse.Namespace) -> int:
    from engine.data.manifest import open_manifest
    from engine.transcript import DecodeOptions
    from engine.device import pick_device
    from engine.evaluate import evaluate_loaded
    from engine.transcribe import check_decode_options
    from engine.models.io import load_model
    from tqdm import tqdm

    from engine.models.catalog import resolve_model

    loaded = load_model(resolve_model(args.model), device=pick_device(args.device))
    manifest = open_manifest(args.manifest, warn=lambda p: print(f"parcero: warning: {p}", file=sys.stderr))
    if not manifest.utterances:
        raise ParceroError(f"{args.manifest}: no utterances to evaluate")
    options = DecodeOptions(beam_size=args.beam, ctc_weight=args.ctc_weight)
    check_decode_options(options, loaded, {"beam_size": "--beam", "ctc_weight": "--ctc-weight"})

    bar = tqdm(total=len(manifest.utterances), desc="evaluating", unit="utt", file=sys.stderr,
               disable=not sys.stderr.isatty())

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    try:
        report = evaluate_loaded(loaded, manifest.utterances, args.manifest.parent, options, on_progress=progress)
    finally:
        bar.close()
    o = report.overall
    print(f"WER {o.wer:.2%}  CER {o.cer:.2%}  ({o.utterances} utterances, {o.words.reference_length} words; "
          f"{o.accent_substitutions} accent-only character substitutions)")
    for gender, r in report.by_gender.items():
        print(f"  {gender:8s} WER {r.wer:.2%}  CER {r.cer:.2%}  ({r.utterances})")
    if report.gender_gap is not None:
        print(f"  {gap_line(report.gender_gap)}")
    for uid, reason in report.skipped:
        print(f"parcero: warning: {uid} skipped: {reason}", file=sys.stderr)
    if args.json:
        write_json_atomic(args.json, {"model": str(loaded.path), "manifest": str(args.manifest), **report.to_dict()})
    return 0


def gap_line(gap) -> str:
    """'women - men: CER +4.2 pt (95 % CI +1.1 to +7.5), WER ... (40 vs 38 utterances)' (ASCII for any console).

    ``gap`` is an :class:`engine.gap.GenderGap`; "includes 0" marks an interval that cannot rule out no gap.
    """
    def part(name: str, g) -> str:
        text = f"{name} {100 * g.estimate:+.1f} pt"
        if g.low is None:
            return text
        zero = ", includes 0" if g.includes_zero else ""
        return text + f" ({100 * gap.confidence:g} % CI {100 * g.low:+.1f} to {100 * g.high:+.1f}{zero})"

    first, second = (gap.utterances[g] for g in gap.groups)
    few = "" if gap.cer.low is not None else "; too few for a confidence interval"
    return f"women - men: {part('CER', gap.cer)}, {part('WER', gap.wer)} ({first} vs {second} utterances{few})"


def average_command(args: argparse.Namespace) -> int:
    from engine.models.io import load_model, save_trained
    from engine.training.checkpoint import average_checkpoints, list_checkpoints

    found = list_checkpoints(args.run_dir)
    if not found:
        raise ParceroError(f"{args.run_dir}: no complete checkpoints in {args.run_dir / 'checkpoints'}")
    if args.last < 1:
        raise ParceroError(f"--last must be at least 1, got {args.last}")
    chosen = [p for _, p in found[-args.last:]]
    state = average_checkpoints(chosen)
    loaded = load_model(chosen[-1])
    loaded.model.load_state_dict(state)
    meta = {**loaded.metadata, "averaged": [p.name for p in chosen]}
    save_trained(args.out, loaded.model, loaded.tokenizer, loaded.feature_config, meta, extra=loaded.extra)
    print(f"parcero: averaged {len(chosen)} checkpoint(s) ({', '.join(p.name for p in chosen)}) into {args.out}")
    return 0
