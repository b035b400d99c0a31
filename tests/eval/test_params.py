"""The per-parameter analysis (asp analyze): error tables against the mean preset, and the sensitivity probe on
real Faust renders (a parameter the DSP ignores is found inaudible; ones it uses are found audible)."""

import numpy as np
import pandas as pd
import pytest

from asp.cli import main
from asp.eval.params import moved, parameter_errors, sensitivity, summarize
from asp.render import RenderSettings, clear_renderers
from asp.synths import load_schema, registry
from asp.synths.registry import SynthEntry

DSP = """
declare options "[midi:on][nvoices:1]";
cutoff = hslider("cutoff[scale:log]", 1000, 100, 8000, 0.01);
level = hslider("level", 0.5, 0.05, 1, 0.001);
unused = hslider("unused", 0.5, 0, 1, 0.001);
wave = nentry("wave[style:menu{'saw':0;'sine':1}]", 0, 0, 1, 1);
osc = (os.sawtooth(freq), os.osc(freq)) : ba.selectn(2, int(wave));
env = en.adsr(0.005, 0.2, 0.5, 0.1, gate);
process = osc : fi.lowpass(2, cutoff) : *(env * gain * level) : attach(_, unused) <: _, _;
"""

SCHEMA = """name: probe
description: a test synth with a parameter that does nothing
params:
- {name: cutoff, index: 0, kind: continuous, low: 100, high: 8000, default: 1000, scale: log}
- {name: level, index: 1, kind: continuous, low: 0.05, high: 1, default: 0.5}
- {name: unused, index: 2, kind: continuous, low: 0, high: 1, default: 0.5}
- {name: wave, index: 3, kind: categorical, low: 0, high: 1, default: 0, n_classes: 2, labels: [saw, sine]}
"""


@pytest.fixture(scope="module")
def probe_synth(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("probe")
    (tmp / "probe.dsp").write_text(DSP)
    (tmp / "probe.yaml").write_text(SCHEMA)
    registry.register(SynthEntry("probe", str(tmp / "probe.yaml"), "faust", str(tmp / "probe.dsp")), replace=True)
    yield "probe"
    registry.unregister("probe")
    clear_renderers()


def test_errors_against_the_mean_preset_hand_computed():
    schema = load_schema("subtractive")
    rng = np.random.default_rng(0)
    true = rng.random((6, schema.n_params))
    true = schema.decode(schema.encode(true))  # discrete values on their classes
    mean = true.mean(0)
    t = parameter_errors(schema, true, true, mean)
    assert (t.error == 0).all()  # a perfect model
    cont = [i for i, p in enumerate(schema.params) if not p.discrete]
    i = cont[0]
    off = true.copy()
    off[:, i] = np.clip(off[:, i] + 0.1, 0, 1)
    t = parameter_errors(schema, off, true, mean).set_index("param")
    name = schema.params[i].name
    assert t.loc[name, "error"] == pytest.approx(np.mean((off[:, i] - true[:, i]) ** 2))
    assert t.loc[name, "mean_error"] == pytest.approx(np.var(true[:, i]))
    assert t.loc[name, "ratio"] == pytest.approx(t.loc[name, "error"] / t.loc[name, "mean_error"])
    disc = next(p for p in schema.params if p.discrete)
    assert t.loc[disc.name, "metric"] == "class error" and t.loc[disc.name, "error"] == 0


def test_moves_stay_in_range_and_change_the_class():
    schema = load_schema("subtractive")
    v = schema.default_vector()
    for i, p in enumerate(schema.params):
        m = moved(schema, v, i, 0.1)
        assert 0 <= m[i] <= 1 and np.count_nonzero(m != v) == 1
        if p.discrete:
            assert p.class_of(m[i]) != p.class_of(v[i])
        else:
            assert abs(m[i] - v[i]) == pytest.approx(0.1)


def test_sensitivity_tells_an_unused_parameter_from_used_ones(probe_synth):
    settings = RenderSettings(note_seconds=0.3, render_seconds=0.5, notes=(48, 60, 72))
    s = sensitivity(probe_synth, settings, presets=4, step=0.2, workers=0).set_index("param")
    assert s.loc["unused", "sens_max_db"] == 0.0 and s.loc["unused", "audible_share"] == 0.0
    assert s.loc["level", "audible_share"] >= 0.5 and s.loc["wave", "audible_share"] == 1.0
    assert s.loc["cutoff", "sens_mean_db"] > 1.0
    table = (
        parameter_errors(load_schema(probe_synth), np.full((3, 4), 0.5), np.full((3, 4), 0.5), np.full(4, 0.5))
        .merge(s.reset_index(), on="param")
        .assign(synth=probe_synth)
    )
    summary = summarize(table)
    cont = summary[(summary.kind == "continuous")].set_index("params")
    assert cont.loc["identifiable", "n"] == 2 and cont.loc["not identifiable", "n"] == 1


def test_asp_analyze_writes_its_report(tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "analysis"
    assert main(["analyze", str(tiny_checkpoint), "--out", str(out), "--presets", "2", "--workers", "1"]) == 0
    assert "identifiable" in capsys.readouterr().out
    table = pd.read_csv(out / "params.csv")
    assert set(table.synth) == {"subtractive", "vapoly"}
    assert len(table) == load_schema("subtractive").n_params + load_schema("vapoly").n_params
    assert table.error.notna().all() and table.audible_share.between(0, 1).all()
    assert (out / "params.png").stat().st_size > 1000 and "Per-parameter analysis" in (out / "report.md").read_text()
