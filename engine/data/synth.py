"""Synthetic Spanish speech with espeak-ng: a dataset to try the whole pipeline without recordings.

``parcero data synth --out DIR --utterances N`` writes ``DIR/wavs/<id>.wav``
(16 kHz mono PCM) and ``DIR/manifest.jsonl``. Each voice (language + variant,
``"es-419+f3"``) is one speaker. espeak-ng is a formant synthesiser: robotic,
but it reads Spanish spelling correctly (``pingüino``, ``¿Dónde está?``) and
costs nothing, so a model that cannot learn it has a bug, not a data problem.

Voices. espeak-ng's variants (``espeak-ng --voices=variant``) shift the base
pitch and formants; ``-p`` (0-99) then moves the pitch within the variant's
range. Median F0 measured on espeak-ng 1.51 (autocorrelation on voiced 40 ms
frames, one 12-word sentence, ``-s 160``), at ``-p`` 30 / 50 / 70:

    ======  =====================  =====================
    variant es                     es-419
    ======  =====================  =====================
    f2      162 / 193 / 237 Hz     165 / 197 / 240 Hz
    f3      178 / 210 / 251        181 / 212 / 253
    f5      167 / 204 / 253        170 / 206 / 256
    linda   182 / 230 / 290        184 / 230 / 290
    f1, f4  ~148 / 179 / 248       (dropped: too close to the men at -p 30)
    m3       93 / 105 / 127         90 / 106 / 128
    m5       88 / 102 / 125         88 / 103 / 125
    m6       89 / 101 / 124         87 / 102 / 125
    m7       98 / 106 / 128         94 / 108 / 128
    m1, m4, m8  barely voiced below -p 35 (creaky), dropped
    ======  =====================  =====================

So over the default ``pitch_range`` (30, 70) every default female voice stays
above 160 Hz and every male voice below 130 Hz, with no per-gender pitch
range needed. Through the whole pipeline (64 utterances of ``synthesize``,
seed 3, random speed and pitch, 16 kHz) the per-voice medians were 194-249 Hz
for the women and 96-108 Hz for the men; no female utterance was below 180 Hz
and no male one above 125 Hz.

Determinism: texts, voices, speeds, pitches and noise come from streams seeded
by ``seed``, one stream per quantity, so turning noise on does not change the
voices or texts; espeak-ng itself is deterministic, so the audio repeats too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np
import soundfile as sf

from engine.audio import resample, save_wav
from engine.data.manifest import Utterance, relative_audio, write_manifest
from engine.data.sentences import generate_sentences
from engine.errors import ConfigError, ParceroError

INSTALL_HINT = (
    "install it with `sudo apt-get install espeak-ng` (Debian/Ubuntu; `make test` installs it too), "
    "`sudo dnf install espeak-ng` (Fedora) or `brew install espeak-ng` (macOS)"
)
PEAK_DBFS = -3.0
TRIM_THRESHOLD_DB = -40.0  # frames this far below the loudest count as silence
TRIM_KEEP_S = 0.075  # silence kept at each end, so a word onset is never clipped
ESPEAK_TIMEOUT_S = 120


@dataclass(frozen=True)
class Voice:
    """One espeak-ng voice: ``name`` is the ``-v`` spec, ``"language+variant"``."""

    name: str  # e.g. "es+f3", "es-419+m2"
    gender: str  # "male" | "female"
    language: str  # "es" | "es-419"


def _default_order() -> tuple[Voice, ...]:
    # Interleaved so that any first few voices of a gender already mix
    # variants and both accents: a dataset of 8 still has 4 distinct voices a gender.
    out = []
    for gender, variants in (("female", ("f3", "f5", "f2", "linda")), ("male", ("m3", "m7", "m5", "m6"))):
        for rnd in range(2):
            for i, variant in enumerate(variants):
                language = ("es", "es-419")[(i + rnd) % 2]
                out.append(Voice(f"{language}+{variant}", gender, language))
    return tuple(out)


DEFAULT_VOICES = _default_order()


@dataclass(frozen=True)
class SynthOptions:
    """What to synthesise and how; every random choice follows ``seed``.

    Attributes
    ----------
    utterances : int
    seed : int
    voices : tuple[Voice, ...] or None
        None: :func:`list_spanish_voices`, four female and four male variants over es and es-419.
    speed_range, pitch_range : tuple[int, int]
        Inclusive ranges for espeak's ``-s`` (words a minute) and ``-p`` (0-99), drawn per utterance.
    noise_snr_db : tuple[float, float] or None
        Add white or pink noise at an SNR drawn from this range; None keeps the audio clean.
    sample_rate : int
    female_fraction : float
        Share of utterances given a female voice, rounded half up to a count.
    workers : int
        espeak processes at once; 0 means ``os.cpu_count()``.
    """

    utterances: int = 100
    seed: int = 0
    voices: tuple[Voice, ...] | None = None
    speed_range: tuple[int, int] = (130, 185)
    pitch_range: tuple[int, int] = (30, 70)
    noise_snr_db: tuple[float, float] | None = None
    sample_rate: int = 16000
    female_fraction: float = 0.5
    workers: int = 0

    def __post_init__(self) -> None:
        def check(ok: bool, message: str) -> None:
            if not ok:
                raise ConfigError(f"SynthOptions.{message}")

        check(self.utterances >= 1, f"utterances: expected at least 1, got {self.utterances}")
        for name, (lo, hi), (low, high) in (("speed_range", self.speed_range, (80, 450)),
                                             ("pitch_range", self.pitch_range, (0, 99))):
            check(low <= lo <= hi <= high,
                  f"{name}: expected (low, high) within {low}-{high}, got {(lo, hi)}")
        if self.noise_snr_db is not None:
            lo, hi = self.noise_snr_db
            check(lo <= hi, f"noise_snr_db: expected (low, high), got {self.noise_snr_db}")
        check(self.sample_rate > 0, f"sample_rate: expected a positive rate, got {self.sample_rate}")
        check(0.0 <= self.female_fraction <= 1.0,
              f"female_fraction: expected 0 to 1, got {self.female_fraction}")
        check(self.voices is None or len(self.voices) > 0,
              "voices: expected None (the default set) or at least one voice")
        check(self.workers >= 0, f"workers: expected 0 (all cores) or more, got {self.workers}")
        for v in self.voices or ():
            check(v.gender in ("male", "female"),
                  f"voices: {v.name} has gender {v.gender!r}, expected male or female")


@dataclass
class SynthResult:
    manifest: Path
    utterances: list[Utterance]  # the ones written, in id order
    problems: list[str] = field(default_factory=list)  # one line per utterance that failed


class _EspeakFailed(RuntimeError):
    """espeak could not speak one sentence; recorded as a problem, the rest go on."""


@dataclass(frozen=True)
class _Job:
    index: int
    id: str
    text: str
    voice: Voice
    speed: int
    pitch: int
    snr_db: float | None
    noise: str | None  # "white", "pink" or None


def find_espeak() -> str:
    """Path of the ``espeak-ng`` program (or the older ``espeak``).

    Raises
    ------
    ParceroError
        Neither is on PATH; the message says how to install it.
    """
    for name in ("espeak-ng", "espeak"):
        path = shutil.which(name)
        if path:
            return path
    raise ParceroError(f"espeak-ng was not found on PATH; synthetic speech needs it: {INSTALL_HINT}")


@lru_cache(maxsize=16)
def _espeak_table(espeak: str, which: str) -> tuple[tuple[str, str], ...]:
    """(language, file) rows of ``espeak --voices=<which>``; file is the variant's name for variants."""
    try:
        out = subprocess.run([espeak, f"--voices={which}"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise ParceroError(f"cannot run {espeak}: {e}; {INSTALL_HINT}") from e
    rows = []
    for line in out.stdout.decode("utf-8", "replace").splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 5:
            rows.append((cols[1], cols[4].rsplit("/", 1)[-1]))
    return tuple(rows)


def _variants(espeak: str) -> set[str]:
    return {file for _, file in _espeak_table(espeak, "variant")}


def list_spanish_voices() -> list[Voice]:
    """The default voices that this espeak installation actually has.

    Returns
    -------
    list[Voice]
        In :data:`DEFAULT_VOICES` order, keeping those whose language
        (``es``, ``es-419``) and variant are installed.

    Raises
    ------
    ParceroError
        espeak is missing, or has no Spanish voice with these variants.
    """
    espeak = find_espeak()
    languages = {lang for lang, _ in _espeak_table(espeak, "es")}
    variants = _variants(espeak)
    voices = [v for v in DEFAULT_VOICES if v.language in languages and v.name.split("+")[1] in variants]
    if not voices:
        raise ParceroError(f"{espeak} has no Spanish voice (es or es-419) with the variants Parcero uses; "
                           f"reinstall it: {INSTALL_HINT}")
    return voices


def _plan(options: SynthOptions, voices: list[Voice], texts: list[str]) -> list[_Job]:
    """Every random choice, made up front so the result does not depend on thread timing."""
    n, seed = options.utterances, options.seed
    by_gender = {g: [v for v in voices if v.gender == g] for g in ("female", "male")}
    n_female = int(np.floor(n * options.female_fraction + 0.5))  # half up: 5 x 0.5 -> 3, not round()'s 2
    for gender, count in (("female", n_female), ("male", n - n_female)):
        if count and not by_gender[gender]:
            raise ConfigError(
                f"SynthOptions: {count} {gender} utterances asked for, but no {gender} voice given")
    is_female = np.zeros(n, dtype=bool)
    is_female[np.random.default_rng([seed, 1]).permutation(n)[:n_female]] = True
    speeds = np.random.default_rng([seed, 2]).integers(options.speed_range[0], options.speed_range[1] + 1, n)
    pitches = np.random.default_rng([seed, 3]).integers(options.pitch_range[0], options.pitch_range[1] + 1, n)
    if options.noise_snr_db is not None:
        snrs = np.random.default_rng([seed, 4]).uniform(*options.noise_snr_db, n)
        kinds = np.random.default_rng([seed, 5]).choice(["white", "pink"], n)
    noisy = options.noise_snr_db is not None
    width = max(5, len(str(n - 1)))
    used = {"female": 0, "male": 0}
    jobs = []
    for i in range(n):
        gender = "female" if is_female[i] else "male"
        voice = by_gender[gender][used[gender] % len(by_gender[gender])]  # round-robin within a gender
        used[gender] += 1
        jobs.append(_Job(
            index=i, id=f"synth-s{seed}-{i:0{width}d}", text=texts[i], voice=voice,
            speed=int(speeds[i]), pitch=int(pitches[i]),
            snr_db=round(float(snrs[i]), 1) if noisy else None, noise=str(kinds[i]) if noisy else None,
        ))
    return jobs


def _trim(x: np.ndarray, sr: int) -> np.ndarray:
    """Cut leading and trailing silence, keeping TRIM_KEEP_S of it at each end."""
    hop = max(1, sr // 100)  # 10 ms frames
    n_frames = len(x) // hop
    if n_frames == 0:
        return x
    rms = np.sqrt(np.mean(x[: n_frames * hop].reshape(n_frames, hop) ** 2, axis=1))  # (n_frames,)
    active = np.flatnonzero(rms > rms.max() * 10 ** (TRIM_THRESHOLD_DB / 20))
    keep = int(TRIM_KEEP_S * sr)
    start = max(0, active[0] * hop - keep)
    end = min(len(x), (active[-1] + 1) * hop + keep)
    return x[start:end]


def _noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS white or pink (1/f power) noise, shape ``(n,)``."""
    white = rng.standard_normal(n)
    if kind == "pink":
        spectrum = np.fft.rfft(white)
        spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))
        spectrum[0] = 0.0
        white = np.fft.irfft(spectrum, n)
    return (white / (np.sqrt(np.mean(white ** 2)) + 1e-12)).astype(np.float32)


def _render(espeak: str, job: _Job, options: SynthOptions) -> np.ndarray:
    """Speak one sentence and post-process it; raises _EspeakFailed with espeak's complaint."""
    with tempfile.TemporaryDirectory(prefix="parcero-espeak-") as tmp:
        wav = Path(tmp) / "raw.wav"
        # The text goes through stdin, never the command line: no quoting, no
        # sentence that starts with "-" read as an option. -b 1 = UTF-8 input.
        cmd = [espeak, "-b", "1", "-v", job.voice.name, "-s", str(job.speed), "-p", str(job.pitch),
               "-w", str(wav), "--stdin"]
        try:
            proc = subprocess.run(cmd, input=job.text.encode("utf-8"), capture_output=True,
                                  timeout=ESPEAK_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise _EspeakFailed(f"espeak took more than {ESPEAK_TIMEOUT_S} s") from None
        except OSError as e:
            raise _EspeakFailed(f"cannot run {espeak}: {e}") from None
        complaint = proc.stderr.decode("utf-8", "replace").strip()
        if proc.returncode != 0 or not wav.exists() or wav.stat().st_size <= 44:
            raise _EspeakFailed(f"espeak failed (exit {proc.returncode}): {complaint or 'no audio written'}")
        try:
            data, sr = sf.read(str(wav), dtype="float32", always_2d=True)  # (n, channels)
        except (RuntimeError, ValueError) as e:  # LibsndfileError is a RuntimeError
            raise _EspeakFailed(f"espeak wrote an unreadable WAV: {e}") from None
    x = resample(data.mean(axis=1), sr, options.sample_rate)
    if not np.any(np.abs(x) > 1e-4):
        raise _EspeakFailed(f"espeak wrote silence{': ' + complaint if complaint else ''}")
    x = _trim(x, options.sample_rate)
    if job.noise is not None:
        rng = np.random.default_rng([options.seed, 6, job.index])
        speech_rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
        x = x + _noise(job.noise, len(x), rng) * speech_rms / 10 ** (job.snr_db / 20)
    return (x * (10 ** (PEAK_DBFS / 20) / np.max(np.abs(x)))).astype(np.float32)


def synthesize(
    out_dir: str | Path,
    options: SynthOptions = SynthOptions(),
    sentences: list[str] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SynthResult:
    """Synthesise a Spanish dataset: ``out_dir/wavs/<id>.wav`` and ``out_dir/manifest.jsonl``.

    Parameters
    ----------
    out_dir : str or Path
        Created if missing; files with the same names are replaced.
    options : SynthOptions
    sentences : list[str] or None
        Texts to speak, used in order and repeated when there are fewer than
        ``options.utterances`` (e.g. from :func:`~engine.data.sentences.read_sentences`).
        None: :func:`~engine.data.sentences.generate_sentences` with ``options.seed``.
    on_progress : callable or None
        ``on_progress(done, total)`` after each utterance, on the calling
        thread. An exception raised in it cancels the rest and propagates.

    Returns
    -------
    SynthResult
        The utterances written (manifest order = id order); an utterance
        espeak could not speak is left out and named in ``problems``.

    Raises
    ------
    ParceroError
        espeak is missing, a voice variant is not installed, or there is no sentence.
    """
    out_dir = Path(out_dir)
    espeak = find_espeak()
    voices = list(options.voices) if options.voices else list_spanish_voices()
    # espeak silently falls back to its default voice for an unknown variant,
    # which would put a man's voice under a "female" label; refuse instead.
    installed = _variants(espeak)
    unknown = sorted({v.name for v in voices if "+" in v.name and v.name.split("+", 1)[1] not in installed})
    if unknown:
        raise ConfigError(f"voice variant(s) not installed in {espeak}: {', '.join(unknown)} "
                          "(see `espeak-ng --voices=variant`)")
    n = options.utterances
    if sentences is None:
        texts = generate_sentences(n, options.seed)
    else:
        pool = [s.strip() for s in sentences if s and s.strip()]
        if not pool:
            raise ParceroError("no sentences to synthesise: the list is empty")
        texts = [pool[i % len(pool)] for i in range(n)]
    jobs = _plan(options, voices, texts)

    wav_dir = out_dir / "wavs"
    wav_dir.mkdir(parents=True, exist_ok=True)
    written: dict[int, Utterance] = {}
    problems: dict[int, str] = {}

    def run(job: _Job) -> Utterance:
        x = _render(espeak, job, options)
        path = wav_dir / f"{job.id}.wav"
        save_wav(path, x, options.sample_rate)
        return Utterance(
            id=job.id, audio=relative_audio(path, out_dir), duration=len(x) / options.sample_rate,
            text=job.text, speaker=job.voice.name, gender=job.voice.gender, sample_rate=options.sample_rate,
            extra={"voice": job.voice.name, "speed": job.speed, "pitch": job.pitch,
                   "snr_db": job.snr_db, "noise": job.noise},
        )

    pool_executor = ThreadPoolExecutor(max_workers=options.workers or os.cpu_count() or 1)
    try:
        futures = {pool_executor.submit(run, job): job for job in jobs}
        for done, future in enumerate(as_completed(futures), 1):
            job = futures[future]
            try:
                written[job.index] = future.result()
            except _EspeakFailed as e:
                # One sentence espeak chokes on must not sink the dataset;
                # anything else (a bug, a full disk) should, so it propagates.
                problems[job.index] = f"{job.id} ({job.voice.name}): {e} [text: {job.text!r}]"
            if on_progress is not None:
                on_progress(done, n)
    finally:
        # Normal exit: everything is done already. On an exception (a
        # cancelling on_progress), queued jobs are dropped, running ones finish.
        pool_executor.shutdown(wait=True, cancel_futures=True)

    utterances = [written[i] for i in sorted(written)]
    manifest = out_dir / "manifest.jsonl"
    write_manifest(manifest, utterances)
    return SynthResult(manifest, utterances, [problems[i] for i in sorted(problems)])
