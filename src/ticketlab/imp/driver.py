"""The IMP level loop: level 0 trains dense, each later level derives every condition's
(mask, start params) from that condition's previous level on disk, then trains all
(seed, condition) runs of the level in one vmapped, jit-compiled call.

A (level, seed) is finished when its marker file exists; finished pieces are skipped, so a killed
run resumes from its last finished level, and since every level reads its inputs back from the
store and a block's batch is always the same, a resumed run computes exactly what an uninterrupted
one does.
"""
from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from ticketlab import paths, store
from ticketlab.agents.base import Agent, AgentDef
from ticketlab.agents.output import RunKeys
from ticketlab.agents.registry import AGENTS
from ticketlab.analysis.summaries import level_summary
from ticketlab.config import ExperimentConfig
from ticketlab.envs.base import EnvSpec
from ticketlab.envs.registry import make_env
from ticketlab.errors import ConfigError
from ticketlab.imp.completion import log_event, mark_seed_complete, repair, seed_complete
from ticketlab.imp.faults import inject_faults
from ticketlab.imp.keys import DATA, FRESH_INIT, INIT, NEXT_LEVEL, SCORE_BATCH, TRAIN, run_key
from ticketlab.imp.lock import seed_locks
from ticketlab.imp.results import write_results_csv
from ticketlab.imp.rundir import prepare_run_dir
from ticketlab.pruning.conditions import DENSE, Inputs, next_level
from ticketlab.pruning.magnitude import count_after_levels
from ticketlab.pruning.masks import ones_mask, prunable_total, prunable_tree
from ticketlab.pruning.scores import SCORES
from ticketlab.validate import validate


@dataclasses.dataclass
class Experiment:
    """Everything built once per config: env, agent, the compiled batched trainer."""

    cfg: ExperimentConfig
    spec: EnvSpec
    agent_def: AgentDef
    agent: Agent
    prunable: dict
    train_batch: Callable
    _derive: dict = dataclasses.field(default_factory=dict)
    _grads: Any = None

    def derive(self, condition: str) -> Callable:
        """`(keys, best, grads, prev_mask, init, fresh, keep) -> (mask, start)`: the condition's
        next level from the pruning score of its trained params; compiled once per condition and
        vmapped over seeds."""
        if condition not in self._derive:
            score = SCORES.get(self.cfg.imp.score)

            def one(key, best, grads, prev_mask, init, fresh, keep):
                scores = score.fn(best, grads)
                return next_level(condition, Inputs(key=key, scores=scores, prev_mask=prev_mask, init=init,
                                                    fresh=fresh, prunable=self.prunable, keep=keep))

            self._derive[condition] = jax.jit(jax.vmap(one, in_axes=(0, 0, 0, 0, 0, 0, None)))
        return self._derive[condition]

    def score_grads(self, keys, data_keys, best, prev_mask):
        """Gradients of the agent's own batch loss at each run's trained params (vmapped), for
        gradient-based scores; None for the others."""
        if not SCORES.get(self.cfg.imp.score).needs_grads:
            return None
        if self._grads is None:
            self._grads = jax.jit(jax.vmap(jax.grad(self.agent.batch_loss, argnums=2)))
        return self._grads(keys, data_keys, best, prev_mask)


def build(cfg: ExperimentConfig, expert=None) -> Experiment:
    """The experiment of `cfg`; `expert` is the resolved teacher of agents that need one."""
    spec = make_env(cfg.env.name, cfg.env.encoding, cfg.env.module)
    agent_def = AGENTS.get(cfg.algo)
    if agent_def.needs_expert and expert is None:
        raise ConfigError("bc.expert", "this agent needs a resolved expert; run it through ticketlab.experiments.run")
    agent = agent_def.build(cfg, spec, expert)
    prunable = prunable_tree(jax.eval_shape(agent.init, jax.random.PRNGKey(0)), cfg.imp.scope)
    if spec.backend == "jax":
        train_batch = jax.jit(jax.vmap(agent.train))
    else:
        train_batch = agent_def.host_train(agent)
    return Experiment(cfg=cfg, spec=spec, agent_def=agent_def, agent=agent, prunable=prunable,
                      train_batch=train_batch)


def _stack(trees):
    return jax.tree_util.tree_map(lambda *xs: jnp.stack([jnp.asarray(x) for x in xs]), *trees)


def _unstack(tree, n):
    return [jax.tree_util.tree_map(lambda x: np.asarray(x[i]), tree) for i in range(n)]


def _level_jobs(cfg: ExperimentConfig, level: int) -> list[tuple[int, str]]:
    if level == 0:
        return [(seed, DENSE) for seed in range(cfg.seeds)]
    return [(seed, c) for c in cfg.imp.conditions for seed in range(cfg.seeds)]


