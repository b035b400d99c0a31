"""The evaluation report: hand-computed statistics, and asp eval end to end on a real tiny model."""

import numpy as np
import pandas as pd
import pytest

from asp.cli import main
from asp.eval import report
from asp.eval.report import anova, saturation_point, summary


def test_saturation_point_by_the_papers_rule():
    # normalised: 1, .444, .111, .056, .044 -> steps .556, .333, .056: the first below 0.1 starts at size 8
    assert saturation_point([2, 4, 8, 16, 32], [10, 5, 2, 1.5, 1.4]) == 8
    # accuracy rises: the rule uses absolute steps
    assert saturation_point([2, 4, 8, 16], [0.1, 0.5, 0.9, 0.91]) == 8
    assert saturation_point([2, 4, 8], [0.0, 0.5, 1.0]) is None  # steps of 0.5: never saturates


def clips(**systems):
    rows = []
    for system, values in systems.items():
        for i, v in enumerate(values):
            rows.append(
                {
                    "system": system,
                    "synth": "a",
                    "decoder": "a",
                    "preset_id": i,
                    "note": 60,
                    "harmonic_share": 0.1 + 0.2 * i,
                    "timbre_group": i % 5,
                    "lsd": v,
                    "paper_lsd": 2 * v,
                    "param_mse": 0.1,
                    "paper_param_mse": 1.0,
                    "cat_acc": 0.5,
                }
            )
    return pd.DataFrame(rows)


def test_anova_and_summary_hand_computed():
    c = clips(A=[1.0, 2.0, 3.0], B=[2.0, 3.0, 4.0])
    # between-group mean square 1.5 / within-group mean square 1.0
    assert anova(c, ["A", "B"])["F"] == pytest.approx(1.5)
    assert anova(c, ["A"]) is None
    s = summary(c, ["system"]).set_index("system")
    assert s.loc["A", "lsd_mean"] == 2.0 and s.loc["A", "lsd_std"] == pytest.approx(1.0)
    assert s.loc["B", "cat_acc_mean"] == 50.0 and s.loc["B", "n"] == 3


