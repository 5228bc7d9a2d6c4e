"""Atomic reads and writes of the results store: safetensors for pytrees, JSON for the rest.

Every write goes to a temporary file in the same directory and is moved into place with
`os.replace`, so a reader never sees a half-written file. No pickle anywhere.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jax
import numpy as np
from safetensors.numpy import load_file, save_file


def path_str(path: Iterable[Any]) -> str:
    """A pytree key path as the layer path string files, masks and plots key on:
    `actor/dense_0/kernel`."""
    return "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in path)


def atomic_write(path: Path, write: Callable[[str], object]) -> None:
    """`write(tmp)` into a temporary file beside `path`, synced, made readable (0644), then moved
    into place: a reader sees the old file or the whole new one, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_json(path: Path, data: Any) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=1, sort_keys=True)

    atomic_write(path, write)


def load_json(path: Path) -> Any:
    with open(path) as f:
        return json.load(f)


def save_text(path: Path, text: str) -> None:
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)

    atomic_write(path, write)


def flatten_tree(tree: Any) -> dict[str, np.ndarray]:
    """{'actor/dense_0/kernel': array, ...}"""
    return {path_str(p): np.asarray(x) for p, x in jax.tree_util.tree_flatten_with_path(tree)[0]}


def unflatten_tree(flat: dict[str, np.ndarray]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key in sorted(flat):
        node = tree
        *parents, leaf = key.split("/")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = flat[key]
    return tree


def save_tree(path: Path, tree: Any, metadata: dict[str, str] | None = None) -> None:
    """A pytree as safetensors, keys `actor/dense_0/kernel`; optional string metadata."""
    flat = {k: np.ascontiguousarray(v) for k, v in flatten_tree(tree).items()}
    atomic_write(path, lambda tmp: save_file(flat, tmp, metadata=metadata))


def load_tree(path: Path) -> dict[str, Any]:
    return unflatten_tree(load_file(str(path)))
