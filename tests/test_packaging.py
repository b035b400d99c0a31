"""A non-editable install works: the wheel carries the configs, presets, schemas and Faust sources it needs, and a
command run from another folder finds them inside the installed package, not in this checkout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("asp", "configs", "presets", "setup.py", "pyproject.toml", "README.md")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """asp built into a wheel from a copy of the sources and installed (without dependencies) into a folder."""
    work = tmp_path_factory.mktemp("wheel")
    src = work / "src"
    src.mkdir()
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO / name, src / name)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    # -v: pip shows the build backend's output, where setuptools' warnings are
    build = [*pip, "wheel", "-v", "--no-deps", "--no-build-isolation", "-w", str(work / "dist"), str(src)]
    done = subprocess.run(build, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    # every data folder is a listed package: setuptools would otherwise warn that it "would be ignored"
    assert "would be ignored" not in done.stdout + done.stderr, "setup.py leaves a data folder out of `packages`"
    (wheel,) = (work / "dist").glob("asp-*.whl")
    site = work / "site"
    subprocess.run([*pip, "-q", "install", "--no-deps", "--no-compile", "--target", str(site), str(wheel)], check=True)
    return site


def run_installed(site: Path, cwd: Path, code: str) -> str:
    """Run Python code with the installed asp first on the path, from ``cwd`` (not this checkout)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASP_")}
    env["PYTHONPATH"] = str(site)
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_the_wheel_carries_its_data(installed, tmp_path):
    code = """
import asp, asp.paths
import numpy as np
from asp.render import make_renderer
from asp.render.settings import RenderSettings
from asp.synths import registry
from asp.synths.presets import read_presets
from asp.models.training import compose, options
from asp.data.effects import GROUPS_DIR
print(asp.__file__)
print(asp.paths.config_dir())
print(asp.paths.presets_dir())
assert compose(["experiment=quickstart"]).model.variant
assert "quickstart" in options("experiment")
for synth in registry.builtin_names():
    presets = read_presets(registry.factory_presets(synth), registry.load_schema(synth))
    assert len(presets) >= 4, (synth, len(presets))
    audio = make_renderer(synth, RenderSettings(note_seconds=0.2, render_seconds=0.25)).render(presets[0].vector, 60)
    assert np.abs(audio).max() > 1e-3, synth
assert len(list(GROUPS_DIR.glob("*/*.json"))) >= 10
"""
    lines = run_installed(installed, tmp_path, code).split()
    assert all(line.startswith(str(installed)) for line in lines[:3]), lines


@pytest.mark.slow
def test_the_quickstart_runs_from_the_wheel(installed, tmp_path):
    """The main job, at a tiny scale, with nothing but the installed package (run from an empty folder)."""
    args = "quickstart --out qs --presets 10 --workers 1 --epochs 1 --logger csv --budget 30".split()
    out = run_installed(installed, tmp_path, f"from asp.cli import main; raise SystemExit(main({args!r}))")
    assert "12 held-back target sounds" in out and "refined   LSD" in out
    assert (tmp_path / "qs" / "inferred" / "report.csv").is_file()
