"""The interface language: English source text, a Spanish translation, and the choice between them.

Every user-visible string in ``app/`` goes through Qt's translation system:
``self.tr("...")`` in QObject subclasses, :func:`translate` in module-level
code and in the Qt-free helpers (``app.cost``, ``app.eval_report``,
``app.transcript_diff``), and :func:`QT_TRANSLATE_NOOP` to mark constants that
are translated where they are shown. ``packaging/update_translations.sh``
collects them with ``pyside6-lupdate`` into
``resources/translations/parcero_es.ts`` and compiles the ``.qm`` files.

Transcripts, file names, model names and data values are never translated.
The engine speaks English; its errors carry codes that ``app.engine_messages``
turns into sentences in the interface's language.
``tests/app/test_i18n.py`` looks for text handed to a widget without
``tr()``; a line that means it (an application name) says so with ``# notr``.

This module imports Qt only inside its functions, so the Qt-free helpers can
use :func:`translate` and stay importable without Qt.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

log = logging.getLogger(__name__)

LANGUAGE_KEY = "ui/language"  # QSettings key: "system", "en" or "es"
DEFAULT_CHOICE = "system"
SOURCE_LANGUAGE = "en"  # the language the code is written in
TRANSLATED = ("es",)  # languages with a parcero_<code>.qm
CATALOG = "parcero"

_installed: list = []  # the QTranslators now installed (kept alive here: Qt does not own them)
_shown = SOURCE_LANGUAGE  # the language the translators installed last show


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 (the name lupdate looks for)
    """Mark ``text`` for translation in ``context`` without translating it; returns it unchanged.

    For constants defined before any translator is installed: the place
    that shows one translates it with ``self.tr(CONSTANT)`` (in a class
    named ``context``) or ``translate(context, CONSTANT)``.
    """
    return text


def translate(context: str, text: str, disambiguation: str | None = None, n: int = -1) -> str:
    """``QCoreApplication.translate`` once Qt is loaded; without Qt, ``text`` itself.

    Parameters
    ----------
    context : str
        The translation context, usually the class the text belongs to.
    text : str
        English source text, a literal (``pyside6-lupdate`` reads it from the
        call); placeholders are filled *after* translating:
        ``translate("Ctx", "Opened {path}").format(path=p)``.
    disambiguation : str or None
    n : int
        For ``%n`` in ``text``. (lupdate only records plural forms for
        ``self.tr(text, "", n)``: use that for plurals.)
    """
    qtcore = sys.modules.get("PySide6.QtCore")
    if qtcore is None:  # a Qt-free caller (tests of app.cost, say): English as written
        return text.replace("%Ln", str(n)).replace("%n", str(n)) if n >= 0 else text
    return qtcore.QCoreApplication.translate(context, text, disambiguation, n)


def available_languages() -> list[tuple[str, str]]:
    """The language choices for the settings: (choice, name shown); languages name themselves."""
    return [("system", translate("Language", "Follow the system")), ("en", "English"), ("es", "Español")]


def translations_dir() -> Path:
    """Folder holding ``parcero_<lang>.qm``: ``translations/`` of the shipped resources."""
    from engine.resources import translations_dir as shipped

    return shipped()


def resolve_language(choice: str, system_locale=None) -> str:
    """The language a choice means here: "es" or "en".

    Parameters
    ----------
    choice : str
        "system", "en" or "es"; anything else is treated as "system".
    system_locale : QLocale or None
        The locale "system" follows; None: ``QLocale.system()``.
    """
    if choice in (SOURCE_LANGUAGE, *TRANSLATED):
        return choice
    if system_locale is None:
        from PySide6.QtCore import QLocale

        system_locale = QLocale.system()
    # uiLanguages() lists the user's preferred languages ("es-MX", "en-US"), not only the formats' locale.
    for name in [*system_locale.uiLanguages(), system_locale.name()]:
        code = name.replace("_", "-").split("-")[0].lower()
        if code in TRANSLATED:
            return code
        if code == SOURCE_LANGUAGE:
            return SOURCE_LANGUAGE
    return SOURCE_LANGUAGE


def saved_choice() -> str:
    """The language choice stored in QSettings (``ui/language``); "system" when unset or unknown."""
    from PySide6.QtCore import QSettings

    value = str(QSettings().value(LANGUAGE_KEY, DEFAULT_CHOICE) or DEFAULT_CHOICE)
    return value if value in {c for c, _ in available_languages()} else DEFAULT_CHOICE


def save_choice(choice: str) -> None:
    """Store the language choice; it applies from the next start (see :func:`install_translator`)."""
    from PySide6.QtCore import QSettings

    if choice not in {c for c, _ in available_languages()}:
        raise ValueError(f"unknown language choice {choice!r}; expected one of "
                         f"{[c for c, _ in available_languages()]}")
    settings = QSettings()
    settings.setValue(LANGUAGE_KEY, choice)
    settings.sync()


def install_translator(app, choice: str | None = None, system_locale=None) -> str:
    """Install the translators for ``choice`` on ``app``, replacing any installed before.

    Call before the main window is built: widgets translate their texts
    when they are made, so a window already open keeps its language until
    the next start.

    Parameters
    ----------
    app : QCoreApplication
    choice : str or None
        "system", "en" or "es"; None reads the saved choice (``ui/language``),
        anything else is stored as the new choice.
    system_locale : QLocale or None
        What "system" follows; None: ``QLocale.system()``.

    Returns
    -------
    str
        The language now shown: "es" or "en".
    """
    from PySide6.QtCore import QLibraryInfo, QTranslator

    if choice is None:
        choice = saved_choice()
    else:
        save_choice(choice)
    global _shown
    language = resolve_language(choice, system_locale)
    remove_translators(app)
    _shown = language
    folder = translations_dir()
    # English needs a catalogue too, for its plural forms ("1 utterance", "%n utterances").
    files = [(folder, f"{CATALOG}_{language}")]
    if language != SOURCE_LANGUAGE:  # Qt's own texts: standard dialogs' buttons, context menus
        files.append((Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)), f"qtbase_{language}"))
    for where, name in files:
        translator = QTranslator(app)
        if translator.load(name, str(where)):
            app.installTranslator(translator)
            _installed.append(translator)
        else:
            log.warning("translation %s.qm not found in %s; showing English", name, where)
    return language


def remove_translators(app) -> None:
    """Uninstall the translators :func:`install_translator` installed: the interface shows English."""
    global _shown
    while _installed:
        app.removeTranslator(_installed.pop())
    _shown = SOURCE_LANGUAGE


def shown_language() -> str:
    """The language the interface shows now ("es" or "en"): what the last :func:`install_translator` chose."""
    return _shown


def needs_restart(choice: str, system_locale=None) -> bool:
    """Whether choosing ``choice`` changes the language shown, which needs a restart (widgets are built translated)."""
    return resolve_language(choice, system_locale) != _shown
