import types

import pytest
import torch

from engine.device import describe_device, pick_device
from engine.errors import ParceroError


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.fixture
def fake_h100(monkeypatch):
    props = types.SimpleNamespace(name="NVIDIA H100 80GB HBM3", total_memory=85_520_809_984)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "get_device_properties", lambda index: props)


@pytest.mark.parametrize("requested", [None, "auto", "AUTO", "", "cpu", " CPU "])
def test_pick_device_on_a_cpu_machine(no_cuda, requested):
    assert pick_device(requested) == torch.device("cpu")


@pytest.mark.parametrize("requested", ["cuda", "cuda:0"])
def test_cuda_without_a_gpu_says_what_to_do(no_cuda, requested):
    with pytest.raises(ParceroError, match=r"--device cpu") as info:
        pick_device(requested)
    assert requested in str(info.value)


@pytest.mark.parametrize("requested", ["tpu", "gpu0", "cuda:x", "banana"])
def test_unknown_device_is_refused(requested):
    with pytest.raises(ParceroError, match="unknown device"):
        pick_device(requested)


def test_describe_cpu(no_cuda):
    threads = torch.get_num_threads()
    expected = f"CPU ({threads} thread{'s' if threads != 1 else ''})"
    assert describe_device() == expected
    assert describe_device("cpu") == expected
    assert describe_device(torch.device("cpu")) == expected


def test_describe_cpu_even_when_a_gpu_is_present(fake_h100):
    assert describe_device("cpu").startswith("CPU (")


def test_auto_picks_the_gpu_and_describes_it(fake_h100):
    assert pick_device(None) == torch.device("cuda")
    assert describe_device() == "CUDA: NVIDIA H100 80GB HBM3, 80 GB"
    assert describe_device("cuda:0") == "CUDA: NVIDIA H100 80GB HBM3, 80 GB"


def test_a_gpu_index_past_the_last_is_refused(fake_h100):
    with pytest.raises(ParceroError, match="1 CUDA GPU "):
        pick_device("cuda:1")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_describe_a_real_gpu():
    text = describe_device("cuda")
    assert text.startswith("CUDA: ") and text.endswith(" GB")
