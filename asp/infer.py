"""Batch inference: a folder of sounds in, a preset per sound and synth out, each re-rendered and scored.

``OUT`` mirrors the input tree: for ``AUDIO_DIR/a/kick.wav`` the folder ``OUT/a/kick.wav/`` holds

* ``input.wav``: the clip the model saw (mono, the model's rate and length; see ``asp.features.audio_io``);
* per synth ``<synth>.json`` (parameter names with natural and normalised values), the synth's native preset
  files where it has any (``asp.synths.native``), and ``<synth>.wav``, the preset rendered at the note chosen by
  the pitch rule (``asp.features.pitch``);
* with refinement (``InferOptions.refine``, ``asp infer --refine``): the presets above are the refined ones (the
  JSON says which ``note`` each was matched at), and ``<synth>.oneshot.json``/``.wav`` keep the model's own
  prediction; each file is searched in a worker process (``asp.search``);
* ``result.json``: the file's report rows, written last.

``OUT/report.html`` (``asp.eval.listen``) lets a person listen to every file's target and matches.

Each file's folder appears in one rename when the file is done, so a folder that exists is finished, and a re-run
skips it (unless the checkpoint, the synths or the note option changed). ``OUT/report.csv`` and ``report.parquet``
have one row per file and synth with the audio metrics of the rendered preset against the input (``asp.metrics``)
and the best-matching synth (with refinement: the lowest distance the search minimised, ``objective``, at full
quality; without: the lowest textbook LSD), plus one row per file that could not be used, with the reason.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from asp import atomic
from asp.features.audio_io import AudioError, LoadedAudio, discover, load_audio, write_wav
from asp.features.effect import spectra
from asp.features.pitch import Pitch, estimate_pitch, note_in, own_note
from asp.metrics import audio_metrics, band_limit, lsd_from_power
from asp.render import get_renderer
from asp.synths import registry
from asp.synths.native import write_native
from asp.synths.presets import write_json_preset

if TYPE_CHECKING:
    from asp.search import SearchOptions, SynthResult

RESULT = "result.json"
# refinement: the searches of up to this many files share one pool of workers (their targets held meanwhile), so the
# workers start once and only the last file leaves one idle (docs/PERFORMANCE.md)
POOL_FILES = 256
# a file's search, made before it runs: (file, its audio, the one-shot presets, its pitch, the worker's task)
SearchJob = tuple[str, LoadedAudio, dict[str, np.ndarray], Pitch, dict[str, Any]]
METRICS = ("lsd", "band_lsd", "audible_lsd", "paper_lsd", "mse", "mae", "mel_lsd", "mfccd", "pcc", "mssmae")
REFINE_COLUMNS = (
    "oneshot_lsd",
    "oneshot_band_lsd",
    "oneshot_audible_lsd",
    "oneshot_mssmae",
    "objective",
    "oneshot_objective",
    "oneshot_note",
    "start",
    "renders",
    "search_seconds",
    "oneshot_audio",
)
COLUMNS = (
    "file",
    "synth",
    "status",
    "error",
    "best",
    "best_synth",
    "note",
    "pitch_hz",
    *METRICS,
    *REFINE_COLUMNS,
    "preset",
    "native",
    "audio",
    "effects",
    "effects_steps",
    "mssmae_effects",
    "effects_audio",
    "source_rate",
    "band_hz",
    "channels",
    "seconds",
    "input_notes",
)


class InferError(RuntimeError):
    """The whole run cannot go on (no input folder, unwritable output, no model); the message says why."""


@dataclass
class InferOptions:
    """Args:
    synths: synths to infer presets for (None: every synth the model knows).
    batch_size: files per model call.
    device: torch device of the model.
    note: render every preset at this MIDI note instead of the pitch rule's.
    write_audio: write ``input.wav`` and the rendered ``<synth>.wav``.
    effects: a folder of effect-stage models (``asp effects train``): after the patches, run the effect steps
        (SerumRNN) from the best synth's rendered patch toward the input sound.
    effects_patience: bad effect steps tolerated before the effect stage stops.
    effects_search_classes: the effect loop's class search (``asp.effects.loop``).
    refine: render-in-the-loop refinement (``asp.search``) of every synth's preset, with these options; None
        keeps the one-shot prediction.
    samples: posterior draws of the model added to the search's starting candidates.
    own_note: the search also plays every start at the sound's own note (``asp.features.pitch.own_note``), not
        only at the pitch rule's note in C4-B4.
    workers: processes searching files in parallel (0: in this process).
    proxies: synth -> a neural proxy's folder (``asp proxy train``): the search screens its children with it,
        drawing ``proxy_factor`` times more and rendering only the ones the proxy ranks closest.
    neighbours: per synth, the presets of the model's training split whose sounds its encoder puts nearest the
        target (``asp.models.neighbours``) join the search's starts, played at the sound's own note.
    """

    synths: Sequence[str] | None = None
    batch_size: int = 16
    device: str = "cpu"
    note: int | None = None
    write_audio: bool = True
    effects: str | Path | None = None
    effects_patience: int = 1
    effects_search_classes: bool = False
    refine: SearchOptions | None = None
    samples: int = 0
    own_note: bool = True
    workers: int = 2
    proxies: Mapping[str, str | Path] | None = None
    proxy_factor: int = 4
    neighbours: int = 0


@dataclass
class Timings:
    """Seconds spent per stage over a run (the benchmark's breakdown)."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def add(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.seconds[stage] += now - since
        return now


def check_writable(out: Path) -> None:
    """Create ``out`` and prove a file can be written there.

    Raises:
        InferError: naming the folder and the system's reason.
    """
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".asp-write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise InferError(f"{out}: cannot write the output folder ({err.strerror or err})") from None


def _fingerprint(
    checkpoint: Path,
    synths: Sequence[str],
    note: int | None,
    effects: Any = None,
    patience: int = 1,
    search_classes: bool = False,
    refine: Any = None,
    samples: int = 0,
    own: bool = True,
    proxies: Mapping[str, str | Path] | None = None,
    proxy_factor: int = 4,
    neighbours: int = 0,
) -> dict[str, Any]:
    h = hashlib.sha256()
    with open(checkpoint, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    fp: dict[str, Any] = {"checkpoint_sha256": h.hexdigest()[:16], "synths": list(synths), "note": note}
    if effects is not None:  # the effect stage's models (asp.effects.systems.Models) and rule change the outputs too
        fp["effects"] = {"models": effects.fingerprint(), "patience": patience}
        if search_classes:  # (outputs made before the option existed still resume)
            fp["effects"]["search_classes"] = True
    if refine is not None:  # (outputs made without refinement still resume)
        fp["refine"] = {**refine.as_dict(), "samples": samples}
        if not own:
            fp["refine"]["own_note"] = False
        if proxies:  # (outputs made without a proxy still resume)
            fp["refine"]["proxies"] = {s: str(Path(f).resolve()) for s, f in sorted(proxies.items())}
            fp["refine"]["proxy_factor"] = proxy_factor
        if neighbours:  # (outputs made without neighbour starts still resume)
            fp["refine"]["neighbours"] = neighbours
    return fp


def _finished(folder: Path, fingerprint: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The report rows of a finished folder made with the same fingerprint, else None."""
    try:
        blob = json.loads((folder / RESULT).read_text())
    except (OSError, ValueError):
        return None
    return blob["rows"] if blob.get("fingerprint") == fingerprint else None


def _best_synth(rows: list[dict[str, Any]]) -> str | None:
    """The file's best-matching synth among its scored rows: by the search's own distance at full quality where
    every synth was refined (what it minimised: with ``--objective audible`` the textbook LSD would rank them by what
    lies below hearing), else by the textbook LSD over the band the file carries (``band_lsd``)."""
    scored = [r for r in rows if r.get("lsd") is not None]
    if not scored:
        return None
    refined = all(r.get("objective") is not None and math.isfinite(r["objective"]) for r in scored)
    return str(min(scored, key=lambda r: r["objective"] if refined else r.get("band_lsd", r["lsd"]))["synth"])


def _metrics(audio: np.ndarray, target: Any, band_hz: float | None, rate: int) -> dict[str, float]:
    """The report's metrics of a render against the input's spectra (``asp.metrics.audio_metrics``), with the
    textbook LSD over the band the file carries as ``band_lsd`` (the LSD itself where it carries the whole band)."""
    sa = spectra(audio)
    out = audio_metrics(sa, target)
    out["band_lsd"] = (
        out["lsd"]
        if band_hz is None
        else lsd_from_power(band_limit(sa.power, band_hz, rate), band_limit(target.power, band_hz, rate))
    )
    return out


def _error_row(rel: str, err: BaseException) -> dict[str, Any]:
    msg = str(err)
    return {"file": rel, "synth": None, "status": "error", "error": msg or type(err).__name__}


def _batches(items: list[Path], n: int) -> Iterator[list[Path]]:
    for i in range(0, len(items), max(1, n)):
        yield items[i : i + n]


class BatchInference:
    """One model over many files (see the module docstring).

    Args:
        checkpoint: a ``.ckpt`` written by ``asp train``.
        out: output folder.
        options: see :class:`InferOptions`.

    Raises:
        InferError: unwritable output folder.
        SchemaMismatch: a checkpoint trained with other schemas than the registry's.
        KeyError: a synth the model does not know, listing those it does.
    """

    def __init__(self, checkpoint: str | Path, out: str | Path, options: InferOptions | None = None) -> None:
        from asp.models.inference import Predictor

        self.out = Path(out)
        self.options = options or InferOptions()
        check_writable(self.out)
        self.predictor = Predictor(checkpoint, device=self.options.device)
        names = list(self.options.synths or self.predictor.synths)
        unknown = [s for s in names if s not in self.predictor.synths]
        if unknown:
            raise KeyError(
                f"the model was not trained for {', '.join(unknown)}; it knows: {', '.join(self.predictor.synths)}"
            )
        self.synths = names
        self.render = self.predictor.render_settings
        self.effects = None
        if self.options.effects is not None:
            from asp.effects.systems import Models
            from asp.render.effects import FaustRack

            self.effects = Models(self.options.effects, device=self.options.device)
            self.effects.selector("rnn")  # fail now, not per file, if the models are incomplete
            self.rack = FaustRack(self.render.sample_rate)
        self.fingerprint = _fingerprint(
            Path(checkpoint),
            names,
            self.options.note,
            self.effects,
            self.options.effects_patience,
            self.options.effects_search_classes,
            self.options.refine,
            self.options.samples,
            self.options.own_note,
            self.options.proxies,
            self.options.proxy_factor,
            self.options.neighbours,
        )
        self._check_proxies(names)
        self.index = self._neighbour_index(Path(checkpoint))
        self.timings = Timings()

    def _check_proxies(self, synths: Sequence[str]) -> None:
        """Fail now, not per file, on a proxy that does not load or is for another synth."""
        if not self.options.proxies:
            return
        if self.options.refine is None:
            raise InferError("a proxy screens the refinement's search: give --refine with --proxy")
        from asp.models.proxy_training import check_proxies

        try:
            check_proxies(self.options.proxies, synths)
        except ValueError as err:
            raise InferError(str(err)) from None

    def _neighbour_index(self, checkpoint: Path) -> Any:
        """The latent index of the model's training presets for ``options.neighbours`` (None without); fails now,
        not per file, when the run's dataset cannot be found."""
        if self.options.neighbours <= 0:
            return None
        if self.options.refine is None:
            raise InferError("neighbour starts are the refinement's: give --refine with --neighbours")
        from asp.eval.pipeline import dataset_of
        from asp.models.neighbours import LatentIndex

        try:
            return LatentIndex.cached(self.predictor, dataset_of(checkpoint))
        except (FileNotFoundError, ValueError) as err:
            raise InferError(f"--neighbours needs the dataset the model was trained on: {err}") from None

    def model_note(self, pitch: Pitch) -> int:
        """The note the model's preset is played at: ``--note``, else the sound's pitch moved by octaves into the
        notes the model was trained on (``asp.features.pitch.note_in``)."""
        if self.options.note is not None:
            return self.options.note
        return note_in(pitch.midi, self.render.notes)

    # ------------------------------------------------------------------ one file
    def _file(
        self,
        rel: str,
        loaded: LoadedAudio,
        native: dict[str, np.ndarray],
        folder: Path,
        pitch: Pitch | None = None,
        refined: dict[str, SynthResult] | None = None,
    ) -> list[dict]:
        """Presets, renders and metrics of one file, written into ``folder`` atomically; its report rows.
        ``refined``: the search's result per synth (its preset, note and renders replace the one-shot ones, which
        are kept as ``<synth>.oneshot.json``/``.wav``)."""
        t = time.perf_counter()
        sr = self.render.sample_rate
        pitch = pitch or estimate_pitch(loaded.audio, sr)
        note = self.model_note(pitch)
        target = spectra(loaded.audio)
        t = self.timings.add("pitch and input features", t)
        base = {
            "file": rel,
            "status": "ok",
            "error": None,
            "note": note,
            "pitch_hz": None if math.isnan(pitch.hz) else round(pitch.hz, 2),
            "source_rate": loaded.source_rate,
            "band_hz": None if loaded.band_hz is None else round(loaded.band_hz),
            "channels": loaded.channels,
            "seconds": round(loaded.seconds, 3),
            "input_notes": "; ".join(loaded.notes),
        }
        stem = Path(rel).stem
        rows: list[dict[str, Any]] = []
        rendered: dict[str, np.ndarray] = {}
        with atomic.atomic_dir(folder) as tmp:
            if self.options.write_audio:
                write_wav(tmp / "input.wav", loaded.audio, sr)
            for synth in self.synths:
                schema = registry.load_schema(synth)
                res = (refined or {}).get(synth)
                v = native[synth] if res is None else res.vector
                at = note if res is None else res.note
                write_json_preset(tmp / f"{synth}.json", schema, v, stem, note=at)
                files = write_native(tmp / synth, registry.get(synth).native, schema, v, stem)
                row = {
                    **base,
                    "synth": synth,
                    "note": at,
                    "preset": self._rel(folder / f"{synth}.json"),
                    "native": ";".join(self._rel(folder / p.name) for p in files) or None,
                }
                if res is not None:
                    write_json_preset(
                        tmp / f"{synth}.oneshot.json", schema, res.oneshot_vector, stem, note=res.oneshot_note
                    )
                    row.update(self._refine_columns(tmp, folder, synth, res, target, loaded.band_hz))
                t = self.timings.add("presets", t)
                try:
                    if res is not None and res.audio is None:
                        raise RuntimeError("the refined preset did not render at full quality")
                    audio = res.audio if res is not None else get_renderer(synth, self.render).render(v, at)
                    assert audio is not None
                except Exception as err:  # no plugin here, or the plugin failed on this preset
                    rows.append({**row, "status": "not rendered", "error": f"{synth}: {err}"})
                    continue
                t = self.timings.add("rendering", t)
                if self.options.write_audio:
                    write_wav(tmp / f"{synth}.wav", audio, sr)
                    row["audio"] = self._rel(folder / f"{synth}.wav")
                row.update(_metrics(audio, target, loaded.band_hz, sr))
                t = self.timings.add("metrics", t)
                rows.append(row)
                rendered[synth] = audio
            best = _best_synth(rows)
            for r in rows:
                r["best_synth"], r["best"] = best, r["synth"] == best
            if self.effects is not None and best is not None:
                row = next(r for r in rows if r["synth"] == best)
                try:
                    found = (refined or {}).get(best)
                    patch = (native[best] if found is None else found.vector, int(row["note"] or 0))
                    row.update(self._effect_steps(tmp, folder, best, rendered[best], loaded.audio, patch, stem))
                except Exception as err:  # the patch stays; the report says why the effect stage did not run
                    row["error"] = f"effect stage: {err}"
                t = self.timings.add("effect stage", t)
            (tmp / RESULT).write_text(json.dumps({"fingerprint": self.fingerprint, "rows": rows}, indent=1))
        self.timings.add("writing", t)
        return rows

    def _refine_columns(
        self, tmp: Path, folder: Path, synth: str, res: SynthResult, target: Any, band_hz: float | None
    ) -> dict:
        """The report's refinement columns of one synth (and its one-shot render as ``<synth>.oneshot.wav``)."""
        out: dict[str, Any] = {
            "objective": res.score,
            "oneshot_objective": res.oneshot_score,
            "oneshot_note": res.oneshot_note,
            "start": res.label,
            "renders": res.renders,
            "search_seconds": round(res.seconds, 3),
        }
        if res.oneshot_audio is not None:
            one = _metrics(res.oneshot_audio, target, band_hz, self.render.sample_rate)
            out.update({f"oneshot_{m}": one[m] for m in ("lsd", "band_lsd", "audible_lsd", "mssmae")})
            if self.options.write_audio:
                write_wav(tmp / f"{synth}.oneshot.wav", res.oneshot_audio, self.render.sample_rate)
                out["oneshot_audio"] = self._rel(folder / f"{synth}.oneshot.wav")
        return out

    def _search_task(
        self,
        loaded: LoadedAudio,
        pitch: Pitch,
        native: dict[str, np.ndarray],
        draws: dict[str, np.ndarray],
        priors: dict[str, list[np.ndarray]],
        near: dict[str, np.ndarray] | None = None,
    ) -> dict[str, Any]:
        """One file's search job (``asp.search.refine.refine_job``): per synth the one-shot preset at the pitch
        rule's note first, then at the sound's own note, then the model's posterior draws at both, then the nearest
        training presets (``near``) at the sound's own note (the pitch rule's with ``own_note`` off or ``note``)."""
        from asp.search import Candidate

        fixed = self.options.note
        model_note = self.model_note(pitch)
        notes = [model_note]
        if fixed is None and self.options.own_note:
            notes = list(dict.fromkeys([model_note, own_note(pitch.midi)]))
        starts = {}
        for s in self.synths:
            c = [Candidate(native[s], n, "oneshot" if n == model_note else "oneshot at its own note") for n in notes]
            c += [Candidate(v, n, f"draw {j + 1}") for j, v in enumerate(draws.get(s, ())) for n in notes]
            c += [Candidate(v, notes[-1], f"neighbour {j + 1}") for j, v in enumerate((near or {}).get(s, ()))]
            starts[s] = c
        return {
            "target": loaded.audio,
            "starts": starts,
            "options": self.options.refine,
            "settings": self.render,
            "priors": priors,
            "proxies": {s: str(f) for s, f in (self.options.proxies or {}).items()},
            "screen_factor": self.options.proxy_factor,
            "band_hz": loaded.band_hz,
        }

    def _effect_steps(
        self,
        tmp: Path,
        folder: Path,
        synth: str,
        dry: np.ndarray,
        target: np.ndarray,
        patch: tuple[np.ndarray, int],
        name: str,
    ) -> dict:
        """The effect stage from the synth's rendered patch toward the input: ``effects.json`` (every step) and
        ``<synth>+effects.wav``; the report's effect columns. A Vital patch, with models trained on Vital's own
        effects, plays them on its own rack (its five effects off to start, then the chosen ones set on it; the
        patch with them is ``vital+effects.vital``); every other sound goes through the built-in Faust rack."""
        from asp.effects.loop import EffectLoop
        from asp.effects.steps import backend_of
        from asp.effects.systems import build
        from asp.features.effect import EffectFeatures
        from asp.synths import effect_specs as specs

        assert self.effects is not None
        rack: Any = self.rack
        if synth == "vital" and self.effects.backend == "vital":
            from asp.render.vital_rack import VitalPatchRack

            rack = VitalPatchRack(patch[0], patch[1], self.render)
            dry = rack.dry()
        policy, params = build("serumrnn", self.effects)
        res = EffectLoop(
            rack,
            policy,
            params,
            patience=self.options.effects_patience,
            features=EffectFeatures(sample_rate=self.render.sample_rate),
            search_classes=self.options.effects_search_classes,
        ).run(dry, target)
        backend = backend_of(rack)
        doc = {"synth": synth, "system": "SerumRNN", "backend": backend, **res.as_json()}
        (tmp / "effects.json").write_text(json.dumps(doc, indent=1))
        out = {
            "effects": "; ".join(specs.get(e).describe(v) for e, v in res.chain.items()) or "none",
            "effects_steps": sum(s.kept for s in res.steps),
            "mssmae_effects": res.final["mssmae"],
        }
        if self.options.write_audio:
            write_wav(tmp / f"{synth}+effects.wav", res.audio, self.render.sample_rate)
            out["effects_audio"] = self._rel(folder / f"{synth}+effects.wav")
        if backend == "vital":
            rack.write_preset(tmp / f"{synth}+effects.vital", res.chain, name)
        return out

    def _rel(self, path: Path) -> str:
        return str(path.relative_to(self.out))

    # ------------------------------------------------------------------ the folder
    def run(self, audio_dir: str | Path, progress: bool = True) -> pd.DataFrame:
        """Infer every file under ``audio_dir`` (a folder, or one file); write and return the report table."""
        from tqdm import tqdm

        src = Path(audio_dir)
        if src.is_file():
            root, files = src.parent, [src]
        elif src.is_dir():
            root, files = src, discover(src, exclude=self.out)
        else:
            raise InferError(f"{src}: no such file or folder")
        for parent in {p.parent for p in self.out.rglob(".tmp-*")}:
            atomic.clean_partial(parent)  # a killed run's half-written folders
        rows: list[dict[str, Any]] = []
        todo = []
        for f in files:
            done = _finished(self.out / f.relative_to(root), self.fingerprint)
            if done is None:
                todo.append(f)
            else:
                rows.extend(done)
        n_rendered = len(files) - len(todo)
        bar = tqdm(
            total=len(files),
            initial=n_rendered,
            desc=f"infer ({n_rendered} already done)",
            unit="file",
            disable=not progress,
        )
        searches: list[SearchJob] = []
        for chunk in _batches(todo, self.options.batch_size):
            t = time.perf_counter()
            loaded: dict[Path, LoadedAudio] = {}
            for f in chunk:
                try:
                    loaded[f] = load_audio(f, self.render.sample_rate, self.render.n_samples)
                except (AudioError, OSError) as err:
                    rows.append(_error_row(str(f.relative_to(root)), err))
                    bar.update()
            t = self.timings.add("loading audio", t)
            if not loaded:
                continue
            mels = self.predictor.mels(np.stack([la.audio for la in loaded.values()]))
            t = self.timings.add("input mel", t)
            if self.options.refine is not None:  # the searches of several chunks on one pool of workers
                searches.extend(self._search_jobs(root, loaded, mels))
                if len(searches) >= POOL_FILES:
                    self._run_searches(searches, rows, bar)
                    searches = []
                continue
            preds = self.predictor.predict(mels, self.synths)
            self.timings.add("model", t)
            for i, (f, la) in enumerate(loaded.items()):
                rel = str(f.relative_to(root))
                try:
                    rows.extend(self._file(rel, la, {s: preds[s][i] for s in self.synths}, self.out / rel))
                except Exception as err:  # e.g. the disk filled up: this file is reported, the others go on
                    rows.append(_error_row(rel, err))
                bar.update()
        if searches:
            self._run_searches(searches, rows, bar)
        bar.close()
        table = self.write_report(rows)
        if self.options.write_audio:
            from asp.eval.listen import write_listening_report

            write_listening_report(self.out, table)
        return table

    def _search_jobs(self, root: Path, loaded: dict[Path, LoadedAudio], mels: np.ndarray) -> list[SearchJob]:
        """The model's candidates for a chunk of files: per file (name, audio, one-shot presets, pitch, search
        job)."""
        import torch

        t = time.perf_counter()
        scores = self.predictor.scores(mels, self.synths)
        preds = {s: self.predictor.decode(sc, s) for s, sc in scores.items()}
        probs = {s: self.predictor.class_probs(sc, s) for s, sc in scores.items()}
        draws: dict[str, np.ndarray] = {}
        if self.options.samples > 0:
            torch.manual_seed(self.options.refine.seed if self.options.refine else 0)
            draws = self.predictor.predict(mels, self.synths, samples=self.options.samples)
        near: dict[str, np.ndarray] = {}
        if self.index is not None:
            k = self.options.neighbours
            near = {
                s: np.stack([self.index.nearest(s, mu, k) for mu in self.predictor.latent(mels, s)])
                for s in self.synths
            }
        t = self.timings.add("model", t)
        jobs = []
        for i, (f, la) in enumerate(loaded.items()):
            pitch = estimate_pitch(la.audio, self.render.sample_rate)
            native = {s: preds[s][i] for s in self.synths}
            task = self._search_task(
                la,
                pitch,
                native,
                {s: d[:, i] for s, d in draws.items()},
                {s: [p[i] for p in probs[s]] for s in self.synths},
                {s: n[i] for s, n in near.items()},
            )
            jobs.append((str(f.relative_to(root)), la, native, pitch, task))
        self.timings.add("pitch and input features", t)
        return jobs

    def _run_searches(
        self,
        jobs: list[SearchJob],
        rows: list[dict[str, Any]],
        bar: Any,
    ) -> None:
        """The search jobs of one or more chunks on one pool of ``options.workers`` processes (``asp.jobs``): the
        workers start once for them all, and a worker is idle only at the end; each file is written as its search
        ends."""
        from asp.jobs import run_pool
        from asp.search.refine import refine_job

        for key, entry in enumerate(jobs):  # a task's key: its place among these jobs, whatever chunk it came from
            entry[4]["key"] = key

        def done(task: dict[str, Any], result: Any) -> None:
            rel, la, native, pitch, _ = jobs[task["key"]]
            self.timings.seconds["search (summed over workers)"] += sum(r.seconds for r in result.values())
            try:
                rows.extend(self._file(rel, la, native, self.out / rel, pitch, result))
            except Exception as err:  # e.g. the disk filled up: this file is reported, the others go on
                rows.append(_error_row(rel, err))
            bar.update()

        def failed(task: dict[str, Any], message: str) -> None:
            rows.append(_error_row(jobs[task["key"]][0], RuntimeError(f"search failed: {message.splitlines()[0]}")))
            bar.update()

        def crashed(crash: Any) -> None:
            failed(crash.task, f"the search's worker died ({crash.how})")

        t = time.perf_counter()
        job = refine_job
        if self.options.proxies:
            from asp.models.proxy_training import proxy_refine_job as job
        run_pool(
            [j[4] for j in jobs],
            job,
            self.options.workers,
            on_result=done,
            on_error=failed,
            on_crash=crashed,
            fresh=lambda task: registry.needs_fresh_process(task["starts"]),  # amsynth's noise: any order, same search
        )
        self.timings.add("search and writing (wall)", t)

    def write_report(self, rows: list[dict[str, Any]]) -> pd.DataFrame:
        table = pd.DataFrame(rows).reindex(columns=list(COLUMNS)).sort_values(["file", "synth"], na_position="first")
        table = table.reset_index(drop=True)
        atomic.atomic_write_bytes(self.out / "report.csv", table.to_csv(index=False).encode())
        atomic.atomic_write_bytes(
            self.out / "report.parquet", table.astype({"best": "boolean"}).to_parquet(index=False)
        )
        return table


def infer(
    audio_dir: str | Path,
    checkpoint: str | Path,
    out: str | Path,
    options: InferOptions | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """``asp infer``: see :class:`BatchInference`."""
    return BatchInference(checkpoint, out, options).run(audio_dir, progress=progress)
