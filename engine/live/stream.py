"""Transcribe audio while it is being recorded: committed text and a tentative tail.

:class:`LiveTranscriber` keeps a buffer of the audio not yet covered by committed
text (at most ``max_buffer_seconds``), decodes all of it again at each update with
the loaded model (any family), keeps only the words after those committed, and asks
its :mod:`policy <engine.live.policy>` how many are final. Whisper is prompted with
the committed text, so it continues it rather than starting over. When the buffer
grows past ``trim_seconds`` it is cut where the last committed word ends.

:class:`LiveSession` runs a transcriber on a thread: audio arrives with
:meth:`LiveSession.push` (e.g. from a sound-card callback), each update takes all
audio received since the last one, so the transcriber never falls further behind
than one pass; if a pass takes longer than ``behind_seconds`` the session says so
and updates less often on a shorter buffer, visibly. :meth:`LiveSession.stop`
decodes everything still queued and commits the rest: nothing spoken is dropped.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from dataclasses import dataclass, field, replace
from difflib import SequenceMatcher
from typing import Callable

import numpy as np

from engine.backends import backend_of
from engine.errors import JobCancelled
from engine.live.options import LiveOptions
from engine.live.policy import AlignAtt, make_policy, word_key
from engine.transcript import Chunk, DecodeOptions, TimedText, Transcript, shifted

log = logging.getLogger(__name__)


@dataclass
class LiveUpdate:
    committed: list[TimedText]  # words made final by this update, times in the recording
    tentative: list[TimedText]  # the current guess after them; may still change
    audio_end: float  # seconds of recording this update has heard
    decode_seconds: float = 0.0  # how long its pass took
    final: bool = False  # the last update: everything is committed
    forced: bool = False  # the buffer was full: words were committed without the policy's consent


MAX_TOKENS_PER_SECOND = 10.0  # Whisper: a pass stops there (Spanish reads at 26 characters, ~6 tokens a second)
LOOP_RATIO = 2.4  # a hypothesis compressing better than this (zlib) is a loop: nothing of it is committed
MIN_PASS_SECONDS = 0.3  # less audio than this is not decoded yet (a Speech-Transformer needs a few frames)
PAUSE_SECONDS = 0.2  # a gap this long between two words is a pause: the buffer may be cut there
SENTENCE_ENDS = ".?!;:"
NO_PAUSE_ROOM = 5.0  # without a pause, the buffer is cut this many seconds before it is full
ALIGN_SLACK = 3  # words the hypothesis may hold beyond the committed ones where they are looked for
OLD_WORD_SLACK = 0.1  # a word starting this long before the last committed end is already committed
OVERLAP_WORDS = 5  # at most this many words repeated across a buffer cut are recognised and dropped


class LiveTranscriber:
    """Decode a growing recording again and again; commit what its policy says is final.

    Not thread-safe: one thread calls :meth:`feed` and :meth:`update` (see :class:`LiveSession`).
    """

    def __init__(self, loaded, options: DecodeOptions = DecodeOptions(), live: LiveOptions = LiveOptions(),
                 on_step: Callable | None = None):
        live.check()
        self.loaded, self.live, self.on_step = loaded, live, on_step
        self.backend = backend_of(loaded)
        self.sample_rate = self.backend.sample_rate(loaded)
        # One pass reads the buffer as one window; the transcriber keeps it short, not VAD or batches.
        # No fallback either: a pass that looks wrong is followed by another within a second, while
        # decoding it again hotter would take up to five passes' time, with randomness in the text.
        self.options = replace(options, batch_size=0, vad="off", condition_on_previous_text=False,
                               word_timestamps=True, temperature_fallback=False,
                               max_tokens_per_second=options.max_tokens_per_second or MAX_TOKENS_PER_SECOND)
        self.user_prompt = (options.initial_prompt or "").strip()
        self.policy = make_policy(live.policy, live.margin, self.backend.live_policy)
        self.trim_seconds = live.trim_seconds
        self.committed: list[TimedText] = []
        self.tentative: list[TimedText] = []
        self.received = 0  # samples fed so far
        self.passes = 0
        self._buffer = np.zeros(0, np.float32)
        self._buffer_start = 0  # sample of the recording where the buffer starts

    @property
    def buffered_samples(self) -> int:
        """Samples the next pass will read (those not yet covered by committed text, and new ones)."""
        return len(self._buffer)

    @property
    def audio_seconds(self) -> float:
        return self.received / self.sample_rate

    def feed(self, samples: np.ndarray) -> None:
        """Append mono float32 audio at the model's sample rate."""
        samples = np.asarray(samples, np.float32).reshape(-1)
        if samples.size:
            self._buffer = np.concatenate([self._buffer, samples])
            self.received += samples.size

    def update(self, final: bool = False) -> LiveUpdate:
        """Decode the buffer; commit what the policy allows (``final``: everything)."""
        audio_end = self.received / self.sample_rate
        if len(self._buffer) < MIN_PASS_SECONDS * self.sample_rate:
            committed = self.tentative if final else []
            self.committed += committed
            self.tentative = [] if final else self.tentative
            return LiveUpdate(committed, self.tentative, audio_end, final=final)
        t0 = time.perf_counter()
        new = self._new_words(self._hypothesis())
        support = None
        if self.policy.needs_ctc and not final:  # the last pass commits everything: no reading needed
            ctc = self.backend.ctc_words(self.loaded, self._buffer)
            if ctc is not None:
                offset = self._buffer_start / self.sample_rate
                support = self._new_words([TimedText(w.text, w.start + offset, w.end + offset) for w in ctc])
        self.passes += 1
        if final:
            k = len(new)
        elif _loops(new):  # "no, no, no, ...": the next pass, with more audio, usually reads it right
            k = 0
        else:
            k = self.policy.commit(new, audio_end, support)
        forced = False
        buffered = len(self._buffer) / self.sample_rate
        if not final and buffered > self.live.max_buffer_seconds:
            k, forced = max(k, self._forced_count(new, audio_end)), True
        committed, self.tentative = new[:k], new[k:]
        self.committed += committed
        if not final:
            self._trim(new, forced)
        return LiveUpdate(committed, self.tentative, audio_end, time.perf_counter() - t0, final, forced)

    def transcript(self, source: str | None = None) -> Transcript:
        """The committed text as a transcript of the whole recording."""
        return words_transcript(self.committed, self.received / self.sample_rate, source)

    # ---- inside --------------------------------------------------------------------------

    def _hypothesis(self) -> list[TimedText]:
        options = self.options
        if self.backend.takes_prompt:
            start = self._buffer_start / self.sample_rate  # words still in the buffer are heard again, not told
            before = " ".join(w.text.strip() for w in self.committed if w.end <= start + OLD_WORD_SLACK)
            prompt = (self.user_prompt + " " + before).strip()[-self.live.prompt_chars:]
            # The words final already that the buffer holds are read as a forced start, in one step with
            # the prompt, not decoded again word by word: a pass costs only the words still open.
            inside = " ".join(w.text.strip() for w in self._inside())
            options = replace(options, initial_prompt=prompt or None, prefix=inside or None)
        from engine.transcribe import transcribe_long

        seconds = len(self._buffer) / self.sample_rate
        offset = self._buffer_start / self.sample_rate
        on_step = None
        if self.on_step is not None:  # each pass is a "chunk" of the recording, its times in the recording
            def on_step(chunk: Chunk, info) -> None:
                self.on_step(Chunk(self.passes, offset + chunk.start, offset + chunk.end, 0), info)
        result = transcribe_long(self.loaded, self._buffer, options, max_chunk_seconds=seconds + 5.0,
                                 on_step=on_step)
        return [w for w in shifted(result, offset).words if w.text.strip()]

    def _new_words(self, hypothesis: list[TimedText]) -> list[TimedText]:
        """The hypothesis's words after those already committed.

        The buffer starts where a committed word ended, so a pass hears again the
        words committed since then: they are found in the hypothesis by aligning the
        texts (times move between passes; words do not), and skipped.
        """
        inside = self._inside()
        keys = [word_key(w.text) for w in hypothesis]
        if inside:
            k = _aligned_end([word_key(w.text) for w in inside], keys)
            if k is not None:
                return hypothesis[k:]
            # Heard too differently to align (or left out: Whisper may skip what its prompt already says):
            # the words that start after the last committed one ends are new.
            return [w for w in hypothesis if w.start > inside[-1].end - OLD_WORD_SLACK]
        # Words said just before a cut can come back at the start of the next buffer.
        if self.committed and hypothesis and hypothesis[0].start - self._buffer_start / self.sample_rate < 1.0:
            for n in range(min(OVERLAP_WORDS, len(hypothesis), len(self.committed)), 0, -1):
                if [word_key(w.text) for w in self.committed[-n:]] == keys[:n]:
                    return hypothesis[n:]
        return hypothesis

    def _inside(self) -> list[TimedText]:
        """The committed words the buffer still holds (it starts where a committed word ended)."""
        start = self._buffer_start / self.sample_rate
        return [w for w in self.committed if w.end > start + OLD_WORD_SLACK]

    def _forced_count(self, new: list[TimedText], audio_end: float) -> int:
        """How many words to commit when the buffer is full: those safely behind the frontier, or all."""
        k = AlignAtt(self.live.margin).commit(new, audio_end)
        return k if k else len(new)

    def _trim(self, new: list[TimedText], forced: bool) -> None:
        """Cut the buffer where committed text ends, at a pause if there is one, once it is long.

        A cut inside speech leaves the next pass a word's tail to read as a word of its own ("a presuramientos"
        for "apresuramientos"); so the buffer is cut in a pause after a committed word or after one that ends a
        sentence, and at the last committed word only when the buffer is nearly full.
        """
        buffered = len(self._buffer) / self.sample_rate
        if buffered <= self.trim_seconds and not forced:
            return
        start = self._buffer_start / self.sample_rate
        inside = [w for w in self.committed if w.end > start + OLD_WORD_SLACK]
        if inside:
            cut_s = _pause_after(inside, new[:1])
            if cut_s is None:
                if not forced and buffered < self.live.max_buffer_seconds - NO_PAUSE_ROOM:
                    return  # wait for a pause
                cut_s = inside[-1].end
            cut = int(cut_s * self.sample_rate)
        elif not new:  # no words at all: silence or noise; keep only the last moment
            cut = self._buffer_start + len(self._buffer) - int(self.live.margin * self.sample_rate)
        else:
            return
        cut = min(max(cut, self._buffer_start), self._buffer_start + len(self._buffer))
        self._buffer = self._buffer[cut - self._buffer_start:]
        self._buffer_start = cut


