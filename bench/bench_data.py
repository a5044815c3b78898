"""Import + validate throughput (files per second) on N generated files.

Generates an LJSpeech-layout corpus of short 16 kHz tone clips (1–4 s), then
times ``import_corpus`` (headers only) and ``validate_manifest`` both quick
(headers) and full (decoding, levels, hashing).

    python bench/bench_data.py --files 10000 --out bench/results/data-import-validate.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import load_average, machine_info  # noqa: E402
from engine.data.importers import import_corpus  # noqa: E402
from engine.data.manifest import relative_audio, write_manifest  # noqa: E402
from engine.data.validate import ValidationOptions, validate_manifest  # noqa: E402


def make_corpus(root: Path, n: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    (root / "wavs").mkdir(parents=True)
    lines = []
    for i in range(n):
        seconds = rng.uniform(1.0, 4.0)
        t = np.arange(int(seconds * 16000)) / 16000
        x = (0.2 * np.sin(2 * np.pi * rng.uniform(100, 400) * t)).astype(np.float32)
        sf.write(root / "wavs" / f"u{i:06d}.wav", x, 16000, subtype="PCM_16")
        lines.append(f"u{i:06d}|frase de prueba con eñe y acentos: ¿qué tal?")
    (root / "metadata.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--files", type=int, default=10000)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--out")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        t = time.perf_counter()
        make_corpus(root, args.files)
        gen = time.perf_counter() - t

        t = time.perf_counter()
        result = import_corpus(root, "auto")
        t_import = time.perf_counter() - t
        manifest = Path(tmp) / "manifest.jsonl"
        for u in result.utterances:
            u.audio = relative_audio(u.audio, manifest.parent)
        write_manifest(manifest, result.utterances)

        t = time.perf_counter()
        quick = validate_manifest(manifest, ValidationOptions(decode_audio=False))
        t_quick = time.perf_counter() - t
        t = time.perf_counter()
        full = validate_manifest(manifest, ValidationOptions(workers=args.workers))
        t_full = time.perf_counter() - t
    hours = sum(u.duration for u in result.utterances) / 3600
    row = {
        "benchmark": "data_import_validate", "files": args.files, "hours": round(hours, 2),
        **machine_info("cpu"), "workers": args.workers, "generate_seconds": round(gen, 2),
        "import_files_per_second": round(args.files / t_import, 1),
        "validate_quick_files_per_second": round(args.files / t_quick, 1),
        "validate_full_files_per_second": round(args.files / t_full, 1),
        "validate_full_audio_hours_per_second": round(hours / t_full, 3),
        "kept": len(full.kept), "problems": len(full.problems) + len(quick.problems),
        "load_average_end": load_average(),
    }
    print(json.dumps(row, indent=2))
    if args.out:
        Path(args.out).write_text(json.dumps(row, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
