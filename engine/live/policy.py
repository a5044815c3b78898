"""When a word heard live is final: the commit policies of streaming transcription.

A live transcriber decodes the audio received so far again and again; each pass
gives a *hypothesis*, the words after those already committed, with their times.
A policy decides how many of its leading words are final. Committed words are
never taken back; the rest is the tentative tail the window shows greyed.

- :class:`LocalAgreement` (Macháček, Dabre & Bojar, 2023, "Turning Whisper into a
  real-time transcription system"): commit the longest prefix that the last ``n``
  hypotheses agree on. Works for any model; costs about one extra update of latency.
- :class:`AlignAtt` (Papi, Turchi & Negri, 2023, "AlignAtt: using attention-based
  audio-translation alignments as a guide for simultaneous speech translation"):
  commit a word only while the place it is aligned to lies at least ``margin``
  seconds before the end of the audio received, i.e. the model did not read it off
  the last frames, which may still change as more audio arrives. The alignment is
  each family's own: Whisper's alignment-head cross-attention (the word times its
  DTW gives), the Speech-Transformer's CTC forced alignment when it has a CTC head
  (the CTC-prefix rule: a word is final once its CTC spikes are safely behind the
  frontier) and its decoder cross-attention otherwise. Papi et al. test the
  attention argmax of each token while decoding; we apply the same test to word
  ends after the pass, which is more robust on Whisper's noisy single heads.
- :class:`StableAlignAtt` ("stable", Whisper's default): both rules at once; a word is final
  once it is behind AlignAtt's frontier and the pass before read it the same way.
- :class:`CtcPrefix`, for models with a CTC head (the Speech-Transformer): in the spirit of
  triggered attention (Moritz, Hori & Le Roux, 2019, where the CTC spikes decide when the
  attention decoder may emit), a word of the attention decoder's hypothesis is final once
  the CTC head's own greedy reading of the same audio has the same word at the same place,
  its spikes ``margin`` seconds before the end of the audio received. An attention decoder
  fed half an utterance makes up words; the frame-synchronous CTC reading does not.

All are deterministic functions of the hypotheses and the audio end: tests drive
them with scripted hypotheses and a simulated clock.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from typing import Protocol, Sequence

from engine.transcript import TimedText

POLICIES = ("auto", "alignatt", "stable", "agreement", "ctc")
# AlignAtt's margin, seconds. Whisper base live on a 2-core CPU, the 10-minute file (docs/live.md): with the
# words already final read as a forced prefix, 0.5 s gave a median commit latency of 1.29 s at 15.98 % WER,
# 0.8 s (and beam 5) 1.90 s at 14.45 %: under the 2 s target, and 1.5 points more accurate. The stable rule
# (fed 0.6 s a pass, bench_live_passes.py): 0.8 s 11.86 % WER, 0.5 s 13.19 %; in real time 0.8 s gives 1.73 s.
DEFAULT_MARGIN = 0.8
FAR_MARGINS = 2.0  # stable: a word this many margins behind the audio's end is final even without agreement
# "auto": each family's own (Backend.live_policy): "stable" for Whisper, whose alignment heads time words
# well and whose passes sometimes rewrite a word as it falls behind the frontier; the CTC-prefix rule for
# the Speech-Transformer, whose attention decoder makes up words from a partial
# utterance that its alignment then places early (measured on the test suite's tone model), and which
# falls back to LocalAgreement without a CTC head.


def word_key(text: str) -> str:
    """How two hypotheses' words are compared: case, punctuation and spacing do not count.

    Whisper writes "hola," in one pass and "Hola." in the next; accents do count
    ("esta" and "está" are different words).
    """
    text = unicodedata.normalize("NFC", text).lower()
    return re.sub(r"[^\w]+", "", text)


class Policy(Protocol):
    name: str
    needs_ctc: bool  # commit() wants the CTC head's reading as ``support``

    def commit(self, hypothesis: Sequence[TimedText], audio_end: float,
               support: Sequence[TimedText] | None = None) -> int:
        """How many leading words of ``hypothesis`` (the words after those committed) are final now.

        ``support``: the CTC head's reading of the same words, for the policies that use it (``needs_ctc``).
        """

    def reset(self) -> None:
        """Forget earlier hypotheses (the buffer was cut, or a new recording starts)."""


class LocalAgreement:
    """Commit the prefix the last ``n`` hypotheses share (LocalAgreement-n; n = 2 in the paper)."""

    def __init__(self, n: int = 2):
        if n < 2:
            raise ValueError(f"LocalAgreement needs n >= 2, got {n}")
        self.n = n
        self.name = "agreement" if n == 2 else f"agreement-{n}"
        self._earlier: deque[list[str]] = deque(maxlen=n - 1)  # earlier hypotheses' uncommitted word keys

    needs_ctc = False

    def commit(self, hypothesis: Sequence[TimedText], audio_end: float, support=None) -> int:
        keys = [word_key(w.text) for w in hypothesis]
        k = 0
        if len(self._earlier) == self.n - 1:
            k = len(keys)
            for earlier in self._earlier:
                k = min(k, _common_prefix(keys, earlier))
        # What stays of each earlier hypothesis after the words just committed.
        remaining = [e[k:] for e in self._earlier]
        self._earlier.clear()
        self._earlier.extend(remaining[-(self.n - 2):] if self.n > 2 else [])
        self._earlier.append(keys[k:])
        return k

    def reset(self) -> None:
        self._earlier.clear()


class AlignAtt:
    """Commit words whose aligned end lies ``margin`` seconds or more before the audio received ends."""

    name = "alignatt"
    needs_ctc = False

    def __init__(self, margin: float = DEFAULT_MARGIN):
        self.margin = _checked_margin(margin, "AlignAtt")

    def commit(self, hypothesis: Sequence[TimedText], audio_end: float, support=None) -> int:
        frontier = audio_end - self.margin
        k = 0
        for w in hypothesis:
            if w.end > frontier:
                break
            k += 1
        return k

    def reset(self) -> None:
        pass


class StableAlignAtt:
    """AlignAtt and LocalAgreement-2 together: a word is final once it lies ``margin`` seconds behind the
    audio's end *and* the pass before read it the same way.

    AlignAtt alone commits a word the moment it falls behind the frontier, even when this pass is the
    first to spell it so: the pass before had left "diligencia." open, this one read "de licencia." and
    both words were final at once. A word behind the frontier has nearly always been in the pass before,
    as its tentative tail, so the agreement seldom adds latency; it holds back the words a pass rewrites.
    Measured on the 10-minute file (docs/live.md): WER 14.17 % -> 11.86 % for 0.07 s more median latency.
    Passes that keep disagreeing (slow passes in a busy window: one hears "fuera a insistir", the next
    "fuera insistir") must not hold words back for ever: ``FAR_MARGINS`` margins behind the audio's end,
    AlignAtt alone decides.
    """

    name = "stable"
    needs_ctc = False

    def __init__(self, margin: float = DEFAULT_MARGIN):
        self.margin = _checked_margin(margin, "AlignAtt")
        self._previous: list[str] | None = None  # the last pass's words after those it committed

    def commit(self, hypothesis: Sequence[TimedText], audio_end: float, support=None) -> int:
        keys = [word_key(w.text) for w in hypothesis]
        k = 0
        if self._previous is not None:
            k = min(AlignAtt(self.margin).commit(hypothesis, audio_end), _common_prefix(keys, self._previous))
        k = max(k, AlignAtt(FAR_MARGINS * self.margin).commit(hypothesis, audio_end))  # the backstop (docstring)
        self._previous = keys[k:]
        return k

    def reset(self) -> None:
        self._previous = None


class CtcPrefix:
    """Commit the words the CTC head's reading confirms, word for word, ``margin`` s before the audio's end.

    Without a CTC reading (a model with no CTC head), LocalAgreement-2 decides.
    """

    name = "ctc"
    needs_ctc = True

    def __init__(self, margin: float = DEFAULT_MARGIN):
        self.margin = _checked_margin(margin, "the CTC-prefix rule")
        self._agreement = LocalAgreement(2)

    def commit(self, hypothesis: Sequence[TimedText], audio_end: float, support=None) -> int:
        if support is None:
            return self._agreement.commit(hypothesis, audio_end)
        frontier = audio_end - self.margin
        k = 0
        for word, ctc in zip(hypothesis, support):
            if word_key(word.text) != word_key(ctc.text) or ctc.end > frontier:
                break
            k += 1
        return k

    def reset(self) -> None:
        self._agreement.reset()


def make_policy(name: str, margin: float = DEFAULT_MARGIN, family_default: str = "alignatt") -> Policy:
    """The policy called ``name`` (one of POLICIES, or "agreement-N"); ValueError naming the choices.

    ``family_default`` is what "auto" means for the model at hand.
    """
    if name == "auto":
        name = family_default
    if name == "alignatt":
        return AlignAtt(margin)
    if name == "stable":
        return StableAlignAtt(margin)
    if name == "ctc":
        return CtcPrefix(margin)
    if name == "agreement":
        return LocalAgreement(2)
    m = re.fullmatch(r"agreement-(\d+)", name)
    if m and int(m.group(1)) >= 2:
        return LocalAgreement(int(m.group(1)))
    raise ValueError(f"unknown live policy {name!r}: choose {', '.join(POLICIES)} (or agreement-N, N >= 2)")


def _checked_margin(margin: float, who: str) -> float:
    if not margin >= 0:  # NaN fails too
        raise ValueError(f"{who} needs a margin of 0 s or more, got {margin}")
    return margin


def _common_prefix(a: Sequence[str], b: Sequence[str]) -> int:
    k = 0
    for x, y in zip(a, b):
        if x != y:
            break
        k += 1
    return k
