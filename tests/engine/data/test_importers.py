"""Corpus importers on tiny corpora built in tmp_path, each in its real layout with broken items.

Every test asserts exactly which utterances survive (ids, texts with their
accents, speakers, genders, durations) and exactly which problems are
reported, by kind and ``where``.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from engine.data.importers import FORMATS, ImportResult, detect_format, import_corpus
from engine.errors import ParceroError


def write_audio(path, seconds: float, sample_rate: int = 16000):
    """A quiet tone of ``seconds``; the container follows the extension (.wav .flac .mp3)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    samples = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    formats = {".wav": "WAV", ".flac": "FLAC", ".mp3": "MP3"}
    sf.write(str(path), samples, sample_rate, format=formats[path.suffix])
    return path


def write_garbage(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(0).bytes(2000))
    return path


def write_lines(path, lines: list, *, bom: bool = False, newline: bytes = b"\n"):
    """Write lines given as str (UTF-8 encoded) or bytes (written as they are)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = [line if isinstance(line, bytes) else line.encode("utf-8") for line in lines]
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + newline.join(raw) + newline)
    return path


def kept(result: ImportResult) -> dict:
    return {u.id: u for u in result.utterances}


def problems(result: ImportResult) -> list[tuple[str, str]]:
    return sorted((p.kind, p.where) for p in result.problems)


INVALID_UTF8 = b"\xff\xfe no es UTF-8 \xc3\x28"


# --- Common Voice ---------------------------------------------------------------

NEW_CV_HEADER = ("client_id\tpath\tsentence_id\tsentence\tsentence_domain\tup_votes\tdown_votes"
                 "\tage\tgender\taccents\tvariant\tlocale\tsegment")


def cv_row(client, clip, sentence, age="", gender="", accents=""):
    return f"{client}\t{clip}\tsid\t{sentence}\t\t2\t0\t{age}\t{gender}\t{accents}\t\tes\t"


@pytest.fixture
def commonvoice_release(tmp_path):
    """A new-style Common Voice release: 2 good clips and one of each kind of breakage."""
    root = tmp_path / "cv-corpus-es"
    clips = root / "clips"
    write_audio(clips / "common_voice_es_1.mp3", 1.0)
    write_audio(clips / "common_voice_es_2.mp3", 1.5)
    write_garbage(clips / "common_voice_es_4.mp3")
    write_audio(clips / "common_voice_es_5.mp3", 1.0)
    write_audio(clips / "common_voice_es_99.mp3", 1.0)  # listed in other.tsv only: not an orphan
    write_lines(root / "validated.tsv", [
        NEW_CV_HEADER,
        cv_row("spk_a", "common_voice_es_1.mp3", "¿Qué tal, señor Núñez?",
               age="twenties", gender="male_masculine", accents="andino"),
        cv_row("spk_b", "common_voice_es_2.mp3", 'El "Frederick Henry" zarpó; ¡ay!', gender="female_feminine"),
        cv_row("spk_c", "common_voice_es_3.mp3", "Este clip no existe."),
        cv_row("spk_c", "common_voice_es_4.mp3", "Este clip está corrupto."),
        cv_row("spk_d", "common_voice_es_5.mp3", "   "),
        "spk_e\tcommon_voice_es_6.mp3\tfaltan columnas",
        cv_row("spk_a", "common_voice_es_1.mp3", "Otra vez el mismo clip."),
        INVALID_UTF8,
    ], newline=b"\r\n")
    return root


def test_commonvoice_keeps_good_clips_and_reports_each_broken_one(commonvoice_release):
    root = commonvoice_release
    result = import_corpus(root, "commonvoice")
    assert (result.format, result.detected, result.source) == ("commonvoice", False, root)
    utterances = kept(result)
    assert list(utterances) == ["common_voice_es_1", "common_voice_es_2"]
    first, second = utterances["common_voice_es_1"], utterances["common_voice_es_2"]
    assert first.text == "¿Qué tal, señor Núñez?"
    assert second.text == 'El "Frederick Henry" zarpó; ¡ay!'  # quotes kept literally
    assert (first.speaker, first.gender, second.gender) == ("spk_a", "male", "female")
    assert first.extra == {"age": "twenties", "accent": "andino", "locale": "es"}
    assert first.audio == (root / "clips" / "common_voice_es_1.mp3").as_posix()
    assert first.sample_rate == 16000
    assert first.duration == pytest.approx(1.0, abs=0.1)  # MP3 frame counts are estimates
    assert second.duration == pytest.approx(1.5, abs=0.1)
    tsv = (root / "validated.tsv").as_posix()
    assert problems(result) == sorted([
        ("missing_audio", (root / "clips" / "common_voice_es_3.mp3").as_posix()),
        ("unreadable_audio", (root / "clips" / "common_voice_es_4.mp3").as_posix()),
        ("empty_text", f"{tsv}:6"),
        ("bad_line", f"{tsv}:7"),
        ("duplicate_id", f"{tsv}:8"),
        ("bad_line", f"{tsv}:9"),
    ])


def test_commonvoice_maps_only_male_and_female_genders(tmp_path):
    root = tmp_path / "cv"
    write_audio(root / "clips" / "a.mp3", 0.5)
    write_audio(root / "clips" / "b.mp3", 0.5)
    write_lines(root / "validated.tsv", [
        NEW_CV_HEADER,
        cv_row("x", "a.mp3", "uno", gender="do_not_wish_to_say"),
        cv_row("y", "b.mp3", "dos", gender="male"),
    ])
    assert [u.gender for u in import_corpus(root).utterances] == ["", "male"]


def test_commonvoice_uses_train_dev_test_without_validated_and_accepts_one_tsv(tmp_path):
    root = tmp_path / "cv"
    header = "client_id\tpath\tsentence\tup_votes\tdown_votes\tage\tgender\taccent\tlocale\tsegment"
    for i, split in enumerate(["train", "dev", "test", "other"]):
        write_audio(root / "clips" / f"{split}.mp3", 0.5)
        row = f"c{i}\t{split}.mp3\tfrase de {split}\t2\t0\t\tfemale\tcaribe\tes\t"
        write_lines(root / f"{split}.tsv", [header, row])
    assert [u.id for u in import_corpus(root).utterances] == ["train", "dev", "test"]
    for split in ("validated", "train", "dev", "test"):
        (root / f"{split}.tsv").unlink(missing_ok=True)
    assert detect_format(root) == ("commonvoice", "found other.tsv and clips/")
    with pytest.raises(ParceroError, match="give that file as the source"):
        import_corpus(root)
    only_other = import_corpus(root / "other.tsv")
    assert only_other.format == "commonvoice"
    assert [(u.id, u.extra["accent"]) for u in only_other.utterances] == [("other", "caribe")]


# --- OpenSLR --------------------------------------------------------------------


@pytest.fixture
def openslr_colombian(tmp_path):
    """SLR72-style: es_co_female/ and es_co_male/, 48 kHz wavs, quirky line_index.tsv."""
    root = tmp_path / "slr72"
    female, male = root / "es_co_female", root / "es_co_male"
    write_audio(female / "cof_02436_01372133427.wav", 0.5, 48000)
    write_audio(female / "cof_02436_00000000002.wav", 0.25, 48000)
    write_audio(female / "cof_09999_00000000003.wav", 0.5, 48000)  # orphan
    write_audio(female / "cof_01111_00000000005.wav", 0.5, 48000)
    write_lines(female / "line_index.tsv", [
        "cof_02436_01372133427\t¿Dónde queda la estación?",
        "  cof_02436_00000000002\t\t  Mañana llueve en Bogotá.  ",
        "cof_02436_00000000004\tNo hay audio para esta línea.",
        "cof_01111_00000000005\tdos\ttextos",
    ])
    write_audio(male / "com_01234_00000000001.wav", 0.75, 48000)
    write_lines(male / "line_index.tsv", ["com_01234_00000000001\tSí, señor."])
    return root


def test_openslr_reads_every_gender_folder(openslr_colombian):
    root = openslr_colombian
    result = import_corpus(root, "openslr")
    utterances = kept(result)
    assert list(utterances) == ["cof_02436_01372133427", "cof_02436_00000000002", "com_01234_00000000001"]
    assert [u.text for u in utterances.values()] == [
        "¿Dónde queda la estación?", "Mañana llueve en Bogotá.", "Sí, señor."]
    assert [(u.speaker, u.gender) for u in utterances.values()] == [
        ("cof_02436", "female"), ("cof_02436", "female"), ("com_01234", "male")]
    assert [u.duration for u in utterances.values()] == pytest.approx([0.5, 0.25, 0.75])
    assert {u.sample_rate for u in utterances.values()} == {48000}
    assert utterances["com_01234_00000000001"].extra == {"locale": "es-CO"}
    index = (root / "es_co_female" / "line_index.tsv").as_posix()
    assert problems(result) == sorted([
        ("audio_without_transcript", (root / "es_co_female" / "cof_09999_00000000003.wav").as_posix()),
        ("transcript_without_audio", f"{index}:3"),
        ("bad_line", f"{index}:4"),
        ("audio_without_transcript", (root / "es_co_female" / "cof_01111_00000000005.wav").as_posix()),
    ])


def test_openslr_accepts_a_single_speaker_folder(openslr_colombian):
    result = import_corpus(openslr_colombian / "es_co_male")
    assert (result.format, [(u.id, u.gender) for u in result.utterances]) == (
        "openslr", [("com_01234_00000000001", "male")])


# --- LJSpeech -------------------------------------------------------------------


@pytest.fixture
def ljspeech_voice(tmp_path):
    root = tmp_path / "mi-voz"
    wavs = root / "wavs"
    for i in (1, 2, 5, 6, 7):
        write_audio(wavs / f"lj{i:03d}.wav", 0.1 * i, 22050)
    write_garbage(wavs / "lj008.wav")
    sf.write(str(wavs / "lj009.wav"), np.zeros(0, dtype=np.float32), 22050)  # a header and no samples
    write_lines(root / "metadata.csv", [
        "lj001|¡Hola, España! ¿Qué tal?|Hola Espana que tal",
        "lj002||texto normalizado",
        "lj003|Una línea sin audio.",
        "lj004",
        "lj005|   ",
        b"lj006|" + INVALID_UTF8,
        "lj001|Repetida.",
        "lj008|Audio corrupto.",
        "lj009|Audio vacío.",
        "lj010|a|b|c",
    ], bom=True, newline=b"\r\n")
    return root


def test_ljspeech_keeps_original_text_and_reports_orphans(ljspeech_voice):
    root = ljspeech_voice
    result = import_corpus(root, "ljspeech")
    utterances = kept(result)
    assert list(utterances) == ["lj001", "lj002"]
    assert utterances["lj001"].text == "¡Hola, España! ¿Qué tal?"
    assert utterances["lj002"].text == "texto normalizado"  # the original column is empty
    assert {(u.speaker, u.gender, u.sample_rate) for u in utterances.values()} == {("mi-voz", "", 22050)}
    assert [u.duration for u in utterances.values()] == pytest.approx([0.1, 0.2])
    meta, wavs = (root / "metadata.csv").as_posix(), root / "wavs"
    assert problems(result) == sorted([
        ("transcript_without_audio", f"{meta}:3"),
        ("bad_line", f"{meta}:4"),
        ("empty_text", f"{meta}:5"),
        ("bad_line", f"{meta}:6"),
        ("duplicate_id", f"{meta}:7"),
        ("unreadable_audio", (wavs / "lj008.wav").as_posix()),
        ("empty_audio", (wavs / "lj009.wav").as_posix()),
        ("bad_line", f"{meta}:10"),
        # lj006's line was unreadable, so its wav has no transcript either.
        ("audio_without_transcript", (wavs / "lj006.wav").as_posix()),
        ("audio_without_transcript", (wavs / "lj007.wav").as_posix()),
    ])


# --- LibriSpeech ----------------------------------------------------------------


@pytest.fixture
def librispeech_subset(tmp_path):
    """LibriSpeech/SPEAKERS.TXT + LibriSpeech/train-clean-5/<spk>/<chapter>/."""
    root = tmp_path / "LibriSpeech"
    write_lines(root / "SPEAKERS.TXT", [
        "; Some comment", ";ID  |SEX| SUBSET           |MINUTES| NAME",
        "19   | F | train-clean-5    | 25.19 | Kara Shallenberg",
        "26   | M | train-clean-5    | 25.08 | Denny Sayers",
    ])
    subset = root / "train-clean-5"
    chapter = subset / "19" / "198"
    write_audio(chapter / "19-198-0000.flac", 0.5)
    write_audio(chapter / "19-198-0001.flac", 0.25)
    write_audio(chapter / "19-198-0003.flac", 0.25)  # orphan
    write_lines(chapter / "19-198.trans.txt", [
        "19-198-0000 ¿QUÉ HORA ES, SEÑORA?", "19-198-0001 AÑO NUEVO", "19-198-0002 SIN AUDIO",
    ])
    write_audio(subset / "26" / "495" / "26-495-0000.flac", 0.75)
    write_audio(subset / "26" / "495" / "26-495-0001.flac", 0.75)
    write_lines(subset / "26" / "495" / "26-495.trans.txt", ["26-495-0000 ¡ADELANTE!", "26-495-0001"])
    return subset


def test_librispeech_reads_nested_chapters_with_genders_from_speakers_txt(librispeech_subset):
    subset = librispeech_subset
    result = import_corpus(subset)
    assert (result.format, result.detected) == ("librispeech", True)
    utterances = kept(result)
    assert [(u.id, u.text, u.speaker, u.gender) for u in utterances.values()] == [
        ("19-198-0000", "¿QUÉ HORA ES, SEÑORA?", "19", "female"),
        ("19-198-0001", "AÑO NUEVO", "19", "female"),
        ("26-495-0000", "¡ADELANTE!", "26", "male"),
    ]
    assert [u.duration for u in utterances.values()] == pytest.approx([0.5, 0.25, 0.75])
    chapter = subset / "19" / "198"
    assert problems(result) == sorted([
        ("transcript_without_audio", (chapter / "19-198.trans.txt").as_posix() + ":3"),
        ("audio_without_transcript", (chapter / "19-198-0003.flac").as_posix()),
        ("empty_text", (subset / "26" / "495" / "26-495.trans.txt").as_posix() + ":2"),
    ])


# --- Kaldi ----------------------------------------------------------------------


@pytest.fixture
def kaldi_recipe(tmp_path):
    """s5/data/train with segments.

    wav.scp mixes a path relative to s5/, an absolute one, a pipe, a missing file and a repeated id.
    """
    recipe = tmp_path / "s5"
    data = recipe / "data" / "train"
    write_audio(recipe / "audio" / "rec1.wav", 2.0)
    rec2 = write_audio(tmp_path / "elsewhere" / "rec2.flac", 1.5)
    write_lines(data / "wav.scp", [
        "rec1 audio/rec1.wav",
        f"rec2 {rec2}",
        "rec3 sph2pipe -f wav -p audio/rec3.sph |",
        "rec4 audio/no-existe.wav",
        "rec1 audio/otra.wav",
    ])
    write_lines(data / "segments", [
        "utt1 rec1 0.00 1.00",
        "utt2 rec1 1.00 -1",
        "utt3 rec2 0.50 1.20",
        "utt4 rec3 0 1",
        "utt5 rec1 3.0 4.0",
        "utt7 rec4 0 1",
        "utt8 rec1 abc 1.0",
        "utt9 rec2 0.0 1.8",
        "utt10 rec2 0.0 2.5",
    ])
    write_lines(data / "text", [
        "utt1 ¿qué pasó ayer?", "utt2 el pingüino comió ñoquis", "utt3 sí", "utt4 tubería",
        "utt5 demasiado tarde", "utt6 sin segmento", "utt7 archivo perdido", "utt8 números malos",
        "utt9 un poco más allá", "utt10 mucho más allá",
    ])
    write_lines(data / "utt2spk", ["utt1 ana", "utt2 ana", "utt3 luis", "utt9 luis"])
    write_lines(data / "spk2gender", ["ana f", "luis m"])
    return data


def test_kaldi_cuts_segments_and_survives_pipes(kaldi_recipe):
    data = kaldi_recipe
    result = import_corpus(data, "kaldi")
    utterances = kept(result)
    assert [(u.id, u.text, u.speaker, u.gender) for u in utterances.values()] == [
        ("utt1", "¿qué pasó ayer?", "ana", "female"),
        ("utt2", "el pingüino comió ñoquis", "ana", "female"),
        ("utt3", "sí", "luis", "male"),
        ("utt9", "un poco más allá", "luis", "male"),
    ]
    rec1 = (data.parent.parent / "audio" / "rec1.wav").as_posix()
    assert [(u.audio == rec1, u.offset, u.end) for u in utterances.values()] == [
        (True, 0.0, 1.0), (True, 1.0, 2.0), (False, 0.5, 1.2), (False, 0.0, 1.5)]  # utt9's end overshoots by 0.3 s
    assert [u.duration for u in utterances.values()] == pytest.approx([1.0, 1.0, 0.7, 1.5])
    scp, segments, text = (f"{(data / name).as_posix()}" for name in ("wav.scp", "segments", "text"))
    assert problems(result) == sorted([
        ("bad_line", f"{scp}:3"),  # the pipe
        ("duplicate_id", f"{scp}:5"),
        ("bad_line", f"{segments}:7"),
        ("transcript_without_audio", f"{text}:4"),  # utt4 needs the pipe
        ("bad_line", f"{segments}:5"),  # utt5 starts after rec1 ends
        ("transcript_without_audio", f"{text}:6"),
        ("missing_audio", (data / "audio" / "no-existe.wav").as_posix()),
        ("transcript_without_audio", f"{text}:8"),  # utt8's segment line was bad
        ("bad_line", f"{segments}:9"),  # utt10 ends 1 s after rec2
    ])
    pipe = next(p for p in result.problems if p.where == f"{scp}:3")
    assert "pipe commands are not supported" in pipe.message


def test_kaldi_without_segments_uses_whole_recordings(tmp_path):
    data = tmp_path / "data"
    write_audio(data / "wavs" / "a.wav", 0.5)
    write_audio(data / "wavs" / "b.wav", 0.5)
    write_lines(data / "wav.scp", ["utt_a wavs/a.wav", "utt_b wavs/b.wav"])
    write_lines(data / "text", ["utt_a ¡Vámonos!"])
    result = import_corpus(data)
    assert (result.format, [(u.id, u.text, u.offset, u.speaker) for u in result.utterances]) == (
        "kaldi", [("utt_a", "¡Vámonos!", None, "")])
    assert problems(result) == [("audio_without_transcript", (data / "wavs" / "b.wav").as_posix())]


def test_commonvoice_reads_csv_quoting_as_the_csv_module_and_keeps_stray_quotes(tmp_path):
    # Common Voice's TSVs quote a sentence that holds a quote and double its quotes (as cv-es-sample does).
    root = tmp_path / "cv"
    sentences = {
        "common_voice_es_1.mp3": ('"Aquí perdió el contacto con el ""Frederick Henry""."',
                                  'Aquí perdió el contacto con el "Frederick Henry".'),
        "common_voice_es_2.mp3": ('"Paciencia lo es todo""."', 'Paciencia lo es todo".'),
        "common_voice_es_3.mp3": ('"Hola" dijo, sin comillas de CSV', '"Hola" dijo, sin comillas de CSV'),
        "common_voice_es_4.mp3": ('Un "apodo" en medio', 'Un "apodo" en medio'),
    }
    for clip in sentences:
        write_audio(root / "clips" / clip, 0.5)
    write_lines(root / "validated.tsv", [NEW_CV_HEADER] + [cv_row("spk", clip, raw)
                                                           for clip, (raw, _) in sentences.items()])
    result = import_corpus(root, "commonvoice")
    assert result.problems == []
    assert {u.id + ".mp3": u.text for u in result.utterances} == {clip: text for clip, (_, text) in sentences.items()}


# --- CSV / TSV tables -------------------------------------------------------------


def test_csv_finds_columns_by_alias_and_resolves_paths_from_its_folder(tmp_path):
    root = tmp_path / "tabla"
    write_audio(root / "audio" / "uno.wav", 0.5)
    write_audio(root / "audio" / "dos.flac", 0.25)
    write_garbage(root / "audio" / "tres.wav")
    write_lines(root / "datos.csv", [
        "File,Transcription,speaker_id,sex,duration,accent",
        'audio/uno.wav,"Sí, claro: ¿por qué no?",ana,F,9.9,andino',
        "audio/dos.flac,año,luis,male,,",
        "audio/tres.wav,corrupto,luis,male,,",
        "audio/cuatro.wav,no existe,luis,male,,",
        "audio/uno.wav,campos de menos",
        '"audio/cinco.wav,comillas sin cerrar,x,m,,',
    ], bom=True)
    result = import_corpus(root)
    assert (result.format, result.detected) == ("csv", True)
    assert [(u.id, u.text, u.speaker, u.gender, u.extra) for u in result.utterances] == [
        ("audio-uno", "Sí, claro: ¿por qué no?", "ana", "female", {"accent": "andino"}),
        ("audio-dos", "año", "luis", "male", {}),
    ]
    assert [u.duration for u in result.utterances] == pytest.approx([0.5, 0.25])  # from the header, not the column
    table = (root / "datos.csv").as_posix()
    assert problems(result) == sorted([
        ("unreadable_audio", (root / "audio" / "tres.wav").as_posix()),
        ("missing_audio", (root / "audio" / "cuatro.wav").as_posix()),
        ("bad_line", f"{table}:6"),
        ("bad_line", f"{table}:7"),
    ])


def test_tsv_and_semicolon_tables_with_ids_and_segments(tmp_path):
    write_audio(tmp_path / "a.wav", 2.0)
    write_lines(tmp_path / "lista.tsv", [
        "id\taudio\ttext\toffset\tend", "x1\ta.wav\tprimera\t0\t1.5", "x2\ta.wav\tsegunda\t1.5\t",
        "x3\ta.wav\tmal\tuno\t2", "x4\ta.wav\tal revés\t1.5\t1.0"])
    result = import_corpus(tmp_path / "lista.tsv", "csv")
    assert [(u.id, u.offset, u.end, u.duration) for u in result.utterances] == [
        ("x1", 0.0, 1.5, 1.5), ("x2", 1.5, 2.0, 0.5)]
    table = (tmp_path / "lista.tsv").as_posix()
    assert problems(result) == [("bad_line", f"{table}:4"), ("bad_line", f"{table}:5")]
    write_lines(tmp_path / "otra" / "lista.csv", ["wav;sentence", "../a.wav;punto y coma"])
    result = import_corpus(tmp_path / "otra")
    assert [(u.id, u.text, u.audio) for u in result.utterances] == [
        ("a", "punto y coma", (tmp_path / "a.wav").as_posix())]


def test_csv_quoting_is_read_as_the_csv_module_does_and_stray_quotes_are_kept(tmp_path):
    write_audio(tmp_path / "a.wav", 0.5)
    write_audio(tmp_path / "b.wav", 0.5)
    write_lines(tmp_path / "t.csv", ["path,text", 'a.wav,"Dijo: ""sí, claro""."', 'b.wav,"Hola" dijo él'])
    result = import_corpus(tmp_path / "t.csv", "csv")
    assert result.problems == []
    assert [u.text for u in result.utterances] == ['Dijo: "sí, claro".', '"Hola" dijo él']


def test_csv_without_a_text_column_names_the_columns_it_found(tmp_path):
    write_lines(tmp_path / "t.csv", ["path,words,speaker", "a.wav,hola,x"])
    with pytest.raises(ParceroError, match=r"text.*found columns: path, words, speaker"):
        import_corpus(tmp_path / "t.csv", "csv")


# --- Folder of audio + .txt -------------------------------------------------------


def test_folder_pairs_audio_with_same_named_txt(tmp_path):
    root = tmp_path / "grabaciones"
    write_audio(root / "ana" / "0001.wav", 0.5)
    write_lines(root / "ana" / "0001.txt", ["  ¿Dónde está", "la estación?  "], bom=True)
    write_audio(root / "luis" / "0001.flac", 0.25)
    (root / "luis" / "0001.txt").write_text("Mañana, sí.\n", encoding="utf-8")
    write_audio(root / "luis" / "0002.wav", 0.5)  # no transcript
    write_audio(root / "luis" / "0003.mp3", 0.5)
    (root / "luis" / "0003.txt").write_bytes("línea buena\n".encode() + INVALID_UTF8)
    write_audio(root / "luis" / "0004.wav", 0.5)
    (root / "luis" / "0004.txt").write_text(" \n", encoding="utf-8")
    write_garbage(root / "luis" / "._0001.wav")  # macOS resource fork: ignored
    (root / "LEEME.txt").write_text("Grabaciones de prueba.", encoding="utf-8")
    result = import_corpus(root)
    assert result.format == "folder"
    assert [(u.id, u.text, u.speaker) for u in result.utterances] == [
        ("ana-0001", "¿Dónde está la estación?", "ana"), ("luis-0001", "Mañana, sí.", "luis")]
    assert [u.duration for u in result.utterances] == pytest.approx([0.5, 0.25])
    luis = root / "luis"
    assert problems(result) == sorted([
        ("audio_without_transcript", (luis / "0002.wav").as_posix()),
        ("bad_line", (luis / "0003.txt").as_posix() + ":2"),
        ("empty_text", (luis / "0004.txt").as_posix()),
    ])


# --- Detection, errors, progress --------------------------------------------------


def test_auto_detection_picks_each_layout_with_a_reason(
    commonvoice_release, openslr_colombian, ljspeech_voice, librispeech_subset, kaldi_recipe
):
    cases = {
        commonvoice_release: ("commonvoice", "validated.tsv and clips/"),
        openslr_colombian: ("openslr", "line_index.tsv in es_co_female/, es_co_male/"),
        ljspeech_voice: ("ljspeech", "metadata.csv and wavs/"),
        librispeech_subset.parent: ("librispeech", "train-clean-5/19/198/19-198.trans.txt"),
        kaldi_recipe: ("kaldi", "wav.scp and text"),
    }
    for src, (expected, words) in cases.items():
        name, reason = detect_format(src)
        assert name == expected and words in reason, (src, name, reason)
    assert set(FORMATS) == {"commonvoice", "openslr", "ljspeech", "librispeech", "kaldi", "csv", "folder"}


def test_unrecognisable_folder_says_what_was_looked_for(tmp_path):
    (tmp_path / "notas.txt").write_text("nada", encoding="utf-8")
    write_audio(tmp_path / "suelto.wav", 0.1)
    with pytest.raises(ParceroError, match="cannot tell") as info:
        import_corpus(tmp_path)
    for looked_for in ("validated.tsv", "line_index.tsv", "metadata.csv", "trans.txt", "wav.scp", ".csv", ".txt"):
        assert looked_for in str(info.value)


def test_bad_arguments_are_clear_errors(tmp_path, ljspeech_voice):
    with pytest.raises(ParceroError, match="no such file"):
        import_corpus(tmp_path / "falta")
    with pytest.raises(ParceroError, match="unknown corpus format 'mp3'"):
        import_corpus(ljspeech_voice, "mp3")
    with pytest.raises(ParceroError, match="wav.scp and text"):
        import_corpus(ljspeech_voice, "kaldi")


def test_progress_is_reported_for_every_utterance(openslr_colombian):
    calls = []
    result = import_corpus(openslr_colombian, on_progress=lambda done, total: calls.append((done, total)))
    checked = 3  # utterances whose audio was checked; lines rejected earlier are not counted
    assert calls == [(i, checked) for i in range(checked + 1)]
    assert len(result.utterances) == checked
