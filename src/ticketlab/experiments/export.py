"""`ticketlab export`: one chain's best params, read from a run's store, written as compact dense
networks (pruning/compact.py) with a JSON description: which inputs each module keeps, by name, and
its layer shapes. Everything is checked before anything is written; an existing non-empty
directory is never written into."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ticketlab.agents.registry import AGENTS, run_spec
from ticketlab.core.errors import ConfigError
from ticketlab.pruning.compact import CompactModule, compact_module
from ticketlab.pruning.conditions import DENSE
from ticketlab.store import files, paths
from ticketlab.store.rundir import check_out, load_run_config


def export_run(run: Path, level: int, seed: int, condition: str, out: Path) -> list[Path]:
    """Write `<module>.safetensors` per network module and `compact.json` into `out`; returns the paths."""
    cfg = load_run_config(run)
    condition = DENSE if level == 0 else condition
    best, mask_file = (paths.tree_file(run, level, seed, condition, kind) for kind in ("best", "mask"))
    if not best.exists() or not mask_file.exists():
        raise ConfigError(
            "level/seed/condition",
            f"{run} has no finished level {level}, seed {seed}, {condition} ({best.name} missing)",
        )
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError("out", f"{out} exists and is not an empty directory; name a new one (nothing is overwritten)")
    check_out(out)
    spec = run_spec(cfg)
    acting = AGENTS.get(cfg.algo).acting(cfg, spec)
    activation = acting.network.activation
    params, mask = files.load_tree(best), files.load_tree(mask_file)
    modules = {name: compact_module(params[name], mask[name], activation) for name in sorted(params)}
    written = []
    for name, module in modules.items():
        tree: dict[str, Any] = {f"dense_{i}": layer for i, layer in enumerate(module.layers)} | module.extra
        path = out / f"{name}.safetensors"
        files.save_tree(path, tree)
        written.append(path)
    description = {
        "run": str(run),
        "level": level,
        "seed": seed,
        "condition": condition,
        "activation": activation,
        "policy_module": acting.module,
        "mean_activation": getattr(acting.network, "mean_activation", "none"),
        "modules": {name: describe(module, spec.obs_names, mask[name]) for name, module in modules.items()},
    }
    files.save_json(out / "compact.json", description)
    return [*written, out / "compact.json"]


def describe(module: CompactModule, obs_names: tuple[str, ...], mask: dict[str, Any]) -> dict[str, Any]:
    shapes = [list(layer["kernel"].shape) for layer in module.layers]
    n_inputs = int(np.asarray(mask["dense_0"]["kernel"]).shape[0])
    names = list(obs_names) if len(obs_names) == n_inputs else [f"input[{i}]" for i in range(n_inputs)]
    return {
        "layers": shapes,
        "inputs": module.inputs.tolist(),
        "input_names": [names[i] for i in module.inputs],
        "hidden_units_kept": [u.tolist() for u in module.units],
        "masked_weights": int(sum(np.asarray(m["kernel"]).sum() for m in mask.values() if isinstance(m, dict))),
        "compact_weights": int(sum(layer["kernel"].size for layer in module.layers)),
    }
