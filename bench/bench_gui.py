"""GUI speed: open a 1-hour file, pan/zoom frame time, heatmap updates per second (offscreen Qt).

    QT_QPA_PLATFORM=offscreen python bench/bench_gui.py --out bench/results/gui-cpu2.json

Times are wall-clock on the machine that runs it; offscreen rendering is a
software raster, so a desktop with a GPU-backed compositor is usually faster.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtWidgets import QApplication  # noqa: E402

from bench.machine import load_average, machine_info  # noqa: E402

from app.main import configure_pyqtgraph  # noqa: E402

SR = 16_000


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--out")
    args = p.parse_args()
    app = QApplication.instance() or QApplication([])
    info = machine_info("cpu")
    configure_pyqtgraph()
    from app.widgets.attention_view import AttentionView
    from app.widgets.audio_view import AudioView

    rng = np.random.default_rng(0)
    n = int(args.minutes * 60 * SR)
    t = np.arange(n, dtype=np.float32) / SR
    samples = (0.2 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)
               + 0.01 * rng.standard_normal(n).astype(np.float32)).astype(np.float32)
    del t

    view = AudioView()
    view.resize(1400, 600)
    view.show()
    app.processEvents()
    t0 = time.perf_counter()
    view.set_audio(samples, SR)
    app.processEvents()
    view.grab()  # force a paint of the waveform
    t_wave = time.perf_counter() - t0
    while view.spectrogram is None and time.perf_counter() - t0 < 120:
        app.processEvents()
        time.sleep(0.005)
    view.grab()
    t_both = time.perf_counter() - t0

    duration = n / SR
    frames = []
    width = 30.0
    for i in range(60):  # pan a 30 s window across the file, zooming in and out
        start = (i / 60) * (duration - width)
        t1 = time.perf_counter()
        view.set_visible_range(start, start + width * (1 + (i % 5)))
        app.processEvents()
        view.grab()
        frames.append(time.perf_counter() - t1)

    att = AttentionView()
    att.resize(1400, 400)
    att.show()
    n_frames, n_tokens = 500, 300
    att.reset(n_frames, 4, 4, 0.04)
    row = np.exp(-0.5 * ((np.arange(n_frames) - 100) / 5.0) ** 2).astype(np.float32)
    row /= row.sum()
    t2 = time.perf_counter()
    for step in range(n_tokens):
        for layer in range(4):
            att.add_row(layer, None, step, np.roll(row, step), "a")
        att.redraw()
        app.processEvents()
    heat = n_tokens / (time.perf_counter() - t2)

    result = {
        "benchmark": "gui", **info, "platform": os.environ["QT_QPA_PLATFORM"], "audio_minutes": args.minutes,
        "open_waveform_drawn_s": round(t_wave, 3), "open_both_views_drawn_s": round(t_both, 3),
        "pan_zoom_frame_ms_median": round(1000 * float(np.median(frames)), 1),
        "pan_zoom_frame_ms_p90": round(1000 * float(np.percentile(frames, 90)), 1),
        "pan_zoom_fps_median": round(1 / float(np.median(frames)), 1),
        "heatmap_rows_per_second_with_redraw": round(heat, 1),
        "heatmap_note": f"{n_tokens} steps x 4 layers of {n_frames}-frame rows, one redraw per step",
        "load_average_end": load_average(),
    }
    print(json.dumps(result, indent=2))
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(result, f, indent=2)
    view.shutdown()


if __name__ == "__main__":
    main()
