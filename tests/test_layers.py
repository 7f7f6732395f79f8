"""The import rules of docs/ARCHITECTURE.md, enforced: which package may import which, and no
import cycle between modules. A new module inherits the rules of the package it lives in."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = ("entities", "permissions", "domainserver")

CORE = {"entities", "permissions"}
# layer -> the layers it may import (its own always included). The longest layer name that
# prefixes a module's name is the module's layer.
RULES: dict[str, set[str]] = {
    "entities": set(),
    "permissions": {"entities"},
    "domainserver.protocol": {"entities"},
    "domainserver.evidence": set(),
    "domainserver.store": {"domainserver.evidence"},
    "domainserver.config": {"domainserver.protocol"},
    "domainserver.services": CORE
    | {"domainserver.protocol", "domainserver.store", "domainserver.config",
       "domainserver.evidence"},
    "domainserver.appkeys": {"domainserver.services", "domainserver.config"},
    "domainserver.wire": CORE
    | {"domainserver.protocol", "domainserver.services", "domainserver.appkeys"},
    "domainserver.http": CORE | {"domainserver.services", "domainserver.appkeys"},
    # The browser console is a third transport, with the same rights as http/.
    "domainserver.console": CORE | {"domainserver.services", "domainserver.appkeys"},
    "domainserver.client": {"entities", "domainserver.protocol"},
    "domainserver.cli": CORE
    | {"domainserver.app", "domainserver.config", "domainserver.store", "domainserver.services",
       "domainserver.evidence", "domainserver.settings", "domainserver.logs"},
    "domainserver.settings": CORE | {"domainserver.config"},
    "domainserver.logs": set(),
    # The composition root assembles everything.
    "domainserver.app": CORE
    | {
        "domainserver.appkeys",
        "domainserver.config",
        "domainserver.console",
        "domainserver.http",
        "domainserver.services",
        "domainserver.store",
        "domainserver.wire",
    },
    "domainserver": {"domainserver.app", "domainserver.config", "domainserver.cli"},
    "domainserver.__main__": {"domainserver.cli"},
}


def layer_of(module: str) -> str:
    # The bare `domainserver` is its __init__ only: a new top-level module needs its own row.
    best = max((name for name in RULES if module == name or (
                    name != "domainserver" and module.startswith(name + "."))),
               key=len, default=None)  # fmt: skip
    if best is None:
        raise AssertionError(f"{module} is in no layer: add it to RULES and ARCHITECTURE.md")
    return best


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(module: str, is_package: bool, source: str, known: set[str]):
    """(imported first-party module, at module level at run time) for every import."""
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, top: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((alias.name, top) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                target = _resolve(module, is_package, child)
                for alias in child.names:
                    sub = f"{target}.{alias.name}"
                    found.append((sub if sub in known else target, top))
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, False)
            elif isinstance(child, ast.If) and _is_type_checking(child):
                visit(child, False)
            else:
                visit(child, top)

    visit(ast.parse(source), True)
    return [(name, top) for name, top in found if name.split(".")[0] in FIRST_PARTY]


def layer_violations(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """Every import a module's layer does not allow, as 'importer -> imported'."""
    bad = []
    for module, targets in graph.items():
        own = layer_of(module)
        for target in targets:
            theirs = layer_of(target)
            if theirs != own and theirs not in RULES[own]:
                bad.append(f"{module} -> {target} ({own} may not import {theirs})")
    return sorted(bad)


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def strongconnect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph.get(v, ()):
                found.append(sorted(component))

    for v in list(graph):
        if v not in index:
            strongconnect(v)
    return found


def project_graphs() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(every import, module-level run-time imports) between first-party modules."""
    files = {module_name(p): p for pkg in FIRST_PARTY for p in (ROOT / pkg).rglob("*.py")}
    known = set(files)
    every: dict[str, set[str]] = {m: set() for m in files}
    runtime: dict[str, set[str]] = {m: set() for m in files}
    for module, path in files.items():
        for target, top in imports_of(module, path.name == "__init__.py",
                                      path.read_text(), known):  # fmt: skip
            if target == module:
                continue
            every[module].add(target)
            if top:
                runtime[module].add(target)
    return every, runtime


def test_every_import_follows_the_layer_rules():
    every, _ = project_graphs()
    assert layer_violations(every) == []


def test_no_import_cycles():
    _, runtime = project_graphs()
    assert cycles(runtime) == []


def test_the_core_never_imports_the_shell():
    every, _ = project_graphs()
    core = {m: t for m, t in every.items() if m.split(".")[0] in CORE}
    assert core, "the scan found no core modules"
    assert not [t for ts in core.values() for t in ts if t.startswith("domainserver")]


def test_the_transports_never_touch_the_store_or_each_other():
    every, _ = project_graphs()
    for module, targets in every.items():
        transports = ("domainserver.wire", "domainserver.http", "domainserver.console")
        if layer_of(module) in transports:
            others = {*transports, "domainserver.store"} - {layer_of(module)}
            assert not [t for t in targets if layer_of(t) in others]


def test_the_checks_catch_what_they_claim():
    # A transport reaching into the store, and the core into the shell, are refused...
    assert layer_violations({"domainserver.wire.mutes": ["domainserver.store.mutes"]})
    assert layer_violations({"permissions.parse": ["domainserver.config"]})
    assert layer_violations({"domainserver.http.bans": ["domainserver.wire.ops"]})
    assert not layer_violations({"domainserver.http.bans": ["domainserver.services.bans"]})
    # ...a module in no layer is an error, and a two-module circle is a cycle.
    with pytest.raises(AssertionError):
        layer_of("domainserver.somewhere_new")
    assert cycles({"permissions.model": ["permissions.describe"],
                   "permissions.describe": ["permissions.model"]}) == [
        ["permissions.describe", "permissions.model"]
    ]  # fmt: skip
    module = "domainserver.wire.mutes"
    source = "from ..store import mutes\nfrom . import ops\ndef f():\n    from ..http import x\n"
    known = {"domainserver.store.mutes", "domainserver.wire.ops"}
    assert imports_of(module, False, source, known) == [
        ("domainserver.store.mutes", True),
        ("domainserver.wire.ops", True),
        ("domainserver.http", False),
    ]


def test_no_module_is_over_400_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for pkg in FIRST_PARTY
        for p in (ROOT / pkg).rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 400
    }
    assert long == {}
