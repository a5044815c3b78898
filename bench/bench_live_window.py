"""Live text in the real window: commit latency and accuracy as a person sees them.

``bench_live.py`` measures the live loop in one process, without a window. Here the real
:class:`~app.main_window.MainWindow` (offscreen) records from a fake microphone that plays the
file in real time (the sound-card boundary, as in the live journey), with Live text on; the
engine process decodes, the window draws the waveform, the spectrogram and the heatmap of every
pass, all on the same cores. For each committed word: the moment the window received it, minus
the moment it was spoken (its end in an offline transcript of the same audio, aligned word by
word). The window's CPU weights (Preferences) are a parameter: the live passes run in that
precision.

    QT_QPA_PLATFORM=offscreen python bench/bench_live_window.py build/longform/longform-10min.wav \\
        --seconds 180 --weights none bf16 --out bench/results/live-window-cpu2.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import types
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_live import commit_latencies, pass_statistics, percentile  # noqa: E402
from bench.machine import load_average, machine_info  # noqa: E402


def run_window(app, samples, model_dir: Path, weights: str, recordings: Path, timeout: float) -> dict:
    """One recording with Live text on, in a new main window on a new engine process."""
    from app import audio_io
    from app.engine_client import QtEngineClient
    from app.main_window import MainWindow
    from engine.live.capture import FileInputStream

    fake_sd = types.SimpleNamespace(
        query_devices=lambda: [{"name": "bench microphone", "max_input_channels": 1, "max_output_channels": 0}])
    audio_io._sounddevice = lambda: fake_sd
    streams: list[FileInputStream] = []
    started: list[float] = []

    class TimedStream(FileInputStream):
        def start(self) -> None:
            started.append(time.monotonic())
            super().start()

    def open_stream(**kw):
        streams.append(TimedStream(samples, speed=1.0, **kw))
        return streams[-1]

    audio_io._input_stream_factory = open_stream

    def wait(predicate, seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not predicate():
            if time.monotonic() > deadline:
                raise SystemExit(f"bench_live_window: waited {seconds:.0f} s for {what}")
            app.processEvents()
            time.sleep(0.005)

    engine = QtEngineClient()
    engine.start()
    wait(lambda: engine.state == "ready", 120, "the engine")
    window = MainWindow(device_text=None, engine=engine, recordings_folder=recordings)
    window.resize(1366, 768)
    window.show()
    page = window.transcribe_page
    page.model_picker.set_model_path(model_dir)
    page.set_cpu_weights(weights)
    commits: list[tuple[float, str, float]] = []  # (clock since the voice began, word, its end)
    pass_seconds: list[float] = []
    backlog: list[float] = []
    behind: list[float] = []

    def on_live_text(job, event) -> None:
        now = time.monotonic()
        if not started or page.run is None or job != page.run.job:
            return
        clock = now - started[0]
        commits.extend((clock, w.strip(), end) for w, _, end in event.committed)
        pass_seconds.append(event.pass_seconds)
        backlog.append(event.backlog)
        if event.behind and not behind:
            behind.append(clock)

    engine.live_text.connect(on_live_text)
    finished: list = []
    page.transcription_finished.connect(lambda result: finished.append(result))
    page.record_bar.live_check.setChecked(True)
    wall0 = time.monotonic()
    page.record_button.click()
    if not page.recorder.is_recording or page.run is None:
        raise SystemExit(f"bench_live_window: no live recording ({page.error_label.text()})")
    wait(lambda: streams and streams[0].finished.is_set(), timeout, "the recording to play")
    stop0 = time.monotonic()
    # A file played as if live stops the recording by itself at its end; a click then would start another.
    deadline = time.monotonic() + 1.0
    while page.recorder.is_recording and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    if page.recorder.is_recording:
        page.record_button.click()
    wait(lambda: finished, 300, "the last words after Stop")
    finish_s = time.monotonic() - stop0
    text = page.result.transcript.text
    window.close()
    engine.close()
    return {"commits": commits, "pass_seconds": pass_seconds, "backlog": backlog, "behind_at": behind,
            "text": text, "finish_after_stop_s": round(finish_s, 2), "wall_s": round(time.monotonic() - wall0, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("audio", type=Path)
    p.add_argument("--seconds", type=float, help="only the first N seconds (the reference is then not used)")
    p.add_argument("--weights", nargs="+", default=["none", "bf16"],
                   help="the window's CPU weights for each run, in order (none = float32)")
    p.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "live-window-cpu2.json")
    args = p.parse_args()

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    settings_dir = tempfile.mkdtemp(prefix="parcero-bench-settings-")
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
            QSettings.setPath(fmt, scope, str(Path(settings_dir) / scope.name))  # the person's own stay untouched
    os.environ["PARCERO_DATA_DIR"] = tempfile.mkdtemp(prefix="parcero-bench-data-")
    app = QApplication.instance() or QApplication([])
    from app.main import configure_pyqtgraph
    from bench.bench_longform import ours_model_dir
    from engine.audio import load_audio
    from engine.metrics import error_rates
    from engine.models.io import load_model
    from engine.quantize import cpu_has_bf16, quantize_model
    from engine.transcribe import transcribe_long
    from engine.transcript import DecodeOptions

    configure_pyqtgraph()
    model_dir = ours_model_dir()
    samples = load_audio(args.audio, 16000, duration=args.seconds)
    reference_path = args.audio.with_suffix(".txt")
    reference = (reference_path.read_text(encoding="utf-8").strip()
                 if args.seconds is None and reference_path.is_file() else None)
    # When each word was spoken: an offline transcript's word times (bf16, or int8 on a CPU without
    # bfloat16 instructions: the same words as float32, sooner).
    offline_weights = "bf16" if cpu_has_bf16() else "int8"
    loaded = load_model(model_dir)
    quantize_model(loaded.model, offline_weights)
    offline = transcribe_long(loaded, samples, DecodeOptions(beam_size=5), max_chunk_seconds=30.0)
    del loaded
    report = {"benchmark": "live-window", "audio": str(args.audio), "audio_seconds": round(len(samples) / 16000, 1),
              "model": "whisper-base", "machine": machine_info("cpu"), "offline_weights": offline_weights, "runs": {}}
    for weights in args.weights:
        with tempfile.TemporaryDirectory() as recordings:
            load0 = load_average()
            run = run_window(app, samples, model_dir, weights, Path(recordings), len(samples) / 16000 + 120)
        latencies = commit_latencies(run["commits"], offline.words)
        own = [clock - end for clock, _, end in run["commits"]]
        against = reference or offline.text
        rates = error_rates([against], [run["text"]])
        result = {
            "weights": weights, "median_commit_latency_s": percentile(latencies, 0.5),
            "p90_commit_latency_s": percentile(latencies, 0.9),
            "median_latency_by_own_word_end_s": percentile(own, 0.5),
            "words_committed": len(run["commits"]), "words_timed_by_offline": len(latencies),
            "wer_live_vs": "reference" if reference else f"offline ({offline_weights}, beam 5)",
            "wer_live": round(rates.wer * 100, 2), "cer_live": round(rates.cer * 100, 2),
            **pass_statistics(run["pass_seconds"]),
            "backlog_max_s": round(max(run["backlog"], default=0.0), 2),
            "behind_first_at_s": run["behind_at"][0] if run["behind_at"] else None,
            "finish_after_stop_s": run["finish_after_stop_s"], "wall_s": run["wall_s"],
            "load_average_start": load0, "load_average_end": load_average(),
            "live_text": run["text"],
        }
        report["runs"][weights] = result
        print(json.dumps({k: v for k, v in result.items() if k != "live_text"}, ensure_ascii=False), flush=True)
    if reference:
        report["wer_offline_vs_reference"] = round(error_rates([reference], [offline.text]).wer * 100, 2)
    args.out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
