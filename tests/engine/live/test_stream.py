"""Live transcription with real models: text committed while audio arrives, nothing lost at the end."""

import threading

import numpy as np
import pytest

from engine.live.stream import LiveOptions, LiveSession, LiveTranscriber, _aligned_end, words_transcript
from engine.metrics import error_rates
from engine.transcript import DecodeOptions, TimedText

GREEDY = DecodeOptions(beam_size=1, temperature_fallback=False)


def wer(reference: str, hypothesis: str) -> float:
    return error_rates([reference], [hypothesis]).wer


def test_aligned_end_finds_where_the_committed_words_end():
    assert _aligned_end(["el", "perro"], ["el", "perro", "come"]) == 2
    assert _aligned_end(["el", "perro"], ["perro", "come"]) == 1  # the first word fell before the buffer
    assert _aligned_end(["el", "pero"], ["el", "perro", "come"]) == 2  # heard differently: one for one
    assert _aligned_end(["a", "b"], ["x"]) is None  # nothing in common: the caller goes by times
    assert _aligned_end(["no", "no"], ["no", "no", "no", "sí"]) == 2
    # A phrase said again later in the buffer: the committed one is its first copy.
    said_twice = "y las hipótesis y las hipótesis brillantes y audaces".split()
    assert _aligned_end(["y", "las", "hipótesis"], said_twice) == 3


def test_words_transcript_times_every_character():
    t = words_transcript([TimedText(" hola", 0.0, 0.4), TimedText("mundo", 0.5, 1.0)], 2.0)
    assert t.text == "hola mundo" and t.duration == 2.0
    assert "".join(c.text for c in t.tokens) == "hola mundo"
    assert t.tokens[0].start == 0.0 and t.tokens[-1].end == 1.0
    assert [w.text for w in t.words] == ["hola", "mundo"]


@pytest.mark.parametrize("field, value", [("trim_seconds", 0), ("min_update_seconds", float("nan")),
                                          ("max_buffer_seconds", 40), ("trim_seconds", 26), ("policy", "x")])
def test_live_options_name_the_bad_field(field, value):
    from dataclasses import replace

    with pytest.raises(ValueError, match=field if field != "policy" else "live policy"):
        replace(LiveOptions(), **{field: value}).check()


def _feed_in_steps(t: LiveTranscriber, samples: np.ndarray, step_seconds: float):
    updates = []
    step = int(step_seconds * 16000)
    for i in range(0, len(samples), step):
        t.feed(samples[i:i + step])
        updates.append(t.update())
    updates.append(t.update(final=True))
    return updates


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["alignatt", "stable", "agreement"])
def test_whisper_live_commits_what_offline_transcription_hears(whisper_base_live, spoken, policy):
    samples, reference = spoken
    t = LiveTranscriber(whisper_base_live, GREEDY, LiveOptions(policy=policy, trim_seconds=6.0))
    updates = _feed_in_steps(t, samples, 1.0)
    committed = [w for u in updates for w in u.committed]
    # Text was final before the end, not all at once when the audio stopped.
    assert sum(len(u.committed) for u in updates[:-1]) >= len(committed) // 2
    assert [w.end for w in committed] == sorted(w.end for w in committed) or all(
        b.end >= a.start for a, b in zip(committed, committed[1:]))
    text = t.transcript().text
    assert text == " ".join(w.text.strip() for w in committed)
    assert wer(reference, text) < 0.2, text
    assert updates[-1].final and updates[-1].tentative == []
    assert t.received == len(samples)


@pytest.mark.slow
def test_whisper_live_writes_nothing_over_silence(whisper_base_live, spoken):
    samples, reference = spoken
    silence = np.zeros(16000 * 8, np.float32)
    t = LiveTranscriber(whisper_base_live, GREEDY, LiveOptions(trim_seconds=4.0, max_buffer_seconds=10.0))
    updates = _feed_in_steps(t, np.concatenate([silence, samples[: 16000 * 9]]), 2.0)
    first_word = next(w for u in updates for w in u.committed)
    assert first_word.start >= 7.0, first_word  # nothing made up over the 8 s of silence
    assert "prefieren" in t.transcript().text.lower()


@pytest.mark.slow
def test_live_session_finalises_every_sample_pushed(whisper_base_live, spoken):
    samples, reference = spoken
    t = LiveTranscriber(whisper_base_live, GREEDY, LiveOptions(min_update_seconds=2.0))
    seen, lock = [], threading.Lock()

    def on_update(update, status):
        with lock:
            seen.append((update, status))

    session = LiveSession(t, on_update)
    session.start()
    for i in range(0, len(samples), 1024):  # as a sound card would, far faster than real time
        session.push(samples[i:i + 1024])
    result = session.stop(timeout=300)
    assert not session.running and t.received == len(samples)
    assert seen[-1][0].final and seen[-1][1].backlog == 0.0
    assert seen[-1][1].audio_received == pytest.approx(len(samples) / 16000)
    assert "verdades" in result.text.lower() and wer(reference, result.text) < 0.2, result.text


