"""The interface language: a complete Spanish catalogue, every string through tr(), data never translated."""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QLocale

from app import i18n
from engine.audio import save_wav
from tests.app.conftest import new_window
from tests.app.media import ARTIFACTS
from tests.helpers import SR, tone_speech

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app"
TRANSLATIONS = ROOT / "resources" / "translations"
CATALOGUES = {"es": TRANSLATIONS / "parcero_es.ts", "en": TRANSLATIONS / "parcero_en.ts"}
TRANSCRIPT = "¿Qué pasó, señor Núñez?"
# {name}, {0}, {value!r}, {rate:.1f}; %n, %Ln, %1; and the & of a keyboard accelerator ("&& is a literal &").
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%L?n|%\d|(?<!&)&(?!&)")


def app_sources() -> list[Path]:
    return sorted(p for p in APP.rglob("*.py") if "__pycache__" not in p.parts)


def ts_messages(path: Path) -> list[dict]:
    """Every message of a .ts: context, source, numerus, translation forms, and whether it is finished."""
    messages = []
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name") or ""
        for m in context.iter("message"):
            translation = m.find("translation")
            forms = ([f.text or "" for f in translation.iter("numerusform")] if m.get("numerus") == "yes"
                     else [translation.text or ""])
            messages.append({"context": name, "source": m.findtext("source") or "", "forms": forms,
                             "numerus": m.get("numerus") == "yes", "state": translation.get("type", "")})
    return messages


@pytest.fixture
def language(qapp):
    """``language("es")`` installs a language's translators for this test; English is back afterwards."""
    yield lambda choice, **kwargs: i18n.install_translator(qapp, choice, **kwargs)
    i18n.remove_translators(qapp)


# ---- the catalogues --------------------------------------------------------------------------


def test_every_message_has_a_finished_spanish_translation_with_the_same_placeholders():
    messages = ts_messages(CATALOGUES["es"])
    assert len(messages) > 300  # the whole interface, not a sample of it
    problems = []
    for m in messages:
        where = f"{m['context']}: {m['source']!r}"
        if m["state"] in ("unfinished", "vanished", "obsolete"):
            problems.append(f"{where} is {m['state']}")
        if m["numerus"] and len(m["forms"]) != 2:  # Spanish: singular and plural
            problems.append(f"{where} has {len(m['forms'])} plural forms")
        for form in m["forms"]:
            if not form.strip():
                problems.append(f"{where} has an empty translation")
            elif sorted(PLACEHOLDER.findall(form)) != sorted(PLACEHOLDER.findall(m["source"])):
                problems.append(f"{where}: placeholders differ in {form!r}")
    assert not problems, "\n".join(problems)


def test_english_plural_forms_are_complete():
    messages = ts_messages(CATALOGUES["en"])
    spanish_plurals = {(m["context"], m["source"]) for m in ts_messages(CATALOGUES["es"]) if m["numerus"]}
    assert spanish_plurals and {(m["context"], m["source"]) for m in messages} == spanish_plurals
    for m in messages:
        assert m["state"] == "" and len(m["forms"]) == 2 and all("(s)" not in f for f in m["forms"]), m


def test_the_spanish_is_spanish():
    es = {(m["context"], m["source"]): m["forms"][0] for m in ts_messages(CATALOGUES["es"])}
    assert es[("MainWindow", "Transcribe")] == "Transcribir"
    assert es[("MainWindow", "&About Parcero")] == "&Acerca de Parcero"
    assert es[("SettingsDialog", "Preferences")] == "Preferencias"
    assert es[("TranscribePage", "Open…")] == "Abrir…"
    text = " ".join(es.values())
    for spanish in ("ñ", "¿", "á", "é", "í", "ó", "ú"):
        assert spanish in text


