"""The Evaluate page against the real engine process, checked against `parcero eval`."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from app.transcript_diff import COLORS
from app.eval_report import CSV_COLUMNS, read_csv
from app.pages.evaluate_page import EvaluatePage
from engine import cli
from tests.app.media import ARTIFACTS
from tests.conftest import OVERFIT_TEXTS
from tests.helpers import write_tone_corpus

# The first test here may train the session's overfit model (tests.conftest.saved_model_dir): a minute
# of CPU or several on a loaded machine. The usual limit then holds for the tests, not that fixture.
pytestmark = pytest.mark.timeout(120, func_only=True)


@pytest.fixture(scope="module")
def manifest(tmp_path_factory):
    return write_tone_corpus(tmp_path_factory.mktemp("tonos"), OVERFIT_TEXTS, "test")


@pytest.fixture(scope="module")
def planted(manifest):
    """The same clips with wrong references: accents lost in one, a word added to another."""
    lines = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines()]
    wrong = {"señor Núñez": "señor Nunez", "comió ñoquis": "comió ñoquis ayer"}
    for line in lines:
        line["text"] = wrong.get(line["text"], line["text"])
    path = manifest.with_name("planted.jsonl")
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def page(qtbot, engine):
    p = EvaluatePage(engine)
    qtbot.addWidget(p)
    p.resize(1300, 800)
    p.show()
    return p


def cli_report(model, manifest, tmp_path) -> dict:
    out = tmp_path / "cli.json"
    assert cli.main(["eval", "--model", str(model), "--manifest", str(manifest), "--json", str(out)]) == 0
    return json.loads(out.read_text(encoding="utf-8"))


def run_evaluation(page, qtbot, model, manifest) -> dict:
    page.set_model_path(model)
    page.set_manifest(manifest)
    assert page.evaluate_button.isEnabled()
    with qtbot.waitSignal(page.evaluation_finished, timeout=60_000) as finished:
        page.evaluate_button.click()
    return finished.args[0]


def test_scores_match_parcero_eval_and_fill_the_group_tables(page, qtbot, saved_model_dir, manifest, tmp_path):
    report = run_evaluation(page, qtbot, saved_model_dir, manifest)
    expected = cli_report(saved_model_dir, manifest, tmp_path)
    assert (report["wer"], report["cer"]) == (expected["wer"], expected["cer"]) == (0.0, 0.0)
    assert page.summary_label.text().startswith("WER 0.00 %  ·  CER 0.00 %  ·  6 utterances")
    genders = {page.gender_table.item(r, 0).text(): int(page.gender_table.item(r, 1).text())
               for r in range(page.gender_table.rowCount())}
    assert genders == {"female": 3, "male": 3}
    assert "Too few clips for an interval (3 by women, 3 by men" in page.gap_label.text()
    assert page.speaker_table.rowCount() == 2
    assert page.rows_table.rowCount() == len(OVERFIT_TEXTS) and page.confusion_table.rowCount() == 0
    assert page.loaded_model == str(saved_model_dir)


def test_a_planted_error_shows_colours_confusions_and_exports(page, qtbot, saved_model_dir, planted, tmp_path):
    report = run_evaluation(page, qtbot, saved_model_dir, planted)
    expected = cli_report(saved_model_dir, planted, tmp_path)
    assert report["wer"] == pytest.approx(expected["wer"]) and report["wer"] > 0
    assert report["cer"] == pytest.approx(expected["cer"]) and report["cer"] > 0
    assert {k: v["wer"] for k, v in report["by_gender"].items()} == pytest.approx(
        {k: v["wer"] for k, v in expected["by_gender"].items()})
    # per-utterance rates add up to the engine's overall ones (same normalisation)
    assert sum(r.word_errors for r in page.rows) / sum(r.words for r in page.rows) == pytest.approx(report["wer"])
    assert sum(r.char_errors for r in page.rows) / sum(r.chars for r in page.rows) == pytest.approx(report["cer"])

    # worst first: the two planted utterances head the table
    top = {page.rows_table.item(r, 5).text() for r in range(2)}
    assert top == {"señor Nunez", "comió ñoquis ayer"}
    correct = [page.rows_table.item(r, 0).text() for r in range(2, len(OVERFIT_TEXTS))]
    assert correct == sorted(correct)  # ties in their scored order
    page.rows_table.sortItems(4, Qt.SortOrder.AscendingOrder)  # by CER, as a click on its header does
    cers = [float(page.rows_table.item(r, 4).text()) for r in range(len(OVERFIT_TEXTS))]
    assert cers == sorted(cers) and cers[-1] > 20  # numerically: 29.41 after 18.18
    page.rows_table.sortItems(3, Qt.SortOrder.DescendingOrder)
    confusions = {(page.confusion_table.item(r, 0).text(), page.confusion_table.item(r, 1).text()):
                  int(page.confusion_table.item(r, 2).text()) for r in range(page.confusion_table.rowCount())}
    assert confusions == {("u", "ú"): 1, ("n", "ñ"): 1}

    for row in range(2):
        page.rows_table.selectRow(row)
        html = page.alignment_browser.toHtml().lower()
        if page.selected_row().reference == "señor Nunez":
            assert COLORS["substitute"] in html and "núñez" in html and "nunez" in html
            nunez_row = row
        else:
            assert COLORS["delete"] in html and "ayer" in html
    page.rows_table.selectRow(nunez_row)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.grab().save(str(ARTIFACTS / "evaluate-page.png"))

    csv_path, json_path = tmp_path / "informe.csv", tmp_path / "informe.json"
    assert page.export_csv(csv_path) and page.export_json(json_path)
    rows = read_csv(csv_path)
    assert len(rows) == len(OVERFIT_TEXTS) and tuple(rows[0]) == CSV_COLUMNS
    assert {r["reference"] for r in rows} >= {"señor Nunez", "comió ñoquis ayer"}
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert document["wer"] == report["wer"] and document["manifest"] == str(planted)
    assert {(c["reference"], c["hypothesis"]) for c in document["accent_confusions"]} == {("u", "ú"), ("n", "ñ")}
    assert len(document["rows"]) == len(OVERFIT_TEXTS)
    assert document["gender_gap"] == report["gender_gap"] and document["gender_gap"]["utterances"] == {
        "female": 3, "male": 3}


def test_the_gender_gap_shows_its_interval_and_says_when_it_includes_zero(page):
    from engine.evaluate import EvalRow, scored
    from engine.text import TextConfig

    texts = ["el perro come pan", "la casa es azul", "hola señor Núñez", "mañana llueve", "qué tal estás hoy",
             "el pingüino nada"]

    def report(women: list[str], men: list[str]) -> dict:
        rows = [EvalRow(f"f{i}", ref, hyp, "ana", "female") for i, (ref, hyp) in enumerate(zip(texts, women))]
        rows += [EvalRow(f"m{i}", ref, hyp, "luis", "male") for i, (ref, hyp) in enumerate(zip(texts, men))]
        return scored(rows, [], TextConfig()).to_dict()

    def points(x: float) -> str:
        return f"{100 * x:+.1f}".replace("-", "−")

    wrong = [t.split(" ", 1)[1] for t in texts]  # the first word missing from every woman's utterance
    gap = report(wrong, texts)
    page.show_report(gap)
    cer, wer = gap["gender_gap"]["cer"], gap["gender_gap"]["wer"]
    lines = page.gap_label.text().splitlines()
    assert lines[0] == (f"CER women − men: {points(cer['estimate'])} points "
                        f"(95 % interval {points(cer['low'])} to {points(cer['high'])})")
    assert lines[1].startswith(f"WER women − men: {points(wer['estimate'])} points") and cer["low"] > 0
    assert lines[2] == "From 6 utterances by women and 6 by men, resampled 1000 times."
    assert "not distinguishable" not in page.gap_label.text()

    same = [t if i % 2 else t.split(" ", 1)[1] for i, t in enumerate(texts)]
    page.show_report(report(same, same))
    lines = page.gap_label.text().splitlines()
    assert lines[0].startswith("CER women − men: +0.0 points (95 % interval −")
    assert all(line.endswith("— not distinguishable from no gap with these clips") for line in lines[:2])

    page.show_report(report(texts, []))
    assert "needs utterances of both women and men" in page.gap_label.text()


def test_a_missing_manifest_is_reported_inline(page, saved_model_dir, tmp_path):
    page.set_model_path(saved_model_dir)
    page.set_manifest(tmp_path / "no-existe.jsonl")
    assert not page.evaluate()
    assert "no such manifest" in page.error_label.text()


def test_alignment_and_scoring_helpers():
    from app.transcript_diff import align, alignment_html, error_counts
    from app.eval_report import accent_confusions, score_rows

    ops = align("el perro come pan", "el perro comió pan ya")
    assert [op.kind for op in ops] == ["equal", "substitute", "equal", "insert"]
    assert error_counts(ops) == {"substitute": 1, "delete": 0, "insert": 1, "equal": 3}
    html = alignment_html(align("la casa azul", "la azul"))
    assert COLORS["delete"] in html and "<s>casa</s>" in html
    chars = align("pingüino", "pinguino", "char")
    assert [(op.ref, op.hyp) for op in chars if op.kind == "substitute"] == [(("ü",), ("u",))]

    rows = score_rows([{"id": "a", "reference": "Hola, Núñez", "hypothesis": "hola nunez"},
                       {"id": "b", "reference": "", "hypothesis": ""},
                       {"id": "c", "reference": "", "hypothesis": "eh"}])
    assert [r.id for r in rows] == ["c", "a", "b"]  # worst first
    assert (rows[0].wer, rows[2].wer) == (1.0, 0.0)  # empty references: 1 if anything was said
    assert rows[1].reference == "hola núñez" and rows[1].wer == 0.5 and rows[1].char_errors == 2
    assert accent_confusions({"ú→u": 3, "b→v": 2, "n→ñ": 1, "a→a": 4}) == [("ú", "u", 3), ("n", "ñ", 1)]
