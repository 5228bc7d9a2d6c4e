"""Static guards on ticketlab's imports (read with `ast`, never imported): no import cycles, counting
module-level AND function-level imports (`if TYPE_CHECKING:` blocks never run and are ignored), and
function-level imports only for optional heavy extras."""

from __future__ import annotations

import ast
import io
import json
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

import ticketlab

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "ticketlab"
# Top-level packages that may be imported inside a function, because they are optional heavy extras.
LAZY_ALLOWED = {
    "ray",
    "submitit",
    "pybullet",
    "pybullet_envs_gymnasium",
    "ale_py",
    "brax",
    "torch",
    "stable_baselines3",
    "tensorboardX",
    "wandb",
    "minatar",
    "cv2",
    "mujoco",
    "envpool",
    "sklearn",
    "mlxtend",
}
EXTRA_COMMENT = re.compile(r"\b(extra|optional)", re.IGNORECASE)
# The command line's front parses the arguments before it imports the module that runs a command
# (and JAX with it), so `--help` and a mistyped option answer at once: its lazy imports of the
# package itself are allowed, each commented "front".
FRONT = "ticketlab/cli/main.py"
FRONT_COMMENT = re.compile(r"\bfront\b")
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def module_files(src: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under src/package (`a/__init__.py` is `a`)."""
    modules = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def executed_imports(tree: ast.AST):
    """Yield (import statement, inside_a_function) for every import at any depth that can run."""
    stack = [(tree, False)]
    while stack:
        node, lazy = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, lazy
            continue
        test = node.test if isinstance(node, ast.If) else None
        type_checking = "TYPE_CHECKING" in (getattr(test, "id", None), getattr(test, "attr", None))
        children = node.orelse if type_checking else ast.iter_child_nodes(node)
        stack.extend((child, lazy or isinstance(node, FUNCTIONS)) for child in children)


def import_targets(node: ast.Import | ast.ImportFrom, module: str, modules: dict[str, Path]) -> set[str]:
    """The modules of `modules` that an import statement in `module` runs: `import a.b` -> a.b;
    `from a.b import c` -> a.b.c if that is a module, else a.b (relative imports resolved). Parent
    packages of a target run too (their `__init__`) and are added, except the importer's own
    enclosing packages, which are already running whenever the importer runs."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module if modules[module].name == "__init__.py" else module.rpartition(".")[0]
            parts = package.split(".")[: package.count(".") + 2 - node.level]
            base = ".".join(parts + ([base] if base else []))
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
    targets = set()
    for name in names:
        while name and name not in modules:  # e.g. `import pkg.mod.attr`
            name = name.rpartition(".")[0]
        if name:
            parents = [name.rsplit(".", n)[0] for n in range(1, name.count(".") + 1)]
            targets |= {name} | {p for p in parents if p in modules and not f"{module}.".startswith(f"{p}.")}
    return targets


def import_graph(src: Path, package: str) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (module level and function level)."""
    modules = module_files(src, package)
    graph = {m: set() for m in modules}
    for module, path in modules.items():
        for node, _ in executed_imports(ast.parse(path.read_text(), str(path))):
            graph[module] |= import_targets(node, module, modules)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected component of size > 1, and each self-importing module, as a sorted
    list of modules (Tarjan's algorithm, iterative)."""
    index, low, stack, cycles = {}, {}, [], []

    def enter(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        return node, iter(sorted(graph.get(node, ())))

    for root in sorted(graph):
        work = [] if root in index else [enter(root)]
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    work.append(enter(succ))
                    break
                if succ in stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component, stack[:] = stack[stack.index(node) :], stack[: stack.index(node)]
                    if len(component) > 1 or node in graph.get(node, ()):
                        cycles.append(sorted(component))
    return sorted(cycles)


def lazy_import_violations(src: Path, package: str) -> list[str]:
    """`path:line: import` for each function-level import that is not of an allowed optional extra
    or lacks an "extra"/"optional" comment on its line(s) or the line directly above."""
    found = []
    for path in module_files(src, package).values():
        text = path.read_text()
        tokens = tokenize.generate_tokens(io.StringIO(text).readline)
        comments = {t.start[0]: t.string for t in tokens if t.type == tokenize.COMMENT}
        for node, lazy in executed_imports(ast.parse(text, str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            lines = range(node.lineno - 1, node.end_lineno + 1)
            extra = not getattr(node, "level", 0) and all(n.split(".")[0] in LAZY_ALLOWED for n in names)
            front = path.relative_to(src).as_posix() == FRONT and all(n.startswith(f"{package}.") for n in names)
            said = EXTRA_COMMENT if extra else FRONT_COMMENT
            if lazy and not ((extra or front) and any(said.search(comments.get(i, "")) for i in lines)):
                source = " ".join(ast.get_source_segment(text, node).split())
                found.append((str(path.relative_to(src.parent)), node.lineno, source))
    return [f"{p}:{line}: {source}" for p, line, source in sorted(found)]


def write_package(root: Path, files: dict[str, str]) -> None:
    for name, body in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body)


def test_no_import_cycles():
    cycles = find_cycles(import_graph(SRC, PACKAGE))
    assert not cycles, "import cycles (module- and function-level imports):\n" + "\n".join(
        f"  cycle of {len(c)}: {', '.join(c)}" for c in cycles
    )


@pytest.mark.parametrize("lazy_import", ["import pkg.a", "from . import a", "from .a import VALUE"])
def test_detector_finds_planted_cycle(tmp_path, lazy_import):
    write_package(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "import pkg.b\nVALUE = 1\n",
            "pkg/b.py": f"def f():\n    {lazy_import}\n",
            "pkg/c.py": "from typing import TYPE_CHECKING\nfrom pkg import a\nif TYPE_CHECKING:\n    import pkg.c\n",
        },
    )
    assert find_cycles(import_graph(tmp_path, "pkg")) == [["pkg.a", "pkg.b"]]


def test_detector_passes_acyclic_package(tmp_path):
    write_package(
        tmp_path,
        {
            "pkg/__init__.py": "from pkg.sub import leaf\n",
            "pkg/a.py": "import os\nimport pkg.b\nfrom . import sub\n",
            "pkg/b.py": "def f():\n    from .sub.leaf import VALUE\n",
            "pkg/sub/__init__.py": "",
            "pkg/sub/leaf.py": "from .. import sub\nVALUE = 1\n",
        },
    )
    assert find_cycles(import_graph(tmp_path, "pkg")) == []


def test_lazy_imports_only_for_optional_extras():
    violations = lazy_import_violations(SRC, PACKAGE)
    assert not violations, (
        f"{len(violations)} function-level imports that are not commented optional "
        f"extras of {sorted(LAZY_ALLOWED)}:\n" + "\n".join(violations)
    )


LAYERS = ticketlab.LAYERS


def layer_of(module: str) -> int:
    """The rank of a module's folder in `ticketlab.LAYERS` (the package root: above every layer)."""
    parts = module.split(".")
    return len(LAYERS) if len(parts) == 1 else LAYERS.index(parts[1])


def test_the_folders_are_the_layers():
    """Every module lives in a layer folder and every folder is a layer: nothing loose at the top."""
    folders = {p.name for p in (SRC / PACKAGE).iterdir() if (p / "__init__.py").exists()}
    loose = sorted(p.name for p in (SRC / PACKAGE).glob("*.py") if p.name != "__init__.py")
    assert folders == set(LAYERS), f"folders {sorted(folders)} against LAYERS {LAYERS}"
    assert not loose, f"modules outside a layer folder: {loose}"


def test_layers_point_down():
    graph = import_graph(SRC, PACKAGE)
    upward = sorted(
        f"{a} ({LAYERS[layer_of(a)]}) imports {b} ({LAYERS[layer_of(b)]})"
        for a, targets in graph.items()
        for b in targets
        if PACKAGE not in (a, b) and layer_of(b) > layer_of(a)
    )
    assert not upward, "imports that point up:\n  " + "\n  ".join(upward)


RUNTIME_CHECK = """
import importlib, json, sys
layers, modules = json.loads(sys.argv[1]), json.loads(sys.argv[2])
leaks, heavy = [], {}
for rank, layer in enumerate(layers):
    for module in modules[layer]:
        importlib.import_module(module)
    loaded = [m for m in sys.modules if m.startswith("ticketlab.") and m.split(".")[1] in layers[rank + 1:]]
    leaks += [f"importing the {layer} layer loaded {m}" for m in sorted(loaded)]
    heavy[layer] = [m for m in ("jax", "matplotlib") if m in sys.modules]
print(json.dumps({"leaks": leaks, "heavy": heavy}))
"""


def test_importing_a_layer_loads_nothing_above_it():
    """At run time, not only in the source: one interpreter imports every module layer by layer,
    bottom up, and after each layer no module of a higher one is loaded (a package `__init__` that
    imports upward would show here); the core loads neither JAX nor matplotlib, and the layers below
    the environments no matplotlib (gymnax's own import loads it)."""
    modules = {layer: [] for layer in LAYERS}
    for module in module_files(SRC, PACKAGE):
        if module != PACKAGE and not module.endswith(".__main__"):  # (running it would run the command line)
            modules[module.split(".")[1]].append(module)
    done = subprocess.run(
        [sys.executable, "-c", RUNTIME_CHECK, json.dumps(LAYERS), json.dumps(modules)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert not result["leaks"], "\n".join(result["leaks"])
    assert result["heavy"]["core"] == []
    below = LAYERS[: LAYERS.index("envs")]
    assert all("matplotlib" not in result["heavy"][layer] for layer in below), result["heavy"]


def test_the_package_root_loads_nothing():
    """`import ticketlab` resolves its public names on first use (PEP 562)."""
    code = "import sys, ticketlab; print(sorted(m for m in sys.modules if m.startswith(('ticketlab.', 'jax'))))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
