"""Shapes of JSON values (keys and value types) and of Ganeti job files, for comparisons.

Two answers have the same shape when they have the same keys with values of the
same JSON types, recursively; list elements are merged into one element shape.
A job file version's *signature* adds what "exactly Ganeti's format" means
beyond types: key order, compact vs spaced serialisation, and the opcode input's
keys in order.
"""

from __future__ import annotations

import json
from typing import Any


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, list):
        return "list"
    return "dict"


def shape(value: Any, depth: int = 99) -> Any:
    """Keys and types of ``value``; below ``depth`` only the type name."""
    kind = type_name(value)
    if depth <= 0 or kind not in ("dict", "list"):
        return kind
    if kind == "dict":
        return {k: shape(v, depth - 1) for k, v in sorted(value.items())}
    merged: list[Any] = []
    for item in value:
        s = shape(item, depth - 1)
        if s not in merged:
            merged.append(s)
    return ["list", *merged]


def differences(a: Any, b: Any, path: str = "$") -> list[str]:
    """Human-readable paths where shapes ``a`` and ``b`` differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            if key not in a:
                out.append(f"{path}.{key}: only in second")
            elif key not in b:
                out.append(f"{path}.{key}: only in first")
            else:
                out.extend(differences(a[key], b[key], f"{path}.{key}"))
        return out
    if a != b:
        return [f"{path}: {a!r} != {b!r}"]
    return []


def job_file_signature(text: str) -> tuple:
    """What must match between a real and a simulated job file version (not the values)."""
    data = json.loads(text)
    compact = not text.startswith('{"id": ')
    ops = []
    for op in data["ops"]:
        ops.append(
            (
                tuple(op),
                op["status"],
                tuple(op["input"]),
                type_name(op["result"]) if not isinstance(op["result"], list) else ("list", len(op["result"])),
                tuple(type_name(op[k]) for k in ("start_timestamp", "exec_timestamp", "end_timestamp")),
                tuple(sorted({(type_name(e[0]), type_name(e[1]), e[2], type_name(e[3])) for e in op["log"]})),
            )
        )
    top = tuple((k, type_name(v)) for k, v in data.items() if k != "ops")
    return compact, top, tuple(ops)


def signature_sequence(texts: list[str]) -> list[tuple]:
    """Distinct signatures in order of first appearance (duplicate rewrites and extra log lines collapse)."""
    out: list[tuple] = []
    for text in texts:
        sig = job_file_signature(text)
        if sig not in out:
            out.append(sig)
    return out
