"""Training a neural proxy on a rendered dataset, and using one (``asp proxy train``; ``Proxy``).

The targets are the mel statistics of each clip in the dataset (``asp.features.mel.mel_statistics`` of the stored
dB mel), standardised per dimension with the training split's mean and standard deviation (saved with the model), so
every dimension weighs alike in the MSE loss and in the retrieval distance. Splits are the dataset's (by preset).
A model folder holds ``model.pt`` (weights only) and ``proxy.json`` (architecture, schema hash, the standardisation,
the validation loss per epoch); the best epoch on the validation split is kept.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from asp.atomic import atomic_write_bytes
from asp.data.store import Dataset
from asp.features.mel import MelSettings, mel_db, mel_statistics
from asp.models.checkpoints import load_checkpoint, save_tensors
from asp.models.proxy import ProxySettings, build_proxy
from asp.synths import registry

if TYPE_CHECKING:
    from asp.search import SynthResult

MODEL_FILE = "model.pt"
CARD_FILE = "proxy.json"


def proxy_dir(root: str | Path, synth: str, arch: str = "mlp") -> Path:
    """Where a set of proxies keeps one synth's proxy of one architecture: ``root/<synth>/<arch>`` (the layout of
    ``asp quickstart``'s ``proxies/`` and of ``asp proxy train --out root/<synth>``)."""
    return Path(root) / synth / arch