@dataclasses.dataclass
class LevelBatch:
    """One level's runs of a seed block, in job order."""

    level: int
    jobs: list[tuple[int, str]]
    masks: list
    starts: list
    outputs: list = dataclasses.field(default_factory=list)
    seconds: float = 0.0


def _dense_starts(exp: Experiment, jobs) -> LevelBatch:
    starts = [exp.agent.init(run_key(s, DENSE, 0, INIT)) for s, _ in jobs]
    return LevelBatch(0, jobs, [ones_mask(p) for p in starts], starts)


def _derived_starts(exp: Experiment, run: Path, level: int, jobs) -> LevelBatch:
    """Each condition's (mask, start) for `level`, from its chain's level - 1 on disk."""
    cfg = exp.cfg
    total = prunable_total(jax.eval_shape(exp.agent.init, jax.random.PRNGKey(0)), exp.prunable)
    keep = count_after_levels(total, cfg.imp.prune_fraction, level)
    init_kind = "rewind" if exp.agent.rewind_update > 0 else "start"
    masks, starts = [None] * len(jobs), [None] * len(jobs)
    for condition in cfg.imp.conditions:
        idx = [i for i, (_, c) in enumerate(jobs) if c == condition]
        if not idx:
            continue
        seeds = [jobs[i][0] for i in idx]
        prev = DENSE if level == 1 else condition
        best = _stack([store.load_tree(paths.tree_file(run, level - 1, s, prev, "best")) for s in seeds])
        prev_mask = _stack([store.load_tree(paths.tree_file(run, level - 1, s, prev, "mask")) for s in seeds])
        init = _stack([store.load_tree(paths.tree_file(run, 0, s, DENSE, init_kind)) for s in seeds])
        fresh = _stack([exp.agent.init(run_key(s, condition, level, FRESH_INIT)) for s in seeds])
        keys = jnp.stack([run_key(s, condition, level, NEXT_LEVEL) for s in seeds])
        grads = exp.score_grads(jnp.stack([run_key(s, condition, level, SCORE_BATCH) for s in seeds]),
                                jnp.stack([run_key(s, DENSE, 0, DATA) for s in seeds]), best, prev_mask)
        mask_b, start_b = exp.derive(condition)(keys, best, grads, prev_mask, init, fresh, jnp.int32(keep))
        for i, m, s in zip(idx, _unstack(mask_b, len(idx)), _unstack(start_b, len(idx))):
            masks[i], starts[i] = m, s
    return LevelBatch(level, jobs, masks, starts)


def run_keys(jobs, level: int) -> RunKeys:
    """Stacked keys of (seed, condition) jobs: `train` from (seed, condition, level), `data` from
    the seed alone (the same at every level and condition)."""
    return RunKeys(
        train=jnp.stack([run_key(seed, condition, level, TRAIN) for seed, condition in jobs]),
        data=jnp.stack([run_key(seed, DENSE, 0, DATA) for seed, _ in jobs]),
    )


def _train_level(exp: Experiment, batch: LevelBatch) -> LevelBatch:
    """Train all jobs, in chunks of cfg.max_batch (0: one call); fill the per-job outputs."""
    jobs = inject_faults(batch.jobs, batch.level, batch.starts)
    size = exp.cfg.max_batch or len(jobs)
    outputs = []
    for lo in range(0, len(jobs), size):
        chunk = range(lo, min(lo + size, len(jobs)))
        keys = run_keys([jobs[i] for i in chunk], batch.level)
        out = exp.train_batch(keys, _stack([batch.starts[i] for i in chunk]), _stack([batch.masks[i] for i in chunk]))
        outputs.extend(_unstack(jax.device_get(out), len(chunk)))
    return dataclasses.replace(batch, outputs=outputs)


def nonfinite_reason(out) -> str | None:
    """Why a run's output cannot seed the next level (NaN or inf anywhere), or None."""
    for name, tree in (("best params", out.best_params), ("final params", out.final_params)):
        if not all(np.isfinite(np.asarray(x)).all() for x in jax.tree_util.tree_leaves(tree)):
            return f"non-finite {name} (NaN or inf in training)"
    if not np.isfinite(np.asarray(out.eval_returns)).all():
        return "non-finite evaluation return"
    return None


