"""Reading user audio into the shape a model takes: one mono clip at the model's sample rate and length.

The rule (documented in the README): read wav, flac, ogg, mp3 or aiff at any rate and channel count; fold channels to
mono by their mean (not their sum, so levels match a rendered mono clip); skip leading silence (everything before the
first sample within ``onset_db`` of the clip's peak, at most ``max_lead_seconds``); keep ``n_samples`` from there,
zero-padding a shorter sound; resample with soxr. Only the part that can be used is read, so an hour-long file costs
what a short one does. Levels are kept as they are: loudness is part of a patch, and the models saw absolute levels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asp.features.band import LOSSY_FORMATS, PASSBAND, information_band

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")
SILENCE_DBFS = -80.0  # a clip whose peak is below this is silent


class AudioError(ValueError):
    """A file that cannot be used as input; the message names the file and the reason."""


@dataclass
class LoadedAudio:
    """A prepared clip and what was done to get it.

    Attributes:
        audio: (n_samples,) float32 mono at the requested rate.
        source_rate: the file's sample rate.
        channels: the file's channel count.
        seconds: the file's duration.
        lead_seconds: leading silence skipped.
        notes: what was changed, in words (resampled, folded, cut, padded).
        band_hz: the top of the band the file carries (``asp.features.band``: a lower-rate file's pass band, a
            lossy codec's low-pass); None: the whole band up to the requested rate's Nyquist frequency.
    """

    audio: np.ndarray
    source_rate: int
    channels: int
    seconds: float
    lead_seconds: float
    notes: list[str] = field(default_factory=list)
    band_hz: float | None = None


def load_audio(
    path: str | Path,
    sample_rate: int,
    n_samples: int,
    max_lead_seconds: float = 5.0,
    onset_db: float = -50.0,
    silence_dbfs: float = SILENCE_DBFS,
) -> LoadedAudio:
    """Read, fold, trim, pad and resample one file (see the module docstring).

    Raises:
        AudioError: unknown extension, empty, zero-length, undecodable, non-finite or silent input.
        FileNotFoundError: no such file.
    """
    import soundfile as sf

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if path.suffix.lower() not in AUDIO_EXTENSIONS:
        raise AudioError(
            f"{path}: not an audio file (extension {path.suffix or 'none'!r}; readable: {', '.join(AUDIO_EXTENSIONS)})"
        )
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")
    try:
        with sf.SoundFile(str(path)) as f:
            rate, channels, frames = int(f.samplerate), int(f.channels), int(f.frames)
            lossy = str(f.format).upper() in LOSSY_FORMATS
            if frames <= 0:
                raise AudioError(f"{path}: zero-length audio (0 samples)")
            want = math.ceil((max_lead_seconds + n_samples / sample_rate) * rate) + 1
            data = f.read(frames=min(frames, want), dtype="float32", always_2d=True)
    except AudioError:
        raise
    except Exception as err:  # libsndfile's errors: corrupt header, unknown format, truncated stream
        raise AudioError(f"{path}: cannot decode audio ({err})") from None
    if data.size == 0:
        raise AudioError(f"{path}: zero-length audio (no samples could be read)")
    if not np.isfinite(data).all():
        raise AudioError(f"{path}: audio contains NaN or infinite samples")
    notes: list[str] = []
    x = data.mean(axis=1) if channels > 1 else data[:, 0]
    if channels > 1:
        notes.append(f"folded {channels} channels to mono")
    peak = float(np.max(np.abs(x)))
    peak_db = 20 * math.log10(peak) if peak > 0 else -math.inf
    if peak_db < silence_dbfs:
        raise AudioError(
            f"{path}: silent (peak {peak_db:.1f} dBFS, below {silence_dbfs:g} dBFS, in the first {len(x) / rate:.1f} s)"
        )
    loud = np.flatnonzero(np.abs(x) >= peak * 10 ** (onset_db / 20))
    lead = min(int(loud[0]), int(max_lead_seconds * rate))
    if lead >= 0.01 * rate:
        notes.append(f"skipped {lead / rate:.2f} s of leading silence")
    need = math.ceil(n_samples * rate / sample_rate)
    x = x[lead : lead + need]
    if rate != sample_rate:
        import soxr

        x = soxr.resample(x, rate, sample_rate, quality="HQ").astype(np.float32)
        notes.append(f"resampled from {rate} Hz")
    seconds = frames / rate
    if len(x) >= n_samples:
        if seconds - lead / rate > n_samples / sample_rate + 1e-3:
            notes.append(f"used {n_samples / sample_rate:.1f} s of {seconds:.1f} s")
        x = x[:n_samples]
    else:
        if n_samples - len(x) >= 0.01 * sample_rate:
            notes.append(f"padded {len(x) / sample_rate:.2f} s to {n_samples / sample_rate:.1f} s")
        x = np.pad(x, (0, n_samples - len(x)))
    x = np.ascontiguousarray(x, dtype=np.float32)
    band = information_band(x, sample_rate, rate, lossy)
    if band is not None:
        why = (
            "a lossy codec's low-pass" if lossy and band < PASSBAND * min(rate, sample_rate) / 2 else "the file's rate"
        )
        notes.append(f"carries sound up to {band / 1000:.1f} kHz ({why})")
    return LoadedAudio(x, rate, channels, seconds, lead / rate, notes, band)


def write_wav(path: str | Path, audio: np.ndarray, rate: int) -> None:
    """Write mono audio as 16-bit PCM WAV, clipped to [-1, 1] (what every asp output folder holds)."""
    import soundfile as sf

    sf.write(str(path), np.clip(audio, -1.0, 1.0), rate, subtype="PCM_16")


def discover(audio_dir: Path, exclude: Path | None = None) -> list[Path]:
    """Every regular, non-hidden file under ``audio_dir`` (sorted), except those under ``exclude``."""
    out = []
    skip = exclude.resolve() if exclude is not None else None
    for p in sorted(audio_dir.rglob("*")):
        rel = p.relative_to(audio_dir)
        if any(part.startswith(".") for part in rel.parts) or not p.is_file():
            continue
        if skip is not None and p.resolve().is_relative_to(skip):
            continue
        out.append(p)
    return out