@pytest.mark.parametrize("language_code", ["es", "en"])
def test_the_compiled_catalogues_match_their_sources(language_code):
    from PySide6.QtCore import QTranslator

    source = CATALOGUES[language_code]
    compiled = QTranslator()
    assert compiled.load(str(source.with_suffix(".qm")))
    stale = []
    for m in ts_messages(source):
        counts = (1, 2) if m["numerus"] else (-1,)  # Spanish and English: the singular, then the plural
        for n, form in zip(counts, m["forms"]):
            if compiled.translate(m["context"], m["source"], None, n) != form:
                stale.append(f"{m['context']}: {m['source']!r}")
    assert not stale, f"{source.with_suffix('.qm').name} is stale (run packaging/update_translations.sh):\n" + \
        "\n".join(stale)


# ---- the code ------------------------------------------------------------------------------------

# Calls whose argument at these positions is text a user reads.
TEXT_ARGS = {
    "setText": (0,), "setWindowTitle": (0,), "setToolTip": (0,), "setStatusTip": (0,), "setWhatsThis": (0,),
    "setPlaceholderText": (0,), "showMessage": (0,), "setFormat": (0,), "setPrefix": (0,), "setSuffix": (0,),
    "setSpecialValueText": (0,), "setTitle": (0,), "setHtml": (0,), "QLabel": (0,), "QPushButton": (0,),
    "QCheckBox": (0,), "QRadioButton": (0,), "QGroupBox": (0,), "QAction": (0,), "QListWidgetItem": (0,),
    "addAction": (0,), "addMenu": (0,), "addTab": (1,), "setTabText": (1,), "setLabel": (1,), "addRow": (0,),
    "addItem": (0,), "addItems": (0,), "setHorizontalHeaderLabels": (0,), "about": (1, 2), "information": (1, 2),
    "warning": (1, 2), "critical": (1, 2), "question": (1, 2), "getOpenFileName": (1, 3),
    "getSaveFileName": (1, 3), "getExistingDirectory": (1,), "getText": (1, 2),
}
UNITS = {"min", "ms", "Hz", "kHz", "dB", "dBFS"}  # the same in every language


def _has_words(text: str) -> bool:
    """Whether ``text`` holds words: not only markup, placeholders, numbers, symbols or units."""
    text = re.sub(r"<[^>]*>|&\w+;", " ", text)
    return any(word not in UNITS for word in re.findall(r"[A-Za-z]{2,}", text))


def _written_text(node: ast.AST) -> bool:
    """Whether ``node`` is text written in the code: a literal, an f-string, or built from them."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and _has_words(node.value)
    if isinstance(node, ast.JoinedStr):  # the fixed parts, with the {fields} as spaces
        return _has_words("".join(v.value if isinstance(v, ast.Constant) else " " for v in node.values))
    if isinstance(node, (ast.List, ast.Tuple)):
        return any(_written_text(e) for e in node.elts)
    if isinstance(node, ast.BinOp):
        return _written_text(node.left) or _written_text(node.right)
    if isinstance(node, ast.IfExp):
        return _written_text(node.body) or _written_text(node.orelse)
    return False


def _call_name(node: ast.Call) -> str:
    f = node.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def untranslated_texts(path: Path) -> list[str]:
    """Literal text handed to a widget without tr(), and tr() of already formatted text; ``# notr`` exempts."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call) or any("# notr" in line for line in lines[node.lineno - 1:node.end_lineno]):
            continue
        name = _call_name(node)
        where = f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}:{node.lineno}"
        if name in ("tr", "translate"):
            text = node.args[1 if name == "translate" else 0] if len(node.args) > (name == "translate") else None
            if isinstance(text, (ast.JoinedStr, ast.BinOp)) or (
                    isinstance(text, ast.Call) and _call_name(text) == "format"):
                found.append(f"{where}: {name}() of formatted text: translate the template, then format it")
        for i in TEXT_ARGS.get(name, ()):
            if i < len(node.args) and _written_text(node.args[i]):
                found.append(f"{where}: {name}({ast.unparse(node.args[i])[:60]}) is not translated")
    return found


