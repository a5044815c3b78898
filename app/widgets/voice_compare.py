"""Voice comparison: how do two groups of voices in a dataset differ?

The default question is women against men; two speakers or two single
recordings can be compared the same way. For each group the widget shows one
representative recording (selectable) with its pitch track, and measures up
to ``max_per_group`` recordings in the background (spread over the group's
speakers, so one talkative speaker does not stand for the group): F0
distributions, average long-term spectra, level and duration. Selecting the
same word in both recordings and pressing Overlay aligns and level-matches
them in one plot (``engine.data.pitch.align_segments``). All measuring is in
:mod:`engine.data.pitch`; this module only loads audio and draws.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QColor, QShowEvent
from PySide6.QtWidgets import (
    QComboBox, QFileDialog, QHBoxLayout, QLabel, QProgressBar, QPushButton, QSpinBox, QSplitter, QVBoxLayout,
    QWidget,
)

from app.audio_io import Player
from app.background import BackgroundRunner
from app.i18n import QT_TRANSLATE_NOOP
from app.widgets.voice_plots import SAMPLE_RATE, ClipColumn, ComparisonPlots, short_speaker
from engine.data.manifest import Utterance
from engine.data.pitch import VoiceProfileBuilder, align_segments
from engine.errors import ParceroError

GROUP_COLORS = (QColor("#e66100"), QColor("#1a5fb4"))  # orange and blue: apart for colour-blind eyes too
# (key, label); labels shown through VoiceCompare.tr
MODES = (("gender", QT_TRANSLATE_NOOP("VoiceCompare", "women and men")),
         ("speaker", QT_TRANSLATE_NOOP("VoiceCompare", "two speakers")),
         ("recording", QT_TRANSLATE_NOOP("VoiceCompare", "two recordings")))
GENDER_CHOICES = (("female", QT_TRANSLATE_NOOP("VoiceCompare", "women")),
                  ("male", QT_TRANSLATE_NOOP("VoiceCompare", "men")),
                  ("", QT_TRANSLATE_NOOP("VoiceCompare", "gender unknown")))
MEASURING = QT_TRANSLATE_NOOP("VoiceCompare", "measuring voices")  # measure_groups' progress stage
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


def measure_groups(groups, base_dir, progress):
    """Voice profiles of two lists of utterances; returns (profiles, skipped recordings)."""
    total = sum(len(g) for g in groups)
    done, skipped, profiles = 0, 0, []
    for group in groups:
        builder = VoiceProfileBuilder(SAMPLE_RATE)
        for u in group:
            try:
                builder.add(u.load_samples(base_dir, SAMPLE_RATE))
            except (ParceroError, ValueError):
                skipped += 1  # a broken file lessens the sample; it need not stop the comparison
            done += 1
            progress(MEASURING, done, total)
        profiles.append(builder.build())
    return tuple(profiles), skipped


class VoiceCompare(QWidget):
    analysis_finished = Signal(object)  # (VoiceProfile, VoiceProfile) of groups A and B
    overlay_shown = Signal(object)  # engine.data.pitch.AlignedPair

    def __init__(self, parent: QWidget | None = None, max_per_group: int = 20):
        super().__init__(parent)
        self.utterances: list[Utterance] = []
        self.base_dir: Path | None = None
        self.profiles = None
        self._stale = False  # the groups changed since the last analysis
        self.player = Player(self)
        self._runner = BackgroundRunner(self)
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
        for w in (self.count_spin, self.analyse_button, self.progress):
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
        self.overlay_button.clicked.connect(self.overlay)
        self.export_button.clicked.connect(self.on_export_button_clicked)
        self._runner.progress_changed.connect(self.on_runner_progress_changed)
        self._runner.finished.connect(self.on_runner_finished)
        self._runner.failed.connect(self.on_runner_failed)
        for column in self.columns:
            column.play_requested.connect(self.on_column_play_requested)

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
        """Measure both groups in the background; ``analysis_finished`` follows."""
        groups, base = self.groups(), self.base_dir
        self._stale = False
        self.plots.clear_profiles()
        if not groups[0] and not groups[1]:
            return
        self.progress.setRange(0, 0)
        self.progress.show()
        self.status_label.setText("")
        self._runner.start(lambda progress: measure_groups(groups, base, progress))

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
    def on_runner_finished(self, result) -> None:
        profiles, skipped = result
        self.profiles = profiles
        self.progress.hide()
        self.plots.show_profiles(self.group_names(), profiles)
        self.status_label.setText(self.tr("%n unreadable recording(s) left out", "", skipped) if skipped else "")
        self.analysis_finished.emit(profiles)

    @Slot(str)
    def on_runner_failed(self, message: str) -> None:
        self.progress.hide()
        self.status_label.setText(f"<span style='color:#c62828'>{message}</span>")

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
