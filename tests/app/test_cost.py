"""The cost arithmetic of the Train page's estimate panel (app.cost), without Qt."""

from __future__ import annotations

import json
import math

import pytest

from app.cost import (
    DEFAULT_PRICES, GPU_PEAKS, HOURS_PER_MONTH, SEED_QUOTED, InstancePrice, Throughput, batches_per_epoch,
    epochs_for_steps, estimate_costs, format_hours, format_usd, gpu_hours, gpu_peak, prices_from_json, prices_to_json,
    speed_on, steady_throughput, throughputs_from_result,
)


def test_gpu_hours_is_audio_times_epochs_over_throughput():
    # 100 h of audio, 10 epochs, 500 s of audio per second: 1000 h of audio / 500 = 2 h
    assert gpu_hours(100.0, 10, 500.0) == pytest.approx(2.0)
    assert gpu_hours(1.0, 1, 0.0) == math.inf  # not measured yet


def test_seeded_prices_are_the_quoted_ones_and_current_ones_carry_their_date():
    assert [(p.instance, p.gpus, p.gpu, p.monthly_usd, p.quoted) for p in DEFAULT_PRICES[:3]] == [
        ("p3.2xlarge", 1, "V100", 2236.80, SEED_QUOTED),
        ("p3dn.24xlarge", 8, "V100", 22791.16, SEED_QUOTED),
        ("p4d.24xlarge", 8, "A100", 23930.40, SEED_QUOTED),
    ]
    assert HOURS_PER_MONTH == 730
    assert DEFAULT_PRICES[0].hourly_usd == pytest.approx(2236.80 / 730)
    current = {p.instance: p for p in DEFAULT_PRICES[3:]}
    assert {p.gpu for p in current.values()} == {"A10G", "L4", "L40S", "H100"}
    assert current["g5.xlarge"].hourly_usd == pytest.approx(1.006, abs=1e-4)
    assert all(len(p.quoted) == 7 and p.quoted[4] == "-" for p in current.values())  # "YYYY-MM"
    assert all(gpu_peak(p.gpu) is not None for p in DEFAULT_PRICES)  # every shipped row can be scaled


def test_costs_per_instance_divide_time_by_the_gpus_and_charge_the_whole_instance():
    rows = estimate_costs(100.0, 10, 500.0, DEFAULT_PRICES[:3])  # 2 GPU-hours; device unknown: used as is
    one, eight_v100, eight_a100 = rows
    assert one.hours == pytest.approx(2.0)
    assert one.cost_usd == pytest.approx(2.0 * 2236.80 / 730)
    assert eight_v100.hours == pytest.approx(2.0 / 8)
    assert eight_v100.cost_usd == pytest.approx(2.0 / 8 * 22791.16 / 730)
    assert eight_a100.cost_usd == pytest.approx(2.0 / 8 * 23930.40 / 730)


def test_gpu_names_as_cuda_reports_them_find_their_datasheet_peak():
    names = {"NVIDIA H100 80GB HBM3": "H100 SXM", "NVIDIA H100 PCIe": "H100 PCIe", "NVIDIA H100 NVL": "H100 NVL",
             "NVIDIA H200": "H200", "NVIDIA A100-SXM4-80GB": "A100", "Tesla V100-SXM2-16GB": "V100",
             "NVIDIA L4": "L4", "NVIDIA L40S": "L40S", "NVIDIA A10G": "A10G", "A100": "A100", "l40s": "L40S"}
    assert {n: gpu_peak(n).name for n in names} == names
    assert gpu_peak("NVIDIA GeForce RTX 4090") is None and gpu_peak("") is None and gpu_peak(None) is None
    assert all(g.dense_tflops > 0 and g.source for g in GPU_PEAKS)
    # the dense figure is half the datasheet's sparse one
    assert gpu_peak("H100").dense_tflops == pytest.approx(1979 / 2, abs=1) and gpu_peak("L4").dense_tflops == 121


