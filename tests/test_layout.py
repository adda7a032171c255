"""The layout shows the architecture (#18): infrastructure in `core`, web plumbing in `web`,
domains as packages, faces (`admin`, `widget`) that call services and never each other, and
no import cycle between modules."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "widget_server"
FACES = {"admin", "widget", "api"}
# what may stand at the top level: the factory, the CLI and the table of every model
TOP_LEVEL = {"__init__.py", "cli.py", "models.py"}


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Module-level imports between the package's modules (imports inside functions are
    deferred on purpose and are not edges)."""
    graph = {}
    for path in PACKAGE.rglob("*.py"):
        name = _module(path)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.parse(path.read_text()).body:
            if not isinstance(node, ast.ImportFrom):
                continue
            base = package.split(".")[: len(package.split(".")) - node.level + 1] \
                if node.level else []
            target = ".".join([*base, node.module] if node.module else base) \
                if node.level else (node.module or "")
            if not target.startswith("widget_server"):
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                as_path = PACKAGE.parent / candidate.replace(".", "/")
                edges.add(candidate if as_path.with_suffix(".py").exists() or as_path.is_dir()
                          else target)
        graph[name] = edges - {name}
    return graph


def test_only_the_factory_cli_and_model_table_are_loose_modules():
    assert {p.name for p in PACKAGE.glob("*.py")} == TOP_LEVEL


def _area(module: str) -> str:
    """`widget_server.billing.payments` -> "billing"."""
    return ([*module.split("."), ""])[1]


def test_faces_never_import_each_other():
    crossings = sorted(
        (module, dep) for module, deps in _imports().items() for dep in deps
        if _area(module) in FACES and _area(dep) in FACES and _area(module) != _area(dep))
    assert crossings == []


def test_no_import_cycle_between_modules():
    """A face's package imports its route modules, which import its blueprint back: that
    registration pattern is the one loop allowed, so face packages' own modules are left out."""
    graph = {m: {d for d in deps if d.split(".")[-1] not in FACES}
             for m, deps in _imports().items() if m.split(".")[-1] not in FACES}
    seen, on_path, cycles = set(), [], []

    def visit(node):
        if node in on_path:
            cycles.append([*on_path[on_path.index(node):], node])
            return
        if node in seen:
            return
        seen.add(node)
        on_path.append(node)
        for dep in sorted(graph.get(node, ())):
            visit(dep)
        on_path.pop()

    for module in sorted(graph):
        visit(module)
    assert cycles == []
