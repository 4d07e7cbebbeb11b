"""The shape of the imports in lms/, read from the source with ``ast`` (nothing is imported).

(a) lms/proctor is a context-free service: it imports nothing from the modules that ask it for
    face checks (lms.player, lms.quiz); they hear outcomes through lms.proctor.signals.
(b) There is no import cycle among the modules of lms/. Every import statement counts, at module
    level or inside a function: an import moved into a function to dodge a cycle still makes the
    two modules depend on each other, so it is reported too.

Package ``__init__`` files. Importing ``lms.x.y`` runs ``lms/x/__init__.py`` first, but only its
module-level code; the functions it defines (``init_app``) run when the app factory calls them,
after every module has been imported. So a package is two things here:
- the node ``lms.x``, reached only by importing the package itself (``from lms import x``,
  ``import lms.x``), with every import of its ``__init__`` as edges, as for any module;
- for every module outside ``lms.x`` that imports one of its submodules, the ``__init__``'s
  module-level imports are added as edges of that importer, since they run on its behalf.
  (A module inside the package is skipped: its package is initialised before it, always.)
That way an ``__init__`` that only holds ``init_app`` (importing its receivers inside the
function) does not pull every submodule into a cycle, while one that imports submodules at
module level is held to the same rule as everything else.
"""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "lms"
CHECK_ASKERS = ("lms.player", "lms.quiz")  # modules that ask the proctor for checks


def module_paths(root: Path = ROOT, package: str = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> file, for every .py file of the package."""
    modules = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _base_of(module: str, path: Path, level: int) -> str:
    """The package a relative import with ``level`` dots starts from."""
    base = module.split(".") if _is_package(path) else module.split(".")[:-1]
    if level > 1:
        base = base[:-(level - 1)]
    return ".".join(base)


def _targets(node: ast.AST, module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of the package one import statement loads."""
    if isinstance(node, ast.Import):
        return {_known(alias.name, modules) for alias in node.names} - {None}
    base = _base_of(module, path, node.level) if node.level else ""
    source = ".".join(part for part in (base, node.module or "") if part)
    found = set()
    for alias in node.names:
        submodule = f"{source}.{alias.name}"
        found.add(submodule if submodule in modules else _known(source, modules))
    return found - {None}


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of a dotted name that is a module of the package (import a.b.c loads a.b.c)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _module_level_imports(tree: ast.Module):
    """Import statements that run when the module is imported (not those inside a function)."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            pending.extend(ast.iter_child_nodes(node))


def direct_imports(modules: dict[str, Path]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per module: what any of its import statements loads, and what its module-level ones load."""
    every, module_level = {}, {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        every[module] = set().union(*(_targets(node, module, path, modules) for node in ast.walk(tree)
                                      if isinstance(node, (ast.Import, ast.ImportFrom))))
        module_level[module] = set().union(*(_targets(node, module, path, modules)
                                             for node in _module_level_imports(tree)))
        every[module].discard(module)
        module_level[module].discard(module)
    return every, module_level


def _packages_run_for(importer: str, target: str) -> list[str]:
    """Ancestor packages of ``target`` whose __init__ runs on behalf of ``importer``."""
    parts = target.split(".")
    ancestors = [".".join(parts[:i]) for i in range(1, len(parts))]
    return [package for package in ancestors if not (importer == package or importer.startswith(package + "."))]


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    every, module_level = direct_imports(modules)
    graph = {}
    for module, targets in every.items():
        edges = set(targets)
        for target in targets:
            for package in _packages_run_for(module, target):
                edges |= module_level.get(package, set())
        edges.discard(module)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_the_proctor_imports_nothing_from_the_modules_that_ask_for_checks():
    modules = module_paths()
    every, _ = direct_imports(modules)
    offending = {module: sorted(t for t in targets if t.startswith(CHECK_ASKERS))
                 for module, targets in every.items() if module.startswith("lms.proctor")}
    assert {module: targets for module, targets in offending.items() if targets} == {}


def test_there_is_no_import_cycle_in_lms():
    assert cycles(import_graph(module_paths())) == []


def test_a_planted_cycle_is_found(tmp_path):
    """The checker itself: two modules that import each other, one of them inside a function."""
    package = tmp_path / "lms"
    (package / "a").mkdir(parents=True)
    (package / "__init__.py").write_text("from .core import thing\n")
    (package / "core.py").write_text("thing = 1\n")
    (package / "a" / "__init__.py").write_text("def init_app(app):\n    from .b import receiver\n")
    (package / "a" / "b.py").write_text("from ..core import thing\nfrom . import c\n")
    (package / "a" / "c.py").write_text("def later():\n    from lms.a.b import thing\n")
    (package / "d.py").write_text("from .a import b\n")
    modules = module_paths(tmp_path)
    assert cycles(import_graph(modules)) == [["lms.a.b", "lms.a.c"]]
    (package / "a" / "c.py").write_text("def later():\n    return 1\n")
    assert cycles(import_graph(module_paths(tmp_path))) == []
    # lms.d imports lms.a.c, which loads lms.a's __init__; when that imports lms.a.b at module level,
    # and lms.a.b imports lms.d, the three form a cycle that no single file shows.
    (package / "d.py").write_text("from .a import c\n")
    (package / "a" / "b.py").write_text("def later():\n    from lms import d\n")
    assert cycles(import_graph(module_paths(tmp_path))) == []  # init_app's import runs later
    (package / "a" / "__init__.py").write_text("from .b import thing\n")
    assert cycles(import_graph(module_paths(tmp_path))) == [["lms.a.b", "lms.d"]]


def package_imports(every: dict[str, set[str]], package: str, skip: tuple[str, ...] = ()) -> set[str]:
    """The other lms packages that the modules of ``lms.<package>`` import (lms.core, lms.x, ...)."""
    found = set()
    for module, targets in every.items():
        if (module + ".").startswith(f"{PACKAGE}.{package}.") and not module.startswith(skip):
            found |= {".".join(target.split(".")[:2]) for target in targets}
    return found - {f"{PACKAGE}.{package}", PACKAGE}


def test_core_imports_no_feature_package():
    every, _ = direct_imports(module_paths())
    assert package_imports(every, "core") <= {"lms.extensions"}


def test_institutions_and_learners_do_not_import_each_other_both_ways():
    """Institutions (classes, applications) are about learners; learners' pages and visibility read
    applications. One direction only: the institutions package imports nothing from lms.learners."""
    every, _ = direct_imports(module_paths())
    assert "lms.learners" not in package_imports(every, "institutions")


def test_the_learners_package_knows_nothing_of_faces():
    """The proctor reads learners; registration with its face enrolment, and the learner's materials page
    (the 1-inch photo is the enrolment photo), are lms.registration, above both."""
    every, _ = direct_imports(module_paths())
    assert package_imports(every, "learners") & {"lms.proctor", "lms.registration"} == set()