@pytest.mark.slow
def test_a_backlog_longer_than_whisper_reads_is_decoded_in_parts(whisper_base_live, spoken):
    """A minute arrives at once (a stall, or a stop right after a long recording): no pass reads over 30 s,
    and every sentence of it is in the transcript."""
    samples, reference = spoken
    minute = np.concatenate([samples] * 4)  # 54 s
    longest = []

    def on_step(chunk, info):
        longest.append(chunk.end - chunk.start)

    t = LiveTranscriber(whisper_base_live, GREEDY, LiveOptions(), on_step=on_step)
    session = LiveSession(t, lambda update, status: None)
    session.push(minute)
    session.start()
    result = session.stop(timeout=600)
    assert t.received == len(minute) and max(longest) <= 31.0
    assert result.text.lower().count("verdades") == 4, result.text


def test_the_ctc_reading_of_a_speech_transformer_is_timed_words(saved_model_dir):
    from engine.backends import backend_of
    from engine.models.io import load_model
    from tests.conftest import OVERFIT_TEXTS
    from tests.helpers import tone_speech

    loaded = load_model(saved_model_dir)
    audio = np.concatenate([np.zeros(8000, np.float32), tone_speech(OVERFIT_TEXTS[1])])
    words = backend_of(loaded).ctc_words(loaded, audio)
    assert len(words) == 2 and words[0].text == "señor"  # the toy CTC head hears "oúñez" for "Núñez"
    assert 0.4 < words[0].start < words[0].end <= words[1].start < words[1].end <= len(audio) / 16000


@pytest.mark.parametrize("policy", ["auto", "ctc", "agreement"])
def test_speech_transformer_works_live(saved_model_dir, policy):
    """The toy model knows single short utterances (offline it hears only the first of two): live must
    give what offline gives, committed while the audio arrives."""
    from engine.models.io import load_model
    from engine.transcribe import transcribe_long
    from tests.conftest import OVERFIT_TEXTS
    from tests.helpers import tone_speech

    loaded = load_model(saved_model_dir)
    audio = np.concatenate([tone_speech(OVERFIT_TEXTS[1]), np.zeros(16000, np.float32)])
    offline = transcribe_long(loaded, audio, DecodeOptions()).text
    assert offline == OVERFIT_TEXTS[1]
    t = LiveTranscriber(loaded, DecodeOptions(), LiveOptions(policy=policy, margin=0.5))
    updates = _feed_in_steps(t, audio, 0.25)
    assert t.transcript().text == offline
    assert sum(len(u.committed) for u in updates[:-1]) > 0  # final before the audio stopped


def test_a_looping_hypothesis_commits_nothing_until_it_reads_right():
    from engine.live.stream import _loops

    loop = [TimedText("no,", i * 0.2, i * 0.2 + 0.2) for i in range(30)]
    assert _loops(loop)
    real = [TimedText(w, i * 0.3, i * 0.3 + 0.3) for i, w in enumerate(
        "Prefieren el libro a la monografía y las hipótesis brillantes y audaces".split())]
    assert not _loops(real) and not _loops(loop[:3])  # a short "no, no, no" is speech


def test_the_buffer_is_cut_in_a_pause_not_inside_speech():
    from engine.live.stream import _pause_after

    w = lambda text, a, b: TimedText(text, a, b)  # noqa: E731
    committed = [w("el", 0.0, 0.3), w("libro", 0.3, 0.8), w("a", 1.3, 1.4), w("la", 1.4, 1.6)]
    assert _pause_after(committed, [w("monografía", 1.6, 2.4)]) == pytest.approx(1.05)  # the gap after "libro"
    assert _pause_after([w("sólidas.", 0.0, 0.5)], [w("Además", 0.6, 1.0)]) == pytest.approx(0.55)
    assert _pause_after([w("sólidas.", 0.0, 0.5)], []) == 0.5  # a sentence's end, nothing after it yet
    assert _pause_after([w("un", 0.0, 0.2), w("libro", 0.2, 0.6)], [w("más", 0.6, 0.9)]) is None


@pytest.mark.slow
def test_words_already_final_are_not_decoded_again(whisper_base_live, spoken):
    """The committed words a pass hears again are its forced start, read in one step: a pass decodes only
    the words still open, so over a recording far fewer steps are taken than words re-read."""
    samples, reference = spoken
    steps: dict[int, int] = {}

    def on_step(chunk, info):
        steps[chunk.index] = steps.get(chunk.index, 0) + 1

    t = LiveTranscriber(whisper_base_live, GREEDY, LiveOptions(trim_seconds=8.0), on_step=on_step)
    reread, opened = 0, 0
    step = 16000
    for i in range(0, len(samples), step):
        t.feed(samples[i:i + step])
        inside = len(t._inside())
        update = t.update()
        reread += inside
        opened += len(update.committed) + len(update.tentative)
    assert reread > opened  # most of what a pass hears was final already
    # Each open word costs at least one step, plus <|endoftext|> and timestamps; the re-read ones cost none.
    assert sum(steps.values()) < reread + opened, (sum(steps.values()), reread, opened)
    t.update(final=True)
    assert wer(reference, t.transcript().text) < 0.2
