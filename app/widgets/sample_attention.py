"""Cross-attention over training: one dev utterance's attention at each evaluation, on a slider.

At every evaluation the trainer saves the cross-attention of a few dev
utterances (``samples/step-N.npz``, shape (layers, H, tokens, T) float16, with
their transcripts in ``step-N.json``). Early on the attention is a blur; as the
model learns to align, it becomes a diagonal band. Dragging the slider from
the first saved step to the last shows that happen.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QVBoxLayout, QWidget

from app.run_files import Sample, load_samples, sample_steps, token_labels
from app.widgets.attention_view import AttentionView

FRAME_SECONDS = 0.04  # 10 ms features, subsampled 4× by the encoder's front end


class SampleAttention(QWidget):
    """A step slider and an utterance picker over a run's saved attention samples."""

    sample_shown = Signal(int, str)  # step, utterance id now on screen

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.run_dir: Path | None = None
        self.steps: list[int] = []
        self._cache: dict[int, dict[str, Sample]] = {}
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setPageStep(1)
        self.slider.setToolTip(self.tr("Evaluation step: drag to watch the attention sharpen into a diagonal"))
        self.step_label = QLabel(self.tr("No attention samples yet (saved at each evaluation on the dev set)"))
        self.utterance_combo = QComboBox()
        self.utterance_combo.setToolTip(self.tr("Dev utterance whose attention is shown"))
        self.text_label = QLabel()
        self.text_label.setWordWrap(True)
        self.text_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.attention_view = AttentionView()
        self.attention_view.plot.setLabel("bottom", self.tr("time in the utterance (s)"))

        controls = QHBoxLayout()
        controls.addWidget(self.step_label)
        controls.addWidget(self.slider, 1)
        controls.addWidget(QLabel(self.tr("Utterance")))
        controls.addWidget(self.utterance_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addWidget(self.text_label)
        layout.addWidget(self.attention_view, 1)
        self.slider.valueChanged.connect(self.on_slider_value_changed)
        self.utterance_combo.currentIndexChanged.connect(self.on_utterance_combo_current_index_changed)

    def set_run_dir(self, run_dir: str | Path | None) -> None:
        """Show the samples of another run (None: none)."""
        self.run_dir = Path(run_dir) if run_dir else None
        self.steps, self._cache = [], {}
        self.utterance_combo.clear()
        self.attention_view.reset(0, 1, 1)
        self.text_label.clear()
        self.slider.setRange(0, 0)
        self.refresh()

    def refresh(self) -> None:
        """Look for newly saved steps; if the last step was on screen, move on to the new last one."""
        if self.run_dir is None:
            return
        steps = sample_steps(self.run_dir)
        if steps == self.steps:
            return
        at_end = not self.steps or self.slider.value() == len(self.steps) - 1
        self.steps = steps
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(steps) - 1))
        self.slider.blockSignals(False)
        if steps:
            if at_end:
                self.slider.setValue(len(steps) - 1)
            self.show_step(self.slider.value())

    def current_step(self) -> int | None:
        return self.steps[self.slider.value()] if self.steps else None

    def show_step(self, index: int) -> None:
        if not self.steps:
            return
        step = self.steps[min(max(0, index), len(self.steps) - 1)]
        samples = self._samples(step)
        self.step_label.setText(self.tr("Step {step} ({index} of {count})").format(
            step=f"{step:,}", index=index + 1, count=len(self.steps)))
        ids = sorted(samples)
        if ids != [self.utterance_combo.itemText(i) for i in range(self.utterance_combo.count())]:
            chosen = self.utterance_combo.currentText()
            self.utterance_combo.blockSignals(True)
            self.utterance_combo.clear()
            self.utterance_combo.addItems(ids)
            self.utterance_combo.setCurrentIndex(max(0, self.utterance_combo.findText(chosen)))
            self.utterance_combo.blockSignals(False)
        sample = samples.get(self.utterance_combo.currentText())
        if sample is None:
            self.attention_view.reset(0, 1, 1)
            self.text_label.setText(self.tr("This step's samples could not be read."))
            return
        n_tokens = sample.attention.shape[2]
        layer, head = self.attention_view.selected()
        self.attention_view.set_attention(sample.attention, token_labels(sample.hypothesis, n_tokens), FRAME_SECONDS)
        self.attention_view.select(min(layer, sample.attention.shape[0] - 1),
                                   head if head is None or head < sample.attention.shape[1] else None)
        self.text_label.setText(self.tr("reference: {reference}\nhypothesis: {hypothesis}").format(
            reference=sample.reference, hypothesis=sample.hypothesis))
        self.sample_shown.emit(step, sample.id)

    def _samples(self, step: int) -> dict[str, Sample]:
        if step in self._cache:
            return self._cache[step]
        samples = load_samples(self.run_dir, step)
        if samples:  # an empty answer may be a file still being written: ask again next time
            self._cache[step] = samples
        return samples

    @Slot(int)
    def on_slider_value_changed(self, index: int) -> None:
        self.show_step(index)

    @Slot(int)
    def on_utterance_combo_current_index_changed(self, _index: int) -> None:
        self.show_step(self.slider.value())