def test_report_has_every_table_and_plot(tmp_path):
    c = clips(**{"J-S": [1.0, 2.0, 3.0, 4.0, 5.0], "J-J": [2.0, 2.5, 3.5, 4.0, 6.0], "random preset": [9.0] * 5})
    cross = c[c.system == "J-S"].assign(decoder="b", lsd=7.0)
    c = pd.concat([c, cross, cross.assign(synth="b", decoder="a", lsd=8.0), cross.assign(synth="b", decoder="b")])
    curves = pd.DataFrame(
        {
            "variant": ["J-S"] * 4,
            "z_dim": [2, 8, 32, 128],
            "lsd": [20, 15, 14, 13.9],
            "param_mse": [0.1, 0.08, 0.07, 0.07],
            "cat_acc": [0.2, 0.3, 0.32, 0.33],
            "n": [5] * 4,
        }
    )
    md = report.write_report(c, tmp_path, curves=curves).read_text()
    for section in ("Table 1", "Table 2: a", "ANOVA", "timbre group", "Cross-synth matrix: J-S", "Latent size"):
        assert section in md
    for png in ("timbre_groups.png", "cross_synth_J-S.png", "latent_size.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    mat = pd.read_csv(tmp_path / "cross_synth_J-S.csv", index_col=0)
    assert mat.loc["a", "b"] == 7.0 and mat.loc["b", "a"] == 8.0
    sat = pd.read_csv(tmp_path / "latent_saturation.csv").set_index("metric")
    assert sat.loc["lsd", "saturation_z"] == 32  # normalised 1, .164, .016, 0: steps .836, .148, .016


def test_asp_eval_end_to_end_on_a_real_model(tiny_checkpoint, tiny_dataset, tmp_path, capsys, monkeypatch):
    run = tiny_checkpoint.parent.parent
    out = tmp_path / "report"
    assert main(["eval", str(run), "--out", str(out), "--notes", "all"]) == 0
    printed = capsys.readouterr().out
    assert "Table 1" in printed and "Cross-synth matrix: J-S" in printed
    c = pd.read_csv(out / "clips.csv")
    assert set(c.system) == {"J-S", "mean preset", "random preset"}
    js = c[c.system == "J-S"]
    assert set(js.decoder) == {"subtractive", "vapoly"} and (js.lsd >= 0).all()
    # every test clip of each synth is scored by its own decoder, with parameter metrics
    test = pd.read_parquet(tiny_dataset / "table.parquet").query("split == 'test'")
    own = js[js.decoder == js.synth]
    assert len(own) == len(test) and own.param_mse.notna().all()
    # a second run reuses the scored systems: no rendering at all
    from asp.eval import evaluate

    monkeypatch.setattr(evaluate.Evaluator, "_render", lambda *a: (_ for _ in ()).throw(AssertionError("render")))
    assert main(["eval", str(run), "--out", str(out), "--notes", "all"]) == 0
    # a sweep folder adds the latent-size plot
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    pd.DataFrame({"variant": ["J-S", "J-S"], "z_dim": [8, 16], "run_dir": [str(run), str(run)]}).to_csv(
        sweep / "results.csv", index=False
    )
    monkeypatch.undo()
    assert (
        main(
            [
                "eval",
                "--sweep",
                str(sweep),
                "--out",
                str(tmp_path / "sw"),
                "--notes",
                "all",
                "--no-cross",
                "--no-baselines",
            ]
        )
        == 0
    )
    assert (tmp_path / "sw" / "latent_size.png").is_file()
    assert main(["eval", "--out", str(tmp_path / "none")]) == 2


def test_asp_eval_on_hand_made_presets(tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "hand"
    assert main(["eval", str(tiny_checkpoint), "--presets", "subtractive", "--out", str(out)]) == 0
    assert "subtractive hand-made presets" in capsys.readouterr().out
    c = pd.read_csv(out / "clips.csv")
    # the 4 presets in presets/subtractive/, none of them the default: the model and both baselines score each
    assert sorted(set(c.preset_name)) == ["Noise Hat", "Soft Pad", "Sync Lead", "Warm Bass"]
    own = c[c.decoder == c.synth]
    assert own.groupby("system").size().to_dict() == {"J-S": 4, "mean preset": 4, "random preset": 4}
    assert set(c[c.system == "J-S"].decoder) == {"subtractive", "vapoly"}  # and the cross-synth renders
    assert main(["eval", str(tiny_checkpoint), "--presets", "wavetable", "--out", str(out)]) == 2
    assert "it knows: subtractive, vapoly" in capsys.readouterr().err


def test_hand_made_presets_the_model_was_trained_on_are_left_out(tiny_checkpoint, tiny_dataset, tmp_path, capsys):
    """A folder of presets that also holds the model's training and validation presets (a dataset made from the same
    banks) is scored on the others only, and the report says how many were left out."""
    import shutil

    from asp.data.store import Dataset
    from asp.eval.evaluate import dataset_train_presets
    from asp.synths import registry
    from asp.synths.presets import write_json_preset

    folder = tmp_path / "bank"
    shutil.copytree(registry.factory_presets("subtractive"), folder)
    schema = registry.load_schema("subtractive")
    seen = dataset_train_presets(Dataset(tiny_dataset), ["subtractive"], ("train", "valid"))["subtractive"]
    assert len(seen) >= 5
    for i, v in enumerate(seen):
        write_json_preset(folder / f"seen_{i}.json", schema, v, f"seen {i}")
    out = tmp_path / "held-out"
    assert main(["eval", str(tiny_checkpoint), "--presets", f"subtractive={folder}", "--out", str(out)]) == 0
    assert f"; {len(seen)} more are in the model's training or validation data" in (out / "report.md").read_text()
    c = pd.read_csv(out / "clips.csv")
    assert sorted(set(c.preset_name)) == ["Noise Hat", "Soft Pad", "Sync Lead", "Warm Bass"]
    only_seen = tmp_path / "only-seen"
    only_seen.mkdir()
    write_json_preset(only_seen / "seen.json", schema, seen[0], "seen")
    assert main(["eval", str(tiny_checkpoint), "--presets", f"subtractive={only_seen}", "--out", str(out)]) == 2
    assert "that the model was not trained on (1 were)" in capsys.readouterr().err


def test_asp_eval_scores_hand_made_presets_refined(tiny_checkpoint, tmp_path, capsys):
    out = tmp_path / "refined"
    args = [
        "eval",
        str(tiny_checkpoint),
        "--presets",
        "subtractive",
        "--out",
        str(out),
        "--no-cross",
        "--refine",
        "--budget",
        "40",
        "--workers",
        "2",
    ]
    assert main(args) == 0
    c = pd.read_csv(out / "clips.csv")
    own = c[c.decoder == c.synth].pivot(index="preset_name", columns="system", values="lsd")
    assert len(own) == 4 and own["J-S refined"].notna().all()
    assert (own["J-S refined"] <= own["J-S"] + 1e-9).all()  # never worse than the model's own prediction
    assert (own["J-S refined"] < own["J-S"]).any()  # and the search did find something
    assert "J-S refined" in capsys.readouterr().out
    stamp = (out / "cache" / "refined.npz").stat().st_mtime_ns
    assert main(args) == 0  # a re-run reuses the refined presets
    assert (out / "cache" / "refined.npz").stat().st_mtime_ns == stamp


def test_asp_eval_refines_from_neighbours_and_with_a_proxy_as_asp_infer_does(
    tiny_checkpoint, tiny_dataset, tmp_path, monkeypatch, capsys
):
    from asp.eval.pipeline import evaluate_presets
    from asp.models import proxy_training
    from asp.models.proxy import ProxySettings
    from asp.search import SearchOptions

    px = tmp_path / "px"
    proxy_training.train_proxy(tiny_dataset, "subtractive", px, ProxySettings(arch="mlp"), epochs=2, log=lambda m: None)
    seen = []
    real = proxy_training.proxy_refine_job

    def spy(task, report):
        seen.append(task)
        return real(task, report)

    monkeypatch.setattr(proxy_training, "proxy_refine_job", spy)
    evaluate_presets(
        tiny_checkpoint,
        "subtractive",
        tmp_path / "out",
        refine=SearchOptions(budget=30),
        workers=0,
        neighbours=2,
        proxies={"subtractive": px},
        progress=False,
    )
    assert len(seen) == 4  # the four hand-made presets, each searched once, screened by the proxy
    for task in seen:
        starts = task["starts"]["subtractive"]
        assert [c.label for c in starts] == ["oneshot", "neighbour 1", "neighbour 2"]
        assert {c.note for c in starts} == {60} and task["proxies"] == {"subtractive": str(px)}
    c = pd.read_csv(tmp_path / "out" / "clips.csv")
    own = c[c.decoder == c.synth].pivot(index="preset_name", columns="system", values="lsd")
    assert (own["J-S refined"] <= own["J-S"] + 1e-9).all()
    base = ["eval", str(tiny_checkpoint), "--presets", "subtractive", "--out", str(tmp_path / "x")]
    assert main([*base, "--neighbours", "2"]) == 2  # the search's flags without the search
    assert "give --refine" in capsys.readouterr().err
    assert main([*base, "--refine", "--proxy", f"vapoly={px}"]) == 2
    assert "vapoly is not searched here" in capsys.readouterr().err


@pytest.mark.plugin
def test_refined_amsynth_clips_do_not_depend_on_the_order_they_are_searched_in():
    """amsynth's noise source is process-wide state: a search of a noisy patch run after another in the same worker
    would render other noise and could end elsewhere. Each such search gets a fresh worker, so the order of the clips
    (and what a worker ran before) does not change a refined preset."""
    from asp.eval.pipeline import refined_predictions
    from asp.render import RenderSettings, get_renderer
    from asp.search import SearchOptions
    from asp.synths import load_sampling, registry, sample_presets

    settings = RenderSettings(render_seconds=1.0, note_seconds=0.6)
    schema = registry.load_schema("amsynth")
    presets = sample_presets(schema, 3, np.random.default_rng(5), load_sampling("amsynth"))
    noise = schema["osc1_waveform"].labels.index("noise") / (schema["osc1_waveform"].n_classes - 1)
    presets[:, schema.position["osc1_waveform"]] = noise
    presets[:, schema.position["osc2_waveform"]] = noise
    r = get_renderer("amsynth", settings)
    targets = [r.render(v, 60) for v in presets]
    starts = np.clip(presets + np.random.default_rng(6).normal(0, 0.15, presets.shape), 0, 1)
    options = SearchOptions(budget=16, seed=0)

    def run(order: list[int]) -> np.ndarray:
        rows = pd.DataFrame({"synth": ["amsynth"] * 3, "note": [60] * 3})
        got = refined_predictions(
            {"amsynth": starts[order]}, lambda i: targets[order[i]], rows, settings, options, workers=1
        )["amsynth"]
        return got[np.argsort(order)]

    np.testing.assert_array_equal(run([0, 1, 2]), run([2, 0, 1]))
