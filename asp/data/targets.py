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
from asp.data.layout import slug
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
                   presets_dir: Path | None = None, per_synth: int = 0) -> list[Path]:
    """Render the hand-made presets of ``synths`` into ``out/<synth>/<name>.<fmt>``: the preset files under
    ``presets_dir/<synth>/``, or by default each synth's own (``registry.factory_presets``: its installed factory
    presets, e.g. Dexed's DX7 ROM voices, else ``presets/<synth>/``; a synth with none is skipped). ``per_synth``
    caps the presets of a synth (evenly spaced through its files; 0 = all).

    Existing files are kept (re-runs resume). Returns the files, in order.
    """
    settings = settings or RenderSettings()
    files = []
    k = 0
    for synth in synths:
        if presets_dir is not None:
            source = presets_dir / synth
        else:
            try:
                source = registry.factory_presets(synth)
            except FileNotFoundError:
                continue
        if not source.exists():
            continue
        presets = read_presets(source, registry.load_schema(synth))
        if 0 < per_synth < len(presets):
            presets = [presets[int(i)] for i in np.linspace(0, len(presets) - 1, per_synth).round()]
        used: set[str] = set()
        for preset in presets:
            note, rate, channels, fmt = VARIANTS[k % len(VARIANTS)]
            k += 1
            stem = slug(Path(preset.source).stem if Path(preset.source).suffix == ".json" else preset.name)
            stem = stem if stem not in used else f"{stem}_{len(used)}"  # two voices of a bank with one name
            used.add(stem)
            path = out / synth / f"{stem}.{fmt}"
            files.append(path)
            if path.is_file():
                continue
            audio = get_renderer(synth, settings).render(preset.vector, note)
            write_target(path, audio, settings.sample_rate, rate, channels, fmt)
    return files
