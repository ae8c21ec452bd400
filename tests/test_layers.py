"""The package's layers: every module lives in a layer's subpackage and imports only its own layer or those below;
no two modules import each other, directly or through others. Imports are read from the source (function-level
imports too), so a lazy import cannot hide a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "evtools"
ORDER = ["core", "engines", "analyses", "present", "app"]  # bottom to top
TOP = {"evtools", "evtools.__main__"}  # the package itself and its entry point stand above the layers


def module_name(path: Path, root: Path = SRC) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, known: set[str], package: str | None = None, root: Path = SRC) -> set[str]:
    """The evtools modules ``path`` (a module of ``package``) imports, resolved to modules (``from evtools.core
    import config`` is evtools.core.config; ``from evtools.core.config import load_config`` is evtools.core.config;
    ``from ..core import config`` in evtools.app is evtools.core.config)."""
    if package is None:
        name = module_name(path, root)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(up + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {SHORT.get(m, m) for m in found if SHORT.get(m, m) in known}


def short_names() -> dict[str, str]:
    """``evtools.<name>`` -> the module in its layer, as ``evtools/__init__.py`` maps them (read from its source, not
    imported): an import by a short name is an import of that module."""
    tree = ast.parse((SRC / "__init__.py").read_text(encoding="utf-8"))
    layers = next(
        ast.literal_eval(n.value) for n in tree.body if isinstance(n, ast.Assign) and n.targets[0].id == "LAYERS"
    )
    return {f"evtools.{m}": f"evtools.{layer}.{m}" for layer, names in layers.items() for m in names.split()}


SHORT = short_names()


def graph(root: Path = SRC) -> dict[str, set[str]]:
    files = {module_name(p, root): p for p in root.rglob("*.py")}
    known = set(files)
    return {m: imports_of(p, known, root=root) - {m} for m, p in files.items()}


def layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] in ORDER else None


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                out.append(sorted(part))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def upward(g: dict[str, set[str]]) -> list[tuple[str, str]]:
    """Imports of a module in a higher layer, or of a subpackage's ``__init__`` that reaches up."""
    bad = []
    for m, deps in g.items():
        if m in TOP:
            continue
        for d in deps:
            if d in TOP:
                continue
            mine, theirs = ORDER.index(layer(m) or m.split(".")[1]), ORDER.index(layer(d) or d.split(".")[1])
            if theirs > mine:
                bad.append((m, d))
    return sorted(bad)


def test_every_module_lives_in_a_layer():
    loose = [m for m in graph() if m not in TOP and m.split(".")[1] not in ORDER]
    assert loose == []


def test_no_import_cycle_and_no_import_upward():
    g = graph()
    assert cycles(g) == []
    assert upward(g) == []


@pytest.mark.parametrize(
    "back",
    [
        ("evtools.engines.queries", "evtools.analyses.refresh"),  # upward: refresh imports queries
        ("evtools.core.errors", "evtools.core.config"),  # within a layer: config imports errors
    ],
)
def test_a_deliberate_cycle_is_caught(back):
    """One import added against the grain closes a cycle, which the check names (and an upward one, too)."""
    g = graph()
    a, b = back
    assert a in g[b] or any(a in g[m] for m in g[b])  # b already reaches a
    g[a] = g[a] | {b}
    assert any(a in part and b in part for part in cycles(g))
    assert (layer(a) == layer(b)) or (a, b) in upward(g)


def test_the_checker_reads_lazy_and_relative_imports(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from evtools.core import config\n    import evtools.engines.queries\n"
                 "    from ..analyses.quality import Scope\n")
    known = {"evtools.core", "evtools.core.config", "evtools.engines.queries", "evtools.analyses.quality"}
    assert imports_of(f, known, "evtools.app") == known


def test_short_names_cover_every_module():
    """``evtools.<name>`` (the short names users and older notebooks import) names every module, in its layer."""
    import evtools

    modules = {m for m in graph() if m not in TOP and m.count(".") == 2}
    assert set(evtools.MODULES.values()) - {"evtools.engines"} == modules


ENGINE_MODULES = {"evtools.engines.spark", "evtools.engines.database", "evtools.engines.lake"}


def test_analyses_never_import_one_engine():
    """The analyses and their presentation reach an engine through the interface (queries, pipeline, store,
    connect), never through one engine's module."""
    g = graph()
    above = {m: deps & ENGINE_MODULES for m, deps in g.items() if layer(m) in ("analyses", "present")}
    assert {m: d for m, d in above.items() if d} == {}


def test_a_cycle_written_into_a_copy_of_the_source_is_caught(tmp_path):
    """The check reads files: a lazy import by a short name, written into a copy of the package, is found."""
    import shutil

    copy = tmp_path / "evtools"
    shutil.copytree(SRC, copy, symlinks=True)
    fsutil = copy / "core" / "fsutil.py"
    fsutil.write_text(fsutil.read_text() + "\n\ndef _late():\n    from evtools import cli  # noqa\n")
    g = graph(copy)
    assert ("evtools.core.fsutil", "evtools.app.cli") in upward(g)
    assert any("evtools.core.fsutil" in part and "evtools.app.cli" in part for part in cycles(g))
