"""The built-in Faust synths played two ways, time and sound side by side on the same random presets, interleaved:
through DawDreamer's polyphonic MIDI wrapper (one voice, two identical output channels: how asp played them until
2026-12-07) and through the prelude's voice controls (how asp plays them now).

Per synth: the best and median time of one render (of the chosen length), the largest sample difference while the
key is held (0 when the two agree there), and after the release the tail's RMS each way and the share of presets
whose wrapper clip falls silent for good (exact zeros to its end) where the controls' clip still has a sample over
-60 dBFS.

Usage: python scripts/bench_faust_voice.py [--synths subtractive,vapoly,wavetable] [--presets 16] [--seconds 5]
"""

from __future__ import annotations

import argparse
import time

import dawdreamer as daw
import numpy as np

from asp.render.faust_backend import faust_code, prelude, voice_values
from asp.render.settings import RenderSettings
from asp.synths import load_schema, registry
from asp.synths.sampling import sample_presets

# the prelude's voice as a MIDI host's: DawDreamer's wrapper sets freq, gain and gate
WRAPPER_VOICE = 'gate = button("gate");'


def wrapper_code(synth: str) -> str:
    """The synth's DSP with the MIDI host's gate in place of the sample counter (everything else as asp's)."""
    code = faust_code(registry.faust_source(synth))
    head, body = code[: len(prelude())], code[len(prelude()) :]
    lines = [line for line in head.splitlines() if not line.startswith(("note_samples =", "gate ="))]
    # and its two identical output channels, as the built-ins had until then
    body = body.rstrip().removesuffix(";") + " <: _, _;\n"
    return "\n".join(lines) + "\n" + WRAPPER_VOICE + "\n" + body


def processor(code: str, voices: int, settings: RenderSettings) -> tuple[daw.RenderEngine, object, dict[str, str]]:
    engine = daw.RenderEngine(settings.sample_rate, settings.block_size)
    proc = engine.make_faust_processor("bench")
    proc.num_voices = voices
    proc.set_dsp_string(code)
    if proc.compile() is False:
        raise RuntimeError("Faust compile failed")
    engine.load_graph([(proc, [])])
    return engine, proc, {d["name"].rsplit("/", 1)[-1]: d["name"] for d in proc.get_parameters_description()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--synths", default="subtractive,vapoly,wavetable")
    ap.add_argument("--presets", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=5.0, help="render length; the key is held for 60 %% of it")
    ap.add_argument("--note", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    settings = RenderSettings(render_seconds=args.seconds, note_seconds=0.6 * args.seconds)
    held = int(voice_values(args.note, settings)["note_samples"])
    n = settings.n_samples
    print(
        f"{args.presets} random presets per synth, {args.seconds:g} s renders, key held {held} samples, note "
        f"{args.note}; times in ms per render (best / median)"
    )
    print(
        "| synth | MIDI wrapper | voice controls | speed-up (medians) | largest difference while held | tail RMS, "
        "wrapper / controls | wrapper tails cut early |"
    )
    print("|---|---|---|---|---|---|---|")
    for synth in args.synths.split(","):
        schema = load_schema(synth)
        presets = sample_presets(schema, args.presets, np.random.default_rng(args.seed))
        wrap = processor(wrapper_code(synth), 1, settings)
        ctrl = processor(faust_code(registry.faust_source(synth)), 0, settings)
        times: dict[str, list[float]] = {"wrap": [], "ctrl": []}
        held_diff, tails, cut = 0.0, [], 0
        for k, v in enumerate(presets):
            natural = [float(p.to_natural(x)) for p, x in zip(schema.params, v)]
            for _, proc, paths in (wrap, ctrl):
                for p, x in zip(schema.params, natural):
                    proc.set_parameter(paths[p.name], x)
            for label, value in voice_values(args.note, settings).items():
                ctrl[1].set_parameter(ctrl[2][label], value)
            out = {}
            for rnd in range(2):  # the first render after compile is thrown away, as asp's renderer does
                order = ("wrap", "ctrl") if (k + rnd) % 2 == 0 else ("ctrl", "wrap")
                for way in order:
                    engine, proc, _ = wrap if way == "wrap" else ctrl
                    if way == "wrap":
                        proc.clear_midi()
                        proc.add_midi_note(args.note, settings.velocity, 0.0, settings.note_seconds)
                    t0 = time.perf_counter()
                    engine.render(settings.render_seconds)
                    dt = time.perf_counter() - t0
                    audio = np.asarray(proc.get_audio(), np.float32)
                    out[way] = (audio.mean(axis=0) if audio.ndim == 2 else audio)[:n]
                    if rnd == 1 and k > 0:
                        times[way].append(dt * 1000)
            a, b = out["wrap"], out["ctrl"]
            held_diff = max(held_diff, float(np.abs(a[:held] - b[:held]).max()))
            ta, tb = (float(np.sqrt(np.mean(x[held:] ** 2))) for x in (a, b))
            tails.append((ta, tb))
            # cut early: the wrapper's clip falls silent for good where the controls' still has a sample over -60 dBFS
            sounding = np.flatnonzero(a)
            end = int(sounding[-1]) + 1 if len(sounding) else 0
            cut += int(end < n and np.abs(b[end:]).max() > 1e-3)
        w, c = np.asarray(times["wrap"]), np.asarray(times["ctrl"])
        ta, tb = np.asarray(tails).T
        print(
            f"| {synth} | {w.min():.1f} / {np.median(w):.1f} | {c.min():.1f} / {np.median(c):.1f} | "
            f"{np.median(w) / np.median(c):.2f}x | {held_diff:.1e} | {np.median(ta):.2e} / {np.median(tb):.2e} "
            f"(median) | {cut} of {len(presets)} |"
        )


if __name__ == "__main__":
    main()