def test_a_gpu_measurement_is_scaled_to_other_gpus_by_peak_rate_at_the_same_mfu():
    h100 = Throughput(3000.0, "cuda", "NVIDIA H100 80GB HBM3")
    assert speed_on(h100, "H100") == pytest.approx(3000.0)
    assert speed_on(h100, "A100") == pytest.approx(3000.0 * 312 / 989)
    assert speed_on(h100, "V100") == pytest.approx(3000.0 * 125 / 989)
    rows = {r.price.instance: r for r in estimate_costs(100.0, 10, h100, DEFAULT_PRICES)}
    # 1000 h of audio on one A100 at 3000 × 312/989 s/s, then over the 8 GPUs of a p4d
    a100_hours = 1000 * 3600 / (3000 * 312 / 989) / 3600
    assert rows["p4d.24xlarge"].hours == pytest.approx(a100_hours / 8)
    assert rows["p4d.24xlarge"].cost_usd == pytest.approx(a100_hours / 8 * 23930.40 / 730)
    assert rows["p5.48xlarge"].speed == pytest.approx(3000.0)
    # two GPUs measured together (torchrun): each trains at half the sum
    assert speed_on(Throughput(6000.0, "cuda", "NVIDIA H100 80GB HBM3", gpus=2), "H100") == pytest.approx(3000.0)


def test_a_cpu_measurement_prices_nothing_and_an_unknown_gpu_only_its_own_rows():
    cpu = Throughput(50.0, "cpu")
    assert speed_on(cpu, "H100") is None
    assert all(r.speed is None and r.hours == math.inf and format_usd(r.cost_usd) == "—"
               for r in estimate_costs(100.0, 10, cpu, DEFAULT_PRICES))
    odd = Throughput(800.0, "cuda", "NVIDIA GeForce RTX 4090")
    prices = [InstancePrice("casa", 1, "RTX 4090", 100.0), InstancePrice("p3.2xlarge", 1, "V100", 2236.80)]
    own, other = estimate_costs(10.0, 1, odd, prices)
    assert own.speed == 800.0 and other.speed is None


def test_throughputs_are_read_from_gpu_check_and_train_throughput_results(tmp_path):
    gpu_check = {"benchmark": "gpu_check", "gpu": "NVIDIA H100 80GB HBM3", "device": "CUDA: NVIDIA H100 80GB HBM3",
                 "parts": {"train": {"status": "ok", "results": [
                     {"preset": "small", "precision": "bf16", "audio_seconds_per_second": 3500.0, "mfu": 0.31},
                     {"preset": "base", "precision": "bf16", "audio_seconds_per_second": 1200.0}]}}}
    path = tmp_path / "gpu-check-nvidia-h100.json"
    path.write_text(json.dumps(gpu_check), encoding="utf-8")
    best, second = throughputs_from_result(path)
    assert (best.audio_seconds_per_second, best.device, best.gpu, best.mfu) == (3500.0, "cuda",
                                                                                "NVIDIA H100 80GB HBM3", 0.31)
    assert "small bf16" in best.source and second.audio_seconds_per_second == 1200.0
    plain = {"benchmark": "train_throughput", "device": "CPU (2 threads)",
             "results": [{"preset": "tiny", "precision": "fp32", "audio_seconds_per_second": 49.4}]}
    [cpu] = throughputs_from_result(plain)
    assert cpu.on_cpu and speed_on(cpu, "A100") is None
    with pytest.raises(ValueError, match="no training throughput"):
        throughputs_from_result({"benchmark": "gpu_check", "parts": {"train": {"status": "failed"}}})


def test_epochs_from_steps_count_the_samplers_batches():
    assert epochs_for_steps(1800, 1, 18) == pytest.approx(100.0)
    assert epochs_for_steps(1800, 2, 18) == pytest.approx(200.0)
    assert epochs_for_steps(10, 1, 0) == 0.0
    # 1 h in 1,800 two-second clips, 20,000 frames a batch: 18 full batches' worth, plus the part-filled
    # last batch of each of the 10 duration buckets
    assert 18 <= batches_per_epoch([2.0] * 1800, 20000) <= 18 + 10
    assert batches_per_epoch([1.0] * 6, 20000) == 1  # tiny sets: never more buckets than batches
    assert batches_per_epoch([1.0] * 6, 20000, num_buckets=1) == 1
    assert batches_per_epoch([], 20000) == 0


