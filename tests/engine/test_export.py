"""Transcript export: subtitles parse back, times run forward, Spanish survives."""

from __future__ import annotations

import json
import re

import pytest

from engine.export import (
    EXPORT_FORMATS,
    format_for_path,
    format_timestamp,
    make_cues,
    render,
    to_json,
    to_srt,
    to_txt,
    to_vtt,
    write_export,
)
from engine.transcript import TimedText, Transcript

SPANISH = (
    "¿Qué pasó con el señor Núñez? ¡El pingüino comió ñoquis el miércoles! "
    "Sí, año tras año la niña leía en el jardín de su abuela mientras llovía sobre Cádiz"
)

SRT_TIME = r"(\d{2,}):(\d{2}):(\d{2}),(\d{3})"
VTT_TIME = r"(\d{2,}):(\d{2}):(\d{2})\.(\d{3})"


def _transcript(text: str = SPANISH, seconds_per_word: float = 0.45, pause_after: int | None = None) -> Transcript:
    """Words timed back to back, with a 2 s pause after word ``pause_after``."""
    words, t = [], 0.3
    for i, w in enumerate(text.split()):
        words.append(TimedText(w, round(t, 3), round(t + seconds_per_word * 0.9, 3)))
        t += seconds_per_word + (2.0 if i == pause_after else 0.0)
    return Transcript(text=text, tokens=[], words=words, duration=t + 0.5, score=-0.1, source="clase.wav")


def _seconds(match: tuple[str, str, str, str]) -> float:
    h, m, s, ms = (int(x) for x in match)
    return h * 3600 + m * 60 + s + ms / 1000


def parse_srt(text: str) -> list[tuple[int, float, float, str]]:
    """A strict little SRT reader: number, time line, one or more text lines, blank line."""
    cues = []
    for block in [b for b in text.split("\n\n") if b.strip()]:
        lines = block.strip("\n").split("\n")
        number = int(lines[0])
        m = re.fullmatch(f"{SRT_TIME} --> {SRT_TIME}", lines[1])
        assert m, f"bad SRT time line {lines[1]!r}"
        g = m.groups()
        cues.append((number, _seconds(g[:4]), _seconds(g[4:]), "\n".join(lines[2:])))
    return cues


def parse_vtt(text: str) -> list[tuple[float, float, str]]:
    assert text.startswith("WEBVTT\n"), "WebVTT files must start with the WEBVTT line"
    cues = []
    for block in [b for b in text.split("\n\n")[1:] if b.strip()]:
        lines = block.strip("\n").split("\n")
        m = re.fullmatch(f"{VTT_TIME} --> {VTT_TIME}", lines[0])
        assert m, f"bad VTT time line {lines[0]!r}"
        g = m.groups()
        body = "\n".join(lines[1:]).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        cues.append((_seconds(g[:4]), _seconds(g[4:]), body))
    return cues


def _check_times(spans: list[tuple[float, float]], duration: float) -> None:
    previous_end = 0.0
    for start, end in spans:
        assert start >= previous_end, "cues overlap or run backwards"
        assert end > start
        assert end <= duration + 1e-6
        previous_end = end


def test_srt_parses_back_with_increasing_times_and_the_whole_text():
    t = _transcript()
    cues = parse_srt(to_srt(t))
    assert [c[0] for c in cues] == list(range(1, len(cues) + 1))
    _check_times([(c[1], c[2]) for c in cues], t.duration)
    assert " ".join(c[3] for c in cues) == t.text
    assert all(len(c[3]) <= 42 for c in cues)
    assert cues[0][1] == pytest.approx(t.words[0].start, abs=1e-3)


def test_vtt_parses_back_with_increasing_times_and_the_whole_text():
    t = _transcript()
    text = to_vtt(t, max_chars=30, max_seconds=3.0)
    cues = parse_vtt(text)
    _check_times([(c[0], c[1]) for c in cues], t.duration)
    assert " ".join(c[2] for c in cues) == t.text
    assert all(len(c[2]) <= 30 and c[1] - c[0] <= 3.0 + 1e-6 for c in cues)


