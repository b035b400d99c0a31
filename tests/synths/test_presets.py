import json

import numpy as np
import pytest

from asp.synths import SchemaError, load_schema, sample_presets
from asp.synths.amsynth_bank import fxp_bytes, parse_bank, read_bank, write_bank
from asp.synths.presets import read_json_preset, read_presets, write_json_preset

FACTORY = "/usr/share/amsynth/banks"


def test_json_preset_round_trip(tmp_path):
    s = load_schema("vapoly")
    v = sample_presets(s, 1, np.random.default_rng(0))[0]
    write_json_preset(tmp_path / "p.json", s, v, "test")
    back = read_json_preset(tmp_path / "p.json", s)
    np.testing.assert_allclose(back.vector, v, atol=1e-6)
    data = json.loads((tmp_path / "p.json").read_text())
    assert data["schema_hash"] == s.content_hash and "cutoff" in data["params"]


def test_json_preset_errors_name_the_file(tmp_path):
    s = load_schema("subtractive")
    bad = tmp_path / "bad.json"
    bad.write_text('{"synth": "subtractive", "params": {"cutoff": -5}}')
    with pytest.raises(SchemaError, match="bad.json.*'cutoff'"):
        read_json_preset(bad, s)
    other = tmp_path / "other.json"
    other.write_text('{"synth": "vapoly", "params": {}}')
    with pytest.raises(SchemaError, match="other.json.*vapoly"):
        read_json_preset(other, s)
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    with pytest.raises(SchemaError, match="junk.json"):
        read_json_preset(junk, s)


def test_amsynth_bank_round_trip(tmp_path):
    s = load_schema("amsynth")
    v = sample_presets(s, 3, np.random.default_rng(0))
    write_bank(tmp_path / "x.amSynth.bank", s, [(f"p{i}", x) for i, x in enumerate(v)])
    back = read_bank(tmp_path / "x.amSynth.bank", s)
    assert [p.name for p in back] == ["p0", "p1", "p2"]
    np.testing.assert_allclose(np.stack([p.vector for p in back]), v, atol=1e-5)


def test_bank_raw_values_map_to_normalised():
    s = load_schema("amsynth")
    text = "amSynth\n<preset> <name> t\n<parameter> filter_env_amount 11.84\n<parameter> osc2_range -1\n"
    (p,) = parse_bank(text, s)
    assert p.vector[s.position["filter_env_amount"]] == pytest.approx((11.84 + 16) / 32)
    assert p.vector[s.position["osc2_range"]] == pytest.approx(2 / 7)
    assert p.vector[s.position["master_vol"]] == pytest.approx(0.67)  # missing -> default


def test_bank_errors_name_the_source():
    s = load_schema("amsynth")
    with pytest.raises(SchemaError, match="mybank.*not an amsynth bank"):
        parse_bank("hello\n", s, source="mybank")
    with pytest.raises(SchemaError, match="mybank:3.*'amp_decay'"):
        parse_bank("amSynth\n<preset> <name> a\n<parameter> amp_decay x\n", s, source="mybank")


def test_fxp_holds_the_preset_text():
    s = load_schema("amsynth")
    blob = fxp_bytes(s, s.default_vector(), "Init")
    assert blob[:4] == b"CcnK" and blob[8:12] == b"FPCh" and b"<parameter> master_vol 0.67" in blob


@pytest.mark.plugin
def test_factory_banks_load():
    presets = read_presets(FACTORY, load_schema("amsynth"))
    assert len(presets) > 1000
