"""bench/gpu_check.py in its quick CPU mode: every part runs, time-boxed, and lands in the JSON with its status.

The GPU machine runs the full mode (docs/benchmarks.md, "GPU check"); this proves the script itself
before a GPU is ever seen, and that a part that crashes is recorded as failed while the others go on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "gpu_check.py"
STATUSES = {"ok", "partial", "skipped", "failed", "timeout"}

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def run_check(out: Path, *args: str, env: dict | None = None) -> dict:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--device", "cpu", "--quick", "--out", str(out),
                           "--work", str(out / "work"), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=560, env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr[-3000:]
    [path] = out.glob("gpu-check-cpu*-quick.json")
    assert path.with_suffix(".md").is_file()
    report = json.loads(path.read_text(encoding="utf-8"))
    assert "| part | status |" in proc.stdout  # the summary table, printed
    return report


def test_quick_cpu_mode_runs_every_part_and_records_it(tmp_path):
    report = run_check(tmp_path)
    assert report["quick"] is True and report["device"].startswith("CPU") and report["cpu"]
    assert report["total_seconds"] < 300  # the bound for the quick mode
    parts = report["parts"]
    assert list(parts) == ["cuda_tests", "train", "compile", "ddp", "inference", "finetune"]
    for name, part in parts.items():
        assert part["status"] in STATUSES, name
        assert part["seconds"] >= 0 and part["limit_seconds"] > 0, name
    # no CUDA here: the CUDA tests ran and every one of them skipped
    assert parts["cuda_tests"]["status"] == "skipped" and parts["cuda_tests"]["tests"]["tests"] >= 5
    train = parts["train"]
    assert train["status"] == "ok" and {r["precision"] for r in train["results"]} == {"fp32", "bf16"}
    assert all(r["audio_seconds_per_second"] > 0 for r in train["results"]) and train["loader"]
    # torch.compile may not finish inside its limit on 2 loaded cores: then it says so, with the eager figure
    assert parts["compile"]["steps"]["eager"]["status"] == "ok"
    assert parts["compile"]["status"] in {"ok", "partial"}
    ddp = parts["ddp"]
    assert ddp["status"] == "ok" and ddp["processes"] == 2 and ddp["backend"] == "gloo" and len(ddp["steps"]) == 4
    inference = parts["inference"]
    assert inference["steps"]["speech_transformer"]["status"] == "ok" and inference["speech_transformer"]
    assert inference["steps"]["whisper_longform"]["status"] == "skipped"
    if inference["steps"].get("whisper_clips", {}).get("status") == "ok":  # Whisper base and cajal-es are here
        assert inference["steps"]["whisper_live"]["status"] == "ok", inference["steps"]["whisper_live"]
        assert inference["whisper_live"]["words_committed"] > 0 and inference["whisper_live"]["passes"] > 0
    finetune = parts["finetune"]
    assert finetune["status"] == "ok" and finetune["loss_fell"] and finetune["cer_improved"]


def test_a_part_that_crashes_is_recorded_as_failed_and_the_next_part_still_runs(tmp_path):
    report = run_check(tmp_path, "--parts", "train", "cuda_tests", env={"GPU_CHECK_FAIL": "train"})
    train, after = report["parts"]["train"], report["parts"]["cuda_tests"]
    assert train["status"] == "failed" and "injected failure" in train["error"]
    assert after["status"] == "skipped" and after["tests"]["tests"] >= 5
