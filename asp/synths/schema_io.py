"""Reading and writing schema files.

Two formats:

* YAML (the project's own): ``name``, ``description`` and a list ``params`` of :class:`ParamSpec` fields;
* the papers' CSV tables (``index, n_classes, group, name``; natural range [0, 1]; ``n_classes`` 0 is continuous,
  ``c >= 2`` categorical), as published for Serum, Diva and TyrellN6. Unnamed parameters get ``param_<index>``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import yaml

from asp.synths.params import SchemaError
from asp.synths.schema import SynthSchema, schema_from_records


def load_schema_file(path: str | Path, name: str | None = None) -> SynthSchema:
    """Load a schema from a ``.yaml``/``.yml`` or paper-style ``.csv`` file.

    Raises:
        SchemaError: naming the file and the parameter at fault.
    """
    path = Path(path)
    try:
        if path.suffix == ".csv":
            return _load_csv(path, name or path.stem)
        if path.suffix in (".yaml", ".yml"):
            data = yaml.safe_load(path.read_text())
            if not isinstance(data, dict) or "params" not in data:
                raise SchemaError("expected a mapping with a 'params' list")
            meta = {k: v for k, v in data.items() if k not in ("name", "description", "params")}
            return schema_from_records(
                name or data.get("name", path.stem), data["params"], description=data.get("description", ""), meta=meta
            )
    except SchemaError as err:
        raise SchemaError(f"{path}: {err}") from None
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as err:
        raise SchemaError(f"{path}: cannot read schema: {err}") from None
    raise SchemaError(f"{path}: unknown schema format {path.suffix!r}; use .yaml or .csv")


def _load_csv(path: Path, name: str) -> SynthSchema:
    records: list[dict[str, Any]] = []
    with path.open(newline="") as fh:
        for row in csv.DictReader(fh):
            index = int(row["index"])
            c = int(row["n_classes"])
            rec: dict[str, Any] = {
                "name": (row.get("name") or "").strip() or f"param_{index}",
                "index": index,
                "group": row.get("group", ""),
                "low": 0.0,
                "high": 1.0,
                "default": 0.0,
            }
            if c >= 2:
                rec.update(kind="categorical", n_classes=c)
            records.append(rec)
    return schema_from_records(name, records, description=f"{name} (published class table)")


def dump_schema_yaml(schema: SynthSchema, path: str | Path | None = None) -> str:
    """The schema as YAML text (written to ``path`` if given)."""
    doc = {
        "name": schema.name,
        "description": schema.description,
        **dict(schema.meta),
        "params": [p.as_dict() for p in schema.params],
    }
    text = yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=120)
    if path is not None:
        Path(path).write_text(text)
    return text
