"""A tiny Faust synth registered for the search tests: small enough that a search can find a preset exactly."""

import pytest

from asp.render import clear_renderers
from asp.synths import registry
from asp.synths.registry import SynthEntry

DSP = """
declare options "[midi:on][nvoices:1]";
wave = nentry("wave[style:menu{'saw':0;'square':1;'sine':2}]", 0, 0, 2, 1);
octave = nentry("octave", 0, -1, 1, 1);
cutoff = hslider("cutoff[scale:log]", 1000, 100, 8000, 0.01);
level = hslider("level", 0.5, 0.05, 1, 0.001);
decay = hslider("decay[scale:log]", 0.3, 0.02, 2, 0.001);
f = freq * pow(2, octave);
osc = (os.sawtooth(f), os.square(f), os.osc(f)) : ba.selectn(3, int(wave));
env = en.adsr(0.005, decay, 0.3, 0.1, gate);
process = osc : fi.lowpass(2, cutoff) : *(env * gain * level) <: _, _;
"""

SCHEMA = """name: {name}
description: a tiny test synth
params:
- {{name: wave, index: 0, kind: categorical, low: 0, high: 2, default: 0, n_classes: 3, labels: [saw, square, sine]}}
- {{name: octave, index: 1, kind: categorical, low: -1, high: 1, default: 0, n_classes: 3}}
{continuous}"""

CONTINUOUS = """- {name: cutoff, index: 2, kind: continuous, low: 100, high: 8000, default: 1000, scale: log}
- {name: level, index: 3, kind: continuous, low: 0.05, high: 1, default: 0.5}
- {name: decay, index: 4, kind: continuous, low: 0.02, high: 2, default: 0.3, scale: log}
"""


def _register(tmp, name, dsp, continuous):
    (tmp / f"{name}.dsp").write_text(dsp)
    (tmp / f"{name}.yaml").write_text(SCHEMA.format(name=name, continuous=continuous))
    registry.register(SynthEntry(name, str(tmp / f"{name}.yaml"), "faust", str(tmp / f"{name}.dsp")), replace=True)


@pytest.fixture(scope="module")
def tiny_synths(tmp_path_factory):
    """Registers ``tiny`` (2 categorical + 3 continuous parameters) and ``tinycat`` (the 2 categorical ones only)
    for one test module; other modules never see them (``builtin_names`` would list them)."""
    tmp = tmp_path_factory.mktemp("tinysynth")
    _register(tmp, "tiny", DSP, CONTINUOUS)
    fixed = DSP.replace('cutoff = hslider("cutoff[scale:log]", 1000, 100, 8000, 0.01);', "cutoff = 1500;")
    fixed = fixed.replace('level = hslider("level", 0.5, 0.05, 1, 0.001);', "level = 0.5;")
    fixed = fixed.replace('decay = hslider("decay[scale:log]", 0.3, 0.02, 2, 0.001);', "decay = 0.3;")
    _register(tmp, "tinycat", fixed, "")
    yield ("tiny", "tinycat")
    for n in ("tiny", "tinycat"):
        registry.unregister(n)
    clear_renderers()
