"""The built-in Faust synths: shipped schemas agree with their DSP."""

import numpy as np
import pytest

from asp.render import RenderSettings, get_renderer
from asp.render.draft import draft_from_faust
from asp.synths import load_schema, registry

FAUST = registry.builtin_names()


@pytest.mark.parametrize("name", FAUST)
def test_shipped_schema_is_the_dsp_draft(name):
    drafted = draft_from_faust(registry.faust_source(name))
    assert drafted.as_dict()["params"] == load_schema(name).as_dict()["params"]


@pytest.mark.parametrize("name", FAUST)
def test_schema_ranges_match_the_compiled_controls(name):
    r = get_renderer(name, RenderSettings(note_seconds=0.5, render_seconds=0.5))
    controls = r.controls()
    schema = load_schema(name)
    assert set(controls) == set(schema.names)
    for p in schema.params:
        c = controls[p.name]
        assert c["min"] == pytest.approx(min(p.low, p.high), rel=1e-6), p.name
        assert c["max"] == pytest.approx(max(p.low, p.high), rel=1e-6), p.name
        if p.discrete:
            assert c["step"] == 1 and c["numSteps"] == p.n_classes, p.name


def test_log_scaled_control_receives_natural_values():
    r = get_renderer("subtractive", RenderSettings(note_seconds=0.5, render_seconds=0.5))
    s = r.schema
    v = s.default_vector()
    v[s.position["cutoff"]] = 0.5
    r.render(v, 60)
    path = r.paths[s.position["cutoff"]]
    assert r.proc.get_parameter(path) == pytest.approx(s["cutoff"].to_natural(0.5), rel=1e-4)


def test_gate_is_held_for_note_seconds_to_the_sample(tmp_path):
    from asp.render.faust_backend import FaustRenderer
    from asp.synths.schema import schema_from_records

    dsp = tmp_path / "gate.dsp"
    dsp.write_text('level = hslider("level", 1, 0.5, 1, 0.01);\nprocess = gate*gain*level;\n')
    schema = schema_from_records("gate", [{"name": "level", "low": 0.5, "high": 1.0, "default": 1.0}])
    settings = RenderSettings(sample_rate=8000, note_seconds=0.25, render_seconds=0.5, velocity=127)
    audio = FaustRenderer(schema, settings, dsp).render(schema.default_vector(), 60)
    assert audio[:2000].min() == audio[:2000].max() == pytest.approx(1.0)  # the key held 0.25 s at 8 kHz
    assert not audio[2000:].any()


def test_release_tail_follows_the_envelope():
    """The key is released at 0.5 s and the amp envelope releases over 1 s: the tail keeps sounding (DawDreamer's MIDI
    wrapper, no longer used, stopped the voice at its first quiet sample, a few milliseconds after the release)."""
    r = get_renderer("subtractive", RenderSettings(note_seconds=0.5, render_seconds=1.5))
    s = r.schema
    v = s.default_vector()
    for name, value in (("amp_release", 1.0), ("amp_sustain", 0.8), ("lfo_depth", 0.0)):
        v[s.position[name]] = s[name].to_normalised(value)
    audio = r.render(v, 60)
    sr = r.settings.sample_rate

    def rms(a: float, b: float) -> float:
        return float(np.sqrt(np.mean(audio[int(a * sr) : int(b * sr)] ** 2)))

    held, tail, late = rms(0.3, 0.5), rms(0.6, 0.7), rms(0.9, 1.0)
    assert 0.3 * held < tail < held
    assert 0.0 < late < tail
