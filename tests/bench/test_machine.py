"""What a benchmark result records about its machine."""

from bench.machine import SPEED_FLAGS, cpu_flags, machine_info


def test_cpu_flags_are_the_speed_relevant_ones_in_a_fixed_order():
    flags = cpu_flags()
    assert flags == [f for f in SPEED_FLAGS if f in flags]  # a subset, in SPEED_FLAGS' order
    info = machine_info("cpu")
    assert info["cpu_flags"] == flags and info["cores"] >= 1 and info["cpu"]
