"""Dataset throughput against raw DawDreamer rendering, worker scaling, and what HPSS costs.

For each synth, in one run:
  raw naive   a bare DawDreamer loop in this process (one processor reused, no reset: leaks history)
  raw asp     asp's Renderer in this process (history-independent: amsynth gets a new instance per render)
  dataset w1  `asp dataset generate` with 1 worker: render + features + write (clips/s, steady state and end to end)
  dataset w2  the same with 2 workers
  hpss        exact (librosa, n_fft 2048) and fast (n_fft 1024, hop 1024) cost per preset and per clip, and how often
              their timbre groups agree

Usage: python scripts/bench_dataset.py [--synths subtractive,vapoly,wavetable,amsynth,dexed,vital] [--seconds 12]
(vital last: its raw loop loads the binding into this process, where a later Faust compile can abort it)
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import dawdreamer as daw
import numpy as np

import asp.render  # noqa: F401  (DawDreamer first)
from asp.data.generate import GenerateConfig, generate, plan_presets
from asp.data.layout import read_card
from asp.features.hpss import harmonic_share, timbre_group
from asp.render import RenderSettings, make_renderer
from asp.render.base import to_mono
from asp.synths import registry

NOTES = tuple(range(60, 72))


def naive_rate(synth: str, vectors: np.ndarray, settings: RenderSettings) -> float:
    """Clips/s of a bare DawDreamer loop (the raw render rate)."""
    entry = registry.get(synth)
    schema = registry.load_schema(synth)
    if synth == "dexed":  # the binding's own loop: voice bytes in, audio out
        from asp.render.dexed_backend import DexedRenderer

        r = DexedRenderer(schema, settings)
        t0 = time.perf_counter()
        for v in vectors:
            patch = r._dexed.Patch.from_sysex(r.voice(v) + b"\x3f")
            for note in NOTES:
                r.synth.load_patch(patch)
                r.synth.render(note, 127, settings.note_seconds, settings.render_seconds)
        return len(vectors) * len(NOTES) / (time.perf_counter() - t0)
    if synth == "vital":  # the binding in this process, one engine reused (leaks the last note's tail)
        from asp.synths import vital

        engine = vital.new_synth(settings.sample_rate)
        t0 = time.perf_counter()
        for v in vectors:
            vital.apply_natural(engine, schema.to_natural(v))
            for note in NOTES:
                engine.render(note, 1.0, settings.note_seconds, settings.render_seconds)
        return len(vectors) * len(NOTES) / (time.perf_counter() - t0)
    engine = daw.RenderEngine(settings.sample_rate, settings.block_size)
    if entry.backend == "faust":
        from asp.render.faust_backend import faust_code, voice_values

        proc = engine.make_faust_processor("bench")
        proc.set_dsp_string(faust_code(registry.faust_source(synth)))
        proc.compile()
        paths = {d["name"].rsplit("/", 1)[-1]: d["name"] for d in proc.get_parameters_description()}

        def set_params(v: np.ndarray) -> None:
            for p, x in zip(schema.params, v):
                proc.set_parameter(paths[p.name], float(p.to_natural(x)))

        def play(note: int) -> None:  # the voice controls, as asp's renderer plays a note
            for label, value in voice_values(note, settings).items():
                proc.set_parameter(paths[label], value)
    else:
        proc = engine.make_plugin_processor("bench", str(registry.plugin_path(synth)))

        def set_params(v: np.ndarray) -> None:
            for p, x in zip(schema.params, v):
                proc.set_parameter(p.index, float(x))

        def play(note: int) -> None:
            proc.clear_midi()
            proc.add_midi_note(note, 127, 0.0, settings.note_seconds)

    engine.load_graph([(proc, [])])
    t0 = time.perf_counter()
    n = 0
    for v in vectors:
        for note in NOTES:
            set_params(v)
            play(note)
            engine.render(settings.render_seconds)
            to_mono(proc.get_audio(), settings.n_samples)
            n += 1
    return n / (time.perf_counter() - t0)


def asp_rate(synth: str, vectors: np.ndarray, settings: RenderSettings) -> tuple[float, np.ndarray]:
    r = make_renderer(synth, settings)
    t0 = time.perf_counter()
    clips = [r.render_notes(v, NOTES) for v in vectors]
    return len(vectors) * len(NOTES) / (time.perf_counter() - t0), np.stack([c[0] for c in clips])


def dataset_rate(synth: str, presets: int, workers: int, hpss: str, root: Path) -> dict:
    out = root / f"{synth}-w{workers}-{hpss}"
    cfg = GenerateConfig(
        out=out,
        synths=(synth,),
        presets_per_synth=presets,
        seed=0,
        workers=workers,
        shard_size=4,
        hpss=hpss,
        self_distance_presets=0,
    )
    t0 = time.perf_counter()
    generate(cfg, progress=False, log=lambda m: None)
    wall = time.perf_counter() - t0
    tp = read_card(out)["throughput"]
    clips = presets * len(NOTES)
    split = {k: 1000 * v / clips for k, v in tp["worker_seconds"].items()}
    return {"end_to_end": clips / wall, "steady": tp["steady_clips_per_second"], "worker_ms_per_clip": split}


def hpss_costs(c4: np.ndarray) -> dict:
    for fast in (False, True):
        harmonic_share(c4[0], fast=fast)  # warm
    out = {}
    shares = {}
    for fast in (False, True):
        t0 = time.perf_counter()
        shares[fast] = np.array([harmonic_share(x, fast=fast) for x in c4])
        out["fast" if fast else "exact"] = (time.perf_counter() - t0) / len(c4)
    out["group_agreement"] = float(np.mean(timbre_group(shares[True]) == timbre_group(shares[False])))
    out["share_abs_diff_mean"] = float(np.mean(np.abs(shares[True] - shares[False])))
    out["n"] = len(c4)
    return out


def features_breakdown(clips: np.ndarray, out: Path) -> dict:
    """Per-clip cost of each feature step on one preset's 12 notes (ms per clip)."""
    from asp.features.mel import MelSettings, mel_db
    from asp.features.spectral import rms, stft_power

    power = stft_power(clips)
    mel_db(None, power=power)
    harmonic_share(None, power=power[0])
    steps = {
        "stft": lambda: stft_power(clips),
        "mel_db": lambda: mel_db(None, MelSettings(), power=power),
        "hpss_exact_at_c4": lambda: harmonic_share(None, power=power[0]),
        "rms": lambda: rms(clips),
        "write_f16": lambda: np.save(out / "mels.npy", mel_db(None, power=power).astype(np.float16)),
    }
    res = {}
    for name, fn in steps.items():
        t0 = time.perf_counter()
        for _ in range(3):
            fn()
        res[name] = 1000 * (time.perf_counter() - t0) / 3 / len(clips)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--synths", default="subtractive,vapoly,wavetable,amsynth")
    ap.add_argument("--seconds", type=float, default=12.0, help="target raw render time per synth")
    ap.add_argument("--hpss", default="exact", choices=("exact", "fast"), help="HPSS mode of the dataset runs")
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args()
    settings = RenderSettings()
    results = {}
    print(
        f"machine: {platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores, "
        f"python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for synth in args.synths.split(","):
            if not registry.render_status(synth)[0]:
                print(f"{synth}: cannot render here, skipped")
                continue
            probe_rate, _ = asp_rate(
                synth,
                plan_presets(GenerateConfig(out=Path(tmp), synths=(synth,), presets_per_synth=1), synth)[1],
                settings,
            )
            presets = max(8, int(args.seconds * probe_rate / len(NOTES)))
            _, vectors = plan_presets(GenerateConfig(out=Path(tmp), synths=(synth,), presets_per_synth=presets), synth)
            naive = naive_rate(synth, vectors, settings)
            ours, c4 = asp_rate(synth, vectors, settings)
            hp = hpss_costs(c4)
            w1 = dataset_rate(synth, presets, 1, args.hpss, Path(tmp))
            w2 = dataset_rate(synth, presets, 2, args.hpss, Path(tmp))
            pipeline_render = 1000 / w1["worker_ms_per_clip"]["render"]  # clips/s of the 1-worker run's render stage
            res = {
                "presets": presets,
                "clips": presets * len(NOTES),
                "raw_naive_clips_s": naive,
                "raw_asp_clips_s": ours,
                "w1": w1,
                "w2": w2,
                "overhead_w1_vs_raw_asp": ours / w1["steady"] - 1,
                "overhead_w1_vs_raw_naive": naive / w1["steady"] - 1,
                "overhead_w1_end_to_end_vs_raw_asp": ours / w1["end_to_end"] - 1,
                "speedup_w2_over_w1": w2["steady"] / w1["steady"],
                "speedup_w2_over_raw_asp": w2["steady"] / ours,
                "speedup_w2_end_to_end_over_w1": w2["end_to_end"] / w1["end_to_end"],
                "render_s_per_clip": 1 / ours,
                "pipeline_render_clips_s": pipeline_render,
                "pipeline_render_vs_raw_naive": pipeline_render / naive,
                "hpss": hp,
                "hpss_exact_per_clip_over_render": hp["exact"] / len(NOTES) * ours,
                "hpss_fast_per_clip_over_render": hp["fast"] / len(NOTES) * ours,
            }
            results[synth] = res
            print(f"\n{synth}: {presets} presets x {len(NOTES)} notes")
            print(
                f"  raw DawDreamer loop      {naive:7.2f} clips/s   asp renderer {ours:7.2f} clips/s "
                f"({1000 / ours:.1f} ms/clip)"
            )
            print(
                f"  dataset, 1 worker        {w1['steady']:7.2f} clips/s steady ({w1['end_to_end']:.2f} end to end)"
                f"  overhead vs asp renderer {100 * res['overhead_w1_vs_raw_asp']:+.1f} % "
                f"(vs bare loop {100 * res['overhead_w1_vs_raw_naive']:+.1f} %)"
            )
            print(
                "  inside the 1-worker run, ms per clip (features include the worker's one-time librosa warm-up): "
                + ", ".join(f"{k} {v:.1f}" for k, v in w1["worker_ms_per_clip"].items())
            )
            print(
                f"  render stage in the 1-worker pipeline {res['pipeline_render_clips_s']:7.2f} clips/s: "
                f"{res['pipeline_render_vs_raw_naive']:.2f}x the raw loop; end to end (steady) "
                f"{w1['steady'] / naive:.2f}x"
            )
            print(
                f"  dataset, 2 workers       {w2['steady']:7.2f} clips/s steady ({w2['end_to_end']:.2f} end to end)"
                f"  x{res['speedup_w2_over_w1']:.2f} over 1 worker (x{res['speedup_w2_over_raw_asp']:.2f} over "
                f"the raw renderer)"
            )
            print(
                f"  HPSS per preset: exact {1000 * hp['exact']:.0f} ms, fast {1000 * hp['fast']:.0f} ms; per clip "
                f"{100 * res['hpss_exact_per_clip_over_render']:.0f} % / "
                f"{100 * res['hpss_fast_per_clip_over_render']:.0f} %"
                f" of a render; fast groups agree with exact on {100 * hp['group_agreement']:.1f} % of "
                f"{hp['n']} presets"
            )
        if results:
            first = next(iter(results))
            _, vectors = plan_presets(GenerateConfig(out=Path(tmp), synths=(first,), presets_per_synth=1), first)
            clips = make_renderer(first, settings).render_notes(vectors[0], NOTES)
            fb = features_breakdown(clips, Path(tmp))
            results["features_ms_per_clip"] = fb
            print(
                "\nfeature steps, ms per clip (12 notes of one preset; HPSS runs once per preset, at C4): "
                + ", ".join(f"{k} {v:.2f}" for k, v in fb.items())
            )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