def _pause_after(committed: list[TimedText], following: list[TimedText]) -> float | None:
    """Where to cut (seconds): in the last pause after a committed word, or after its sentence's end; else None."""
    words = committed + following
    for i in range(len(committed) - 1, -1, -1):
        w = committed[i]
        gap = words[i + 1].start - w.end if i + 1 < len(words) else None
        if gap is not None and gap >= PAUSE_SECONDS:
            return w.end + min(gap / 2, 0.3)
        if w.text.rstrip()[-1:] in SENTENCE_ENDS and (gap is None or gap > 0):
            return w.end + (min(gap / 2, 0.3) if gap else 0.0)
    return None


def _loops(words: list[TimedText]) -> bool:
    """Whether the words repeat themselves like a decoding loop (Whisper's compression-ratio test)."""
    text = " ".join(w.text.strip() for w in words).encode("utf-8")
    return len(text) > 40 and len(text) / len(zlib.compress(text)) > LOOP_RATIO


def _aligned_end(committed: list[str], hypothesis: list[str]) -> int | None:
    """Where ``committed`` (word keys) ends in ``hypothesis``: the index of the first word after it.

    None when the two have too little in common to tell (fewer than half the committed words found).
    """
    # They open the buffer, so they are looked for at the hypothesis's start (a few words' slack for words heard
    # differently): a phrase said twice within one buffer must not match its later copy.
    head = hypothesis[:len(committed) + ALIGN_SLACK]
    blocks = [b for b in SequenceMatcher(None, committed, head, autojunk=False).get_matching_blocks() if b.size]
    if 2 * sum(b.size for b in blocks) < len(committed):
        return None
    last = blocks[-1]
    unmatched = len(committed) - (last.a + last.size)  # committed words after the last match: one each
    return min(last.b + last.size + unmatched, len(hypothesis))


