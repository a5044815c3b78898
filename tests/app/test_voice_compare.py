"""Voice comparison on voices of known pitch and formants, and on real Spanish speech when ../shared has it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from app import audio_io
from app.pages.data_page import DataPage
from app.widgets.voice_compare import STAGES, VoiceCompare, spread_over_speakers
from engine.audio import audio_info, save_wav
from engine.data import homologated_profile
from engine.data.homologated_profile import homologated_clip
from engine.data.importers.common import normalize_gender
from engine.data.manifest import Utterance, read_manifest, write_manifest
from engine.data.validate import ValidationOptions
from tests.app.media import ARTIFACTS, SR
from tests.app.test_audio_io import FakeOutputStream
from tests.engine.data.test_homologated_profile import MAN_FORMANTS, WOMAN_FORMANTS, vowel

CV_SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "cv-es-sample"


def voiced(f0: float, seconds: float, seed: int) -> np.ndarray:
    """Syllables of a harmonic tone at ``f0`` (eight harmonics) over faint noise, float32 (n,)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 9))
    syllables = np.clip(np.sin(2 * np.pi * 2.0 * (t - 0.1)), 0, None) * (t > 0.1)
    return (0.2 * tone * syllables + 0.002 * rng.standard_normal(t.size)).astype(np.float32)


def tone_voices(folder: Path, formants: bool = False) -> Path:
    """Three "women" at 220 Hz and three "men" at 110 Hz, two speakers each; returns the manifest.

    With ``formants`` they are vowels, the women's formants 17 % higher than the men's.
    """
    (folder / "clips").mkdir(parents=True)
    items = []
    for i in range(6):
        gender, f0 = ("female", 220.0) if i % 2 == 0 else ("male", 110.0)
        seconds = 1.2 + 0.2 * i
        samples = (vowel(f0, WOMAN_FORMANTS if gender == "female" else MAN_FORMANTS, seconds, i) if formants
                   else voiced(f0, seconds, i))
        save_wav(folder / "clips" / f"v{i}.wav", samples, SR)
        items.append(Utterance(f"v{i}", f"clips/v{i}.wav", seconds, "hola", f"{gender[0]}{i // 4}", gender, SR))
    path = folder / "voices.jsonl"
    write_manifest(path, items)
    return path


@pytest.fixture
def compare(qtbot):
    widget = VoiceCompare(max_per_group=10)
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    yield widget
    widget.shutdown()


def test_women_at_220_and_men_at_110_hz(compare, qtbot, tmp_path, monkeypatch):
    utterances = read_manifest(tone_voices(tmp_path)).utterances
    compare.set_dataset(utterances, tmp_path)
    assert compare.group_names() == ("women", "men")
    a, b = compare.groups()
    assert {u.gender for u in a} == {"female"} and len(a) == 3
    assert {u.gender for u in b} == {"male"} and len(b) == 3

    with qtbot.waitSignal(compare.analysis_finished, timeout=20000) as blocker:
        compare.analyse()
    women, men = blocker.args[0]
    assert women.clips == men.clips == 3
    assert women.f0_stats.median == pytest.approx(220, abs=3)
    assert men.f0_stats.median == pytest.approx(110, abs=3)
    # The spectra differ where the voices do: men have energy at 110 Hz, women none.
    near_110 = np.argmin(np.abs(men.freqs - 110))
    assert men.spectrum_db[near_110] > women.spectrum_db[near_110] + 10
    assert np.mean(np.abs(men.spectrum_db - women.spectrum_db)) > 3
    assert compare.plots.table.item(3, 1).text() == f"{women.f0_stats.median:.0f} Hz"
    assert len(compare.plots.histogram_widget.getPlotItem().listDataItems()) == 2
    assert len(compare.plots.spectrum_widget.getPlotItem().listDataItems()) == 2

    # Each column shows one recording with its pitch track.
    qtbot.waitUntil(lambda: all(c.samples is not None for c in compare.columns), timeout=10000)
    for column, hz in zip(compare.columns, (220, 110)):
        _, f0 = column.f0_curve.getData()
        assert f0 is not None and np.median(f0) == pytest.approx(hz, abs=3)

    # The same "word" (the second syllable) selected in each, at different places: overlaid in one plot.
    compare.columns[0].audio_view.set_selection(0.5, 1.2)
    compare.columns[1].audio_view.set_selection(0.35, 1.2)
    with qtbot.waitSignal(compare.overlay_shown) as shown:
        qtbot.mouseClick(compare.overlay_button, Qt.MouseButton.LeftButton)
    assert shown.args[0].lag == pytest.approx(0.15, abs=0.01)  # the syllable starts 0.1 s and 0.25 s in
    assert len(compare.plots.overlay_curves()) == 2

    out = tmp_path / "comparison.png"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    qtbot.mouseClick(compare.export_button, Qt.MouseButton.LeftButton)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_two_speakers_and_two_recordings(compare, qtbot, tmp_path):
    utterances = read_manifest(tone_voices(tmp_path)).utterances
    compare.set_dataset(utterances, tmp_path)
    compare.set_mode("speaker")
    assert compare.a_combo.count() == 4  # f0, f1, m0, m1
    a, b = compare.groups()
    assert len({u.speaker for u in a}) == 1 and len({u.speaker for u in b}) == 1
    assert a[0].speaker != b[0].speaker
    compare.set_mode("recording")
    compare.b_combo.setCurrentIndex(compare.b_combo.findData("v3"))
    a, b = compare.groups()
    assert [u.id for u in a] == ["v0"] and [u.id for u in b] == ["v3"]
    with qtbot.waitSignal(compare.analysis_finished, timeout=20000) as blocker:
        compare.analyse()
    one, other = blocker.args[0]
    assert one.clips == other.clips == 1
    assert one.f0_stats.median == pytest.approx(220, abs=3) and other.f0_stats.median == pytest.approx(110, abs=3)


