"""Steering: a neural effect learned from one dry/wet pair (``asp effects steer``) and applied with any controls.

After Steinmetz & Reiss 2021: a FiLM-conditioned TCN (``asp.models.steerable``) is fitted to a single pair, a dry
recording and the same recording through an existing effect, with its control vector held at zero and a
multi-resolution STFT loss (``auraloss``). Moving the controls afterwards steers it.

What is chosen here, to train on two CPU cores in minutes: audio at 22.05 kHz (half the paper's rate), 16 channels,
random crops of 0.5 s (each with its receptive field of history before it, so a crop sees what the full signal would
have shown it), 4 crops per step. A model folder holds ``model.pt`` (weights only: tensors, read with
``weights_only=True``), ``steer.json`` (the network's shape, the training options, the losses) and ``loss.csv`` /
``loss.png``; training resumes from ``state.pt`` (saved every ``checkpoint_every`` steps, atomically), and each
step's crops come from a generator seeded by (seed, step), so a resumed run draws what an uninterrupted one would.
"""

from __future__ import annotations

import io
import json
import math
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from asp.atomic import atomic_write_bytes
from asp.features.audio_io import AudioError, discover, load_audio
from asp.models.checkpoints import load_checkpoint, save_tensors
from asp.models.steerable import SteerableTCN, TCNSettings
from asp.paths import recorded
from asp.synths import effect_specs as specs

STEER_RATE = 22050
MODEL_FILE = "model.pt"
STATE_FILE = "state.pt"
CARD_FILE = "steer.json"
Controls = Sequence[float] | np.ndarray
LOSS_FILE = "loss.csv"
FFT_SIZES = (256, 512, 1024, 2048)  # the MR-STFT loss's resolutions (hop: a quarter of each)


@dataclass(frozen=True)
class SteerOptions:
    """How a steerable effect is trained (saved in ``steer.json``)."""

    sample_rate: int = STEER_RATE
    steps: int = 2500
    batch_size: int = 4
    crop_seconds: float = 0.5
    lr: float = 1e-3
    seed: int = 0
    max_seconds: float = 30.0  # of the pair used
    checkpoint_every: int = 250
    tcn: TCNSettings = field(default_factory=TCNSettings)

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1 or self.checkpoint_every < 1:
            raise ValueError("steps, batch size and checkpoint interval must be at least 1")
        if not 0 < self.crop_seconds <= self.max_seconds:
            raise ValueError(f"need 0 < crop seconds <= max seconds; got {self.crop_seconds} and {self.max_seconds}")
        if self.sample_rate < 8000:
            raise ValueError(f"sample rate {self.sample_rate} Hz is below 8 kHz")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["tcn"] = self.tcn.as_dict()
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SteerOptions:
        d = dict(data)
        tcn = TCNSettings.from_dict(d.pop("tcn", {}))
        return cls(**d, tcn=tcn)


def _info(path: Path) -> tuple[float, int]:
    """(seconds, sample rate) of an audio file (errors name the file and the reason)."""
    import soundfile as sf

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    try:
        info = sf.info(str(path))
    except Exception as err:
        raise AudioError(f"{path}: cannot decode audio ({err})") from None
    return float(info.frames) / float(info.samplerate), int(info.samplerate)


def load_pair(
    dry: str | Path, wet: str | Path, sample_rate: int = STEER_RATE, max_seconds: float = 30.0
) -> tuple[np.ndarray, np.ndarray]:
    """Both files mono at ``sample_rate``, untrimmed (their alignment is the effect's timing), padded to the longer
    of the two (a reverb's tail outlasts its dry input), at most ``max_seconds``.

    Raises:
        AudioError: a silent, empty or undecodable file (naming it and the reason).
        FileNotFoundError: no such file.
    """
    dry, wet = Path(dry), Path(wet)
    seconds = min(max(_info(dry)[0], _info(wet)[0]), max_seconds)
    n = int(math.ceil(seconds * sample_rate))
    a = load_audio(dry, sample_rate, n, max_lead_seconds=0.0).audio
    b = load_audio(wet, sample_rate, n, max_lead_seconds=0.0).audio
    return a, b


