"""The parts of the build pyproject.toml cannot say: the top-level ``configs/`` and ``presets/`` folders travel in
the wheel as the data packages ``asp._configs`` and ``asp._presets`` (found through ``asp.paths``).

Every folder is listed as a (namespace) package, data folders included, so that setuptools installs their files
without its "Package would be ignored" warnings; ``package_data`` says which files travel."""

from setuptools import find_namespace_packages, setup

DATA = {"asp._configs": "configs", "asp._presets": "presets"}
SKIP = ["*__pycache__*"]

packages = find_namespace_packages(include=["asp", "asp.*"], exclude=SKIP)
package_dir = dict(DATA)
for name, folder in DATA.items():
    for sub in find_namespace_packages(where=folder, exclude=SKIP):
        packages.append(f"{name}.{sub}")
        package_dir[f"{name}.{sub}"] = f"{folder}/{sub.replace('.', '/')}"
    packages.append(name)

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={
        "asp.synths.data": ["effects.yaml"],
        "asp.synths.data.schemas": ["*"],
        "asp.synths.data.sampling": ["*"],
        "asp.render.faust": ["*.dsp", "*.lib"],
        **{p: ["*.yaml", "*.json", "*.md"] for p in packages if p.startswith(tuple(DATA))},
    },
)
