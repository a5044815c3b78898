"""The cost arithmetic of the Train page's estimate panel (app.cost), without Qt."""

from __future__ import annotations

import math

import pytest

from app.cost import (
    DEFAULT_PRICES, HOURS_PER_MONTH, InstancePrice, batches_per_epoch, epochs_for_steps, estimate_costs, format_hours, format_usd,
    gpu_hours, prices_from_json, prices_to_json, steady_throughput,
)


def test_gpu_hours_is_audio_times_epochs_over_throughput():
    # 100 h of audio, 10 epochs, 500 s of audio per second: 1000 h of audio / 500 = 2 h
    assert gpu_hours(100.0, 10, 500.0) == pytest.approx(2.0)
    assert gpu_hours(1.0, 1, 0.0) == math.inf  # not measured yet


def test_seeded_prices_are_the_quoted_ones():
    assert [(p.instance, p.gpus, p.gpu, p.monthly_usd) for p in DEFAULT_PRICES] == [
        ("p3.2xlarge", 1, "V100", 2236.80),
        ("p3dn.24xlarge", 8, "V100", 22791.16),
        ("p4d.24xlarge", 8, "A100", 23930.40),
    ]
    assert HOURS_PER_MONTH == 730
    assert DEFAULT_PRICES[0].hourly_usd == pytest.approx(2236.80 / 730)


def test_costs_per_instance_divide_time_by_the_gpus_and_charge_the_whole_instance():
    rows = estimate_costs(100.0, 10, 500.0, DEFAULT_PRICES)  # 2 GPU-hours
    one, eight_v100, eight_a100 = rows
    assert one.hours == pytest.approx(2.0)
    assert one.cost_usd == pytest.approx(2.0 * 2236.80 / 730)
    assert eight_v100.hours == pytest.approx(2.0 / 8)
    assert eight_v100.cost_usd == pytest.approx(2.0 / 8 * 22791.16 / 730)
    assert eight_a100.cost_usd == pytest.approx(2.0 / 8 * 23930.40 / 730)


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
    rows = [InstancePrice("g5.xlarge", 1, "A10G", 734.40), InstancePrice("mío", 2, "L4", 1000.0)]
    assert prices_from_json(prices_to_json(rows)) == rows
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

    code = ("import sys, app.cost, app.run_files, app.alignment_view, app.eval_report; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
