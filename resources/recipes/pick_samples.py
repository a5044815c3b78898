"""Copy a few held-out synthetic utterances into resources/samples/ as the bundled sample recordings.

    python pick_samples.py HELD_OUT.jsonl OUT_DIR [N]

Takes the first N (default 4) utterances alternating female and male voices,
preferring sentences with accents, ñ or ü, and writes OUT_DIR/samples.jsonl.
"""

import shutil
import sys
from pathlib import Path

from engine.data.manifest import read_manifest, write_manifest

held_out, out = Path(sys.argv[1]), Path(sys.argv[2])
n = int(sys.argv[3]) if len(sys.argv) > 3 else 4
utts = read_manifest(held_out).utterances
spanish = [u for u in utts if any(c in u.text.lower() for c in "áéíóúñü") and 1.5 <= u.duration <= 5.0]
by_gender = {g: [u for u in spanish if u.gender == g] for g in ("female", "male")}
chosen = []
for i in range(n):
    pool = by_gender["female" if i % 2 == 0 else "male"]
    if pool:
        chosen.append(pool.pop(0))
out.mkdir(parents=True, exist_ok=True)
kept = []
for i, u in enumerate(chosen, 1):
    name = f"muestra-{i}-{u.gender}.wav"
    shutil.copyfile(u.audio_path(held_out.parent), out / name)
    kept.append(type(u)(id=name[:-4], audio=name, duration=u.duration, text=u.text, speaker=u.speaker,
                        gender=u.gender, sample_rate=u.sample_rate))
write_manifest(out / "samples.jsonl", kept)
print(f"wrote {len(kept)} sample(s) to {out}")
