"""A folder of target sounds rendered from preset files: what the main job feeds ``asp infer``.

The hand-made presets in ``presets/<synth>/`` are never in a generated dataset (those are random presets), so their
renders are held-back targets. To exercise the input rules, the files cycle through notes inside and outside C4-B4,
sample rates, channel counts and formats.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterable

import numpy as np

from asp.atomic import atomic_write_bytes
from asp.render import RenderSettings, get_renderer
from asp.synths import registry
from asp.synths.presets import read_presets

# (note, sample rate, channels, format) cycled over the presets
VARIANTS = ((60, 44100, 1, "wav"), (64, 48000, 2, "flac"), (55, 44100, 2, "ogg"), (69, 48000, 1, "mp3"),
            (72, 96000, 1, "aiff"), (67, 22050, 1, "wav"))
FORMATS = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16"), "ogg": ("OGG", "VORBIS"),
           "mp3": ("MP3", "MPEG_LAYER_III"), "aiff": ("AIFF", "PCM_16")}


def encode(audio: np.ndarray, rate: int, fmt: str) -> bytes:
    """(n_samples,) or (n_samples, channels) float audio -> file bytes in ``fmt`` (a key of FORMATS)."""
    import soundfile as sf

    kind, subtype = FORMATS[fmt]
    buf = io.BytesIO()
    sf.write(buf, np.clip(audio, -1.0, 1.0), rate, format=kind, subtype=subtype)
    return buf.getvalue()


def write_target(path: Path, audio: np.ndarray, sample_rate: int, rate: int, channels: int, fmt: str) -> None:
    """Write a mono render as a target file: resampled to ``rate``, copied to ``channels``, encoded as ``fmt``
    (atomically)."""
    import soxr

    if rate != sample_rate:
        audio = soxr.resample(audio, sample_rate, rate)
    if channels > 1:
        audio = np.stack([audio] * channels, axis=1)
    atomic_write_bytes(path, encode(audio, rate, fmt))


def render_targets(out: Path, synths: Iterable[str], settings: RenderSettings | None = None,
                   presets_dir: Path = registry.PRESETS_DIR) -> list[Path]:
    """Render every preset file of ``synths`` under ``presets_dir/<synth>/`` into ``out/<synth>/<name>.<fmt>``.

    Existing files are kept (re-runs resume). Returns the files, in order.
    """
    settings = settings or RenderSettings()
    files = []
    k = 0
    for synth in synths:
        folder = presets_dir / synth
        if not folder.is_dir():
            continue
        for preset in read_presets(folder, registry.load_schema(synth)):
            note, rate, channels, fmt = VARIANTS[k % len(VARIANTS)]
            k += 1
            path = out / synth / f"{Path(preset.source).stem}.{fmt}"
            files.append(path)
            if path.is_file():
                continue
            audio = get_renderer(synth, settings).render(preset.vector, note)
            write_target(path, audio, settings.sample_rate, rate, channels, fmt)
    return files
