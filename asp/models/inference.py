"""Inference: checkpoint + mel spectrograms -> per-synth parameter vectors -> presets decoded through the schemas."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from asp.features.mel import MelSettings, mel_db
from asp.models.checkpoints import load_checkpoint
from asp.models.losses import logits_to_scores
from asp.models.module import SchemaMismatch, VAEModule
from asp.render.settings import RenderSettings
from asp.synths import registry


class Predictor:
    """A trained model, ready to turn mels into presets for any of its synths.

    Args:
        checkpoint: a ``.ckpt`` written by ``asp train``.
        device: ``cpu``, ``cuda`` ...

    Raises:
        SchemaMismatch: the checkpoint was trained with other schemas than the registry's (naming the synth).
        FileNotFoundError: no such checkpoint.
        UnsafeCheckpoint: the file holds pickled objects beyond tensors and plain data (it is not loaded).
    """

    def __init__(self, checkpoint: str | Path, device: str = "cpu") -> None:
        path = Path(checkpoint)
        blob = load_checkpoint(path)
        meta = blob.get("asp") or {}
        for synth, h in (meta.get("schema_hashes") or {}).items():
            if synth not in registry.names():
                raise SchemaMismatch(f"{path}: trained for synth {synth!r}, which is not registered here")
            if registry.load_schema(synth).content_hash != h:
                raise SchemaMismatch(
                    f"{path}: synth {synth!r} was trained with schema hash {h}, the registry has "
                    f"{registry.load_schema(synth).content_hash}"
                )
        self.module = VAEModule(**blob["hyper_parameters"])  # re-checks the schema hashes it was trained with
        self.module.load_state_dict(blob["state_dict"])
        self.module.to(device).eval()
        self.device = device
        self.synths: list[str] = list(self.module.synths)
        self.floor_db = self.module.hparams.get("mel_floor_db")
        self.path = path
        self.render_settings, self.mel_settings = self._settings(path)
        if self.mel_settings.n_frames(self.render_settings.n_samples) != self.module.hparams["n_frames"]:
            raise SchemaMismatch(
                f"{path}: the model takes {self.module.hparams['n_frames']} mel frames, but its render "
                f"and mel settings give {self.mel_settings.n_frames(self.render_settings.n_samples)}"
            )

    def _settings(self, path: Path) -> tuple[RenderSettings, MelSettings]:
        """The render and mel settings the model was trained with: from the checkpoint, else from the
        ``dataset_card.json`` of its run folder (checkpoints written before they were stored), else the defaults."""
        hp = self.module.hparams
        render, mel = hp.get("render"), hp.get("mel")
        card = path.parent.parent / "dataset_card.json"
        if (render is None or mel is None) and card.is_file():
            settings = json.loads(card.read_text()).get("settings") or {}
            render, mel = render or settings.get("render"), mel or settings.get("mel")
        return (
            RenderSettings.from_dict(render) if render else RenderSettings(),
            MelSettings.from_dict(mel or {}),
        )

    def mels(self, audio: np.ndarray) -> np.ndarray:
        """(B, n_samples) audio at the model's rate -> (B, n_mels, n_frames) dB mels as datasets store them (float16,
        so the model sees values rounded as in training)."""
        return mel_db(np.asarray(audio), self.mel_settings).astype(np.float16)

    def model_input(self, mel_db: np.ndarray) -> torch.Tensor:
        """(B, n_mels, T) dB mels -> the (B, 1, n_mels, T) tensor the model reads (scaled by the dataset's dB floor as
        in training), on the model's device."""
        x = np.asarray(mel_db, dtype=np.float32)
        if self.floor_db is not None:
            x = (x - self.floor_db) / -self.floor_db
        return torch.from_numpy(x)[:, None].to(self.device)

    @torch.no_grad()
    def latent(self, mel_db: np.ndarray, synth: str) -> np.ndarray:
        """(B, n_mels, T) dB mels -> (B, z_dim) the posterior means where the encoder that reads them as ``synth``
        puts them (one shared encoder for J-S and J-J; the synth's own for S-S)."""
        if synth not in self.synths:
            raise KeyError(f"the model was not trained for {synth}; it knows: {', '.join(self.synths)}")
        model = self.module.model
        branch = model.branch(self.synths.index(synth) if model.variant == "S-S" else 0)
        mu = branch.latent(branch.encoder(model.pool(self.model_input(mel_db))), False)[1]
        return mu.cpu().numpy()

    @torch.no_grad()
    def scores(
        self, mel_db: np.ndarray, synths: Sequence[str] | None = None, samples: int = 0
    ) -> dict[str, np.ndarray]:
        """Mel spectrograms in dB (as stored in asp datasets) -> one-hot scores per synth (what
        ``SynthSchema.decode`` reads: continuous and binary dims in [0, 1], categorical logits or scores).

        Args:
            mel_db: (B, n_mels, T) dB mels.
            synths: which synths to decode as (default: all the model knows).
            samples: 0 for the posterior mean; K for K posterior samples.

        Returns:
            synth -> (B, onehot_size), or (K, B, onehot_size) with ``samples``.
        """
        names = list(synths or self.synths)
        unknown = [s for s in names if s not in self.synths]
        if unknown:
            raise KeyError(f"the model was not trained for {', '.join(unknown)}; it knows: {', '.join(self.synths)}")
        idx = [self.synths.index(s) for s in names]
        logits = self.module.model.predict(self.model_input(mel_db), idx, samples=samples)
        out: dict[str, np.ndarray] = {}
        for s, k in zip(names, idx):
            lg = logits[k]
            flat = lg.reshape(-1, lg.shape[-1])
            scores = logits_to_scores(flat, self.module.layouts[k], self.module.loss_kind).cpu().numpy()
            out[s] = scores.reshape(*lg.shape[:-1], -1)
        return out

    def predict(
        self, mel_db: np.ndarray, synths: Sequence[str] | None = None, samples: int = 0
    ) -> dict[str, np.ndarray]:
        """Mel spectrograms in dB -> native parameter vectors per synth: :meth:`scores` decoded through the schemas.

        Returns:
            synth -> (B, n_params) native vectors, or (K, B, n_params) with ``samples``.
        """
        return {s: self.decode(sc, s) for s, sc in self.scores(mel_db, synths, samples).items()}

    @staticmethod
    def decode(scores: np.ndarray, synth: str) -> np.ndarray:
        """:meth:`scores` (..., onehot_size) of ``synth`` -> native vectors (..., n_params)."""
        return registry.load_schema(synth).decode(scores.reshape(-1, scores.shape[-1])).reshape(*scores.shape[:-1], -1)

    def class_probs(self, scores: np.ndarray, synth: str) -> list[np.ndarray]:
        """The model's class probabilities per discrete parameter (schema order; binary as [P(0), P(1)]) from the
        :meth:`scores` (B, onehot_size) of ``synth``: a list of (B, n_classes)."""
        schema = registry.load_schema(synth)
        off = schema.onehot_offsets
        out = []
        for i, p in enumerate(schema.params):
            if not p.discrete:
                continue
            block = np.asarray(scores[..., off[i] : off[i + 1]], dtype=np.float64)
            if p.kind == "binary":
                q = np.clip(block[..., 0], 0.0, 1.0)
                out.append(np.stack([1.0 - q, q], axis=-1))
            elif self.module.loss_kind == "paper":
                out.append(block / np.maximum(block.sum(-1, keepdims=True), 1e-9))
            else:
                e = np.exp(block - block.max(-1, keepdims=True))
                out.append(e / e.sum(-1, keepdims=True))
        return out

    def presets(self, mel_db: np.ndarray, synths: Sequence[str] | None = None) -> dict[str, list[dict[str, float]]]:
        """Like :meth:`predict`, decoded to natural values by parameter name."""
        return {
            s: [registry.load_schema(s).to_natural(v) for v in vecs] for s, vecs in self.predict(mel_db, synths).items()
        }
