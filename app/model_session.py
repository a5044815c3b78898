"""The one owner of "which model the engine holds": every page asks it, only it sends LoadModel.

The engine process keeps one model at a time. Transcribe and Evaluate both
decode with it, so two pages that each remembered what they had loaded could
decode with the other's model and label the result with their own (issue 17:
Whisper's text under "demo-es"). Here one :class:`ModelSession`, shared by the
pages through the main window, knows which model the engine holds and which it
will hold once the commands already sent have run; a page asks it to run a job
with a model and it sends LoadModel first when that model is not the one::

    load_job, job = session.submit(ModelChoice(path), Transcribe, path=wav)

The worker runs commands in the order they arrive, so "what the engine will hold"
is the model of the last LoadModel sent. A LoadModel that fails keeps the old
model in the engine (engine.worker loads before it lets go), so the jobs sent to
run after it are cancelled rather than run with the wrong model. A new or crashed
engine process holds nothing.

Whatever this believes, every Transcribe and Evaluate result also names the model
that produced it (``model`` and ``model_path``, put there by the worker), and the
pages label results from that.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal, Slot

from engine.protocol import Command, LoadModel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelChoice:
    """A model as LoadModel loads it: the folder, the device and how its weights are held on the CPU."""

    path: str
    device: str = "auto"  # "auto", "cpu", "cuda"
    quantize: str = "none"  # "none", "int8", "fp16" (engine.quantize)


@dataclass
class _Load:
    choice: ModelChoice
    dependents: list[int] = field(default_factory=list)  # jobs sent to run with this model


class ModelSession(QObject):
    """Which model the engine holds; loads one when a job needs another.

    Parameters
    ----------
    engine : app.engine_client.QtEngineClient (or anything with its signals and ``submit``/``cancel``)
    """

    model_changed = Signal(object)  # dict: the engine's account of the model now held (name, path, device,
    #                                   quantize, parameters); {} when it holds none (a new or crashed process)
    load_failed = Signal(str, str)  # model folder, message

    def __init__(self, engine, parent: QObject | None = None):
        super().__init__(parent)
        self.engine = engine
        self.held: ModelChoice | None = None  # what the engine holds now
        self.info: dict = {}  # the engine's account of it (LoadModel's result)
        self._after_queue: ModelChoice | None = None  # what it will hold once the jobs already sent have run
        self._loads: dict[int, _Load] = {}  # LoadModel jobs sent and not ended, by job id
        engine.job_finished.connect(self.on_engine_job_finished)
        engine.job_failed.connect(self.on_engine_job_failed)
        engine.job_cancelled.connect(self.on_engine_job_cancelled)
        engine.worker_exited.connect(self.on_engine_worker_exited)
        engine.ready.connect(self.on_engine_ready)

    # ---- asking -----------------------------------------------------------------------

    @property
    def loaded_path(self) -> str | None:
        """The folder of the model the engine holds now (None: none, or not known)."""
        return self.held.path if self.held is not None else None

    def will_hold(self, choice: ModelChoice) -> bool:
        """Whether a job sent now would run with ``choice`` without another LoadModel."""
        return self._after_queue == choice

    def submit(self, choice: ModelChoice, command_type: type[Command], **fields) -> tuple[int | None, int]:
        """Send ``command_type(**fields)`` to run with the model ``choice``, loading it first if needed.

        Returns ``(load_job, job)``: the LoadModel's job id (None when the engine
        will already hold ``choice``) and the job's. When the load fails the job is
        cancelled; ``load_failed`` and the engine's ``job_failed`` for the load say why.

        Raises
        ------
        ParceroError
            The engine is not running; nothing was sent.
        """
        load_job = None
        if not self.will_hold(choice):
            load_job = self.engine.submit(LoadModel, path=choice.path, device=choice.device,
                                          quantize=choice.quantize)
            self._loads[load_job] = _Load(choice)
            self._after_queue = choice
        job = self.engine.submit(command_type, **fields)
        if self._loads:  # it runs after the last load sent; if that one fails, so must it
            self._loads[max(self._loads)].dependents.append(job)
        return load_job, job

    def forget(self) -> None:
        """Believe nothing: the next job loads its model again (e.g. after a setting that LoadModel reads changed)."""
        self._after_queue = None

    # ---- the engine's answers -----------------------------------------------------------

    @Slot(int, object)
    def on_engine_job_finished(self, job: int, result) -> None:
        load = self._loads.pop(job, None)
        if load is None:
            return
        self.held = load.choice
        self.info = dict(result or {})
        self.model_changed.emit(dict(self.info))

    @Slot(int, str, str)
    def on_engine_job_failed(self, job: int, message: str, _detail: str) -> None:
        load = self._loads.get(job)
        if load is not None:
            self._load_ended(job)
            self.load_failed.emit(load.choice.path, message)

    @Slot(int)
    def on_engine_job_cancelled(self, job: int) -> None:
        if job in self._loads:
            self._load_ended(job)

    def _load_ended(self, job: int) -> None:
        # The engine kept the model it held; the jobs meant for the new one must not run with it.
        load = self._loads.pop(job)
        for dependent in load.dependents:
            self.engine.cancel(dependent)
        if not self._loads:
            self._after_queue = self.held

    @Slot(int, str)
    def on_engine_worker_exited(self, _code: int, _reason: str) -> None:
        self._reset()

    @Slot(int)
    def on_engine_ready(self, _pid: int) -> None:
        self._reset()  # a fresh process holds no model

    def _reset(self) -> None:
        had = self.held is not None or bool(self._loads)
        self.held = self._after_queue = None
        self.info = {}
        self._loads.clear()
        if had:
            self.model_changed.emit({})
