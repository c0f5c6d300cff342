"""The package layout is the data flow (docs/architecture.md): imports point down only, modules and
functions stay small, and every file or module the docs and docstrings cite exists."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "prosody_tts"

#: The layers, top of the data flow first: a module may import from its own layer and the ones
#: before it, never from a later one (lazy imports inside functions included).
LAYERS: tuple[tuple[str, ...], ...] = (
    ("constants",),
    ("text",),
    ("processing",),
    ("configuration",),
    ("modeling", "hub"),
    ("data",),
    ("evaluation",),
    ("trainers",),
    ("pipelines",),
    ("demo",),
    ("cli", "registration", "__init__"),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _layer(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0] if parts else "__init__"


def _imported_layers(path: Path) -> set[tuple[str, int]]:
    """(layer, line) of every prosody_tts module ``path`` imports."""
    package = list(path.relative_to(ROOT).with_suffix("").parts)
    package = package[:-1]  # the importing module's package (an __init__ is its own package)
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            module, names = "", []
            for alias in node.names:
                if alias.name.startswith("prosody_tts."):
                    found.add((alias.name.split(".")[1], node.lineno))
        else:
            continue
        if module == "prosody_tts":  # `from prosody_tts import x`: x is the layer (or the version)
            found.update((name, node.lineno) for name in names if name in RANK)
        elif module.startswith("prosody_tts."):
            found.add((module.split(".")[1], node.lineno))
    return found


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down_the_data_flow(path):
    own = _layer(path)
    assert own in RANK, f"{path}: the layer {own!r} is not in LAYERS (add it to docs/architecture.md too)"
    upward = [
        f"line {line}: imports {layer}"
        for layer, line in sorted(_imported_layers(path))
        if layer in RANK and RANK[layer] > RANK[own]
    ]
    assert not upward, f"{path.relative_to(ROOT)} imports from a later layer: {upward}"


def test_no_module_over_the_size_limit():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in _modules()}
    assert {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES} == {}


def test_long_functions_say_why_in_their_docstring():
    """A function over the limit (docstring included) must say why it is long ("Why ..." / "Long because")."""
    unexplained = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                doc = ast.get_docstring(node) or ""
                if length > MAX_FUNCTION_LINES and not re.search(r"\b(Why|Long because)\b", doc):
                    unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    assert unexplained == []


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *_modules()]


def test_every_cited_file_exists():
    """Paths like ``prosody_tts/data/occurrences.py``, ``tests/data/test_samplers.py`` or
    ``docs/streaming.md`` in the README, the docs and the docstrings name files that exist."""
    pattern = re.compile(r"(?<![\w/.])((?:prosody_tts|tests|docs|recipes|benchmarks)/[\w/.-]+\.(?:py|md|json))")
    missing = []
    for document in _documents():
        for match in pattern.finditer(document.read_text(encoding="utf-8")):
            cited = match.group(1)
            if "*" not in cited and not (ROOT / cited).exists():
                missing.append(f"{document.relative_to(ROOT)}: {cited}")
    assert missing == []


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, AttributeError, ValueError):  # a parent is a module, not a package
        return False


def test_every_cited_module_exists():
    """Dotted names like ``prosody_tts.data.sharding`` (optionally followed by an attribute) resolve."""
    pattern = re.compile(r"(?<![\w.])(prosody_tts(?:\.\w+)+)")
    missing = []
    for document in _documents():
        for cited in set(pattern.findall(document.read_text(encoding="utf-8"))):
            parts = cited.split(".")
            # the longest prefix that is a module, then the rest must be attributes of it
            for cut in range(len(parts), 0, -1):
                name = ".".join(parts[:cut])
                if _is_module(name):
                    obj = importlib.import_module(name)
                    ok = True
                    for attribute in parts[cut:]:
                        if not hasattr(obj, attribute):
                            ok = False
                            break
                        obj = getattr(obj, attribute)
                    if not ok:
                        missing.append(f"{document.relative_to(ROOT)}: {cited}")
                    break
            else:
                missing.append(f"{document.relative_to(ROOT)}: {cited}")
    assert missing == []
