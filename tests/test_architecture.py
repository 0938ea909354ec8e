"""Layering and packaging: detectors stay pure, and `proxy` is our package."""

from __future__ import annotations

import ast
from pathlib import Path

import proxy

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN_IN_DETECTORS = ("proxy", "asyncio", "aiosmtpd", "logging", "structlog", "socket")


def test_detectors_never_import_io_layers():
    """No module in detectors/ imports proxy/, asyncio, aiosmtpd, logging or sockets."""
    offenders = []
    for path in sorted((REPO / "detectors").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in FORBIDDEN_IN_DETECTORS:
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []


def test_proxy_package_is_ours():
    """The PyPI package proxy.py also installs a `proxy` module: ours must win."""
    assert Path(proxy.__file__).resolve().parent == REPO / "proxy"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _import_graph() -> dict[str, set[str]]:
    """Every module of proxy/ and detectors/ → the modules of ours it imports, at the top or inside a function."""
    paths = sorted(p for pkg in ("proxy", "detectors") for p in (REPO / pkg).rglob("*.py"))
    modules = {_module_name(p): p for p in paths}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            for target in targets:
                while target and target not in modules:  # `from proxy.web import app` or `import proxy.web.app`
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle (as a path that returns to its start), or [] when there is none."""
    done: set[str] = set()
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> list[str]:
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt in on_stack:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in done:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        on_stack.discard(node)
        done.add(node)
        return []

    for start in sorted(graph):
        if start not in done:
            found = visit(start)
            if found:
                return found
    return []


def _package_edges(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph with a package's own `__init__` importing its submodules left out (that is how packages re-export)."""
    return {name: {t for t in targets if not t.startswith(name + ".")} for name, targets in graph.items()}


def test_imports_of_proxy_and_detectors_have_no_cycle():
    """No chain of imports in proxy/ or detectors/, function-local ones included, leads back to where it started."""
    assert _cycle(_package_edges(_import_graph())) == []


def test_the_cycle_finder_finds_a_function_local_cycle():
    """The cycle check sees an import made inside a function."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_front_ends_and_scanning_never_import_the_service_or_the_wiring():
    """The review pages, the fax hook and the scanning modules never import the relay service or the wiring."""
    graph = _import_graph()
    lower = [m for m in graph if m.startswith(("proxy.web", "proxy.fax", "proxy.scanning", "detectors"))]
    assert len(lower) > 10
    offenders = sorted(f"{m} imports {t}" for m in lower for t in graph[m] if t in ("proxy.relay.serve", "proxy.wiring"))
    assert offenders == []


def test_only_the_entry_points_import_the_wiring():
    """proxy.wiring is imported by the relay service and the CLI only: everything else is given its parts."""
    graph = _import_graph()
    importers = sorted(m for m, targets in graph.items() if "proxy.wiring" in targets)
    assert importers == ["proxy.cli", "proxy.relay.serve"]


def test_the_shipped_fakes_are_for_tests_only():
    """No module of the relay imports proxy.testing (the fakes of its seams)."""
    graph = _import_graph()
    assert sorted(m for m, targets in graph.items() if "proxy.testing" in targets) == []


def test_scanning_never_imports_the_relay_or_the_front_ends():
    """Code that runs in the scan worker processes imports nothing of the relay, the fax hook, the pages or the CLI."""
    graph = _import_graph()
    offenders = sorted(f"{m} imports {t}" for m in graph if m.startswith("proxy.scanning") and m != "proxy.scanning.pool"
                       for t in graph[m] if t.startswith(("proxy.relay", "proxy.fax", "proxy.web", "proxy.cli",
                                                          "proxy.wiring", "proxy.quarantine")))
    assert offenders == []