def dataset_arrays(ds: Dataset, synth: str, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(one-hot presets (N, onehot), notes (N,), mel statistics (N, 2 * n_mels)) of one synth's clips in a split."""
    if synth not in ds.synths:
        raise KeyError(f"{ds.root}: no {synth} clips; the dataset has {', '.join(ds.synths)}")
    rows = ds.split(split)
    rows = rows[rows["synth"] == synth]
    if not len(rows):
        raise ValueError(f"{ds.root}: no {synth} clips in the {split} split")
    stats = np.concatenate([mel_statistics(ds.mels(rows.iloc[i : i + 256])) for i in range(0, len(rows), 256)])
    return ds.array(rows, "onehot").astype(np.float32), rows["note"].to_numpy(np.float32), stats


def train_proxy(
    root: str | Path,
    synth: str,
    out: str | Path,
    settings: ProxySettings | None = None,
    epochs: int = 40,
    batch_size: int = 64,
    lr: float = 1e-3,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Fit a proxy for ``synth`` on the dataset at ``root``; returns the card written to ``proxy.json``. A folder that
    already holds a finished proxy is kept as it is (its card returned)."""
    out = Path(out)
    if (out / CARD_FILE).is_file() and (out / MODEL_FILE).is_file():
        log(f"{out}: already trained")
        return dict(json.loads((out / CARD_FILE).read_text()))
    out.mkdir(parents=True, exist_ok=True)
    schema = registry.load_schema(synth)
    ds = Dataset(root)
    x_tr, n_tr, y_tr = dataset_arrays(ds, synth, "train")
    x_va, n_va, y_va = dataset_arrays(ds, synth, "valid")
    mean, std = y_tr.mean(axis=0), y_tr.std(axis=0) + 1e-3
    settings = replace(settings or ProxySettings(), embedding=y_tr.shape[1])
    torch.manual_seed(seed)
    model = build_proxy(schema, settings)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    t = {
        k: torch.from_numpy(v)
        for k, v in {
            "x": x_tr,
            "n": n_tr,
            "y": (y_tr - mean) / std,
            "xv": x_va,
            "nv": n_va,
            "yv": (y_va - mean) / std,
        }.items()
    }
    # the training split's mean embedding scored on the validation split: what "learnt nothing" scores (about 1 only
    # when the validation clips spread like the training ones; a few outlying clips can put it well above 1)
    mean_mse = float((t["yv"] ** 2).mean())
    rng = np.random.default_rng(seed)
    history, best, best_state = [], np.inf, None
    t0 = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(x_tr))
        for i in range(0, len(order), batch_size):
            b = torch.from_numpy(order[i : i + batch_size])
            loss = torch.nn.functional.mse_loss(model(t["x"][b], t["n"][b]), t["y"][b])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        model.eval()
        with torch.no_grad():
            val = float(torch.nn.functional.mse_loss(model(t["xv"], t["nv"]), t["yv"]))
        history.append(val)
        if val < best:
            best, best_state = val, {k: v.clone() for k, v in model.state_dict().items()}
        if (epoch + 1) % 10 == 0 or epoch == epochs - 1:
            log(
                f"{synth} {settings.arch}: epoch {epoch + 1}/{epochs}, valid MSE {val:.4f} (best {best:.4f}; "
                f"the mean embedding's {mean_mse:.4f})"
            )
    assert best_state is not None
    save_tensors(best_state, out / MODEL_FILE)
    card = {
        "synth": synth,
        "schema_hash": schema.content_hash,
        "settings": settings.as_dict(),
        "embedding": "mel statistics (mean and std over time of each dB mel band), standardised",
        "mel": ds.card["settings"]["mel"],
        "render": ds.card["settings"]["render"],
        "mean": mean.tolist(),
        "std": std.tolist(),
        "valid_mse": history,
        "best_valid_mse": best,
        "mean_valid_mse": mean_mse,
        "train_clips": len(x_tr),
        "train_seconds": round(time.perf_counter() - t0, 1),
        "dataset": str(Path(root).resolve()),
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
    }
    atomic_write_bytes(out / CARD_FILE, json.dumps(card, indent=1).encode())
    return card


class Proxy:
    """A trained proxy: preset embeddings without rendering, and the same embedding of audio for comparison.

    Raises:
        FileNotFoundError: not a proxy folder. UnsafeCheckpoint: the weights hold pickled objects.
        ValueError: the synth's schema changed since training (its hash differs).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        for name in (CARD_FILE, MODEL_FILE):
            if not (self.folder / name).is_file():
                raise FileNotFoundError(f"{self.folder}: no {name}; is this a folder written by asp proxy train?")
        self.card = json.loads((self.folder / CARD_FILE).read_text())
        self.synth = self.card["synth"]
        self.schema = registry.load_schema(self.synth)
        if self.schema.content_hash != self.card["schema_hash"]:
            raise ValueError(f"{self.folder}: trained on another version of {self.synth}'s schema")
        self.settings = ProxySettings(**self.card["settings"])
        self.model = build_proxy(self.schema, self.settings)
        self.model.load_state_dict(load_checkpoint(self.folder / MODEL_FILE))
        self.model.eval()
        self.mean = np.asarray(self.card["mean"], np.float32)
        self.std = np.asarray(self.card["std"], np.float32)
        self.mel = MelSettings.from_dict(self.card["mel"])
        from asp.render.settings import RenderSettings

        self.render_settings = RenderSettings.from_dict(self.card["render"])

    def embed_presets(self, native: np.ndarray, notes: np.ndarray | int) -> np.ndarray:
        """(B, n_params) native vectors played at ``notes`` -> (B, D) standardised embeddings."""
        x = np.atleast_2d(np.asarray(native, np.float64))
        n = np.broadcast_to(np.asarray(notes, np.float32), (x.shape[0],)).copy()
        out = []
        with torch.no_grad():
            for i in range(0, len(x), 1024):
                oh = torch.from_numpy(self.schema.encode(x[i : i + 1024]).astype(np.float32))
                out.append(self.model(oh, torch.from_numpy(n[i : i + 1024])).numpy())
        return np.concatenate(out)

    def embed_audio(self, audio: np.ndarray) -> np.ndarray:
        """(n_samples,) mono at the dataset's rate -> (D,) the standardised embedding the proxy predicts."""
        return self.standardise(self.audio_statistics(audio))

    def audio_statistics(self, audio: np.ndarray) -> np.ndarray:
        """(n_samples,) mono at the dataset's rate -> (D,) the embedding before standardisation (the mel's
        statistics: the same for every proxy with these mel settings)."""
        return mel_statistics(mel_db(np.asarray(audio, np.float32), self.mel))

    def standardise(self, statistics: np.ndarray) -> np.ndarray:
        """Raw embeddings (..., D) -> standardised on this proxy's training split (what it predicts)."""
        return (statistics - self.mean) / self.std

    def scorer(self, target: np.ndarray) -> Callable[[list[np.ndarray], int], np.ndarray]:
        """``(vectors, note) -> distances`` to ``target``'s embedding: a cheap score for a search to screen with."""
        goal = self.embed_audio(target)

        def score(vectors: list[np.ndarray], note: int) -> np.ndarray:
            e = self.embed_presets(np.stack(vectors), note)
            return np.sqrt(((e - goal) ** 2).mean(axis=1))

        return score


@cache
def _proxy(folder: str) -> Proxy:
    return Proxy(folder)


def check_proxies(proxies: Mapping[str, str | Path], synths: Sequence[str]) -> None:
    """Fail before any search on a proxy that does not load, is for a synth not searched here, or is another synth's
    (ValueError naming the flag's ``SYNTH=FOLDER``)."""
    for synth, folder in proxies.items():
        if synth not in synths:
            raise ValueError(f"--proxy {synth}={folder}: {synth} is not searched here ({', '.join(synths)})")
        if Proxy(folder).synth != synth:
            raise ValueError(f"--proxy {synth}={folder}: that proxy is for {Proxy(folder).synth}")


def proxy_refine_job(task: dict[str, Any], report: Callable[[Any], None]) -> dict[str, SynthResult]:
    """``asp.search.refine.refine_job`` with neural proxies screening the search's children: ``task`` also holds
    ``proxies`` (synth -> proxy folder; each loaded once per worker process) and ``screen_factor``."""
    from asp.search.refine import refine_task

    screens = {
        s: _proxy(str(f)).scorer(task["target"]) for s, f in (task.get("proxies") or {}).items() if s in task["starts"]
    }
    return refine_task(task, screens=screens, screen_factor=int(task.get("screen_factor", 4)))
