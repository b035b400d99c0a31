"""Write asp's ``vital`` schema (asp/synths/data/schemas/vital.yaml): Vital's control details (``asp synths draft
pip:vital``), cut to the parameters that shape a single-note patch, the way the multi-task ASP paper cut Serum.

Kept: three wavetable oscillators (on, level, transpose, tune, wavetable, wave frame, unison voices and detune,
spectral morph and oscillator distortion type and amount, routing), filter 1 (on, model, style, cutoff, resonance,
drive, blend, key tracking), envelopes 1-3, LFOs 1-2 (rate, in seconds), the amounts of the four fixed modulation
routings (asp.synths.vital.ROUTINGS), and Vital's effect rack (distortion, compressor, chorus, delay, reverb, phaser,
flanger, EQ: on, mix and the main controls of each). An oscillator's wavetable is asp's own ``osc_N_wavetable``
(Vital's init table or one of the built-in wavetable synth's 8, written into the patch's JSON; asp.synths.vital).

Left at Vital's init values: the sample oscillator (off: its noise draws from process-wide random state whatever
its phase setting, so a render would depend on what the process rendered before), Vital's factory wavetables (not
part of the binding), filter 2 and the FX filter, envelopes 4-6, LFOs 3-8 and their shapes, the other 60 modulation
slots, macros, voice settings (polyphony, portamento, legato, velocity tracking), stereo controls (asp renders
mono), oscillator phase (fixed, see asp.synths.vital) and tempo-synced rates (fixed to seconds: the clip has no
tempo).

Usage: python scripts/curate_vital_schema.py
"""

from __future__ import annotations

from pathlib import Path

from asp.render.draft import draft_from_pip
from asp.synths.schema import schema_from_records
from asp.synths.schema_io import dump_schema_yaml
from asp.synths.vital import TABLE_PARAMS, WAVETABLES

OUT = Path(__file__).resolve().parents[1] / "asp" / "synths" / "data" / "schemas" / "vital.yaml"
OSC = (
    "on",
    "level",
    "transpose",
    "tune",
    "wavetable",  # asp's own (asp.synths.vital.TABLE_PARAMS): not a Vital control
    "wave_frame",
    "unison_voices",
    "unison_detune",
    "spectral_morph_type",
    "spectral_morph_amount",
    "distortion_type",
    "distortion_amount",
    "destination",
)
ENV = ("attack", "decay", "sustain", "release")
KEEP = (
    [f"osc_{k}_{p}" for k in (1, 2, 3) for p in OSC]
    + [f"filter_1_{p}" for p in ("on", "model", "style", "cutoff", "resonance", "drive", "blend", "keytrack")]
    + [f"env_{k}_{p}" for k in (1, 2, 3) for p in ENV]
    + ["lfo_1_frequency", "lfo_2_frequency"]
    + [f"modulation_{k}_amount" for k in (1, 2, 3, 4)]
    + ["distortion_on", "distortion_type", "distortion_drive", "distortion_mix"]
    + ["compressor_on", "compressor_mix"]
    + ["chorus_on", "chorus_dry_wet", "chorus_frequency", "chorus_feedback"]
    + ["delay_on", "delay_dry_wet", "delay_feedback", "delay_frequency"]
    + ["reverb_on", "reverb_dry_wet", "reverb_decay_time", "reverb_size"]
    + ["phaser_on", "phaser_dry_wet", "phaser_feedback", "phaser_frequency", "phaser_center"]
    + ["flanger_on", "flanger_dry_wet", "flanger_feedback", "flanger_frequency"]
    + ["eq_on", "eq_low_gain", "eq_band_gain", "eq_high_gain"]
)
SYNC_OFF = {
    "lfo_1_frequency",
    "lfo_2_frequency",
    "chorus_frequency",
    "delay_frequency",
    "phaser_frequency",
    "flanger_frequency",
}


def main() -> None:
    full = draft_from_pip("vital")
    by_name = {p.name: p for p in full.params}
    missing = [n for n in KEEP if n not in by_name and n not in TABLE_PARAMS]
    if missing:
        raise SystemExit(f"not Vital controls: {missing}")
    records = []
    for i, name in enumerate(KEEP):
        if name in TABLE_PARAMS:
            rec = {
                "name": name,
                "kind": "categorical",
                "low": 0.0,
                "high": float(len(WAVETABLES) - 1),
                "default": 0.0,
                "n_classes": len(WAVETABLES),
                "group": "osc",
                "labels": list(WAVETABLES),
            }
        else:
            rec = by_name[name].as_dict()
        rec["index"] = i
        records.append(rec)
    schema = schema_from_records(
        "vital",
        records,
        description="Vital (pip install 'asp[vital]', GPL-3.0): 3 wavetable oscillators, sample, filter, envelopes, "
        "LFOs, 4 routings, its effect rack; natural values = Vital's control values",
    )
    header = (
        "# Written by scripts/curate_vital_schema.py from Vital's control details (asp synths draft pip:vital):\n"
        f"# {schema.n_params} of {full.n_params} controls; what was left at Vital's init values and why: that script.\n"
        "# Rates in seconds (their sync controls fixed, asp.synths.vital.FIXED): " + ", ".join(sorted(SYNC_OFF)) + ".\n"
    )
    OUT.write_text(header + dump_schema_yaml(schema))
    print(f"wrote {OUT}: {schema.n_params} parameters {schema.counts}, one-hot {schema.onehot_size}")


if __name__ == "__main__":
    main()
