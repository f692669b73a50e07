"""``_`` is the gettext function wherever it is imported from :mod:`mamori.i18n`: no function may also use
``_`` as a throw-away name (``kind, _, rest = ...``), which would make its ``_()`` calls fail at run time
(UnboundLocalError before the assignment, "'str' object is not callable" after it)."""

from __future__ import annotations

import ast
from pathlib import Path

SOURCE = Path(__file__).resolve().parent.parent / "src" / "mamori"
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _own_nodes(function: ast.AST) -> list[ast.AST]:
    """The nodes of ``function`` outside the functions nested in it (each has its own scope)."""
    found: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        found.append(node)
        if not isinstance(node, FUNCTIONS):
            stack.extend(ast.iter_child_nodes(node))
    return found


def _shadowing(path: Path, root: Path = SOURCE) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    problems = []
    for function in ast.walk(tree):
        if not isinstance(function, FUNCTIONS):
            continue
        nodes = _own_nodes(function)
        # a comprehension's loop variable lives in the comprehension's own scope
        loop_names = {
            id(name)
            for n in nodes
            if isinstance(n, ast.comprehension)
            for name in ast.walk(n.target)
            if isinstance(name, ast.Name)
        }
        assigned = any(
            isinstance(n, ast.Name)
            and n.id == "_"
            and isinstance(n.ctx, ast.Store)
            and id(n) not in loop_names
            for n in nodes
        )
        calls = sorted(
            n.lineno
            for n in nodes
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_"
        )
        if assigned and calls:
            problems.append(f"{path.relative_to(root)}:{function.lineno} assigns _ and calls _() at {calls}")
    return problems


def test_no_function_both_assigns_and_calls_underscore() -> None:
    problems = [p for path in sorted(SOURCE.rglob("*.py")) for p in _shadowing(path)]
    assert problems == []


def test_the_check_finds_a_shadowed_underscore(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text(
        "from mamori.i18n import _\ndef f(r):\n    a, _, b = r.partition(':')\n    return _('x')\n"
    )
    assert _shadowing(sample, tmp_path) == ["m.py:2 assigns _ and calls _() at [4]"]
    sample.write_text("from mamori.i18n import _\ndef f(r):\n    n = [a for a, _ in r]\n    return _('x')\n")
    assert _shadowing(sample, tmp_path) == []  # the comprehension's _ is its own


def _raw_messages(path: Path, root: Path = SOURCE) -> list[str]:
    """``InputError(path, "...")`` calls whose problem is an English literal or f-string, not a text that
    goes through gettext (a frame without words, such as ``f"{where}: {problem}"``, is fine)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("InputError", "UnsupportedFormat")
            and len(node.args) >= 2
        ):
            continue
        problem = node.args[1]
        if isinstance(problem, ast.Constant):
            words = [str(problem.value)]
        elif isinstance(problem, ast.JoinedStr):
            words = [str(v.value) for v in problem.values if isinstance(v, ast.Constant)]
        else:
            continue
        if any(c.isalpha() for text in words for c in text):
            found.append(f"{path.relative_to(root)}:{node.lineno}")
    return found


def test_every_error_problem_goes_through_gettext() -> None:
    found = [p for path in sorted(SOURCE.rglob("*.py")) for p in _raw_messages(path)]
    assert found == []


def test_the_check_finds_an_english_literal(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text(
        "def f(p, w, x):\n"
        "    InputError(p, f'{w}: {x}')\n"
        "    InputError(p, _('bad {x}').format(x=x))\n"
        "    InputError(p, f'bad {x}')\n"
        "    InputError(p, 'bad')\n"
    )
    assert _raw_messages(sample, tmp_path) == ["m.py:4", "m.py:5"]
