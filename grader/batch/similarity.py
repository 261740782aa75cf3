"""Identical and near-identical submissions, flagged for the instructor (never shown to students).

- **identical**: the same bytes, or the same code once names and literals are abstracted (a copy
  with its variables renamed and numbers changed is still the same program).
- **near-identical**: the normalised source of two submissions shares most of its structure.

The measure: each ``.py`` file (a notebook: its code cells, in order) is parsed, and its syntax
tree is walked in order into a sequence of node types, with every name, attribute, argument
name and literal abstracted to its kind (``Name``, ``Constant``...). Docstrings and comments do
not appear in it. From the sequence we take every run of ``SHINGLE`` consecutive node types; runs
that also occur in the exercise's stub are dropped (every student starts from it). Two
submissions' similarity is the Jaccard index of their sets of runs, |A ∩ B| / |A ∪ B|, between
0 and 1. A pair at or above ``NEAR_IDENTICAL`` is flagged, provided each has at least
``MIN_SHINGLES`` runs of its own (a nearly empty file is similar to everything).

Saved models (.keras, .h5) are compared by bytes only.
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

SHINGLE = 6
NEAR_IDENTICAL = 0.90
MIN_SHINGLES = 15
MAX_SOURCE_BYTES = 2_000_000  # a bigger file is compared by bytes only (parsing it costs too much)


@dataclass(frozen=True)
class SimilarPair:
    a: str
    b: str
    kind: str  # "identical bytes" | "identical after renaming" | "near-identical"
    similarity: float

    def describe(self, other: str) -> str:
        if self.kind == "near-identical":
            return f"near-identical to {other} (similarity {self.similarity:.2f})"
        return f"{self.kind} to {other}"


def source_of(path: Path) -> str | None:
    """The Python source of a submission, or None (a saved model, unreadable, too big)."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_SOURCE_BYTES:
            return None
        if path.suffix.lower() == ".py":
            return path.read_text(encoding="utf-8", errors="replace")
        if path.suffix.lower() == ".ipynb":
            notebook = json.loads(path.read_text(encoding="utf-8", errors="replace"))
            cells = notebook.get("cells", []) if isinstance(notebook, dict) else []
            lines: list[str] = []
            for cell in cells:
                if isinstance(cell, dict) and cell.get("cell_type") == "code":
                    text = cell.get("source", "")
                    text = "".join(text) if isinstance(text, list) else str(text)
                    # Magics and shell lines are not Python.
                    lines.extend(line for line in text.splitlines() if not line.lstrip().startswith(("%", "!")))
            return "\n".join(lines)
    except (OSError, ValueError):
        return None
    return None


def node_sequence(source: str) -> list[str] | None:
    """The syntax tree's node types in order, names and literals abstracted; None when it does
    not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    sequence: list[str] = []
    stack: list[ast.AST] = [tree]
    while stack:  # depth first, in source order: nearby code gives nearby node types
        node = stack.pop()
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            continue  # a docstring or a bare string: commentary, not code
        if isinstance(node, (ast.expr_context, ast.operator, ast.cmpop, ast.unaryop, ast.boolop)):
            sequence.append(type(node).__name__)
            continue
        sequence.append(type(node).__name__)
        stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return sequence


def shingles(sequence: list[str], size: int = SHINGLE) -> set[str]:
    return {"|".join(sequence[i : i + size]) for i in range(max(0, len(sequence) - size + 1))}


def jaccard(a: set[str], b: set[str]) -> float:
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def find_similar(submissions: dict[str, Path], stub: Path | None = None) -> list[SimilarPair]:
    """Pairs of students whose submissions are identical or near-identical, most similar first."""
    stub_shingles: set[str] = set()
    if stub is not None and Path(stub).is_file():
        stub_source = source_of(Path(stub))
        stub_sequence = node_sequence(stub_source) if stub_source is not None else None
        stub_shingles = shingles(stub_sequence) if stub_sequence else set()

    digests: dict[str, str] = {}
    normalised: dict[str, str] = {}
    sets: dict[str, set[str]] = {}
    for student, path in submissions.items():
        try:
            digests[student] = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        except OSError:
            continue
        source = source_of(Path(path))
        sequence = node_sequence(source) if source is not None else None
        if sequence:
            normalised[student] = hashlib.sha256(" ".join(sequence).encode()).hexdigest()
            sets[student] = shingles(sequence) - stub_shingles

    pairs: list[SimilarPair] = []
    for a, b in combinations(sorted(digests), 2):
        if digests[a] == digests[b]:
            pairs.append(SimilarPair(a, b, "identical bytes", 1.0))
        elif a in normalised and normalised.get(a) == normalised.get(b):
            pairs.append(SimilarPair(a, b, "identical after renaming", 1.0))
        elif a in sets and b in sets and min(len(sets[a]), len(sets[b])) >= MIN_SHINGLES:
            score = jaccard(sets[a], sets[b])
            if score >= NEAR_IDENTICAL:
                pairs.append(SimilarPair(a, b, "near-identical", round(score, 3)))
    return sorted(pairs, key=lambda p: (-p.similarity, p.a, p.b))


def flags_by_student(pairs: list[SimilarPair]) -> dict[str, list[str]]:
    flags: dict[str, list[str]] = {}
    for pair in pairs:
        flags.setdefault(pair.a, []).append(pair.describe(pair.b))
        flags.setdefault(pair.b, []).append(pair.describe(pair.a))
    return flags
