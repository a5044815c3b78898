"""What live text runs with, and what the window says about it: the live beam, and bfloat16 where the CPU has it."""

from __future__ import annotations

import pytest

from app.live_run import live_weights
from app.settings_dialog import BEAM_KEY
from engine.live.options import LIVE_BEAM_SIZE
from tests.app.conftest import new_window


@pytest.fixture
def page(qtbot, engine, tmp_path):
    window = new_window(qtbot, engine, tmp_path, show=False)
    yield window.transcribe_page
    window.close()


@pytest.mark.parametrize("has_bf16, expected", [(True, "bf16"), (False, "none")])
def test_live_text_uses_bfloat16_where_the_cpu_multiplies_it(page, monkeypatch, has_bf16, expected):
    monkeypatch.setattr("engine.quantize.cpu_has_bf16", lambda: has_bf16)  # the CPU's instruction set
    page.device = "cpu"
    page.set_cpu_weights("none")
    assert live_weights(page) == expected


def test_live_text_keeps_weights_the_person_chose(page, monkeypatch):
    monkeypatch.setattr("engine.quantize.cpu_has_bf16", lambda: True)
    page.device = "cpu"
    page.set_cpu_weights("int8")
    assert live_weights(page) == "int8"


def test_the_beam_box_shows_the_live_beam_then_gives_the_persons_back(page):
    options = page.options
    page.beam_spin.setValue(3)
    stored = options.settings.value(BEAM_KEY, type=int)
    options.show_live_beam(LIVE_BEAM_SIZE)
    assert page.beam_spin.value() == LIVE_BEAM_SIZE and not page.beam_spin.isEnabled()
    assert str(LIVE_BEAM_SIZE) in page.beam_spin.toolTip()
    assert options.settings.value(BEAM_KEY, type=int) == stored == 3  # the person's stored beam is not touched
    options.show_live_beam(LIVE_BEAM_SIZE)  # again while live: still the person's 3 kept
    options.show_live_beam(None)
    assert page.beam_spin.value() == 3 and page.beam_spin.isEnabled()