def words_transcript(words: list[TimedText], duration: float, source: str | None = None) -> Transcript:
    """A transcript made of timed words; each word's characters share its time span."""
    tokens: list[TimedText] = []
    for w in words:
        text = w.text.strip()
        if tokens:
            tokens.append(TimedText(" ", tokens[-1].end, w.start))
        step = (w.end - w.start) / max(len(text), 1)
        tokens += [TimedText(c, round(w.start + i * step, 3), round(w.start + (i + 1) * step, 3))
                   for i, c in enumerate(text)]
    clean = [TimedText(w.text.strip(), w.start, w.end) for w in words]
    return Transcript(" ".join(w.text for w in clean), tokens, clean, duration, 0.0, source)


@dataclass
class LiveStatus:
    """How the session keeps up, sent with every update."""

    clock: float  # seconds since the session started
    audio_received: float  # seconds of audio pushed so far
    backlog: float  # seconds of audio received but not yet in a finished pass
    behind: bool = False  # passes are too slow for the voice: updates are fewer, the buffer shorter
    passes: int = 0
    pass_seconds: list[float] = field(default_factory=list)  # the last few passes' durations


UpdateHook = Callable[[LiveUpdate, LiveStatus], None]


class LiveSession:
    """Run a :class:`LiveTranscriber` on its own thread, fed by :meth:`push` from any thread."""

    def __init__(self, transcriber: LiveTranscriber, on_update: UpdateHook,
                 clock: Callable[[], float] = time.monotonic):
        self.transcriber, self.on_update, self.clock = transcriber, on_update, clock
        self.sample_rate = transcriber.sample_rate
        self.min_update = transcriber.live.min_update_seconds
        self.behind = False
        self.error: BaseException | None = None
        self._pending: list[np.ndarray] = []
        self._pending_samples = 0
        self._pushed = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0
        self._recent: list[float] = []

    def start(self) -> None:
        self._t0 = self.clock()
        self._thread = threading.Thread(target=self._run, name="parcero-live", daemon=True)
        self._thread.start()

    def push(self, samples: np.ndarray) -> None:
        """Hand over audio (mono float32 at the model's rate); returns at once."""
        block = np.asarray(samples, np.float32).reshape(-1)
        with self._lock:
            self._pending.append(block)
            self._pending_samples += block.size
            self._pushed += block.size
            if self._pending_samples >= self.min_update * self.sample_rate:
                self._wake.set()

    def stop(self, timeout: float | None = None) -> Transcript:
        """Decode all audio pushed, commit the rest, and return the whole transcript."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self.error is not None:
            raise self.error
        return self.transcriber.transcript()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _take(self) -> np.ndarray | None:
        with self._lock:
            if not self._pending:
                return None
            blocks, self._pending, self._pending_samples = self._pending, [], 0
            self._wake.clear()
        return np.concatenate(blocks)

    def _status(self) -> LiveStatus:
        with self._lock:
            pushed = self._pushed
        t = self.transcriber
        return LiveStatus(round(self.clock() - self._t0, 3), pushed / self.sample_rate,
                          max(0.0, (pushed - t.received) / self.sample_rate), self.behind, t.passes,
                          list(self._recent))

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                self._wake.wait(0.1)
                if self._stopping.is_set():
                    break
                with self._lock:
                    ready = self._pending_samples >= self.min_update * self.sample_rate
                if not ready:
                    continue
                self._decode(self._take())
            block = self._take()
            if block is not None:
                t = self.transcriber
                if t.buffered_samples + block.size > t.live.max_buffer_seconds * self.sample_rate:
                    self._decode(block)  # a long backlog: ordinary passes first, so none reads over 30 s
                else:
                    t.feed(block)
            update = self.transcriber.update(final=True)
            self.on_update(update, self._status())
        except BaseException as error:  # noqa: BLE001 - handed to whoever stops the session
            if not isinstance(error, JobCancelled):
                log.exception("live transcription failed")
            self.error = error

    def _decode(self, block: np.ndarray) -> None:
        """Pass after pass over ``block``: a backlog longer than the buffer holds (a stall) is read in parts."""
        t = self.transcriber
        while block.size:
            room = max(int(t.live.max_buffer_seconds * self.sample_rate) - t.buffered_samples, self.sample_rate)
            t.feed(block[:room])
            block = block[room:]
            update = t.update()
            self._keep_up(update.decode_seconds)
            self.on_update(update, self._status())

    def _keep_up(self, seconds: float) -> None:
        """Fewer, shorter passes when they take too long; back to normal when they are quick again."""
        self._recent = (self._recent + [round(seconds, 3)])[-5:]
        live, t = self.transcriber.live, self.transcriber
        if seconds > live.behind_seconds:
            if not self.behind:
                log.warning("live transcription is %.1f s behind the voice; updating less often", seconds)
            self.behind = True
            self.min_update = min(self.min_update * 2, 4.0)
            t.trim_seconds = max(live.trim_seconds / 2, 4.0)
        elif self.behind and seconds < live.behind_seconds / 2:
            self.behind = False
            self.min_update = live.min_update_seconds
            t.trim_seconds = live.trim_seconds
