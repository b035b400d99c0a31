"""Effect specs: SerumRNN's parameters and ranges, sampling, encode/decode, the rack order, the 32 subsets."""

import numpy as np
import pytest

from asp.synths import effect_specs as specs


def test_the_five_effects_in_serums_rack_order_with_the_papers_parameters():
    assert specs.rack_order() == ("distortion", "phaser", "compressor", "reverb_hall", "eq")
    params = {n: [p.name for p in specs.get(n).params] for n in specs.rack_order()}
    assert params == {
        "distortion": ["mode", "drive"],
        "phaser": ["depth", "frequency", "feedback"],
        "compressor": ["low", "mid", "high"],
        "reverb_hall": ["mix", "low_cut", "high_cut"],
        "eq": ["frequency", "resonance", "gain"],
    }
    mode = specs.get("distortion").param("mode")
    assert mode.categorical and len(mode.classes) == len(set(mode.classes)) == 12
    assert mode.serum_classes == (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13) and mode.serum_n_classes == 14


def test_sampling_stays_in_the_papers_ranges():
    rng = np.random.default_rng(0)
    draws = {n: [specs.get(n).sample(rng) for _ in range(2000)] for n in specs.rack_order()}
    drive = np.array([d["drive"] for d in draws["distortion"]])
    assert drive.min() >= 0.3 and drive.max() <= 1.0 and drive.min() < 0.32
    gain = np.array([d["gain"] for d in draws["eq"]])
    assert not ((gain > 0.4) & (gain < 0.6)).any(), "EQ gain must be sampled outside 0.4-0.6"
    assert (gain < 0.4).mean() == pytest.approx(0.5, abs=0.05)  # both sides, by width
    freq = np.array([d["frequency"] for d in draws["eq"]])
    assert freq.min() >= 0.5 and freq.max() <= 0.95
    mix = np.array([d["mix"] for d in draws["reverb_hall"]])
    assert mix.min() >= 0.3 and mix.max() <= 0.7
    modes = np.array([d["mode"] for d in draws["distortion"]])
    assert set(modes) == set(range(12))


def test_encode_decode_round_trip_and_validation():
    spec = specs.get("distortion")
    s = {"mode": 3.0, "drive": 0.62}
    cont, cls = spec.encode(s)
    assert cont.tolist() == pytest.approx([0.62]) and cls.tolist() == [3]
    assert spec.decode(cont, cls) == pytest.approx(s)
    assert spec.describe(s) == "Distortion, mode diode 1, drive 0.62"
    with pytest.raises(ValueError, match="distortion.mode: class 12 out of range 0-11"):
        spec.check({"mode": 12, "drive": 0.5})
    with pytest.raises(ValueError, match=r"distortion.drive: 1.5 is not a normalised value"):
        spec.check({"mode": 0, "drive": 1.5})
    with pytest.raises(KeyError, match="missing drive; valid: mode, drive"):
        spec.check({"mode": 0})


def test_unknown_effect_names_list_the_valid_ones():
    with pytest.raises(
        KeyError, match="unknown effect 'chorus'; valid: distortion, phaser, compressor, reverb_hall, eq"
    ):
        specs.parse_names("eq,chorus")
    assert specs.parse_names("eq, distortion") == ("distortion", "eq")  # rack order, whatever the order given


def test_32_subsets_by_bit_mask():
    subs = specs.subsets()
    assert len(subs) == 32 and len(set(subs)) == 32 and subs[0] == ()
    assert all(specs.mask_of(s) == i for i, s in enumerate(subs))
    assert sum(len(s) == 2 for s in subs) == 10


def test_an_effect_parameter_is_a_synth_parameter_and_an_effect_has_a_schema():
    from asp.synths.params import ParamSpec

    dist = specs.get("distortion")
    mode, drive = dist.param("mode"), dist.param("drive")
    assert isinstance(mode, ParamSpec) and isinstance(drive, ParamSpec)
    assert (mode.kind, mode.n_classes, mode.index, drive.index) == ("categorical", 12, 0, 1)
    # a setting's values are the parameters' natural values: class index, or [0, 1]
    setting = {"mode": 3.0, "drive": 0.62}
    assert mode.label_of(mode.to_normalised(setting["mode"])) == "diode 1"
    assert mode.to_normalised(11.0) == 1.0 and drive.to_normalised(0.62) == pytest.approx(0.62)
    schema = dist.schema
    assert schema.n_params == 2 and schema.onehot_size == 12 + 1
    assert [p.name for p in schema.params] == ["mode", "drive"]
