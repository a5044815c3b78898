"""Keep only test utterances whose sentence never occurs in the training manifest.

    python held_out.py TRAIN.jsonl TEST.jsonl OUT.jsonl
"""

import sys

from engine.data.manifest import read_manifest, write_manifest

train, test, out = sys.argv[1:4]
seen = {u.text for u in read_manifest(train).utterances}
test_utts = read_manifest(test).utterances
kept = [u for u in test_utts if u.text not in seen]
write_manifest(out, kept)
print(f"held out: {len(kept)} of {len(test_utts)} test utterances ({len(test_utts) - len(kept)} sentences also in training)")
