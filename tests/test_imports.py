"""The package's shape: no module imports another that imports it back, and production code never imports the
producers of landing files."""

import ast

from pipelines.lib.settings import ROOT


def imported(package: str) -> dict[str, set[str]]:
    """module -> every module it imports (relative imports resolved; lazy imports included). `from a import b`
    counts as importing `a` and `a.b`: the cycle finder keeps only names that are modules."""
    graph = {}
    for path in (ROOT / package).rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        here = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                found.add(base)
                found |= {f"{base}.{a.name}" for a in node.names}  # `from . import x`: x may be a module
            elif isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
        graph[name] = found - {name}
    return graph


def imports(package: str) -> dict[str, set[str]]:
    """module -> the modules of `package` it imports."""
    return {m: {d for d in deps if d.split(".")[0] == package} for m, deps in imported(package).items()}


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle among the modules, or None (a module importing a package counts as importing its
    __init__)."""
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> list[str] | None:
        state[node] = "open"
        for dep in sorted(d for d in graph.get(node, ()) if d in graph):
            if state.get(dep) == "open":
                return path[path.index(dep) :] + [dep] if dep in path else [node, dep]
            if dep not in state and (found := visit(dep, [*path, dep])):
                return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start, [start])):
            return found
    return None


def test_the_pipeline_has_no_import_cycle():
    assert cycle(imports("pipelines")) is None


def test_the_producers_have_no_import_cycle():
    assert cycle(imports("generators")) is None


def test_production_code_never_imports_the_producers():
    """The simulator, the trace adapters and the benchmark write landing files; the pipeline only reads them."""
    producers = {"generators", "bench"}
    graph = imported("pipelines")
    assert "pipelines.cli" in graph and "pipelines.ingest.registry" in graph  # the walk found the package
    offenders = {m: sorted(d for d in deps if d.split(".")[0] in producers) for m, deps in graph.items()}
    assert {m: deps for m, deps in offenders.items() if deps} == {}


def test_the_cycle_finder_finds_one():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