def messages_in_code(path: Path) -> set[tuple[str, str]]:
    """(context, text) of every self.tr("..."), translate("ctx", "...") and QT_TRANSLATE_NOOP("ctx", "...")."""

    def text(node):
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None

    found = set()

    def visit(node: ast.AST, cls: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Call):
                name, args = _call_name(child), child.args
                if name == "tr" and isinstance(child.func, ast.Attribute) and args and text(args[0]) is not None:
                    found.add((cls, text(args[0])))
                elif name in ("translate", "QT_TRANSLATE_NOOP") and len(args) >= 2 and None not in (
                        text(args[0]), text(args[1])):
                    found.add((text(args[0]), text(args[1])))
            visit(child, child.name if isinstance(child, ast.ClassDef) else cls)

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return found


def test_user_visible_text_in_the_code_goes_through_tr():
    found = [problem for path in app_sources() for problem in untranslated_texts(path)]
    assert not found, "\n".join(found)


def test_the_scan_catches_what_it_is_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("class W(QWidget):\n"
                   "    def build(self):\n"
                   "        self.button = QPushButton('Open…')\n"
                   "        self.label.setText(f'{n} files found')\n"
                   "        self.label.setToolTip(self.tr(f'{n} files'))\n"
                   "        self.menu.addAction('Quit')  # notr\n"
                   "        self.label.setText(self.tr('Done'))\n"
                   "        self.level.setText(f'{db:.1f} dBFS')\n", encoding="utf-8")
    found = untranslated_texts(bad)
    assert sorted(int(f.split(": ", 1)[0].rsplit(":", 1)[1]) for f in found) == [3, 4, 5], found


def test_every_message_in_the_code_is_in_the_catalogue():
    # lupdate reads literals only: text built in an f-string, or a tr() inside one, never reaches the .ts.
    in_code = set().union(*(messages_in_code(p) for p in app_sources()))
    in_catalogue = {(m["context"], m["source"]) for m in ts_messages(CATALOGUES["es"])}
    missing = sorted(in_code - in_catalogue)
    assert not missing, ("not in parcero_es.ts (run packaging/update_translations.sh; a tr() inside an f-string "
                         "must move out of it):\n" + "\n".join(map(str, missing)))
    assert not in_catalogue - in_code, sorted(in_catalogue - in_code)


def test_the_helpers_translate_outside_classes(language):
    assert i18n.translate("Cost", "{days} days") == "{days} days"
    language("es")
    assert i18n.translate("Cost", "{days} days").format(days="3.0") == "3.0 días"
    assert i18n.QT_TRANSLATE_NOOP("Cost", "{days} days") == "{days} days"  # marks, never translates
    from app.cost import format_hours

    assert format_hours(72) == "3.0 días"


# ---- choosing the language -----------------------------------------------------------------------


def test_the_choices_and_what_they_resolve_to():
    assert [c for c, _ in i18n.available_languages()] == ["system", "en", "es"]
    assert dict(i18n.available_languages())["es"] == "Español"
    assert i18n.resolve_language("es", QLocale("en_US")) == "es"
    assert i18n.resolve_language("en", QLocale("es_ES")) == "en"
    for name in ("es_ES", "es_MX", "es_AR"):
        assert i18n.resolve_language("system", QLocale(name)) == "es"
    for name in ("en_GB", "fr_FR", "C"):
        assert i18n.resolve_language("system", QLocale(name)) == "en"


def test_the_choice_is_saved_and_read_back(qapp, language):
    from PySide6.QtCore import QSettings

    assert i18n.saved_choice() == "system"
    assert language("es") == "es"
    assert QSettings().value(i18n.LANGUAGE_KEY) == "es" and i18n.saved_choice() == "es"
    assert language(None) == "es"  # main() passes nothing: the saved choice
    assert QCoreApplication.translate("MainWindow", "Transcribe") == "Transcribir"
    assert language("system", system_locale=QLocale("fr_FR")) == "en"
    assert QCoreApplication.translate("MainWindow", "Transcribe") == "Transcribe"
    assert language("system", system_locale=QLocale("es_CO")) == "es"
    # Qt's own texts (standard dialog buttons) come with it.
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancelar"
    with pytest.raises(ValueError, match="klingon"):
        i18n.save_choice("klingon")


