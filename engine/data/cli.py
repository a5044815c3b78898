"""``parcero data ...``: import, validate, split, check-leaks, synth.

Each command reads and writes files only through the engine.data modules; the
output manifests are written atomically, with audio paths relative to the
manifest when the audio lies below its folder.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.errors import ParceroError
from engine.fileio import write_json_atomic

if TYPE_CHECKING:
    from engine.data.synth import Voice


def add_data_parser(sub) -> None:
    data = sub.add_parser("data", help="import, validate, split and synthesise datasets")
    dsub = data.add_subparsers(dest="data_command", metavar="DATA_COMMAND", required=True)

    from engine.data.importers import FORMATS

    im = dsub.add_parser("import", help="make a manifest from a corpus in a known layout")
    im.add_argument("src", type=Path, metavar="SRC", help="corpus folder (or its metadata file)")
    im.add_argument("--format", default="auto", choices=("auto",) + FORMATS)
    im.add_argument("--out", type=Path, required=True, metavar="MANIFEST.jsonl")
    im.add_argument("--problems", type=Path, metavar="REPORT.json", help="also write the problems as JSON")

    va = dsub.add_parser("validate", help="check every utterance of a manifest and print a report")
    va.add_argument("manifest", type=Path, metavar="MANIFEST")
    va.add_argument("--json", type=Path, metavar="REPORT", help="write the full report as JSON")
    va.add_argument("--quick", action="store_true", help="headers only: skip decoding (no silence/NaN/clipping/duplicate-audio checks)")
    va.add_argument("--out", type=Path, metavar="CLEAN.jsonl", help="write the utterances that passed")
    va.add_argument("--min-duration", type=float, default=0.1)
    va.add_argument("--max-duration", type=float, default=30.0)
    va.add_argument("--charset", help="allowed characters after normalisation (default: Spanish letters)")
    va.add_argument("--keep-case", action="store_true", help="do not lower-case before checking characters")
    va.add_argument("--keep-punctuation", action="store_true", help="check punctuation instead of stripping it")
    va.add_argument("--workers", type=int, default=0, help="decoding processes (default: all cores)")
    va.add_argument("--max-rows", type=int, default=50, help="problems shown in the table (all go to --json)")

    sp = dsub.add_parser("split", help="speaker-disjoint train/dev/test manifests")
    sp.add_argument("manifest", type=Path, metavar="MANIFEST")
    sp.add_argument("--dev", type=float, default=0.1, help="share of hours for dev (default: 0.1)")
    sp.add_argument("--test", type=float, default=0.1, help="share of hours for test (default: 0.1)")
    sp.add_argument("--by", choices=["speaker", "utterance"], default="speaker")
    sp.add_argument("--seed", type=int, default=0)
    sp.add_argument("--out-dir", type=Path, required=True, metavar="DIR")

    lk = dsub.add_parser("check-leaks", help="fail when a speaker, id or audio file is in two sets")
    lk.add_argument("manifests", type=Path, nargs="+", metavar="MANIFEST")
    lk.add_argument("--no-audio", action="store_true", help="compare paths only, do not hash audio")
    lk.add_argument("--json", type=Path, metavar="REPORT")

    sy = dsub.add_parser("synth", help="synthesise Spanish speech with espeak-ng (male and female voices)")
    what = sy.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", type=Path, metavar="DIR", help="write DIR/wavs/*.wav and DIR/manifest.jsonl")
    what.add_argument("--list-voices", action="store_true",
                      help="print the voices --voices accepts, one a line with its gender, and exit")
    sy.add_argument("--utterances", type=int, default=100)
    sy.add_argument("--text", type=Path, metavar="FILE", help="sentences to speak, one a line (default: built-in)")
    sy.add_argument("--seed", type=int, default=0)
    sy.add_argument("--voices", action="append", metavar="NAME[,NAME...]",
                    help="speak with only these voices, comma-separated (the flag may also be repeated), "
                    "e.g. es+m3,es-419+m3; names as --list-voices prints them (default: all of them)")
    sy.add_argument("--female-fraction", type=float, metavar="F",
                    help="share of clips with a female voice (default: 0.5); when every chosen voice is of "
                    "one gender, all clips get that gender and F may only agree with it (1 or 0)")
    sy.add_argument("--noise", type=float, nargs=2, metavar=("MIN_SNR", "MAX_SNR"),
                    help="add background noise at an SNR (dB) drawn from this range")
    sy.add_argument("--workers", type=int, default=0)


def _warn(problem) -> None:
    print(f"parcero: warning: {problem}", file=sys.stderr)


class _Progress:
    """An ``on_progress(done, total)`` callback shown as a tqdm bar on stderr, only when it is a terminal."""

    def __init__(self, what: str):
        from tqdm import tqdm

        self.bar = tqdm(desc=what, unit="utt", file=sys.stderr, disable=not sys.stderr.isatty())

    def __call__(self, done: int, total: int) -> None:
        self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        self.bar.close()


def run_data_command(args: argparse.Namespace) -> int:
    handler = {"import": _import, "validate": _validate, "split": _split, "check-leaks": _leaks,
               "synth": _synth}[args.data_command]
    return handler(args)


def _import(args) -> int:
    from engine.data.importers import import_corpus
    from engine.data.manifest import relative_audio, write_manifest

    progress = _Progress("reading audio headers")
    result = import_corpus(args.src, args.format, on_progress=progress)
    progress.close()
    how = "detected" if result.detected else "given"
    print(f"parcero: format {result.format} ({how})", file=sys.stderr)
    out_dir = args.out.resolve().parent
    for u in result.utterances:
        u.audio = relative_audio(u.audio, out_dir)
    n = write_manifest(args.out, result.utterances)
    for p in result.problems:
        print(f"parcero: {p.kind}: {p}", file=sys.stderr)
    hours = sum(u.duration for u in result.utterances) / 3600
    print(f"parcero: wrote {n} utterance(s), {hours:.2f} h, to {args.out}; "
          f"{len(result.problems)} problem(s) left out", file=sys.stderr)
    if args.problems:
        write_json_atomic(args.problems, {"format": result.format, "source": str(result.source),
                                          "problems": [p.to_dict() for p in result.problems]})
    return 0 if n else 1


def _validate(args) -> int:
    from engine.data.manifest import write_manifest
    from engine.data.validate import ValidationOptions, format_report, validate_manifest
    from engine.text import TextConfig

    options = ValidationOptions(
        min_duration=args.min_duration, max_duration=args.max_duration, charset=args.charset,
        text_config=TextConfig(lowercase=not args.keep_case,
                               punctuation="keep" if args.keep_punctuation else "strip"),
        decode_audio=not args.quick, workers=args.workers,
    )
    progress = _Progress("checking audio")
    try:
        report = validate_manifest(args.manifest, options, on_progress=progress)
    except OSError as e:
        raise ParceroError(f"{args.manifest}: cannot read: {e.strerror or e}") from None
    progress.close()
    print(format_report(report, max_rows=args.max_rows))
    if args.json:
        write_json_atomic(args.json, report.to_dict())
    if args.out:
        if args.out.resolve() == args.manifest.resolve():
            raise ParceroError(f"{args.out}: refusing to overwrite the manifest being validated")
        from engine.data.manifest import relative_audio

        base = args.manifest.resolve().parent
        out_dir = args.out.resolve().parent
        for u in report.kept:
            u.audio = relative_audio(u.audio_path(base).resolve(), out_dir)
        write_manifest(args.out, report.kept)
        print(f"parcero: wrote {len(report.kept)} good utterance(s) to {args.out}", file=sys.stderr)
    return 0


def _split(args) -> int:
    from engine.data.manifest import open_manifest
    from engine.data.splits import split_utterances, write_splits

    read = open_manifest(args.manifest, warn=_warn)
    result = split_utterances(read.utterances, args.dev, args.test, args.by, args.seed)
    for w in result.warnings:
        print(f"parcero: warning: {w}", file=sys.stderr)
    paths = write_splits(result, args.out_dir, args.manifest)
    hours = result.hours()
    for name, path in paths.items():
        items = result.sets()[name]
        speakers = len({u.speaker for u in items if u.speaker})
        print(f"{name:5s} {len(items):6d} utterances {hours[name]:7.2f} h {speakers:5d} speakers -> {path}")
    return 0


def _leaks(args) -> int:
    from engine.data.splits import format_leaks, leaks_between

    if len(args.manifests) < 2:
        raise ParceroError("check-leaks needs at least two manifests")
    try:
        leaks, problems = leaks_between(args.manifests, check_audio=not args.no_audio)
    except OSError as e:
        raise ParceroError(f"{e.filename}: cannot read: {e.strerror or e}") from None
    for p in problems:
        print(f"parcero: warning: {p}", file=sys.stderr)
    print(format_leaks(leaks))
    if args.json:
        write_json_atomic(args.json, {"leaks": [leak.to_dict() for leak in leaks]})
    return 1 if leaks else 0


def _usage_error(message: str) -> int:
    print(f"parcero: error: {message}", file=sys.stderr)
    return 2


def _listed(voices: list[Voice]) -> list[Voice]:
    """Voices as people read a list of them: the women, then the men, each by name."""
    return sorted(voices, key=lambda v: (v.gender, v.name))


def _chosen_voices(specs: list[str], available: list[Voice]) -> tuple[list[Voice], str | None]:
    """The voices named by ``--voices`` (each spec comma-separated), in the order given, without repeats.

    Returns the voices and None, or an empty list and the message that refuses them.
    """
    names = list(dict.fromkeys(n.strip() for spec in specs for n in spec.split(",") if n.strip()))
    by_name = {v.name: v for v in available}
    unknown = [n for n in names if n not in by_name]
    known = ", ".join(v.name for v in _listed(available))
    if not names:
        return [], f"--voices: no voice named; available: {known}"
    if unknown:
        return [], (f"--voices: unknown voice(s) {', '.join(unknown)}; available: {known} "
                    "(`parcero data synth --list-voices` shows their genders)")
    return [by_name[n] for n in names], None


def _female_fraction(voices: list[Voice], given: float | None) -> tuple[float, str | None]:
    """``--female-fraction`` for these voices: the share asked (default 0.5) when both genders are
    present, else the one gender there is, refusing an explicit share that asks for the other."""
    genders = {v.gender for v in voices}
    if len(genders) == 2:
        return (0.5 if given is None else given), None
    only = genders.pop()
    fraction = 1.0 if only == "female" else 0.0
    if given is not None and given != fraction:
        return fraction, (f"--female-fraction {given:g} asks for {'male' if only == 'female' else 'female'} "
                          f"clips, but every chosen voice is {only}; leave it out (or give {fraction:g})")
    return fraction, None


def _synth(args) -> int:
    from engine.data.sentences import read_sentences
    from engine.data.synth import SynthOptions, list_spanish_voices, synthesize

    available = list_spanish_voices()
    if args.list_voices:
        for v in _listed(available):
            print(f"{v.name:<14} {v.gender}")
        return 0
    voices, refusal = _chosen_voices(args.voices, available) if args.voices else (available, None)
    if refusal:
        return _usage_error(refusal)
    fraction, refusal = _female_fraction(voices, args.female_fraction)
    if refusal:
        return _usage_error(refusal)
    if len({v.gender for v in voices}) == 1:
        print(f"parcero: every voice chosen is {voices[0].gender}: all clips get a {voices[0].gender} voice",
              file=sys.stderr)
    options = SynthOptions(
        utterances=args.utterances, seed=args.seed, voices=tuple(voices) if args.voices else None,
        female_fraction=fraction, noise_snr_db=tuple(args.noise) if args.noise else None, workers=args.workers,
    )
    sentences = read_sentences(args.text) if args.text else None
    progress = _Progress("synthesising")
    result = synthesize(args.out, options, sentences, on_progress=progress)
    progress.close()
    for p in result.problems:
        print(f"parcero: warning: {p}", file=sys.stderr)
    genders = {g: sum(u.gender == g for u in result.utterances) for g in ("female", "male")}
    minutes = sum(u.duration for u in result.utterances) / 60
    used = ", ".join(dict.fromkeys(u.speaker for u in result.utterances))  # in id order of first use
    print(f"parcero: wrote {len(result.utterances)} utterance(s) ({genders['female']} female, "
          f"{genders['male']} male voices; {minutes:.1f} min) and {result.manifest}; voices: {used or 'none'}",
          file=sys.stderr)
    return 0 if result.utterances else 1
