"""Fails (exit 1) if any import circle exists between modules of asp/, naming it.

import-linter's layers contract forbids arrows up the layers; this catches circles inside one layer too (lazy imports
inside functions count: a circle is a knot even where Python tolerates it). Uses grimp, import-linter's graph library.
"""

from __future__ import annotations

import sys

import grimp


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One circle of the graph, as the modules along it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        path.append(m)
        for d in sorted(edges.get(m, ())):
            if state.get(d) == 1:
                return path[path.index(d) :] + [d]
            if d not in state and (found := visit(d)):
                return found
        state[m] = 2
        path.pop()
        return None

    for m in sorted(edges):
        if m not in state and (found := visit(m)):
            return found
    return None


def main() -> int:
    graph = grimp.build_graph("asp")
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    cycle = find_cycle(edges)
    if cycle:
        print("import circle: " + " -> ".join(cycle), file=sys.stderr)
        return 1
    print(f"no import circles among {len(edges)} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
