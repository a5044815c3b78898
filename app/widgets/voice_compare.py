"""Voice comparison: how do two groups of voices in a dataset differ?

The default question is women against men; two speakers or two single
recordings can be compared the same way. For each group the widget shows one
representative recording (selectable) with its pitch track, and measures up
to ``max_per_group`` recordings in the background (spread over the group's
speakers, so one talkative speaker does not stand for the group): F0
distributions, average long-term spectra, level and duration. Selecting the
same word in both recordings and pressing Overlay aligns and level-matches
them in one plot (``engine.data.pitch.align_segments``).

The *Homologated* view shows what frequency warping (VTLN,
:mod:`engine.homologate`) does to the groups: every measured recording is
warped onto one reference (the median of all of them) and measured again; the
plots show the warped groups over the recordings' dashed curves, with each
group's mean warp factor, and each column plays its recording homologated,
as a homologating model hears it. All measuring is in :mod:`engine.data.pitch`
and :mod:`engine.data.homologated_profile`; this module only asks and draws.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox, QSplitter,
    QVBoxLayout, QWidget,
)

from app.audio_io import Player
from app.background import BackgroundRunner
from app.i18n import QT_TRANSLATE_NOOP
from app.widgets.voice_plots import SAMPLE_RATE, ClipColumn, ComparisonPlots, short_speaker
from engine.data.homologated_profile import GroupMeasurement, homologated_clip, measure_groups
from engine.data.manifest import Utterance
from engine.data.pitch import align_segments

GROUP_COLORS = (QColor("#e66100"), QColor("#1a5fb4"))  # orange and blue: apart for colour-blind eyes too
# (key, label); labels shown through VoiceCompare.tr
MODES = (("gender", QT_TRANSLATE_NOOP("VoiceCompare", "women and men")),
         ("speaker", QT_TRANSLATE_NOOP("VoiceCompare", "two speakers")),
         ("recording", QT_TRANSLATE_NOOP("VoiceCompare", "two recordings")))
GENDER_CHOICES = (("female", QT_TRANSLATE_NOOP("VoiceCompare", "women")),
                  ("male", QT_TRANSLATE_NOOP("VoiceCompare", "men")),
                  ("", QT_TRANSLATE_NOOP("VoiceCompare", "gender unknown")))
# measure_groups' progress stages (engine.data.homologated_profile.MEASURING, HOMOLOGATING), shown translated
STAGES = (QT_TRANSLATE_NOOP("VoiceCompare", "measuring voices"),
          QT_TRANSLATE_NOOP("VoiceCompare", "homologating voices"))
MAX_OVERLAY_LAG = 1.0  # seconds: the same word selected by hand is never further apart


def spread_over_speakers(utterances: Sequence[Utterance], n: int) -> list[Utterance]:
    """Up to ``n`` utterances taking one per speaker in turn (speakers in order of first appearance)."""
    by_speaker: dict[str, list[Utterance]] = defaultdict(list)
    for u in utterances:
        by_speaker[u.speaker or f"\0{u.id}"].append(u)  # no speaker: each clip counts as its own voice
    queues = list(by_speaker.values())
    picked: list[Utterance] = []
    depth = 0
    while len(picked) < n and any(depth < len(q) for q in queues):
        picked.extend(q[depth] for q in queues if depth < len(q))
        depth += 1
    return picked[:n]


class VoiceCompare(QWidget):
    analysis_finished = Signal(object)  # (VoiceProfile, VoiceProfile) of groups A and B, as recorded
    homologation_finished = Signal(object)  # GroupMeasurement with the groups homologated too
    overlay_shown = Signal(object)  # engine.data.pitch.AlignedPair
    homologated_played = Signal(int, float)  # column (0: group A), its warp factor

    def __init__(self, parent: QWidget | None = None, max_per_group: int = 20):
        super().__init__(parent)
        self.utterances: list[Utterance] = []
        self.base_dir: Path | None = None
        self.profiles = None
        self.measurement: GroupMeasurement | None = None  # of the groups now chosen; None while measuring
        self._stale = False  # the groups changed since the last analysis
        self.player = Player(self)
        self._runner = BackgroundRunner(self)
        # The columns' recordings warped for playing: column -> (samples, reference Hz, alpha, warped samples)
        self._warps: dict[int, tuple] = {}
        self._warp_runner = BackgroundRunner(self)
        self._warp_job = None  # what the warp runner is working on, to not restart it for the same
        self._pending_play = None  # (column, start s, end s or None) to play once its warp is ready
        self._homologating = False  # the analysis under way (or last) was asked to homologate
        self._build(max_per_group)
        self._connect()

    def _build(self, max_per_group: int) -> None:
        self.mode_combo = QComboBox()
        for mode, text in MODES:
            self.mode_combo.addItem(self.tr(text), mode)
        self.a_combo, self.b_combo = QComboBox(), QComboBox()
        for combo in (self.a_combo, self.b_combo):
            combo.setMinimumContentsLength(18)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.count_spin = QSpinBox()
        self.count_spin.setRange(1, 1000)
        self.count_spin.setValue(max_per_group)
        self.count_spin.setPrefix(self.tr("up to "))
        self.count_spin.setSuffix(self.tr(" recordings per group"))
        self.analyse_button = QPushButton(self.tr("Analyse"))
        self.homologate_check = QCheckBox(self.tr("Homologated"))
        self.homologate_check.setToolTip(self.tr(
            "Warp every voice onto a common reference (the median of all recordings compared), as a model trained "
            "with homologated voices hears them; the recordings' own curves stay dashed"))
        self.overlay_button = QPushButton(self.tr("Overlay selections"))
        self.overlay_button.setToolTip(self.tr("Shift+drag the same word in both recordings, then overlay them"))
        self.export_button = QPushButton(self.tr("Export PNG…"))
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(200)
        self.progress.setMinimumWidth(170)  # "measuring voices 12/40" stays readable beside the wrapping status
        self.progress.hide()
        self.status_label = QLabel()

        self.columns = (ClipColumn(GROUP_COLORS[0]), ClipColumn(GROUP_COLORS[1]))
        self.plots = ComparisonPlots(GROUP_COLORS)
        self.figure = QSplitter(Qt.Orientation.Vertical)  # what Export PNG saves
        clips = QSplitter()
        for column in self.columns:
            clips.addWidget(column)
        self.figure.addWidget(clips)
        self.figure.addWidget(self.plots)
        self.figure.setSizes([430, 270])

        # Two rows of controls: in one row they alone needed 1,200 px, wider than a 1366 px screen
        # leaves the page (issue 17). The status line wraps instead of widening the page.
        self.status_label.setWordWrap(True)
        groups = QHBoxLayout()
        groups.addWidget(QLabel(self.tr("Compare")))
        groups.addWidget(self.mode_combo)
        groups.addWidget(self.a_combo, 1)
        groups.addWidget(QLabel(self.tr("with")))
        groups.addWidget(self.b_combo, 1)
        groups.addStretch(0)
        actions = QHBoxLayout()
        for w in (self.count_spin, self.analyse_button, self.homologate_check, self.progress):
            actions.addWidget(w)
        actions.addWidget(self.status_label, 1)
        actions.addWidget(self.overlay_button)
        actions.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(groups)
        layout.addLayout(actions)
        layout.addWidget(self.figure, 1)

    def _connect(self) -> None:
        self.mode_combo.currentIndexChanged.connect(self.on_mode_combo_current_index_changed)
        self.a_combo.currentIndexChanged.connect(self.on_group_combo_current_index_changed)
        self.b_combo.currentIndexChanged.connect(self.on_group_combo_current_index_changed)
        self.count_spin.valueChanged.connect(self.on_group_combo_current_index_changed)
        self.analyse_button.clicked.connect(self.analyse)
        self.homologate_check.toggled.connect(self.on_homologate_check_toggled)
        self.overlay_button.clicked.connect(self.overlay)
        self.export_button.clicked.connect(self.on_export_button_clicked)
        self._runner.progress_changed.connect(self.on_runner_progress_changed)
        self._runner.finished.connect(self.on_runner_finished)
        self._runner.failed.connect(self.on_runner_failed)
        self._warp_runner.finished.connect(self.on_warp_runner_finished)
        self._warp_runner.failed.connect(self.on_warp_runner_failed)
        self.player.failed.connect(self.on_player_failed)  # no sound card: say so where the user looks
        for column in self.columns:
            column.play_requested.connect(self.on_column_play_requested)
            column.play_homologated_requested.connect(self.on_column_play_homologated_requested)
            column.clip_loaded.connect(self.on_column_clip_loaded)

    # ---- public API -------------------------------------------------------------------

    def set_dataset(self, utterances: Sequence[Utterance], base_dir: str | Path | None) -> None:
        """Compare voices of this dataset; relative audio paths are resolved against ``base_dir``."""
        self.utterances = list(utterances)
        self.base_dir = Path(base_dir) if base_dir is not None else None
        # Women and men when the data says who is who; else two speakers; else two recordings.
        mode = next((m for m, _ in MODES if len(self._choices(m)) >= 2), "gender")
        if mode != self.mode_combo.currentData():
            self.set_mode(mode)  # fills the groups
        else:
            self.on_mode_combo_current_index_changed(self.mode_combo.currentIndex())

    def set_mode(self, mode: str) -> None:
        """``"gender"``, ``"speaker"`` or ``"recording"``."""
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(mode))

    def groups(self) -> tuple[list[Utterance], list[Utterance]]:
        """The recordings measured for groups A and B."""
        mode, n = self.mode_combo.currentData(), self.count_spin.value()
        out = []
        for combo in (self.a_combo, self.b_combo):
            key = combo.currentData()
            if key is None:
                out.append([])
            elif mode == "recording":
                out.append([u for u in self.utterances if u.id == key][:1])
            else:
                field = "gender" if mode == "gender" else "speaker"
                out.append(spread_over_speakers([u for u in self.utterances if getattr(u, field) == key], n))
        return out[0], out[1]

    def group_names(self) -> tuple[str, str]:
        return self.a_combo.currentText().split(" (")[0], self.b_combo.currentText().split(" (")[0]

    def analyse(self) -> None:
        """Measure both groups in the background (homologated too when checked); ``analysis_finished`` follows."""
        groups, base, homologate = self.groups(), self.base_dir, self.homologate_check.isChecked()
        self._stale = False
        self._homologating = homologate
        self.measurement = None
        self.plots.clear_profiles()
        for column in self.columns:
            column.set_homologated(homologate)  # the warp factors shown belonged to the old reference
        if not groups[0] and not groups[1]:
            self._runner.cancel()
            self.progress.hide()
            return
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status_label.setText("")
        self._runner.start(lambda progress: measure_groups(
            groups, lambda u: u.load_samples(base, SAMPLE_RATE), SAMPLE_RATE, progress, homologate=homologate))

    def is_homologated(self) -> bool:
        """Whether the plots show the groups homologated now."""
        m = self.measurement
        return self.homologate_check.isChecked() and m is not None and m.is_homologated

    def overlay(self) -> bool:
        """Align the selected stretches of the two shown recordings and draw them in one plot."""
        a, b = (column.segment() for column in self.columns)
        if a is None or b is None or a.size == 0 or b.size == 0:
            self.plots.overlay_label.setText(self.tr("Wait for both recordings to load, then select a word in each."))
            return False
        pair = align_segments(a, b, SAMPLE_RATE, max_lag=MAX_OVERLAY_LAG)
        self.plots.show_overlay(self.group_names(), pair)
        self.overlay_shown.emit(pair)
        return True

    def export_png(self, path: str | Path) -> bool:
        """Save the comparison figure (recordings and plots) as an image."""
        return self.figure.grab().save(str(path), "PNG")

    def shutdown(self) -> None:
        self.player.stop()
        self._runner.shutdown()
        self._warp_runner.shutdown()
        for column in self.columns:
            column.shutdown()

    # ---- slots ---------------------------------------------------------------------------

    @Slot(int)
    def on_mode_combo_current_index_changed(self, _index: int) -> None:
        mode = self.mode_combo.currentData()
        for combo in (self.a_combo, self.b_combo):
            combo.blockSignals(True)
            combo.clear()
        choices = self._choices(mode)
        for combo, default in ((self.a_combo, 0), (self.b_combo, 1)):
            for text, key in choices:
                combo.addItem(text, key)
            combo.setCurrentIndex(min(default, combo.count() - 1))
            combo.blockSignals(False)
        self.on_group_combo_current_index_changed()

    @Slot()
    def on_group_combo_current_index_changed(self, *_args) -> None:
        names = self.group_names()
        for column, name, group in zip(self.columns, names, self.groups()):
            column.set_title(name)
            column.set_choices(group, self.base_dir)
        self._stale = True
        if self.isVisible():
            self.analyse()

    @Slot(str, int, int)
    def on_runner_progress_changed(self, stage: str, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(done)
        self.progress.setFormat(f"{self.tr(stage)} %v/%m")

    @Slot(object)
    def on_runner_finished(self, result: GroupMeasurement) -> None:
        self.measurement, self.profiles = result, result.profiles
        self.progress.hide()
        self._show_measurement()
        self.analysis_finished.emit(result.profiles)
        if result.is_homologated:
            self.homologation_finished.emit(result)
            self._refresh_warps()

    @Slot(bool)
    def on_homologate_check_toggled(self, checked: bool) -> None:
        for i, column in enumerate(self.columns):
            column.set_homologated(checked, self._warp(i)[2] if self._warp(i) else None)
        m = self.measurement
        have = m is not None and m.is_homologated or (self._runner.is_running and self._homologating)
        if checked and not have:  # measured (or measuring) as recorded only: again, homologated this time
            if self.isVisible():
                self.analyse()
            else:
                self._stale = True  # measured when the tab is shown
            return
        self._show_measurement()
        self._refresh_warps()

    @Slot(object)
    def on_column_clip_loaded(self, _utterance) -> None:
        self._refresh_warps()

    @Slot(object, float, object)
    def on_column_play_homologated_requested(self, samples, start: float, end) -> None:
        index = next((i for i, column in enumerate(self.columns) if column.samples is samples), None)
        if index is None:
            return
        self._pending_play = (index, start, end)
        if self._warp(index):
            self._play_pending()
        else:
            self.status_label.setText(self.tr("Warping the recording; it plays when ready…"))
            self._refresh_warps()

    @Slot(object)
    def on_warp_runner_finished(self, results) -> None:
        self._warp_job = None
        for index, samples, reference, alpha, warped in results:
            column = self.columns[index]
            if column.samples is samples:
                self._warps[index] = (samples, reference, alpha, warped)
                column.set_homologated(self.homologate_check.isChecked(), alpha)
        if self._pending_play is not None and self._warp(self._pending_play[0]):
            self._play_pending()

    @Slot(str)
    def on_runner_failed(self, message: str) -> None:
        self.progress.hide()
        self._show_error(message)

    @Slot(str)
    def on_warp_runner_failed(self, message: str) -> None:
        self._warp_job = self._pending_play = None
        self._show_error(message)

    @Slot(str)
    def on_player_failed(self, message: str) -> None:
        self._show_error(message)

    @Slot(object, float, object)
    def on_column_play_requested(self, samples, start: float, end) -> None:
        self.player.play(samples, SAMPLE_RATE, start, end)

    @Slot()
    def on_export_button_clicked(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export comparison"), "voice-comparison.png",
                                              self.tr("PNG image (*.png)"))
        if path:
            self.export_png(path)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._stale:  # measured when first looked at, not while the tab is hidden
            self.analyse()

    # ---- helpers -------------------------------------------------------------------------

    def _show_measurement(self) -> None:
        """Draw the last measurement, homologated or as recorded as the box says, and say what it shows."""
        m = self.measurement
        if m is None:
            return
        if self.is_homologated():
            self.plots.show_profiles(self.group_names(), m.profiles, homologated=m.homologated, alphas=m.alphas)
        else:
            self.plots.show_profiles(self.group_names(), m.profiles)
        self.status_label.setText(self._status_text())

    def _status_text(self) -> str:
        m = self.measurement
        if m is None:
            return ""
        status = [self.tr("%n unreadable recording(s) left out", "", m.skipped)] if m.skipped else []
        if self.is_homologated():
            names = self.group_names()
            a, b = (f"{alpha:.2f}" for alpha in m.mean_alphas())
            status.insert(0, self.tr("Homologated onto a reference of {hz} Hz; mean warp α: {a} {alpha_a}, "
                                     "{b} {alpha_b} (dashed: as recorded)").format(
                hz=f"{m.reference_hz:.0f}", a=names[0], alpha_a=a, b=names[1], alpha_b=b))
        return " · ".join(status)

    def _show_error(self, message: str) -> None:
        self.status_label.setText(f"<span style='color:#c62828'>{message}</span>")

    def _warp(self, index: int) -> tuple | None:
        """The column's recording warped onto the current reference, if it has been: (samples, ref, alpha, warped)."""
        warp, column, m = self._warps.get(index), self.columns[index], self.measurement
        ready = (warp is not None and column.samples is not None and warp[0] is column.samples and m is not None
                 and warp[1] == m.reference_hz)
        return warp if ready else None

    def _refresh_warps(self) -> None:
        """Warp the shown recordings onto the reference in the background, ready for Play homologated."""
        if not self.is_homologated():
            return
        reference = self.measurement.reference_hz
        todo = [(i, c.samples) for i, c in enumerate(self.columns) if c.samples is not None and not self._warp(i)]
        key = (reference, tuple((i, id(samples)) for i, samples in todo))
        if not todo or (self._warp_runner.is_running and key == self._warp_job):
            return
        self._warp_job = key

        def warp_all(progress):
            out = []
            for done, (i, samples) in enumerate(todo):
                progress("", done, len(todo))  # where a replaced job stops
                out.append((i, samples, reference, *homologated_clip(samples, SAMPLE_RATE, reference)))
            return out

        self._warp_runner.start(warp_all)

    def _play_pending(self) -> None:
        index, start, end = self._pending_play
        self._pending_play = None
        _, _, alpha, warped = self._warp(index)
        if self.player.play(warped, SAMPLE_RATE, start, end):
            self.status_label.setText(self._status_text())  # in place of "Warping the recording…"
            self.homologated_played.emit(index, alpha)

    def _choices(self, mode: str) -> list[tuple[str, str]]:
        if mode == "gender":
            counts = defaultdict(int)
            for u in self.utterances:
                counts[u.gender] += 1
            return [(f"{self.tr(name)} ({counts[key]})", key) for key, name in GENDER_CHOICES if counts[key]]
        if mode == "speaker":
            clips: dict[str, list[Utterance]] = defaultdict(list)
            for u in self.utterances:
                if u.speaker:
                    clips[u.speaker].append(u)
            ranked = sorted(clips, key=lambda s: (-len(clips[s]), s))
            return [(f"{short_speaker(s)} ({clips[s][0].gender or '?'}, {len(clips[s])})", s) for s in ranked]
        return [(f"{u.id} ({u.gender or '?'}, {u.duration:.1f} s)", u.id) for u in self.utterances[:1000]]
