"""asp reproduce: the verdict rules on hand-made scores, and the whole --quick pipeline on real renders."""

import numpy as np
import pandas as pd
import pytest

from asp.cli import main
from asp.eval.reproduce import verdicts


def _clips(lsd_means, acc_means, n=40, seed=0, low_group_lsd=None):
    rng = np.random.default_rng(seed)
    rows = []
    for system, mu in lsd_means.items():
        for i in range(n):
            group = i % 5
            lsd = rng.normal(mu, 1.0)
            if system == "J-S" and low_group_lsd is not None and group == 0:
                lsd = rng.normal(low_group_lsd, 1.0)
            rows.append(
                {
                    "system": system,
                    "synth": "a",
                    "decoder": "a",
                    "lsd": lsd,
                    "timbre_group": group,
                    "cat_acc": float(np.clip(rng.normal(acc_means[system], 0.02), 0, 1)),
                }
            )
    return pd.DataFrame(rows)


def _verdict(v, word):
    return v[v.finding.str.contains(word)].iloc[0]


def test_verdicts_follow_the_rules():
    clips = _clips({"S-S": 14.0, "J-S": 10.0, "J-J": 14.0}, {"S-S": 0.8, "J-S": 0.7, "J-J": 0.7}, low_group_lsd=14)
    sat = pd.DataFrame(
        {"variant": ["J-S"] * 3, "metric": ["lsd", "param_mse", "cat_acc"], "saturation_z": [64, 32, None]}
    )
    v = verdicts(clips, sat)
    assert list(v.verdict) == ["replicated"] * 4
    # the opposite orderings refute; equal models are inconclusive
    clips = _clips({"S-S": 8.0, "J-S": 10.0, "J-J": 12.0}, {"S-S": 0.6, "J-S": 0.7, "J-J": 0.7}, low_group_lsd=5)
    v = verdicts(clips, sat.assign(saturation_z=[16, 16, 16]))
    assert _verdict(v, "audio").verdict == "refuted" and _verdict(v, "accuracy").verdict == "refuted"
    assert _verdict(v, "20 %").verdict == "refuted" and _verdict(v, "latent").verdict == "refuted"
    clips = _clips({"S-S": 10.0, "J-S": 10.0, "J-J": 10.0}, {"S-S": 0.7, "J-S": 0.7, "J-J": 0.7}, seed=3)
    v = verdicts(clips, sat.assign(saturation_z=[None, None, None]))
    assert set(v.verdict) == {"inconclusive"}
    # models that differ, one (J-J) clearly worse, and S-S ahead of J-S by less than the noise: not a refutation
    clips = _clips({"S-S": 9.9, "J-S": 10.0, "J-J": 14.0}, {"S-S": 0.7, "J-S": 0.7, "J-J": 0.7}, seed=3)
    v = _verdict(verdicts(clips, None), "audio")
    assert v.verdict == "inconclusive" and "Welch" in v.ours
    # too few clips in a timbre group cannot be compared
    few = clips[~((clips.system == "J-S") & (clips.timbre_group == 0))].copy()
    assert _verdict(verdicts(few, None), "20 %").verdict == "inconclusive"
    assert not verdicts(few, None).finding.str.contains("latent").any()


@pytest.mark.slow  # about 30 s: the whole reproduction at --quick scale
def test_reproduce_quick_end_to_end(tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["reproduce", "--quick", "--out", str(out)]) == 0
    report = (out / "REPORT.md").read_text()
    assert "## Findings" in report and "Beside the published Table 1" in report
    v = pd.read_csv(out / "verdicts.csv")
    assert len(v) == 4 and set(v.verdict) <= {"replicated", "refuted", "inconclusive"}
    assert (out / "eval-latent" / "latent_size.png").is_file() and (out / "eval-compare" / "anova.csv").is_file()
    results = pd.read_csv(out / "latent-all" / "results.csv")
    assert sorted(results.z_dim) == [2, 8, 32]  # the compare run at z=8 is reused, not trained again
    assert not (out / "latent" / "J-S-z8").exists()
    # a re-run resumes: nothing is trained or rendered again
    ckpts = sorted(out.glob("*/*/checkpoints/best.ckpt"))
    assert len(ckpts) == 5
    mtimes = [p.stat().st_mtime_ns for p in ckpts]
    assert main(["reproduce", "--quick", "--out", str(out)]) == 0
    assert [p.stat().st_mtime_ns for p in ckpts] == mtimes
