"""``asp synths``: list, show and draft synth schemas (the registry, ``asp.synths``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from asp.synths import registry


def cmd_synths_list(args: argparse.Namespace) -> int:
    import pandas as pd

    rows = []
    for name in registry.names():
        entry = registry.get(name)
        ok, where = registry.render_status(name)
        try:
            s = registry.load_schema(name)
            rows.append(
                {
                    "synth": name,
                    "params": s.n_params,
                    "continuous": s.counts["continuous"],
                    "categorical": s.counts["categorical"],
                    "binary": s.counts["binary"],
                    "onehot": s.onehot_size,
                    "backend": entry.backend,
                    "renders_here": "yes" if ok else "no",
                    "where": where,
                }
            )
        except Exception as err:  # a broken user-registered schema should not hide the others
            rows.append(
                {"synth": name, "backend": entry.backend, "renders_here": "no", "where": f"schema error: {err}"}
            )
    table = pd.DataFrame(rows)
    print(table.to_json(orient="records", indent=1) if args.json else table.to_string(index=False))
    return 0


def cmd_synths_show(args: argparse.Namespace) -> int:
    import pandas as pd

    schema = registry.load_schema(args.name)
    if args.yaml:
        from asp.synths.schema_io import dump_schema_yaml

        print(dump_schema_yaml(schema), end="")
        return 0
    print(f"{schema.name}: {schema.description}")
    print(
        f"parameters {schema.n_params} ({schema.counts}), one-hot size {schema.onehot_size}, hash {schema.content_hash}"
    )
    rows = [
        {
            "index": p.index,
            "name": p.name,
            "kind": p.kind,
            "classes": p.n_classes or "",
            "low": p.low,
            "high": p.high,
            "default": p.default,
            "scale": p.scale,
            "group": p.group,
            "labels": ",".join(p.labels),
        }
        for p in schema.params
    ]
    with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 60):
        print(pd.DataFrame(rows).to_string(index=False))
    return 0


def cmd_synths_draft(args: argparse.Namespace) -> int:
    from asp.render.draft import draft_from_faust, draft_from_pip, draft_from_plugin
    from asp.synths.schema_io import dump_schema_yaml

    path = Path(args.path)
    if args.path.startswith("pip:"):
        schema = draft_from_pip(args.path[4:], args.name)
    elif not path.exists():
        print(f"error: {path}: no such file", file=sys.stderr)
        return 2
    else:
        schema = draft_from_faust(path, args.name) if path.suffix == ".dsp" else draft_from_plugin(path, args.name)
    text = dump_schema_yaml(schema)
    if args.out:
        from asp.atomic import atomic_write_bytes

        atomic_write_bytes(args.out, text.encode())
        print(
            f"wrote {args.out}: {schema.n_params} parameters ({schema.counts}), one-hot {schema.onehot_size}",
            file=sys.stderr,
        )
    else:
        print(text, end="")
    return 0


def cmd_synths_add(args: argparse.Namespace) -> int:
    backend: registry.Backend = "plugin" if args.plugin else "faust"
    source = args.plugin or args.faust
    entry = registry.add_user_synth(args.name, args.schema, backend, source, args.sampling, args.description)
    schema = registry.load_schema(entry.name)
    print(
        f"added {entry.name}: {schema.n_params} parameters ({backend}: {entry.source}); every asp command sees it "
        f"(recorded in {registry.config_path()}; asp synths remove {entry.name} forgets it)"
    )
    return 0


def cmd_synths_remove(args: argparse.Namespace) -> int:
    registry.remove_user_synth(args.name)
    print(f"removed {args.name} from {registry.config_path()}")
    return 0


def add_parsers(sub: Any) -> None:
    """The ``asp synths`` command line(s)."""
    synths = sub.add_parser("synths", help="registered synths and their schemas").add_subparsers(
        dest="verb", required=True
    )
    s = synths.add_parser("list", help="every registered synth")
    s.add_argument("--json", action="store_true")
    s.set_defaults(fn=cmd_synths_list)
    s = synths.add_parser("show", help="a synth's schema")
    s.add_argument("name")
    s.add_argument("--yaml", action="store_true", help="print the schema file")
    s.set_defaults(fn=cmd_synths_show)
    s = synths.add_parser(
        "draft", help="draft a schema from a VST2/VST3 plugin, a Faust .dsp or a pip synth's binding (pip:vital)"
    )
    s.add_argument("path")
    s.add_argument("--name", default=None)
    s.add_argument("--out", default=None, help="write the YAML here (default: print it)")
    s.set_defaults(fn=cmd_synths_draft)
    s = synths.add_parser(
        "add", help="register a synth for every asp command (recorded in the user config, $ASP_CONFIG)"
    )
    s.add_argument("name", help="a short name: lower-case letters, digits, _")
    s.add_argument("schema", type=Path, help="its schema file (YAML, e.g. from asp synths draft)")
    where = s.add_mutually_exclusive_group(required=True)
    where.add_argument("--plugin", type=Path, help="a VST2/VST3 plugin hosted by DawDreamer")
    where.add_argument("--faust", type=Path, help="a Faust .dsp file")
    s.add_argument("--sampling", type=Path, default=None, help="a sampling spec for random presets")
    s.add_argument("--description", default="", help="one line for asp synths list")
    s.set_defaults(fn=cmd_synths_add)
    s = synths.add_parser("remove", help="forget a synth added with asp synths add")
    s.add_argument("name")
    s.set_defaults(fn=cmd_synths_remove)