def test_a_missing_catalogue_falls_back_to_english(qapp, language, monkeypatch, tmp_path):
    monkeypatch.setenv("PARCERO_RESOURCES_DIR", str(tmp_path))
    assert language("es") == "es"
    assert QCoreApplication.translate("MainWindow", "Transcribe") == "Transcribe"


@pytest.mark.parametrize("choice, singular, plural", [("es", "1 enunciado", "3 enunciados"),
                                                      ("en", "1 utterance", "3 utterances")])
def test_plural_forms(qtbot, language, choice, singular, plural):
    from app.pages.data_page import DataPage
    from engine.data.manifest import Utterance

    language(choice)
    page = DataPage()
    qtbot.addWidget(page)
    items = [Utterance(id=f"u{i}", audio=f"u{i}.wav", duration=1.0, text="hola") for i in range(3)]
    page.set_dataset(items[:1], None, "uno")
    assert singular in page.dataset_label.text()
    page.set_dataset(items, None, "tres")
    assert plural in page.dataset_label.text()
    page.shutdown()


# ---- the window in Spanish -----------------------------------------------------------------------


def _menus_and_pages(window) -> tuple[list[str], list[str]]:
    menus = [a.text() for a in window.menuBar().actions()]
    pages = [window.page_list.item(i).text() for i in range(window.page_list.count())]
    return menus, pages


def test_the_main_window_in_spanish_and_in_english(qtbot, engine, tmp_path, language):
    language("es")
    window = new_window(qtbot, engine, tmp_path)
    menus, pages = _menus_and_pages(window)
    assert pages == ["Transcribir", "Datos", "Entrenar", "Evaluar"]
    assert menus[:4] == ["&Archivo", "Au&dio", "&Motor", "Ay&uda"]
    assert window.open_action.text() == "&Abrir audio…" and window.about_action.text() == "&Acerca de Parcero"
    assert window.transcribe_page.transcribe_button.text() == "Transcribir"
    assert window.train_page.tabs.tabText(0) == "Curvas"
    assert window.engine_label.text().startswith("Motor: ")
    assert window.transcribe_page.transcript_view.placeholderText().startswith("La transcripción aparece aquí")
    # For the screenshot: a recording and a transcript on screen, as after transcribing.
    wav = tmp_path / "señor núñez.wav"
    save_wav(wav, tone_speech(TRANSCRIPT, seed=1), SR)
    page = window.transcribe_page
    assert page.load_audio_file(wav)
    page.transcript_view.add_words((w, i * 0.5, i * 0.5 + 0.4) for i, w in enumerate(TRANSCRIPT.split()))
    qtbot.waitUntil(lambda: page.audio_view.spectrogram is not None, timeout=10000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(ARTIFACTS / "main-window-es.png"))
    window.close()

    language("en")
    window = new_window(qtbot, engine, tmp_path)
    menus, pages = _menus_and_pages(window)
    assert pages == ["Transcribe", "Data", "Train", "Evaluate"]
    assert menus[:4] == ["&File", "&Audio", "&Engine", "&Help"]
    window.close()


@pytest.mark.parametrize("choice", ["es", "en"])
def test_a_transcript_is_never_translated(qtbot, language, choice):
    from app.widgets.transcript_view import TranscriptView

    language(choice)
    view = TranscriptView()
    qtbot.addWidget(view)
    assert view.placeholderText().startswith("La transcripción" if choice == "es" else "The transcript")
    words = TRANSCRIPT.split()
    view.add_words((w, i * 0.5, i * 0.5 + 0.4) for i, w in enumerate(words))
    assert view.plain_text() == TRANSCRIPT
    assert view.toPlainText() == TRANSCRIPT
    view.set_partial("¡Ñandú!")
    assert view.plain_text() == TRANSCRIPT + " ¡Ñandú!"
