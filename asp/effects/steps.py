"""``asp effects steps INPUT TARGET``: move one sound toward another with the effect rack, one step at a time.

Both files are read by ``asp.features.audio_io.load_audio`` into one format: mono (channels folded by their mean),
the rack's rate (resampled), leading silence skipped, and the target's length (up to ``max_seconds``; the input cut
or zero-padded to it). What was changed is reported. A silent or unreadable file is refused with the reason.

The output folder (written in one rename, so it is either complete or absent) holds ``input.wav`` and
``target.wav`` as prepared, ``step_<k>_<effect>.wav`` and ``step_<k>_<effect>.png`` (mel spectrogram of the
step's sound beside the target's) per step, ``final.wav`` and ``steps.json`` (settings, metrics per step).

With a synth's own effects (``patch_pair``: ``serum`` or ``vital``) the input is a patch of that synth instead of
audio: it is played for the target's length with its five effects off, and each step sets the chosen effect on the
synth's own rack and renders the patch again (``asp.render.serum_rack.SerumPatchRack``,
``asp.render.vital_rack.VitalPatchRack``). The models are the same; they only see the audio (models trained on
Vital's effects, ``asp effects dataset --backend vital``, fit Vital's rack best).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from asp.atomic import atomic_dir
from asp.data.effects import NOTE
from asp.effects.loop import EffectLoop, LoopResult, Step
from asp.effects.systems import KNOWING, LABELS, Models, build, parse_systems
from asp.features.audio_io import SILENCE_DBFS, AudioError, LoadedAudio, load_audio, write_wav
from asp.features.effect import EffectFeatures, effect_mel
from asp.metrics import EFFECT_METRICS
from asp.render.base import Renderer
from asp.render.effects import Rack
from asp.render.serum_rack import SerumPatchRack
from asp.render.vital_rack import VitalPatchRack
from asp.synths import effect_specs as specs

SAMPLE_RATE = 44100
MAX_SECONDS = 5.0
PatchRack = SerumPatchRack | VitalPatchRack
# synth -> (its name, the rack that sets its own effects)
PATCH_BACKENDS: dict[str, tuple[str, type[SerumPatchRack] | type[VitalPatchRack]]] = {
    "serum": ("Serum", SerumPatchRack),
    "vital": ("Vital", VitalPatchRack),
}


def backend_of(rack: Rack) -> str:
    """Where a rack's effects play: ``faust``, or the synth whose own effects it sets."""
    return next((k for k, (_, cls) in PATCH_BACKENDS.items() if isinstance(rack, cls)), "faust")


@dataclass
class Pair:
    """Input and target in one format, with what was done to each."""

    input: LoadedAudio
    target: LoadedAudio
    sample_rate: int

    def notes(self) -> list[str]:
        return [f"{name}: {n}" for name, la in (("input", self.input), ("target", self.target)) for n in la.notes]