def test_cues_end_at_sentence_punctuation_and_pauses():
    t = _transcript(pause_after=12)  # a long pause after "Sí,", mid-sentence
    texts = [c.text for c in make_cues(t, max_chars=200, max_seconds=60)]
    assert texts[0] == "¿Qué pasó con el señor Núñez?"
    assert texts[1].startswith("¡El pingüino")
    assert any(c.endswith("miércoles!") for c in texts)
    pause_word = t.words[12].text
    assert any(c.endswith(pause_word) for c in texts), "a 2 s pause should end a cue"


def test_a_word_longer_than_a_cue_gets_a_cue_of_its_own():
    t = _transcript("a electroencefalografistas b")
    assert [c.text for c in make_cues(t, max_chars=10)] == ["a", "electroencefalografistas", "b"]


def test_overlapping_word_times_still_give_ordered_cues():
    words = [TimedText("uno.", 1.0, 2.0), TimedText("dos.", 1.5, 1.5), TimedText("tres", 0.9, 1.2)]
    t = Transcript("uno. dos. tres", [], words, duration=3.0, score=0.0)
    cues = parse_srt(to_srt(t))
    _check_times([(c[1], c[2]) for c in cues], t.duration)
    assert [c[3] for c in cues] == ["uno.", "dos.", "tres"]


def test_text_without_timed_words_is_spread_over_the_audio():
    t = Transcript("hola qué tal", [], [], duration=3.0, score=0.0)
    cues = make_cues(t)
    assert [c.text for c in cues] == ["hola qué tal"]
    assert (cues[0].start, cues[0].end) == (0.0, 3.0)


def test_timestamps():
    assert format_timestamp(0) == "00:00:00,000"
    assert format_timestamp(3723.4567) == "01:02:03,457"
    assert format_timestamp(59.9996, ".") == "00:01:00.000"
    assert format_timestamp(-1) == "00:00:00,000"
    assert format_timestamp(30 * 3600) == "30:00:00,000"


def test_txt_is_one_sentence_a_line():
    text = to_txt(_transcript())
    lines = text.splitlines()
    assert lines[0] == "¿Qué pasó con el señor Núñez?"
    assert " ".join(lines) == SPANISH
    assert text.endswith("\n")


def test_json_holds_text_words_cues_and_how_it_was_made(tmp_path):
    from pathlib import Path

    t = _transcript()
    doc = json.loads(to_json(t, "tonos-es", {"beam_size": 5, "model_dir": Path("/m/tonos")}))
    assert doc["format"] == "parcero-transcript" and doc["version"] == 1
    assert doc["model"] == "tonos-es"
    assert doc["settings"] == {"beam_size": 5, "model_dir": "/m/tonos"}
    assert doc["text"] == SPANISH
    assert doc["words"][0] == {"text": "¿Qué", "start": 0.3, "end": pytest.approx(0.705)}
    assert " ".join(c["text"] for c in doc["cues"]) == SPANISH
    assert "cross_attention" not in doc


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_written_files_are_utf8_with_accents_intact(tmp_path, fmt):
    path = write_export(tmp_path / f"clase.{fmt}", _transcript(), model_name="m", settings={})
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    for word in ("¿Qué", "Núñez", "pingüino", "ñoquis", "miércoles", "Cádiz"):
        assert word in text
    assert "\\u00" not in text  # JSON keeps ñ readable, not escaped
    assert not raw.startswith(b"\xef\xbb\xbf")  # no byte-order mark
    assert [p.name for p in tmp_path.iterdir()] == [f"clase.{fmt}"]  # no temporary left behind


@pytest.mark.parametrize("fmt", EXPORT_FORMATS)
def test_empty_transcript_gives_valid_files(tmp_path, fmt):
    empty = Transcript("", [], [], duration=2.0, score=0.0)
    text = write_export(tmp_path / "vacio.out", empty, fmt).read_text(encoding="utf-8")
    if fmt == "srt":
        assert parse_srt(text) == []
    elif fmt == "vtt":
        assert parse_vtt(text) == []
    elif fmt == "json":
        assert json.loads(text)["cues"] == []
    else:
        assert text == ""


def test_vtt_escapes_markup():
    t = _transcript("a <b> & c")
    assert "&lt;b&gt; &amp;" in to_vtt(t)
    assert parse_vtt(to_vtt(t))[0][2] == "a <b> & c"