def test_steady_throughput_skips_the_warm_up_step_and_takes_the_median():
    assert steady_throughput([5.0, 100.0, 110.0, 90.0, 3.0]) == pytest.approx(95.0)
    assert steady_throughput([7.0]) == 7.0
    assert steady_throughput([]) is None
    assert steady_throughput([0.0, None]) is None


def test_prices_round_trip_and_bad_rows_are_dropped():
    rows = [InstancePrice("g5.xlarge", 1, "A10G", 734.40, "2026-06"), InstancePrice("mío", 2, "L4", 1000.0)]
    assert prices_from_json(prices_to_json(rows)) == rows
    old = '[{"instance": "p3.2xlarge", "gpus": 1, "gpu": "V100", "monthly_usd": 2236.8}]'  # saved before "quoted"
    assert prices_from_json(old) == [InstancePrice("p3.2xlarge", 1, "V100", 2236.8, "")]
    assert prices_from_json('[{"instance": "x", "gpus": "two", "monthly_usd": 1}, {"gpus": 1}]') == []
    assert prices_from_json("not json") == []
    assert prices_from_json(None) == []


def test_formatting():
    assert format_hours(math.inf) == "—"
    assert format_hours(0.5) == "30.0 min"
    assert format_hours(2 / 3600) == "2.0 s"
    assert format_hours(3 + 20 / 60) == "3 h 20 min"
    assert format_hours(72) == "3.0 days"
    assert format_usd(1234.5) == "$1,234.50"
    assert format_usd(0.00123) == "$0.0012"
    assert format_usd(math.inf) == "—"


def test_the_qt_free_helpers_import_without_qt():
    import subprocess
    import sys

    code = ("import sys, app.cost, app.run_files, app.transcript_diff, app.eval_report; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_panel_says_a_cpu_figure_prices_nothing_and_takes_a_typed_or_loaded_gpu_figure(qtbot, tmp_path):
    from app.widgets.cost_estimate import COLUMNS, CostEstimate

    panel = CostEstimate()
    qtbot.addWidget(panel)
    panel.reset_button.click()
    panel.set_audio_hours(100.0)
    panel.set_epochs(10)
    panel.set_measured_device("cpu")
    panel.set_throughput(50.0, "warm-up run of 20 steps")
    assert "on this computer's CPU" in panel.throughput_label.text()
    assert not panel.warning_label.isHidden() and "no GPU estimate" in panel.warning_label.text()
    cost_col = list(COLUMNS).index("Cost")
    assert all(panel.table.item(r, cost_col).text() == "—" for r in range(panel.table.rowCount()))
    assert all(r.speed is None for r in panel.rows())

    panel.typed_gpu_combo.setCurrentText("A100")
    panel.typed_spin.setValue(312.0)  # typed in: 312 s/s on an A100 -> 125 s/s on a V100
    assert panel.warning_label.isHidden()
    rows = {r.price.instance: r for r in panel.rows()}
    assert rows["p4d.24xlarge"].speed == pytest.approx(312.0) and rows["p3.2xlarge"].speed == pytest.approx(125.0)
    assert panel.table.item(0, cost_col).text() == format_usd(rows["p3.2xlarge"].cost_usd)
    assert panel.table.item(0, list(COLUMNS).index("Price quoted")).text() == SEED_QUOTED

    result = tmp_path / "gpu-check.json"
    result.write_text(json.dumps({"gpu": "NVIDIA H100 80GB HBM3", "parts": {"train": {"results": [
        {"preset": "small", "precision": "bf16", "audio_seconds_per_second": 3000.0}]}}}), encoding="utf-8")
    assert panel.load_result(result)
    assert panel.result_combo.isVisibleTo(panel) and "3,000 s/s" in panel.result_combo.currentText()
    assert panel.typed_gpu_combo.currentText() == "H100 SXM" and panel.typed_spin.value() == 3000.0
    assert {r.price.instance: r for r in panel.rows()}["p5.48xlarge"].speed == pytest.approx(3000.0)
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    assert not panel.load_result(bad) and "bad.json: not read" in panel.warning_label.text()
    panel.grab().save(str(tmp_path / "cost-panel.png"))
