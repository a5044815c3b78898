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
    assert _aligned_end(["a", "b"], ["x"]) == 1
    assert _aligned_end(["no", "no"], ["no", "no", "no", "sí"]) == 2


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
@pytest.mark.parametrize("policy", ["alignatt", "agreement"])
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


@pytest.mark.parametrize("policy", ["auto", "agreement"])
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
