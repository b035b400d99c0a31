"""The parts of the build pyproject.toml cannot say: the top-level ``configs/`` and ``presets/`` folders travel in
the wheel as the data packages ``asp._configs`` and ``asp._presets`` (found through ``asp.paths``)."""

from setuptools import find_packages, setup

DATA = {"asp._configs": "configs", "asp._presets": "presets"}

setup(
    packages=find_packages(include=["asp", "asp.*"]) + list(DATA),
    package_dir=DATA,
    package_data={
        "asp.synths": ["data/schemas/*", "data/sampling/*", "data/effects.yaml"],
        "asp.render": ["faust/*.dsp", "faust/*.lib"],
        "asp._configs": ["**/*.yaml"],
        "asp._presets": ["**/*.json", "**/*.md"],
    },
)
