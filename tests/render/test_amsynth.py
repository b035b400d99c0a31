"""amsynth hosted by DawDreamer: its bank mapping checked by rendering, and the schema draft."""

import numpy as np
import pytest

from asp.metrics import lsd
from asp.render import RenderSettings
from asp.render.factory import make_renderer
from asp.render.quiet import quiet_fds
from asp.synths import load_schema
from asp.synths.amsynth_bank import write_fxp
from asp.synths.presets import read_presets

pytestmark = pytest.mark.plugin
SHORT = RenderSettings(note_seconds=1.0, render_seconds=1.5)


def test_bank_mapping_matches_the_plugin_by_rendering(tmp_path):
    """Load factory presets into amsynth through its own file format (.fxp chunk, parsed by the plugin) and through
    asp's raw -> normalised mapping: same parameters, same audio."""
    schema = load_schema("amsynth")
    presets = read_presets("/usr/share/amsynth/banks/BriansBank01.amSynth.bank", schema)[:6]
    r = make_renderer("amsynth", SHORT)
    checked = 0
    for i, p in enumerate(presets):
        path = tmp_path / f"{i}.fxp"
        write_fxp(path, schema, p.vector, p.name)
        ours = r.render(p.vector, 60)
        r.proc = r._new_instance()
        with quiet_fds():
            assert r.proc.load_preset(str(path))
        loaded = np.array([r.proc.get_parameter(q.index) for q in schema.params])
        np.testing.assert_allclose(loaded, p.vector, atol=2e-4, err_msg=p.name)
        r.proc.clear_midi()
        r.proc.add_midi_note(60, SHORT.velocity, 0.0, SHORT.note_seconds)
        r.engine.render(SHORT.render_seconds)
        theirs = r.proc.get_audio().mean(axis=0)[: SHORT.n_samples]
        noisy = {
            schema["osc1_waveform"].labels[schema["osc1_waveform"].class_of(p.vector[4])],
            schema["osc2_waveform"].labels[schema["osc2_waveform"].class_of(p.vector[13])],
        } & {"noise", "random"}
        if not noisy:
            assert lsd(ours, theirs) < 0.5, p.name
            checked += 1
    assert checked >= 3


def test_draft_from_the_installed_plugin():
    from asp.render.draft import draft_from_plugin

    d = draft_from_plugin("/usr/lib/vst/amsynth_vst.so", "amsynth_draft", sweep=33)
    assert d.n_params == 41
    assert d["osc1_waveform"].kind == "categorical" and d["osc1_waveform"].n_classes == 5
    assert d["lfo_waveform"].n_classes == 7 and d["osc2_pitch"].n_classes == 25
    assert d["filter_cutoff"].kind == "continuous"
