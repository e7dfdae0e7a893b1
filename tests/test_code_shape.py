"""Keep the code the shape issue 15 gave it: small modules, short functions, no import cycles.

Why a test and not a linter setting: these limits are promises about how the code is changed
(one concept per module, one reading of a function per screen), and a test in the suite is the
one check every commit already runs. Migrations are generated history and are left out.
"""

from __future__ import annotations

import ast
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
PYTHON_DIRS = ("app", "flows", "tests", "bench")
JS_FUNCTION = re.compile(r"(?:function\s*[\w$]*\s*\([^)]*\)|\([^()]*\)\s*=>|\b[\w$]+\s*=>)\s*\{")


def _python_files() -> list[Path]:
    files = [ROOT / "worker.py", ROOT / "wsgi.py"]
    for folder in PYTHON_DIRS:
        files += sorted((ROOT / folder).rglob("*.py"))
    return files


def test_no_python_module_is_over_400_lines():
    long = {str(path.relative_to(ROOT)): lines for path in _python_files()
            if (lines := path.read_text().count("\n")) > MAX_MODULE_LINES}
    assert not long, f"split these modules (lines): {long}"


def test_no_python_function_is_over_60_lines():
    long = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "split these functions:\n" + "\n".join(long)


def _js_function_lengths(source: str) -> list[tuple[int, int]]:
    """Return (first line, line count) of every function body in a JS file, by brace matching.

    Braces inside strings and regular expressions are rare in our scripts and would only make a
    count longer, so a function that passes here is short for real.
    """
    found = []
    for match in JS_FUNCTION.finditer(source):
        if source.rfind("\n", 0, match.start()) + 1 == match.start() - 1 and source[match.start() - 1] == "(":
            continue  # the file's module wrapper, `(function () { … })();`, is not a function to split
        depth, index = 0, match.end() - 1
        while index < len(source):
            char = source[index]
            depth += char == "{"
            depth -= char == "}"
            if depth == 0:
                break
            index += 1
        first = source.count("\n", 0, match.start()) + 1
        found.append((first, source.count("\n", match.start(), index) + 1))
    return found


def test_no_javascript_file_or_function_is_too_long():
    long = []
    for path in sorted((ROOT / "app" / "static" / "js").glob("*.js")):
        source = path.read_text()
        if source.count("\n") > MAX_MODULE_LINES:
            long.append(f"{path.name} ({source.count(chr(10))} lines)")
        long += [f"{path.name}:{first} ({lines} lines)" for first, lines in _js_function_lengths(source)
                 if lines > MAX_FUNCTION_LINES]
    assert not long, "split these scripts or functions:\n" + "\n".join(long)


def _module_name(path: Path) -> str:
    if not path.is_relative_to(ROOT):  # a probe file of the checker's own test
        return path.stem
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _app_modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted((ROOT / "app").rglob("*.py"))}


def _reexports(path: Path, package: str) -> dict[str, str]:
    """Map each name a package's __init__ re-exports to the submodule that defines it."""
    names = {}
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.startswith(package + "."):
            names.update({alias.asname or alias.name: node.module for alias in node.names})
        elif isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            names.update({alias.asname or alias.name: f"{package}.{node.module}" for alias in node.names})
    return names


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Every app module `path` imports, at top level or inside a function (hidden cycles count)."""
    me, found = _module_name(path), set()
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            if base not in modules:
                continue
            exported = _reexports(modules[base], base) if modules[base].name == "__init__.py" else {}
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules
                          else exported.get(alias.name, base))
    if path.name == "__init__.py":  # a package re-exporting its own parts is not a dependency cycle
        found = {name for name in found if not name.startswith(me + ".")}
    return found - {me}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of `graph` (its modules in order, the first repeated last), or None."""
    try:
        TopologicalSorter(graph).prepare()
    except CycleError as exc:
        return exc.args[1]
    return None


def test_app_modules_import_each_other_without_cycles():
    modules = _app_modules()
    graph = {name: _imports(path, modules) for name, path in modules.items()}
    cycle = _cycle(graph)
    assert cycle is None, f"an import cycle between app modules: {' -> '.join(cycle or [])}"


def test_the_cycle_check_sees_imports_inside_functions_and_finds_cycles(tmp_path):
    """The checker itself must see a function-local import, or the test above proves nothing."""
    local = tmp_path / "late.py"
    local.write_text("def later():\n    from app.services.runs import lifecycle\n")
    assert "app.services.runs.lifecycle" in _imports(local, {**_app_modules(), "late": local})
    graph = {"app.a": {"app.b"}, "app.b": {"app.c"}, "app.c": {"app.a"}, "app.d": {"app.a"}}
    assert sorted(set(_cycle(graph))) == ["app.a", "app.b", "app.c"]
    assert _cycle({"app.a": {"app.b"}, "app.b": set()}) is None
