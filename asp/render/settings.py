"""Render settings. Defaults follow the multi-task ASP paper (Faronbi et al., ICASSP 2023):
44.1 kHz, MIDI notes C4-B4, velocity 127, note held 3 s, 5 s rendered, mono by averaging channels."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

C4 = 60
# Backends whose renders changed sound since their first version -> their revision (resumable outputs record it):
# faust 2 (2026-12-07): the note through the voice controls, release tails no longer cut (asp.render.faust_backend).
RENDER_REVISIONS = {"faust": 2}


@dataclass(frozen=True)
class RenderSettings:
    """How a preset is played.

    Args:
        sample_rate: Hz.
        velocity: MIDI velocity 1-127.
        note_seconds: how long the note is held.
        render_seconds: length of the rendered clip.
        block_size: engine block size in samples.
        notes: the MIDI notes a dataset renders per preset.
    """

    sample_rate: int = 44100
    velocity: int = 127
    note_seconds: float = 3.0
    render_seconds: float = 5.0
    block_size: int = 512
    notes: tuple[int, ...] = field(default_factory=lambda: tuple(range(60, 72)))

    def __post_init__(self) -> None:
        if not 1 <= self.velocity <= 127:
            raise ValueError(f"velocity must be a MIDI velocity 1-127, got {self.velocity}")
        if not 0 < self.note_seconds <= self.render_seconds:
            raise ValueError("need 0 < note_seconds <= render_seconds")
        bad = [n for n in self.notes if not 0 <= n <= 127]
        if bad or not self.notes:
            raise ValueError(f"notes must be MIDI notes 0-127, got {list(self.notes)}")

    @property
    def n_samples(self) -> int:
        return int(round(self.render_seconds * self.sample_rate))

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["notes"] = list(self.notes)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RenderSettings:
        d = dict(d)
        if "notes" in d:
            d["notes"] = tuple(int(n) for n in d["notes"])
        return cls(**d)
