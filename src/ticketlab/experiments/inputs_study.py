"""Dense training on the inputs a ticket kept (paper figures 5 and 8, bottom): take the input
units whose first-layer connections a chain's mask kept at one level, and train dense agents that
see only those, against agents that see everything and agents that see as many random inputs.

An input unit is a row of a dense first layer (one flattened observation dimension, or pixel) or
an input channel of a conv first layer. An agent "sees only" a set of inputs when every module's
first layer (actor and critic alike) has the other inputs' connections masked to zero from the
start to the end of training: the same as zeroing those observation dimensions, through the same
masked training program as IMP. Every other weight is trained, dense.

The three arms of each seed start from that seed's dense initialization (level 0 of the run) and
share one training key, so they differ in their inputs alone. Results live beside the run, under
`inputs/<condition>-level_LL/`, and a second call with the same arguments only redraws the figure.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ticketlab.agents.output import RunKeys
from ticketlab.agents.registry import AGENTS
from ticketlab.core.errors import ConfigError
from ticketlab.experiments.experts import resolve_expert
from ticketlab.imp.keys import DATA, INPUT_CHOICE, INPUT_STUDY, run_key
from ticketlab.imp.program import build, stack_trees
from ticketlab.networks.network import first_layer
from ticketlab.pruning.conditions import CONDITIONS, DENSE
from ticketlab.pruning.masks import ones_mask
from ticketlab.pruning.summaries import input_rows
from ticketlab.store import files, paths
from ticketlab.store.completion import seed_complete
from ticketlab.store.rundir import load_run_config

ARMS = ("all_inputs", "kept_inputs", "random_inputs")
"""Every input; only the inputs the chain's mask kept; as many inputs drawn uniformly at random
(per seed, from a key of the seed and level alone)."""


def kept_inputs(module_mask: dict) -> np.ndarray:
    """Bool per input unit of a module's first layer: at least one connection survives."""
    return np.asarray(input_rows(module_mask[first_layer(module_mask)]["kernel"]).any(axis=1))


def restrict_inputs(mask, keep: np.ndarray):
    """`mask` with every module's first-layer connections of the inputs not in `keep` set to
    False (rows of a dense kernel, input channels of a conv kernel); the rest unchanged."""
    out = {}
    for module, layers in mask.items():
        if not isinstance(layers, dict) or first_layer(layers) not in layers:
            out[module] = layers
            continue
        layer = first_layer(layers)
        kernel = np.asarray(layers[layer]["kernel"])
        if kernel.ndim == 4:
            cut = kernel & keep.reshape(1, 1, -1, 1)
        else:
            cut = (kernel.reshape(-1, kernel.shape[-1]) & keep[:, None]).reshape(kernel.shape)
        out[module] = {**layers, layer: {**layers[layer], "kernel": jnp.asarray(cut)}}
    return out


def random_inputs(key, n_inputs: int, count: int) -> np.ndarray:
    """`count` of `n_inputs` input units, uniformly at random, as a bool vector."""
    chosen = np.asarray(jax.random.permutation(key, n_inputs))[:count]
    keep = np.zeros(n_inputs, bool)
    keep[chosen] = True
    return keep


def arm_inputs(module_mask: dict, key) -> dict[str, np.ndarray]:
    """The inputs each arm sees, from a level's mask of the acting module: all, the kept ones,
    and as many drawn with `key`."""
    kept = kept_inputs(module_mask)
    return {
        "all_inputs": np.ones_like(kept),
        "kept_inputs": kept,
        "random_inputs": random_inputs(key, kept.size, int(kept.sum())),
    }


@dataclasses.dataclass(frozen=True)
class Study:
    """One dense-training study: a finished run, the level and chain whose mask chooses the
    inputs, and the seeds it trains (those whose level finished)."""

    run: Path
    level: int
    condition: str
    seeds: tuple[int, ...]

    @property
    def dir(self) -> Path:
        return Path(self.run) / "inputs" / f"{self.condition}-level_{self.level:02d}"

    @property
    def results(self) -> Path:
        return self.dir / "results.json"


