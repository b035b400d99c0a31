"""Pitch of a sound, and the MIDI note to render a predicted patch at.

The rule: estimate f0 with probabilistic YIN (librosa ``pyin``) on the first ``seconds`` of the clip, resampled to
16 kHz, searching 30-2000 Hz; the pitch is the median f0 of the voiced frames. A sound has none when fewer than
``min_voiced`` of its frames are voiced, when fewer than half of those lie within a semitone of the median (no stable
pitch), or when the median is below ``fmin`` (40 Hz), the bottom of the search range where YIN's errors on noise
collect. ``Pitch.note`` is that pitch's pitch class in the octave C4-B4 (MIDI 60-71), the notes of the paper's datasets.
A model plays a sound at :func:`note_in` of the notes it was trained on: the pitch rounded and moved by octaves into
their range (a model trained on C2-C6 plays a 131 Hz bass at C3; one trained on C4-B4 plays it at C4, its patch
carrying the octave). A sound without a pitch is played at C4. Render-in-the-loop
refinement (``asp.search``) also plays the sound's own note (:func:`own_note`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from asp.features.lib import load_librosa
from asp.render.settings import C4

ANALYSIS_RATE = 16000


@dataclass(frozen=True)
class Pitch:
    """``hz`` and ``midi`` (fractional) are NaN when unpitched; ``note`` is the MIDI note to render at."""

    hz: float
    midi: float
    voiced: float
    note: int


def note_for(midi: float, low: int = C4) -> int:
    """The note of ``midi``'s pitch class in the octave [low, low + 11]; ``low`` for NaN."""
    if not math.isfinite(midi):
        return low
    return low + (int(round(midi)) - low) % 12


def note_in(midi: float, notes: tuple[int, ...] | list[int] | range) -> int:
    """The note a model trained on ``notes`` plays a sound of pitch ``midi`` at: ``midi`` rounded and moved by
    octaves into [min(notes), max(notes)], a window widened to one octave from its lowest note where it is narrower
    (a model trained on a few notes of C4-B4 keeps the sound's pitch class in C4-B4, as :func:`note_for` does). For
    NaN (no pitch): C4, or the window's lowest note where C4 is outside it."""
    lo = min(notes)
    hi = max(max(notes), lo + 11)
    if not math.isfinite(midi):
        return C4 if lo <= C4 <= hi else lo
    n = int(round(midi))
    while n < lo:
        n += 12
    while n > hi:
        n -= 12
    return n


PLAYABLE = (24, 96)  # C1-C7: the notes a search may play a sound at (every built-in synth and amsynth play them)


def own_note(midi: float, playable: tuple[int, int] = PLAYABLE) -> int:
    """The note a sound was played at: ``midi`` rounded, moved by octaves into ``playable``; C4 for NaN."""
    if not math.isfinite(midi):
        return C4
    n = int(round(midi))
    while n < playable[0]:
        n += 12
    while n > playable[1]:
        n -= 12
    return n


def estimate_pitch(
    audio: np.ndarray,
    sample_rate: int,
    seconds: float = 1.0,
    fmin: float = 40.0,
    fmax: float = 2000.0,
    min_voiced: float = 0.25,
    search_min: float = 30.0,
) -> Pitch:
    """Pitch of a mono clip (see the module docstring)."""
    import soxr

    librosa = load_librosa()

    x = np.asarray(audio[: int(seconds * sample_rate)], dtype=np.float32)
    if sample_rate != ANALYSIS_RATE:
        x = soxr.resample(x, sample_rate, ANALYSIS_RATE).astype(np.float32)
    if len(x) < 2048 or not np.any(x):
        return Pitch(math.nan, math.nan, 0.0, C4)
    f0, voiced, _ = librosa.pyin(x, fmin=search_min, fmax=fmax, sr=ANALYSIS_RATE, frame_length=2048, resolution=0.25)
    share = float(np.mean(voiced))
    if share < min_voiced or not np.any(voiced):
        return Pitch(math.nan, math.nan, share, C4)
    hz = float(np.median(f0[voiced]))
    stable = float(np.mean(np.abs(librosa.hz_to_midi(f0[voiced]) - librosa.hz_to_midi(hz)) < 1.0))
    if hz < fmin or stable < 0.5:
        return Pitch(math.nan, math.nan, share, C4)
    midi = float(librosa.hz_to_midi(hz))
    return Pitch(hz, midi, share, note_for(midi))