def _write_seed(exp: Experiment, run: Path, seed: int, batch: LevelBatch) -> None:
    """Write every condition of one (level, seed), then its marker with their checksums."""
    level = batch.level
    for (s, condition), mask, start, out in zip(batch.jobs, batch.masks, batch.starts, batch.outputs):
        if s != seed:
            continue
        failed = nonfinite_reason(out)
        store.save_tree(paths.tree_file(run, level, seed, condition, "mask"), mask)
        store.save_tree(paths.tree_file(run, level, seed, condition, "start"), start)
        if not failed:
            store.save_tree(paths.tree_file(run, level, seed, condition, "best"), out.best_params)
            if level == 0 and exp.agent.rewind_update > 0:
                store.save_tree(paths.tree_file(run, level, seed, condition, "rewind"), out.rewind_params)
        finite = lambda x: float(x) if np.isfinite(x) else None  # noqa: E731
        metrics = {
            "seed": seed,
            "condition": condition,
            "level": level,
            "status": "failed" if failed else "ok",
            "best_return": None if failed else float(out.best_return),
            "final_return": finite(out.final_return),
            "eval_returns": [finite(x) for x in out.eval_returns],
            "train_curve": [finite(x) for x in out.train_curve],
            "train_curve_kind": exp.agent_def.train_curve_kind,
            "env_steps": exp.agent.env_steps,
            "seconds": batch.seconds,
            **level_summary(start if failed else out.best_params, mask, exp.prunable),
        }
        if failed:
            metrics["failure"] = failed
            log_event(run, "chain_failed", level=level, seed=seed, condition=condition, reason=failed)
        store.save_json(paths.metrics_file(run, level, seed, condition), metrics)
    mark_seed_complete(run, level, seed)


def failures_at(run: Path, seeds: list[int], level: int) -> set[tuple[int, str]]:
    """(seed, condition) chains that failed at `level` ("*": the dense level 0, every condition)."""
    out = set()
    for seed in seeds:
        for path in paths.seed_dir(run, level, seed).glob("*/metrics.json"):
            m = store.load_json(path)
            if m.get("status") == "failed":
                out.add((seed, m["condition"] if level > 0 else "*"))
    return out


def run_experiment(
    cfg: ExperimentConfig,
    on_level: Callable | None = None,
    argv: list[str] | None = None,
    seeds: list[int] | None = None,
    wait: bool = False,
    expert=None,
) -> Path:
    """Run (or resume) every level of `cfg` for `seeds` (default: all); returns the run directory.

    Every seed of the block trains in one vmapped call per level. Finished (level, seed) pieces
    are verified against their checksums and skipped; corrupted ones are moved aside and
    recomputed. A level that is partly finished is recomputed for the whole block (same batch,
    same numbers) and only the missing seeds are written. `on_level(level, rows, resumed)` is
    called after each level with its metrics. `expert` is the resolved teacher of agents that
    need one (`ticketlab.experiments.run` resolves it).
    """
    validate(cfg)
    run = paths.run_dir(cfg)
    block = list(range(cfg.seeds)) if seeds is None else sorted(seeds)
    bad = [s for s in block if not 0 <= s < cfg.seeds]
    if bad:
        raise ConfigError("seeds", f"seed {bad[0]} outside 0 .. {cfg.seeds - 1}")
    exp = build(cfg, expert)  # cheap (nothing compiles yet), and a mismatched expert fails before any write
    prepare_run_dir(run, cfg, argv)
    with seed_locks(run, block, wait=wait):
        repair(run, block, cfg.levels)
        failed: set[tuple[int, str]] = set()  # chains that stopped at an earlier level
        for level in range(cfg.levels):
            if level > 0:
                failed |= failures_at(run, block, level - 1)
            pending = [s for s in block if not seed_complete(run, level, s)]
            jobs = [(s, c) for s, c in _level_jobs(cfg, level) if s in block
                    and (s, c) not in failed and (s, "*") not in failed]
            if pending and jobs:
                start_time = time.perf_counter()
                batch = _dense_starts(exp, jobs) if level == 0 else _derived_starts(exp, run, level, jobs)
                batch = _train_level(exp, batch)
                batch.seconds = time.perf_counter() - start_time
                for seed in pending:
                    _write_seed(exp, run, seed, batch)
                write_results_csv(run)
            elif pending:
                for seed in pending:
                    paths.seed_dir(run, level, seed).mkdir(parents=True, exist_ok=True)
                    mark_seed_complete(run, level, seed)  # every chain of these seeds has failed
            if on_level:
                on_level(level, _load_metrics(run, level, block), not pending)
    write_results_csv(run)
    return run


def _load_metrics(run: Path, level: int, seeds) -> list[dict]:
    rows = []
    for seed in seeds:
        rows.extend(store.load_json(p) for p in sorted(paths.seed_dir(run, level, seed).glob("*/metrics.json")))
    return [r for r in rows if r.get("status", "ok") == "ok"]