def test_without_genders_two_speakers_are_compared(compare, tmp_path):
    utterances = read_manifest(tone_voices(tmp_path)).utterances
    for u in utterances:
        u.gender = ""
    compare.set_dataset(utterances, tmp_path)
    assert compare.mode_combo.currentData() == "speaker"
    compare.set_dataset(utterances[:1], tmp_path)  # one speaker, one recording: nothing to compare, no error
    assert compare.mode_combo.currentData() == "gender" and compare.a_combo.count() == 1


def test_group_samples_are_spread_over_speakers():
    items = [Utterance(f"{s}{i}", "x.wav", 1.0, "", speaker=s) for s in "aab" for i in range(3)]
    picked = spread_over_speakers(items[:3] + items[6:], 4)  # a: 3 clips, b: 3 clips
    assert [u.speaker for u in picked] == ["a", "b", "a", "b"]
    assert len(spread_over_speakers(items, 100)) == len(items)


def test_comparison_screenshot(qtbot, tmp_path):
    """Women and men of Common Voice Spanish (imported through the wizard), or the tone voices without ../shared."""
    page = DataPage()
    qtbot.addWidget(page)
    page.resize(1500, 950)
    compare = page.voice_compare
    compare.count_spin.setValue(8)
    try:
        if (CV_SAMPLE / "validated.tsv").is_file():
            page.import_panel.options = ValidationOptions(workers=1)  # 100 clips: no process pool in a test
            page.import_corpus(CV_SAMPLE)
            qtbot.waitUntil(lambda: page.import_panel.format_combo.currentData() == "commonvoice", timeout=5000)
            with qtbot.waitSignal(page.import_panel.imported, timeout=60000):
                page.import_panel.start_import()
        else:
            page.open_manifest(tone_voices(tmp_path))
        assert compare.group_names() == ("women", "men")
        with qtbot.waitSignal(compare.analysis_finished, timeout=60000) as blocker:
            compare.analyse()
        qtbot.waitUntil(lambda: all(c.samples is not None and c.audio_view.spectrogram is not None
                                    for c in compare.columns), timeout=20000)
        women, men = blocker.args[0]
        # Real voices: women speak higher than men, by far more than a semitone.
        assert women.f0_stats.median > men.f0_stats.median * 1.3
        for column in compare.columns:
            column.audio_view.set_selection(0.5, min(1.5, column.audio_view.duration))
        assert compare.overlay()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.tabs.setCurrentWidget(compare)
        assert page.grab().save(str(ARTIFACTS / "data-compare.png"))
        qtbot.waitUntil(lambda: page.stats_view.stats is not None, timeout=10000)
        page.tabs.setCurrentWidget(page.stats_view)  # the statistics of the same (real) corpus
        assert page.grab().save(str(ARTIFACTS / "data-stats-real.png"))
        assert compare.export_png(tmp_path / "figure.png")
    finally:
        page.shutdown()


# ---- the homologated view ------------------------------------------------------------------------


def cv_women_and_men() -> list[Utterance]:
    """The gendered recordings of ../shared's Common Voice sample, read straight from its table."""
    rows = [line.split("\t") for line in (CV_SAMPLE / "validated.tsv").read_text("utf-8").splitlines()[1:]]
    return [Utterance(Path(r[1]).stem, f"clips/{r[1]}", audio_info(CV_SAMPLE / "clips" / r[1]).duration, r[2], r[0],
                      normalize_gender(r[6])) for r in rows if normalize_gender(r[6])]


def plotted(widget) -> list:
    return widget.getPlotItem().listDataItems()


def test_the_progress_stages_are_the_engines():
    assert STAGES == (homologated_profile.MEASURING, homologated_profile.HOMOLOGATING)