def load_target(
    target_path: str | Path, sample_rate: int = SAMPLE_RATE, max_seconds: float = MAX_SECONDS
) -> LoadedAudio:
    """The target at ``sample_rate``, mono, its own length up to ``max_seconds``.

    Raises:
        AudioError: a silent, empty, too short or undecodable file (naming it and the reason).
        FileNotFoundError: no such file.
    """
    import soundfile as sf

    path = Path(target_path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        seconds = float(sf.info(str(path)).duration)
    except Exception as err:
        raise AudioError(f"{path}: cannot decode audio ({err})") from None
    if seconds < 0.1:
        raise AudioError(f"{path}: too short to compare spectra ({seconds * 1000:.0f} ms; at least 100 ms)")
    return load_audio(path, sample_rate, int(round(min(seconds, max_seconds) * sample_rate)))


def load_pair(
    input_path: str | Path, target_path: str | Path, sample_rate: int = SAMPLE_RATE, max_seconds: float = MAX_SECONDS
) -> Pair:
    """Both files at one rate, mono, the target's length (at most ``max_seconds``).

    Raises:
        AudioError: a silent, empty or undecodable file (naming it and the reason).
        FileNotFoundError: no such file.
    """
    target = load_target(target_path, sample_rate, max_seconds)
    return Pair(load_audio(input_path, sample_rate, len(target.audio)), target, sample_rate)


def patch_pair(
    preset_path: str | Path,
    target_path: str | Path,
    note: int | None = None,
    max_seconds: float = MAX_SECONDS,
    renderer: Renderer | None = None,
    backend: str = "serum",
) -> tuple[Pair, PatchRack]:
    """A synth's own effects as the rack: a preset of ``backend`` (``serum`` or ``vital``; asp JSON) played at
    ``note`` for the target's length, its five effects switched off; and the rack that sets them on the patch.
    ``renderer``: the synth's renderer (tests; default asp's).

    Raises:
        SchemaError: the preset is not a readable preset of that synth (naming the file).
        PluginNotFoundError, RenderError: the synth is not installed (saying how to install it).
    """
    from asp.render.settings import RenderSettings
    from asp.synths import registry
    from asp.synths.presets import read_json_preset

    note = NOTE if note is None else int(note)
    if not 0 <= note <= 127:
        raise ValueError(f"--note must be a MIDI note 0-127, got {note}")
    if backend not in PATCH_BACKENDS:
        raise ValueError(f"unknown synth rack {backend!r}; valid: {', '.join(PATCH_BACKENDS)}")
    name, cls = PATCH_BACKENDS[backend]
    target = load_target(target_path, SAMPLE_RATE, max_seconds)
    preset = read_json_preset(preset_path, registry.load_schema(backend))
    seconds = len(target.audio) / SAMPLE_RATE
    settings = RenderSettings(sample_rate=SAMPLE_RATE, note_seconds=seconds, render_seconds=seconds, notes=(note,))
    rack = cls(preset.vector, note, settings, renderer)
    dry = rack.dry()
    if not np.max(np.abs(dry), initial=0.0) >= 10 ** (SILENCE_DBFS / 20):
        raise AudioError(
            f"{preset_path}: the patch is silent at note {note} with its effects off (peak below {SILENCE_DBFS:g} dBFS)"
        )
    played = LoadedAudio(
        dry,
        SAMPLE_RATE,
        1,
        seconds,
        0.0,
        [f"rendered in {name} at note {note} for {seconds:.2f} s, its five effects off"],
    )
    return Pair(played, target, SAMPLE_RATE), rack


def spectrogram_png(path: Path, audio: np.ndarray, target_mel: np.ndarray, title: str, f: EffectFeatures) -> None:
    """The step's mel spectrogram beside the target's (SerumRNN's normalised dB mel, ``effect_mel``)."""
    from asp.plotting import pyplot, save_png

    fig, ax = pyplot().subplots(1, 2, figsize=(9, 3.2), sharey=True)
    seconds = len(audio) / f.sample_rate
    for a, mel, name in ((ax[0], effect_mel(audio, f), title), (ax[1], target_mel, "target")):
        a.imshow(mel, origin="lower", aspect="auto", vmin=-1, vmax=0, cmap="magma", extent=(0, seconds, 0, f.n_mels))
        a.set(title=name, xlabel="seconds")
    ax[0].set_ylabel("mel bin")
    save_png(fig, path)


def run_steps(
    pair: Pair,
    models: Models,
    out: str | Path,
    system: str = "serumrnn",
    patience: int = 1,
    rollback: bool = False,
    metric: str = "mssmae",
    rack: Rack | None = None,
    search_classes: bool = False,
    log: Callable[[str], None] = print,
) -> LoopResult:
    """Run a system from the input toward the target and write the output folder (see the module docstring).
    ``search_classes``: the loop's class search (``asp.effects.loop``)."""
    from asp.render.effects import FaustRack

    (system,) = parse_systems([system])
    if system in KNOWING:
        raise ValueError(f"the {system} system needs the target's true effects; choose a system that listens")
    rack = rack or FaustRack(pair.sample_rate)
    f = EffectFeatures(sample_rate=pair.sample_rate)
    policy, params = build(system, models)
    audio_of: dict[int, np.ndarray] = {}

    def keep_audio(step: Step, audio: np.ndarray) -> None:
        audio_of[step.index] = audio
        log(step.describe(metric))

    res = EffectLoop(
        rack,
        policy,
        params,
        metric=metric,
        patience=patience,
        rollback=rollback,
        features=f,
        search_classes=search_classes,
    ).run(pair.input.audio, pair.target.audio, on_step=keep_audio)
    with atomic_dir(out) as tmp:
        sr = pair.sample_rate
        write_wav(tmp / "input.wav", pair.input.audio, sr)
        write_wav(tmp / "target.wav", pair.target.audio, sr)
        target_mel = effect_mel(pair.target.audio, f)
        doc = {
            "system": LABELS[system],
            "models": str(models.folder),
            "backend": backend_of(rack),
            "patience": patience,
            "rollback": rollback,
            "search_classes": search_classes,
            "notes": pair.notes(),
            **res.as_json(),
        }
        for s, entry in zip(res.steps, doc["steps"]):
            entry["files"] = stem = f"step_{s.index}_{s.effect}"
            write_wav(tmp / f"{stem}.wav", audio_of[s.index], sr)
            spectrogram_png(
                tmp / f"{stem}.png",
                audio_of[s.index],
                target_mel,
                f"step {s.index}: {specs.get(s.effect).label}" + ("" if s.kept else " (not applied)"),
                f,
            )
        write_wav(tmp / "final.wav", res.audio, sr)
        (tmp / "steps.json").write_text(json.dumps(doc, indent=1))
    return res


def summary(res: LoopResult) -> str:
    """The run's start and end on the six metrics."""
    return "\n".join(f"  {m:<7} {res.start[m]:.4g} -> {res.final[m]:.4g}" for m in EFFECT_METRICS)