def study_seeds(run: Path, level: int, condition: str) -> tuple[int, ...]:
    """Seeds whose `level` is finished and whose chain of `condition` did not fail there."""
    cfg = load_run_config(run)
    return tuple(
        s
        for s in range(cfg.seeds)
        if seed_complete(run, level, s) and paths.tree_file(run, level, s, condition, "best").exists()
    )


def check_study(run: Path, level: int, condition: str) -> Study:
    """The study of (run, level, condition), or a one-line error naming the bad field."""
    cfg = load_run_config(run)
    if condition not in CONDITIONS:
        raise ConfigError("condition", f"unknown {condition!r}; allowed: {', '.join(CONDITIONS.names())}")
    if condition not in cfg.imp.conditions:
        raise ConfigError("condition", f"{run} has no {condition!r} chain; it has: {', '.join(cfg.imp.conditions)}")
    if not 1 <= level < cfg.levels:
        raise ConfigError("level", f"must be in 1..{cfg.levels - 1} (the run's pruned levels), got {level}")
    seeds = study_seeds(run, level, condition)
    if not seeds:
        raise ConfigError(
            "level",
            f"level {level} of {run} is not finished for any seed (or every {condition} "
            f"chain failed there); run it first",
        )
    return Study(Path(run), level, condition, seeds)


def train_arms(study: Study):
    """(exp, jobs, output) of the three arms of every seed, trained in one compiled call vmapped
    over seeds x arms; `jobs` are (seed, arm, inputs seen) in the output's order."""
    cfg = load_run_config(study.run)
    expert = resolve_expert(cfg) if AGENTS.get(cfg.algo).needs_expert else None
    exp = build(cfg, expert)
    module = exp.agent_def.acting(cfg, exp.spec).module
    jobs, inits, masks = [], [], []
    for seed in study.seeds:
        mask = files.load_tree(paths.tree_file(study.run, study.level, seed, study.condition, "mask"))[module]
        arms = arm_inputs(mask, run_key(seed, DENSE, study.level, INPUT_CHOICE))
        init = files.load_tree(paths.tree_file(study.run, 0, seed, DENSE, "start"))
        for arm in ARMS:
            jobs.append((seed, arm, arms[arm]))
            inits.append(init)
            masks.append(restrict_inputs(ones_mask(init), arms[arm]))
    keys = RunKeys(
        train=jnp.stack([run_key(s, DENSE, study.level, INPUT_STUDY) for s, *_ in jobs]),
        data=jnp.stack([run_key(s, DENSE, 0, DATA) for s, *_ in jobs]),
    )
    return exp, jobs, jax.device_get(exp.trainer(keys, stack_trees(inits), stack_trees(masks)))


def run_study(study: Study) -> dict:
    """Train the three arms of every seed and write `results.json`; an existing one with the same
    seeds is read instead."""
    if study.results.exists():
        done = files.load_json(study.results)
        if tuple(done["seeds"]) == study.seeds:
            return done
    exp, jobs, out = train_arms(study)
    units = jobs[0][2].size
    names = list(exp.spec.obs_names) if len(exp.spec.obs_names) == units else None
    runs = [
        {
            "seed": seed,
            "arm": arm,
            "inputs": int(keep.sum()),
            "kept": [names[j] for j in np.flatnonzero(keep)] if names else np.flatnonzero(keep).tolist(),
            "best_return": float(out.best_return[i]),
            "final_return": float(out.final_return[i]),
            "eval_returns": [float(x) for x in out.eval_returns[i]],
        }
        for i, (seed, arm, keep) in enumerate(jobs)
    ]
    result = {
        "run": str(study.run),
        "level": study.level,
        "condition": study.condition,
        "seeds": list(study.seeds),
        "input_units": int(units),
        "input_names": names,
        "env_steps": int(exp.agent.env_steps),
        "arms": list(ARMS),
        "runs": runs,
    }
    files.save_json(study.results, result)
    return result
