"""The built-in Faust synths: shipped schemas agree with their DSP."""

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