def _loss_fn() -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    import auraloss

    return auraloss.freq.MultiResolutionSTFTLoss(
        fft_sizes=list(FFT_SIZES), hop_sizes=[n // 4 for n in FFT_SIZES], win_lengths=list(FFT_SIZES)
    )


def crops(
    dry: np.ndarray, wet: np.ndarray, n_out: int, history: int, batch: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """A batch of aligned crops: inputs (batch, 1, history + n_out) with the samples before each crop (zeros before
    the start), targets (batch, 1, n_out)."""
    padded = np.concatenate([np.zeros(history, np.float32), dry])
    starts = rng.integers(0, max(1, len(wet) - n_out + 1), size=batch)
    x = np.stack([padded[s : s + history + n_out] for s in starts])[:, None]
    y = np.stack([wet[s : s + n_out] for s in starts])[:, None]
    return x.astype(np.float32), y.astype(np.float32)


def train_steerable(
    dry: np.ndarray,
    wet: np.ndarray,
    out: str | Path,
    options: SteerOptions = SteerOptions(),
    source: dict[str, str] | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Fit a steerable TCN to one pair (both mono at ``options.sample_rate``, the same length) with its controls at
    zero. Resumes a run that ``out`` holds with the same options; returns the card written to ``steer.json``.

    Raises:
        ValueError: the pair is shorter than one crop, or ``out`` holds a run with other options.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    dry = np.asarray(dry, np.float32).reshape(-1)
    wet = np.asarray(wet, np.float32).reshape(-1)
    if dry.shape != wet.shape:
        raise ValueError(f"dry and wet must have the same length; got {dry.shape[0]} and {wet.shape[0]} samples")
    n_out = int(round(options.crop_seconds * options.sample_rate))
    if len(wet) < n_out:
        raise ValueError(
            f"the pair ({len(wet) / options.sample_rate:.2f} s) is shorter than one crop ({options.crop_seconds} s)"
        )
    card_path = out / CARD_FILE
    if card_path.is_file() and (out / MODEL_FILE).is_file():
        card = json.loads(card_path.read_text())
        if card["options"] == options.as_dict():
            return dict(card)
        raise ValueError(f"{out} holds a steerable effect trained with other options; choose another --out")
    torch.manual_seed(options.seed)
    model = SteerableTCN(options.tcn)
    opt = torch.optim.Adam(model.parameters(), lr=options.lr)
    losses: list[float] = []
    start = 0
    state_path = out / STATE_FILE
    if state_path.is_file():
        state = load_checkpoint(state_path)
        if state["options"] != options.as_dict():
            raise ValueError(f"{state_path}: a run with other options; remove it or choose another --out")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        losses = [float(v) for v in state["losses"]]
        start = int(state["step"])
    loss_fn = _loss_fn()
    history = options.tcn.receptive_field - 1
    zeros = torch.zeros(options.batch_size, options.tcn.controls)
    t0 = time.perf_counter()
    from tqdm import tqdm

    bar = tqdm(
        range(start, options.steps),
        desc="steering",
        unit="step",
        disable=not progress,
        initial=start,
        total=options.steps,
    )
    model.train()
    for step in bar:
        x, y = crops(dry, wet, n_out, history, options.batch_size, np.random.default_rng([options.seed, step]))
        pred = model(torch.from_numpy(x), zeros)[..., history:]
        loss = loss_fn(pred, torch.from_numpy(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        if (step + 1) % 25 == 0:
            bar.set_postfix(loss=f"{np.mean(losses[-25:]):.3f}")
        if (step + 1) % options.checkpoint_every == 0 and step + 1 < options.steps:
            save_tensors(
                {
                    "model": model.state_dict(),
                    "optimizer": opt.state_dict(),
                    "losses": losses,
                    "step": step + 1,
                    "options": options.as_dict(),
                },
                state_path,
            )
    seconds = time.perf_counter() - t0
    save_tensors(model.state_dict(), out / MODEL_FILE)
    atomic_write_bytes(
        out / LOSS_FILE, ("step,loss\n" + "".join(f"{i + 1},{v:.6f}\n" for i, v in enumerate(losses))).encode()
    )
    card = {
        "options": options.as_dict(),
        "receptive_field_seconds": options.tcn.receptive_field / options.sample_rate,
        "pair_seconds": len(wet) / options.sample_rate,
        "source": dict(source or {}),
        "loss_first_25": float(np.mean(losses[:25])),
        "loss_last_25": float(np.mean(losses[-25:])),
        "train_seconds_this_run": round(seconds, 2),
        "steps_this_run": options.steps - start,
    }
    atomic_write_bytes(card_path, json.dumps(card, indent=2).encode())
    state_path.unlink(missing_ok=True)
    _plot_loss(losses, out / "loss.png")
    return card


def _plot_loss(losses: Sequence[float], path: Path) -> None:
    from asp.plotting import pyplot, save_png

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    v = np.asarray(losses)
    ax.plot(np.arange(1, len(v) + 1), v, lw=0.5, alpha=0.4, label="per step")
    k = min(50, len(v))
    ax.plot(np.arange(k, len(v) + 1), np.convolve(v, np.ones(k) / k, mode="valid"), lw=1.5, label=f"mean of {k}")
    ax.set_xlabel("step")
    ax.set_ylabel("multi-resolution STFT loss")
    ax.legend()
    save_png(fig, path)


class SteeredEffect:
    """A trained steerable effect: ``apply(audio, rate, controls)``.

    Args:
        folder: written by ``train_steerable`` (``asp effects steer``).

    Raises:
        FileNotFoundError: the folder has no trained model (naming what is missing).
        UnsafeCheckpoint: the weights file holds pickled objects.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        for name in (CARD_FILE, MODEL_FILE):
            if not (self.folder / name).is_file():
                raise FileNotFoundError(f"{self.folder}: no {name}; is this a folder written by asp effects steer?")
        self.card = json.loads((self.folder / CARD_FILE).read_text())
        self.options = SteerOptions.from_dict(self.card["options"])
        self.model = SteerableTCN(self.options.tcn)
        self.model.load_state_dict(load_checkpoint(self.folder / MODEL_FILE))
        self.model.eval()

    @property
    def sample_rate(self) -> int:
        return self.options.sample_rate

    @property
    def n_controls(self) -> int:
        return self.options.tcn.controls

    def check_controls(self, controls: Controls) -> np.ndarray:
        c = np.asarray([float(v) for v in controls], np.float32)
        if c.shape != (self.n_controls,) or not np.all(np.isfinite(c)):
            raise ValueError(f"{self.folder}: expected {self.n_controls} finite control values; got {list(controls)}")
        return c

    def process(self, audio: np.ndarray, controls: Controls, chunk_seconds: float = 10.0) -> np.ndarray:
        """Mono audio at the model's rate through the effect: (n,) float32, the same length. Long audio goes through
        in chunks, each with its receptive field of history, which gives exactly the unchunked output."""
        return self.process_many(audio, [controls], chunk_seconds)[0]

    def process_many(
        self, audio: np.ndarray, settings: Sequence[Controls] | np.ndarray, chunk_seconds: float = 10.0
    ) -> np.ndarray:
        """The same audio through the effect at several control settings in one batch: (len(settings), n)."""
        c = torch.from_numpy(np.stack([self.check_controls(s) for s in settings]))
        x = np.asarray(audio, np.float32).reshape(-1)
        history = self.options.tcn.receptive_field - 1
        padded = np.concatenate([np.zeros(history, np.float32), x])
        chunk = max(1, int(chunk_seconds * self.sample_rate))
        out = []
        with torch.no_grad():
            for s in range(0, len(x), chunk):
                seg = torch.from_numpy(padded[s : s + history + chunk])[None, None].expand(len(c), 1, -1)
                out.append(self.model(seg, c)[:, 0, history:].numpy())
        return np.concatenate(out, axis=1) if out else np.zeros((len(c), 0), np.float32)

    def apply(self, audio: np.ndarray, sample_rate: int, controls: Controls) -> np.ndarray:
        """Audio at any rate through the effect (resampled to the model's rate and back): (n,) float32."""
        import soxr

        x = np.asarray(audio, np.float32).reshape(-1)
        if sample_rate != self.sample_rate:
            y = self.process(soxr.resample(x, sample_rate, self.sample_rate, quality="HQ"), controls)
            y = soxr.resample(y, self.sample_rate, sample_rate, quality="HQ").astype(np.float32)
            return np.pad(y, (0, max(0, len(x) - len(y))))[: len(x)]
        return self.process(x, controls)


def save_redrawn(effect: SteeredEffect, out: str | Path, draw: int, note: dict[str, Any] | None = None) -> Path:
    """A new model folder ``out``: ``effect`` with its controls' directions drawn again (``draw``, see
    ``SteerableTCN.redraw_controls``; the effect at zero controls is the trained one), its card (recording the draw,
    the folder it came from and ``note``) and its loss curve. The source folder is left as it is.

    Raises:
        ValueError: ``out`` is the source folder.
    """
    out = Path(out)
    if out.resolve() == effect.folder.resolve():
        raise ValueError(f"{out}: the redrawn effect needs a folder other than the one it comes from")
    out.mkdir(parents=True, exist_ok=True)
    model = SteerableTCN(effect.options.tcn)
    model.load_state_dict(effect.model.state_dict())
    model.redraw_controls(draw)
    for name in (LOSS_FILE, "loss.png"):
        if (effect.folder / name).is_file():
            atomic_write_bytes(out / name, (effect.folder / name).read_bytes())
    save_tensors(model.state_dict(), out / MODEL_FILE)
    card = {**effect.card, "controls_draw": {"draw": int(draw), "from": str(effect.folder), **(note or {})}}
    atomic_write_bytes(out / CARD_FILE, json.dumps(card, indent=2).encode())
    return out


def model_fingerprint(folder: str | Path) -> int:
    """CRC-32 of a steered effect's weights file (what an effect dataset made with it records)."""
    path = Path(folder) / MODEL_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{folder}: no {MODEL_FILE}; is this a folder written by asp effects steer?")
    return zlib.crc32(path.read_bytes())


def rack_spec(name: str, folder: str | Path) -> specs.EffectSpec:
    """A trained steered effect as an extra effect of the rack (``asp effects dataset --steered NAME=FOLDER``): its
    controls are its parameters, and the spec records the folder (absolute) and the weights' CRC-32."""
    effect = SteeredEffect(folder)
    return specs.steered_spec(name, recorded(folder), effect.n_controls, model_fingerprint(folder))


class RackSteered:
    """The processor of a steered effect in the rack (``asp.render.effects.extra_processor``): a setting's
    normalised values in [0, 1] are its controls in [-1, 1] (0.5 -> 0, the trained effect itself).

    Raises:
        ValueError: the folder's weights are not the ones the effect was recorded with (``fingerprint``, 0: any).
    """

    def __init__(self, folder: str | Path, fingerprint: int = 0) -> None:
        if fingerprint and model_fingerprint(folder) != fingerprint:
            raise ValueError(
                f"{folder}: the steered effect's weights changed since it joined the rack (CRC-32 "
                f"{model_fingerprint(folder)}, recorded {fingerprint}); rebuild the effect dataset or restore the model"
            )
        self.effect = SteeredEffect(folder)

    def apply(self, audio: np.ndarray, sample_rate: int, values: Sequence[float]) -> np.ndarray:
        return self.effect.apply(audio, sample_rate, [2.0 * float(v) - 1.0 for v in values])


def with_options(options: SteerOptions, **changes: Any) -> SteerOptions:
    """``options`` with some fields changed; TCN fields (``layers``, ``kernel``, ...) go into its ``tcn``."""
    tcn_names = set(TCNSettings().as_dict())
    tcn = {k: v for k, v in changes.items() if k in tcn_names and v is not None}
    rest = {k: v for k, v in changes.items() if k not in tcn_names and v is not None}
    return replace(options, tcn=replace(options.tcn, **tcn), **rest)


def read_whole(path: Path) -> tuple[np.ndarray, int]:
    """A whole file, mono at its own rate, untrimmed, and that rate (errors name the file and the reason)."""
    seconds, rate = _info(path)
    return load_audio(path, rate, int(math.ceil(seconds * rate)), max_lead_seconds=0.0).audio, rate


def apply_folder(
    effect: SteeredEffect, source: str | Path, out: str | Path, controls: Controls, progress: bool = True
) -> list[dict[str, str]]:
    """Every audio file of ``source`` (a file or a folder, walked recursively) through the effect, written to
    ``out`` as float WAV at the file's own rate, the folder tree mirrored. A file already done is kept (a killed
    run resumes); a bad file is reported in its row and the batch goes on. Returns one row per file
    (``file``, ``status`` done|kept|error, ``error``)."""
    import soundfile as sf
    from tqdm import tqdm

    source, out = Path(source), Path(out)
    effect.check_controls(controls)
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such file or folder")
    root, files = (source.parent, [source]) if source.is_file() else (source, discover(source, exclude=out))
    rows = []
    for f in tqdm(files, desc="applying", unit="file", disable=not progress):
        rel = f.relative_to(root)
        dest = (out / rel).with_suffix(".wav")
        if dest.is_file():
            rows.append({"file": str(rel), "status": "kept", "error": ""})
            continue
        try:
            x, rate = read_whole(f)
            y = effect.apply(x, rate, controls)
            buf = io.BytesIO()
            sf.write(buf, y, rate, format="WAV", subtype="FLOAT")
            dest.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(dest, buf.getvalue())
            rows.append({"file": str(rel), "status": "done", "error": ""})
        except (AudioError, OSError, RuntimeError, ValueError) as err:
            rows.append({"file": str(rel), "status": "error", "error": str(err)})
    return rows
