"""Live commit policies compared pass by pass: deterministic, not in real time.

:mod:`bench.bench_live` plays a recording in real time, so each pass hears however
much audio arrived while the one before ran: the right measure of latency, but a
run takes as long as the recording and two runs never see the same passes. This
driver feeds the same recording ``--step`` seconds at a time and runs one pass
after each step, so a policy's WER depends only on the policy and the model (the
same on a busy or an idle machine), and policies can be ranked on the whole file.

Reported: WER/CER of the committed text against the reference (the ``.txt`` beside
the audio), and the latency of each committed word from its own end (as the pass
that committed it timed it) to the end of the audio that pass had heard; real-time
latency adds the pass's own duration (see ``bench_live.py``). JSON to
bench/results/live-passes-*.json.

    python bench/bench_live_passes.py build/longform/longform-10min.wav --policy stable --margin 0.8 \\
        --quantize bf16 --out bench/results/live-passes-10min-stable-m08.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_live import percentile  # noqa: E402
from bench.machine import machine_info  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("audio", type=Path)
    p.add_argument("--reference", type=Path, help="its transcript (default: the .txt beside it)")
    p.add_argument("--model", default=str(Path.home() / ".local/share/Parcero/models/whisper-base"))
    p.add_argument("--policy", default="auto")
    p.add_argument("--margin", type=float, help="default: the product's (engine.live.policy.DEFAULT_MARGIN)")
    p.add_argument("--step", type=float, default=0.6, help="seconds of audio fed before each pass (default 0.6: "
                   "about what a 0.5 s pass lets arrive in real time)")
    p.add_argument("--beam-size", type=int, help="default: the product's (engine.live.options.LIVE_BEAM_SIZE)")
    p.add_argument("--quantize", default="none")
    p.add_argument("--seconds", type=float, help="only the first N seconds (the reference is then not used)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--attention", choices=("none", "steps", "after"), default="none",
                   help="the heatmap's attention: none, computed at every step of the search (what the window "
                        "asks), or kept from the word-timing pass (tried and rejected, docs/live.md)")
    p.add_argument("--out", type=Path)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    from engine.audio import load_audio
    from engine.live.options import LIVE_BEAM_SIZE, LiveOptions
    from engine.live.policy import DEFAULT_MARGIN
    from engine.live.stream import LiveTranscriber
    from engine.metrics import error_rates
    from engine.models.io import load_model
    from engine.quantize import quantize_model
    from engine.transcript import DecodeOptions

    torch.set_num_threads(args.threads)
    margin = DEFAULT_MARGIN if args.margin is None else args.margin
    beam = LIVE_BEAM_SIZE if args.beam_size is None else args.beam_size
    loaded = load_model(args.model, device="cpu")
    quantize_model(loaded.model, args.quantize, loaded.device)
    samples = load_audio(args.audio, 16000, duration=args.seconds)
    reference_path = args.reference or args.audio.with_suffix(".txt")
    reference = reference_path.read_text(encoding="utf-8").strip() if args.seconds is None and \
        reference_path.is_file() else None

    live = LiveOptions(policy=args.policy, margin=margin)
    options = DecodeOptions(beam_size=beam, temperature_fallback=False, step_attention=args.attention == "steps",
                            capture_attention=args.attention == "after")
    on_step = (lambda chunk, info: None) if args.attention == "steps" else None
    transcriber = LiveTranscriber(loaded, options, live, on_step=on_step)
    step = max(1, int(args.step * 16000))
    latencies: list[float] = []
    t0 = time.perf_counter()
    for i in range(0, len(samples), step):
        transcriber.feed(samples[i:i + step])
        update = transcriber.update()
        latencies += [update.audio_end - w.end for w in update.committed]
    transcriber.update(final=True)
    wall = time.perf_counter() - t0
    text = transcriber.transcript().text
    rates = error_rates([reference], [text]) if reference else None
    report = {
        "benchmark": "live-passes", "audio": str(args.audio), "audio_seconds": round(len(samples) / 16000, 1),
        "model": loaded.name, "quantize": args.quantize, "policy": transcriber.policy.name, "margin": margin,
        "beam_size": beam, "step_s": args.step, "attention": args.attention, "passes": transcriber.passes,
        "wer_live_vs_reference": None if rates is None else round(rates.wer * 100, 2),
        "cer_live_vs_reference": None if rates is None else round(rates.cer * 100, 2),
        "median_latency_from_own_end_s": percentile(latencies, 0.5),
        "p90_latency_from_own_end_s": percentile(latencies, 0.9),
        "words_committed_before_stop": len(latencies), "wall_s": round(wall, 1),
        "machine": machine_info("cpu"), "live_text": text,
    }
    print(json.dumps({k: v for k, v in report.items() if k not in ("machine", "live_text")}, indent=1,
                     ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
