import numpy as np

from engine.speech_transformer.timing import Span, attention_spans, ctc_forced_align, uniform_spans


def peaked_log_probs(path: list[int], V: int = 6, p: float = 0.9) -> np.ndarray:
    """CTC log-probs whose most likely frame labels are ``path``."""
    T = len(path)
    probs = np.full((T, V), (1 - p) / (V - 1))
    probs[np.arange(T), path] = p
    return np.log(probs)


def test_forced_alignment_finds_the_token_frames():
    #        frame: 0  1  2  3  4  5  6  7  8  9
    lp = peaked_log_probs([0, 4, 4, 0, 0, 5, 0, 5, 5, 0])
    spans = ctc_forced_align(lp, [4, 5, 5])
    assert spans == [Span(1, 3), Span(5, 6), Span(7, 9)]


def test_forced_alignment_of_repeats_needs_a_blank_between():
    lp = peaked_log_probs([4, 4, 4])
    # "4 4" can only be spelled as 4, blank, 4 even though frame 1 looks like a 4
    assert ctc_forced_align(lp, [4, 4]) == [Span(0, 1), Span(2, 3)]
    assert ctc_forced_align(lp[:2], [4, 4]) is None


def test_forced_alignment_gives_none_when_audio_is_too_short():
    lp = peaked_log_probs([4, 0])
    assert ctc_forced_align(lp, [4, 5, 4]) is None
    assert ctc_forced_align(lp, []) == []


def test_attention_spans_are_monotonic_and_cover_the_audio():
    attn = np.zeros((2, 4, 4, 20), dtype=np.float16)
    peaks = [3, 9, 6, 15]  # the third peak goes backwards and is clamped
    for i, f in enumerate(peaks):
        attn[:, :, i, f] = 1.0
    spans = attention_spans(attn, n_tokens=4, n_frames=20)
    starts = [s.start for s in spans]
    assert starts == [3, 9, 9, 15]
    assert spans[-1].end == 20
    assert all(s.end > s.start for s in spans)


def test_uniform_spans_split_evenly():
    spans = uniform_spans(4, 20)
    assert [(s.start, s.end) for s in spans] == [(0, 5), (5, 10), (10, 15), (15, 20)]
    assert uniform_spans(0, 10) == []
    # more tokens than frames: every span still has a positive length
    assert all(s.end > s.start for s in uniform_spans(5, 3))


def test_forced_alignment_of_a_long_sentence_past_127_states():
    # 130 tokens make 261 CTC states: the int8 back-pointers once overflowed a state index past 127
    # ("Python integer 136 out of bounds for int8") on any transcript over ~63 characters.
    rng = np.random.default_rng(0)
    targets = [int(t) for t in rng.integers(1, 30, size=130)]
    frames_per_token = 3
    T = len(targets) * frames_per_token + 5
    log_probs = np.full((T, 31), -20.0, dtype=np.float32)
    log_probs[:, 0] = -0.1  # blank everywhere ...
    for i, token in enumerate(targets):
        log_probs[i * frames_per_token + 1, token] = -0.01  # ... but each token peaks in its own frame
    spans = ctc_forced_align(log_probs, targets, blank_id=0)
    assert spans is not None and len(spans) == len(targets)
    assert [s.start for s in spans] == [i * frames_per_token + 1 for i in range(len(targets))]
