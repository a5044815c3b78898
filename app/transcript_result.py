"""A finished transcript and how it was made: its audio, the model the engine named, the settings.

A transcript belongs to the audio it came from and names the model that made
it: the model in the engine's result (``model``, ``model_path``, put there by
the worker), not whatever the model list shows now (issue 17: Whisper's text
under "demo-es"). The label over it, the warning when another model is chosen
now, and the file it is exported to all read that, so they never disagree. The
Transcribe page holds one of these at a time and drops it when other audio is
opened, so a transcript is never exported under another file's name.

The text here belongs to the Transcribe page: it is translated in the
"TranscribePage" context, as it was when the page held this code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from app.i18n import QT_TRANSLATE_NOOP, translate
from app.time_text import clock
from engine.transcript import Transcript

# Whisper's language choice: (code, English name shown through TranscribePage.tr); "auto" = detect it.
LANGUAGES = (
    ("es", QT_TRANSLATE_NOOP("TranscribePage", "Spanish")),
    ("auto", QT_TRANSLATE_NOOP("TranscribePage", "Detect the language")),
    ("ca", QT_TRANSLATE_NOOP("TranscribePage", "Catalan")),
    ("gl", QT_TRANSLATE_NOOP("TranscribePage", "Galician")),
    ("eu", QT_TRANSLATE_NOOP("TranscribePage", "Basque")),
    ("pt", QT_TRANSLATE_NOOP("TranscribePage", "Portuguese")),
    ("en", QT_TRANSLATE_NOOP("TranscribePage", "English")),
    ("fr", QT_TRANSLATE_NOOP("TranscribePage", "French")),
    ("it", QT_TRANSLATE_NOOP("TranscribePage", "Italian")),
    ("de", QT_TRANSLATE_NOOP("TranscribePage", "German")),
)
TASKS = (("transcribe", QT_TRANSLATE_NOOP("TranscribePage", "Transcribe as spoken")),
         ("translate", QT_TRANSLATE_NOOP("TranscribePage", "Translate into English")))


@dataclass
class TranscriptResult:
    """A transcript, timed on its audio file, and ``meta``: how it was made.

    ``meta`` holds ``audio`` (the file's Path; None for a recording held in
    memory), ``settings`` (``beam_size``; for Whisper ``language`` and
    ``task``), and from the engine's answer ``model``, ``model_path``,
    ``language`` and ``language_probability`` (None unless the language was
    detected).
    """

    transcript: Transcript
    meta: dict

    @classmethod
    def from_engine(cls, result: dict | None, offset: float, audio: Path | None,
                    settings: dict) -> TranscriptResult:
        """The result of a Transcribe job, its times moved by ``offset`` (where the selection decoded starts)."""
        from engine.transcript import shifted, transcript_from_dict

        result = dict(result or {})
        # Labelled by the engine's answer: the model that produced it, whatever the list shows now.
        meta = {"audio": audio, "settings": settings, "model": result.get("model") or "",
                "model_path": result.get("model_path") or "", "language": result.get("language"),
                "language_probability": result.get("language_probability"),
                # a cancelled transcription's part: seconds of the audio decoded (from ``offset``), else None
                "stopped_at": None if result.get("stopped_at") is None else float(result["stopped_at"]) + offset}
        return cls(shifted(transcript_from_dict(result), offset), meta)

    @property
    def has_text(self) -> bool:
        """Whether there is anything to save or copy (no speech found: nothing)."""
        return bool(self.transcript.text.strip())

    def label(self) -> str:
        """What the label over the transcript says: its audio, the model that made it, the language found."""
        meta = self.meta
        audio = meta.get("audio")
        name = Path(audio).name if audio else translate("TranscribePage", "the recording")
        settings = meta.get("settings") or {}
        if settings.get("task") == "translate":
            text = translate("TranscribePage", "English translation of {file} by {model}")
        else:
            text = translate("TranscribePage", "Transcript of {file} by {model}")
        text = text.format(file=name, model=meta.get("model") or "?")
        if meta.get("stopped_at") is not None:
            text += " · " + translate("TranscribePage", "cancelled: the first {time} only").format(
                time=clock(meta["stopped_at"]))
        if meta.get("language_probability") is not None:
            code = meta.get("language") or "?"
            names = dict(LANGUAGES)
            language = translate("TranscribePage", names[code]) if code in names and code != "auto" else code
            text += " · " + translate("TranscribePage", "language found: {language} ({code}, {probability} % sure)"
                                      ).format(language=language, code=code,
                                               probability=f"{100 * meta['language_probability']:.0f}")
        return text

    def made_by_another_model(self, chosen: str | Path | None) -> bool:
        """Whether the model folder ``chosen`` (the one picked now) is not the one that made this transcript."""
        made_by = self.meta.get("model_path")
        return bool(made_by and chosen and Path(made_by).resolve() != Path(chosen).resolve())

    def export_suggestion(self) -> Path:
        """The file Export offers: the audio's name with .srt (never the name of audio opened since)."""
        audio = self.meta.get("audio")
        return Path(audio).with_suffix(".srt") if audio else Path("transcripcion.srt")

    def export(self, path: str | Path, **shaping: int) -> None:
        """Write the transcript with the model that made it and the settings it was made with.

        The format follows the suffix (engine.export.write_export): .srt, .vtt, .txt or .json.
        ``shaping`` shapes subtitle cues as ``parcero transcribe --max-line-width/--max-line-count`` does
        (``max_chars``, ``max_lines``; engine.export.make_cues), its defaults when none is given.

        Raises
        ------
        OSError, ParceroError, ValueError
            The file could not be written, or its suffix names no format.
        """
        from engine.export import write_export

        meta = self.meta
        settings = dict(meta.get("settings") or {})
        if meta.get("stopped_at") is not None:
            settings["cancelled_at_seconds"] = round(meta["stopped_at"], 3)  # the file holds only this much
        if meta.get("language_probability") is not None:
            settings["detected_language"] = meta.get("language")
            settings["language_probability"] = meta.get("language_probability")
        write_export(path, self.transcript, model_name=meta.get("model") or None, settings=settings, **shaping)