def test_homologated_view_warps_both_groups_and_plays_the_warped_recording(compare, qtbot, tmp_path, monkeypatch):
    FakeOutputStream.instances = []
    monkeypatch.setattr(audio_io, "_output_stream_factory", lambda **kw: FakeOutputStream(**kw))
    compare.set_dataset(read_manifest(tone_voices(tmp_path, formants=True)).utterances, tmp_path)
    with qtbot.waitSignal(compare.analysis_finished, timeout=20000):
        compare.show()  # first shown: measured as recorded
    assert not compare.columns[0].homologated_button.isVisible()
    assert len(plotted(compare.plots.histogram_widget)) == 2 and not compare.plots.before_curves

    with qtbot.waitSignal(compare.homologation_finished, timeout=30000) as blocker:
        compare.homologate_check.click()
    m = blocker.args[0]
    women, men = m.mean_alphas()
    assert m.reference_hz > 0 and women < 1.0 < men  # the women's higher formants come down to meet the men's
    assert compare.is_homologated()
    # After-curves over the dimmed, dashed curves as recorded, in both plots.
    for widget in (compare.plots.histogram_widget, compare.plots.spectrum_widget):
        assert len(plotted(widget)) == 4
    assert len(compare.plots.before_curves) == 4
    assert all(c.opts["pen"].style() == Qt.PenStyle.DashLine for c in compare.plots.before_curves)
    after_spectra = [c.yData for c in plotted(compare.plots.spectrum_widget) if c not in compare.plots.before_curves]
    assert len(after_spectra) == 2
    assert after_spectra[0] == pytest.approx(m.homologated[0].spectrum_db[-after_spectra[0].size:])
    # Each group's mean warp, in the status line, the legend and the table.
    status = compare.status_label.text()
    assert f"{women:.2f}" in status and f"{men:.2f}" in status and f"{m.reference_hz:.0f} Hz" in status
    legend = [label.text for _, label in compare.plots.spectrum_widget.getPlotItem().legend.items]
    assert f"women, α = {women:.2f}" in legend and f"men, α = {men:.2f}" in legend and "as recorded" in legend
    table = compare.plots.table
    rows = {table.item(r, 0).text(): r for r in range(table.rowCount())}
    assert table.item(rows["mean warp factor α"], 1).text() == f"{women:.2f}"
    assert table.item(rows["median F0"], 2).text() == f"{m.profiles[1].f0_stats.median:.0f} Hz"  # as recorded
    assert table.item(rows["median F0 homologated"], 2).text() == f"{m.homologated[1].f0_stats.median:.0f} Hz"

    # Play homologated: the representative recording, warped onto the same reference, reaches the sound card.
    qtbot.waitUntil(lambda: all(c.samples is not None for c in compare.columns), timeout=10000)
    column = compare.columns[0]
    assert column.homologated_button.isVisible()
    with qtbot.waitSignal(compare.homologated_played, timeout=20000) as played:
        qtbot.mouseClick(column.homologated_button, Qt.MouseButton.LeftButton)
    alpha, expected = homologated_clip(column.samples, SR, m.reference_hz)
    assert played.args == [0, pytest.approx(alpha)] and alpha < 1
    assert column.warp_label.text() == f"α = {alpha:.2f}"
    stream = FakeOutputStream.instances[-1]
    qtbot.waitUntil(lambda: sum(b.size for b in stream.played) >= expected.size, timeout=10000)
    sound = np.concatenate(stream.played)[:expected.size]
    assert sound == pytest.approx(expected, abs=1e-6)
    assert np.abs(sound - column.samples).max() > 0.05  # not the recording as it is

    # Off: the recordings as they are, at once; on again: the same measurement, without measuring again.
    compare.homologate_check.click()
    assert len(plotted(compare.plots.histogram_widget)) == 2 and not compare.plots.before_curves
    assert "α" not in compare.status_label.text() and not column.homologated_button.isVisible()
    compare.homologate_check.click()
    assert not compare._runner.is_running and compare.measurement is m
    assert len(plotted(compare.plots.spectrum_widget)) == 4


@pytest.mark.skipif(not (CV_SAMPLE / "validated.tsv").is_file(), reason="needs ../shared/data/cv-es-sample")
def test_homologated_real_women_and_men(qtbot):
    """Common Voice Spanish: the women are warped down, the men up; the screenshot is for a person to look at."""
    compare = VoiceCompare(max_per_group=8)
    qtbot.addWidget(compare)
    compare.resize(1366, 768)
    try:
        compare.set_dataset(cv_women_and_men(), CV_SAMPLE)
        assert compare.group_names() == ("women", "men")
        compare.homologate_check.setChecked(True)
        with qtbot.waitSignal(compare.homologation_finished, timeout=180000) as blocker:
            compare.show()
        m = blocker.args[0]
        women, men = m.mean_alphas()
        assert women < men and women < 1.0
        assert m.homologated[0].clips == m.profiles[0].clips == 8
        qtbot.waitUntil(lambda: all(c.warp_label.text() for c in compare.columns), timeout=60000)
        qtbot.wait(100)  # the layout settles
        # On a 1366 x 768 screen the warp factors are readable and the table's rows all in view.
        assert all(c.warp_label.width() >= c.warp_label.sizeHint().width() for c in compare.columns)
        table = compare.plots.table
        last = table.rowCount() - 1
        assert table.rowViewportPosition(last) + table.rowHeight(last) <= table.viewport().height()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        assert compare.grab().save(str(ARTIFACTS / "data-compare-homologated.png"))
    finally:
        compare.shutdown()