def test_format_from_the_file_name_and_unknown_formats():
    assert format_for_path("x/clase.SRT") == "srt"
    assert format_for_path("clase.docx") is None
    with pytest.raises(ValueError, match="extension"):
        write_export("clase.docx", _transcript())
    with pytest.raises(ValueError, match="unknown export format"):
        render(_transcript(), "docx")


# ---- subtitle shaping: --max-line-width / --max-line-count ---------------------------------------


def _many_words(n: int = 120, seed: int = 0) -> Transcript:
    """``n`` words of 1 to 12 letters, back to back at speaking pace, no punctuation (only the limits cut)."""
    import random

    rng = random.Random(seed)
    letters = "abcdefghijklmnñopqrstuvwxyzáéíóú"
    words, t = [], 0.0
    for _ in range(n):
        text = "".join(rng.choice(letters) for _ in range(rng.randint(1, 12)))
        length = 0.05 + 0.04 * len(text)
        words.append(TimedText(text, round(t, 3), round(t + length, 3)))
        t += length + 0.05
    return Transcript(" ".join(w.text for w in words), [], words, duration=t + 0.3, score=0.0)


@pytest.mark.parametrize("width,count", [(12, 1), (20, 2), (32, 2), (42, 3), (15, 4)])
def test_shaped_subtitles_keep_every_line_and_cue_within_the_limits(width, count):
    t = _many_words()
    for cues in (parse_srt(to_srt(t, max_chars=width, max_seconds=60, max_lines=count)),
                 [(0, *c) for c in parse_vtt(to_vtt(t, max_chars=width, max_seconds=60, max_lines=count))]):
        lines = [c[3].split("\n") for c in cues]
        assert all(len(line) <= width for cue in lines for line in cue)
        assert all(1 <= len(cue) <= count for cue in lines)
        assert all(line and line == line.strip() for cue in lines for line in cue)
        # Words are never split nor lost: the lines, read in order, are the transcript's words.
        assert [w for cue in lines for line in cue for w in line.split(" ")] == t.text.split()
        _check_times([(c[1], c[2]) for c in cues], t.duration)
        # The limits are used: some cue fills every allowed line (the words are short enough).
        assert max(map(len, lines)) == count


def test_a_cue_of_several_lines_breaks_them_evenly():
    t = _transcript("uno dos tres cuatro cinco seis siete ocho nueve")  # 47 characters
    [cue] = make_cues(t, max_chars=42, max_seconds=60, max_lines=2)
    first, second = cue.text.split("\n")
    assert abs(len(first) - len(second)) <= 6, cue.text  # not 42 characters and a stray "nueve"
    assert max(len(first), len(second)) <= 42


def test_a_word_longer_than_the_line_gets_a_line_of_its_own():
    t = _transcript("a electroencefalografistas b c")
    cues = make_cues(t, max_chars=10, max_lines=2)
    assert [c.text for c in cues] == ["a\nelectroencefalografistas", "b c"]


def test_without_line_count_cues_stay_one_line_and_the_defaults_are_unchanged():
    t = _transcript()
    assert make_cues(t) == make_cues(t, max_chars=42, max_seconds=6.0, max_lines=1)
    assert all("\n" not in c.text for c in make_cues(t, max_chars=20))
    with pytest.raises(ValueError, match="max_lines"):
        make_cues(t, max_lines=0)


def test_render_passes_the_shaping_to_every_subtitle_format():
    t = _many_words(40)
    srt = render(t, "srt", max_chars=16, max_lines=2, model_name="ignored")
    assert any("\n" in c[3] for c in parse_srt(srt))
    doc = json.loads(render(t, "json", max_chars=16, max_lines=2))
    assert all(len(line) <= 16 for c in doc["cues"] for line in c["text"].split("\n"))


def test_text_without_word_times_is_spread_over_its_segments():
    """Whisper without word timestamps: each segment's words keep to the segment's time, not the whole file's."""
    from types import SimpleNamespace

    from engine.whisper.segments import WhisperTranscript

    segments = [SimpleNamespace(start=0.0, end=2.0, text=" hola qué tal."),
                SimpleNamespace(start=20.0, end=22.0, text=" muy bien")]
    t = WhisperTranscript("hola qué tal. muy bien", [], [], duration=30.0, score=0.0, segments=segments)
    cues = make_cues(t)
    assert [(c.text, c.start, c.end) for c in cues] == [("hola qué tal.", 0.0, 2.0), ("muy bien", 20.0, 22.0)]
