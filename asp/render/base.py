"""The one render API every backend implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from asp.render.settings import RenderSettings
from asp.synths.schema import SynthSchema


class RenderError(RuntimeError):
    """A preset could not be rendered."""


class Renderer(ABC):
    """Renders presets of one synth. One instance per synth per process holds a DawDreamer engine and reuses it.

    Rendering preset A after preset B sounds like rendering A in a fresh process: each backend resets or flushes
    whatever state the synth keeps between renders.
    """

    backend: str = ""

    def __init__(self, schema: SynthSchema, settings: RenderSettings) -> None:
        self.schema = schema
        self.settings = settings

    @abstractmethod
    def render(self, native: np.ndarray, note: int) -> np.ndarray:
        """Render one preset at one note.

        Args:
            native: (n_params,) normalised parameter vector in schema order.
            note: MIDI note.

        Returns:
            (n_samples,) float32 mono audio (channels averaged).
        """

    def render_notes(self, native: np.ndarray, notes: tuple[int, ...] | None = None) -> np.ndarray:
        """(n_notes, n_samples) one preset at several notes."""
        notes = self.settings.notes if notes is None else notes
        return np.stack([self.render(native, n) for n in notes])

    def _check(self, native: np.ndarray) -> np.ndarray:
        v = np.asarray(native, dtype=np.float64).reshape(-1)
        if v.shape[0] != self.schema.n_params:
            raise RenderError(f"{self.schema.name}: expected {self.schema.n_params} parameters, got {v.shape[0]}")
        return v


def to_mono(audio: np.ndarray, n_samples: int) -> np.ndarray:
    """(channels, samples) -> (n_samples,) float32, channels averaged (not summed), trimmed or zero-padded."""
    a = np.asarray(audio, dtype=np.float32)
    mono = a.mean(axis=0) if a.ndim == 2 else a
    if mono.shape[0] < n_samples:
        mono = np.pad(mono, (0, n_samples - mono.shape[0]))
    return np.ascontiguousarray(mono[:n_samples])
