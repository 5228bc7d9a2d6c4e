"""One block of a level (see layout.py): derive its runs' (mask, start) from the previous level on
disk, train them in one compiled program (in segments, checkpoints.py), write every run's files.

A block writes only its own chains' files; the driver writes a (level, seed) marker once every
block of the seed's group is done. So a block runs the same in the driver's process or in a
worker process (`run_block`), and a block cut off by a kill continues from its mid-level
checkpoint, or is computed again from its level's start.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from ticketlab.agents.output import RunKeys
from ticketlab.core.config import from_dict
from ticketlab.core.errors import MaskError
from ticketlab.imp import checkpoints
from ticketlab.imp.faults import inject_faults, kill_after_checkpoint, kill_worker_after_write
from ticketlab.imp.keys import DATA, FRESH_INIT, INIT, NEXT_LEVEL, PLASTICITY, SCORE_BATCH, TRAIN, run_key
from ticketlab.imp.layout import Block
from ticketlab.imp.program import Experiment, build, stack_trees
from ticketlab.pruning.allocation import imp_layer_counts, prunable_shapes, target_counts
from ticketlab.pruning.conditions import CONDITIONS, DENSE, SOURCES, SPARSE_METHODS
from ticketlab.pruning.magnitude import count_after_levels
from ticketlab.pruning.masks import leaf_paths, ones_mask, prunable_total
from ticketlab.pruning.summaries import level_summary
from ticketlab.store import files, paths
from ticketlab.store.completion import log_event, seed_complete


def _unstack(tree, n):
    return [jax.tree_util.tree_map(lambda x: np.asarray(x[i]), tree) for i in range(n)]


def run_keys(jobs, level: int) -> RunKeys:
    """Stacked keys of (seed, condition) jobs: `train` from (seed, condition, level), `data` from
    the seed alone (the same at every level and condition)."""
    return RunKeys(
        train=jnp.stack([run_key(seed, condition, level, TRAIN) for seed, condition in jobs]),
        data=jnp.stack([run_key(seed, DENSE, 0, DATA) for seed, _ in jobs]),
    )


def dense_starts(exp: Experiment, jobs) -> tuple[list, list]:
    """(masks, starts) of level 0: all-ones masks and each seed's initialization."""
    starts = _unstack(exp.init_batch([run_key(s, DENSE, 0, INIT) for s, _ in jobs]), len(jobs))
    return [ones_mask(p) for p in starts], starts


def derived_starts(exp: Experiment, run: Path, level: int, jobs) -> tuple[list, list]:
    """(masks, starts) of `level`'s jobs, each from its condition's source on disk: the chain's
    level - 1, or the dense level 0 (see conditions.py)."""
    cfg = exp.cfg
    params = jax.eval_shape(exp.agent.init, jax.random.PRNGKey(0))
    total = prunable_total(params, exp.prunable)
    keep = count_after_levels(total, cfg.imp.prune_fraction, level, cfg.imp.prune_count)
    shapes = prunable_shapes(params, exp.prunable)
    counts = imp_layer_counts(cfg.imp.allocation, shapes, level, cfg.imp.prune_fraction, cfg.imp.prune_count)
    layer_keep = None if counts is None else jnp.asarray(counts, jnp.int32)
    method_counts = target_counts(cfg.sparse.allocation, shapes, keep)
    init_kind = "rewind" if exp.agent.rewind_update > 0 else "start"
    masks, starts = [None] * len(jobs), [None] * len(jobs)
    for condition in dict.fromkeys(c for _, c in jobs):
        idx = [i for i, (_, c) in enumerate(jobs) if c == condition]
        seeds = [jobs[i][0] for i in idx]
        source = SOURCES.get(CONDITIONS.get(condition).source)
        prev_level, prev = source.previous(level, condition)

        def load(lv, cond, kind):
            return stack_trees([files.load_tree(paths.tree_file(run, lv, s, cond, kind)) for s in seeds])

        init = load(0, DENSE, init_kind)
        prev_mask = load(prev_level, prev, "mask")
        prev_start = init if prev == DENSE else load(prev_level, prev, "start")
        scored = init if source.scores_init else load(prev_level, prev, "best")
        fresh = exp.init_batch([run_key(s, condition, level, FRESH_INIT) for s in seeds])
        keys = jnp.stack([run_key(s, condition, level, NEXT_LEVEL) for s in seeds])
        score_level = 0 if source.scores_init else level  # pruning at init: one batch, the same at every level
        inputs = exp.score_inputs(
            condition,
            jnp.stack([run_key(s, condition, score_level, SCORE_BATCH) for s in seeds]),
            jnp.stack([run_key(s, DENSE, 0, DATA) for s in seeds]),
            scored,
            prev_mask,
        )
        mask_b, start_b = exp.derive(condition)(
            keys,
            scored,
            inputs,
            prev_mask,
            prev_start,
            init,
            fresh,
            jnp.int32(keep),
            (None if method_counts is None else jnp.asarray(method_counts, jnp.int32))
            if condition in SPARSE_METHODS
            else layer_keep,
        )
        for i, m, s in zip(idx, _unstack(mask_b, len(idx)), _unstack(start_b, len(idx))):
            masks[i], starts[i] = m, s
    return masks, starts


def check_mask_respected(exp: Experiment, out, mask, where: str) -> None:
    """Refuse a training program whose trained params hold a nonzero pruned weight (one that
    forgot to apply the mask), naming the leaves, before anything of the block is written."""

    def regrown(params, m):  # finite and nonzero where pruned (a run gone NaN fails as its own kind)
        pruned = np.asarray(params)[~np.asarray(m)]
        return bool(np.any(np.isfinite(pruned) & (pruned != 0)))

    moving = out.best_mask is not None  # a mask that changes in training: `mask` is the best checkpoint's
    bad = [
        path
        for path, pr, m, best, final in zip(
            leaf_paths(mask),
            jax.tree_util.tree_leaves(exp.prunable),
            jax.tree_util.tree_leaves(mask),
            jax.tree_util.tree_leaves(out.best_params),
            jax.tree_util.tree_leaves(out.final_params),
        )
        if pr and (regrown(best, m) or (not moving and regrown(final, m)))
    ]
    if bad:
        raise MaskError(
            "train",
            f"pruned weights are nonzero after training ({where}) in {', '.join(bad)}; apply "
            f"the mask in the forward pass and after every optimizer step (ticketlab.apply_mask, "
            f"ticketlab.masked)",
        )


def nonfinite_reason(out) -> str | None:
    """Why a run's output cannot seed the next level (NaN or inf anywhere), or None."""
    for name, tree in (("best params", out.best_params), ("final params", out.final_params)):
        if not all(np.isfinite(np.asarray(x)).all() for x in jax.tree_util.tree_leaves(tree)):
            return f"non-finite {name} (NaN or inf in training)"
    if not np.isfinite(np.asarray(out.eval_returns)).all():
        return "non-finite evaluation return"
    return None


def _finite(x):
    return float(x) if np.isfinite(x) else None


def write_chain(
    exp: Experiment,
    run: Path,
    level: int,
    seed: int,
    condition: str,
    mask,
    start,
    out,
    seconds: float,
    plasticity: dict | None = None,
) -> str | None:
    """Write one run's mask, start, best (and rewind) params and metrics; return why it failed,
    or None."""
    failed = nonfinite_reason(out)
    files.save_tree(paths.tree_file(run, level, seed, condition, "mask"), mask)
    files.save_tree(paths.tree_file(run, level, seed, condition, "start"), start)
    if not failed:
        files.save_tree(paths.tree_file(run, level, seed, condition, "best"), out.best_params)
        if level == 0 and exp.agent.rewind_update > 0:
            files.save_tree(paths.tree_file(run, level, seed, condition, "rewind"), out.rewind_params)
    metrics = {
        "seed": seed,
        "condition": condition,
        "level": level,
        "status": "failed" if failed else "ok",
        "best_return": None if failed else float(out.best_return),
        "final_return": _finite(out.final_return),
        "eval_returns": [_finite(x) for x in out.eval_returns],
        "train_curve": [_finite(x) for x in out.train_curve],
        "train_curve_kind": exp.agent_def.train_curve_kind,
        "env_steps": exp.agent.env_steps,
        "seconds": seconds,
        **level_summary(start if failed else out.best_params, mask, exp.prunable),
    }
    if plasticity is not None:
        metrics["plasticity"] = jax.tree_util.tree_map(lambda x: _finite(np.asarray(x).item()), plasticity)
    if failed:
        metrics["failure"] = failed
        log_event(run, "chain_failed", level=level, seed=seed, condition=condition, reason=failed)
    files.save_json(paths.metrics_file(run, level, seed, condition), metrics)
    return failed


def trained(exp: Experiment, run: Path, block: Block, keys, starts, masks, checkpoint_every_s: float):
    """The block's TrainOutput: its training advanced segment by segment (checkpoints.py), from its
    checkpoint where it has a usable one, saved at the first segment boundary `checkpoint_every_s`
    seconds (0: never) after its start or last save, where its trainer can resume."""
    trainer = exp.trainer_for(block.condition)
    stage, done = trainer.begin(keys, starts, masks), 0
    if trainer.resumable:
        try:
            saved = checkpoints.load(run, block, stage.carry, trainer.steps)
        except checkpoints.CorruptCheckpoint as err:
            checkpoints.quarantine(run, block, str(err))
            saved = None
        if saved is not None:
            done, carry = saved
            stage = stage.replace(carry=carry)
            log_event(
                run,
                "checkpoint_resumed",
                level=block.level,
                condition=block.condition,
                seeds=[s for s, _ in block.jobs],
                step=done,
                steps=trainer.steps,
            )
    saving = trainer.resumable and checkpoint_every_s > 0
    last_save = time.monotonic()
    for first, count in checkpoints.segments(trainer.steps):
        begin = max(first, done)
        if begin >= first + count:
            continue
        stage = trainer.advance(stage, keys, masks, begin, first + count - begin)
        step = first + count
        if saving and step < trainer.steps:
            jax.block_until_ready(stage.carry)
            if time.monotonic() - last_save >= checkpoint_every_s:
                checkpoints.save(run, block, stage.carry, step, trainer.steps)
                kill_after_checkpoint(block.level, block.condition)
                last_save = time.monotonic()
    return trainer.end(stage)


def block_plasticity(exp: Experiment, jobs, level: int, out, masks) -> list[dict | None]:
    """Each run's plasticity metrics at its best and final params (Experiment.plasticity), in job order."""
    keys = jnp.stack([run_key(seed, condition, level, PLASTICITY) for seed, condition in jobs])
    data_keys = jnp.stack([run_key(seed, DENSE, 0, DATA) for seed, _ in jobs])
    found = exp.plasticity(keys, data_keys, out.best_params, out.final_params, stack_trees(masks))
    if found is None:
        return [None] * len(jobs)
    return _unstack(jax.device_get(found), len(jobs))


def train_block(exp: Experiment, run: Path, block: Block, checkpoint_every_s: float = 0.0) -> list[int]:
    """Derive, train and write one block; returns the seeds whose run failed (NaN or inf)."""
    start_time = time.perf_counter()
    jobs = list(block.padded_jobs)
    if block.level == 0:
        masks, starts = dense_starts(exp, jobs)
    else:
        masks, starts = derived_starts(exp, run, block.level, jobs)
    inject_faults(jobs, block.level, starts)
    try:
        out = trained(
            exp, run, block, run_keys(jobs, block.level), stack_trees(starts), stack_trees(masks), checkpoint_every_s
        )
        outputs = _unstack(jax.device_get(out), len(jobs))
    finally:
        exp.trainer_for(block.condition).close()
    # a training whose mask changes hands back the mask of its best checkpoint (sparse_stages.py)
    masks = [m if o.best_mask is None else o.best_mask for m, o in zip(masks, outputs)]
    for (seed, condition), mask, output in list(zip(jobs, masks, outputs))[: len(block.jobs)]:
        check_mask_respected(exp, output, mask, f"level {block.level}, seed {seed}, {condition}")
    seconds = time.perf_counter() - start_time  # the block's training (the plasticity measured after it)
    plasticity = block_plasticity(exp, jobs, block.level, out, masks)
    failed = []
    for (seed, condition), mask, start, output, measured in list(zip(jobs, masks, starts, outputs, plasticity))[
        : len(block.jobs)
    ]:
        if seed_complete(run, block.level, seed):  # (a finished seed's files are checksummed: keep them)
            failed += [seed] if nonfinite_reason(output) else []
            continue
        if write_chain(exp, run, block.level, seed, condition, mask, start, output, seconds, measured):
            failed.append(seed)
        kill_worker_after_write(block.level, condition)
    checkpoints.discard(run, block)
    return failed


@dataclasses.dataclass(frozen=True)
class BlockTask:
    """A block as a worker process receives it: the config as a dict, the resolved expert."""

    config: dict
    run: str
    block: Block
    expert: object = None
    checkpoint_every_s: float = 0.0


_BUILT: dict[tuple[str, str], Experiment] = {}
"""A worker's experiments, built (and compiled) once per config and expert."""


def run_block(task: BlockTask) -> list[int]:
    """`train_block` in a worker process."""
    key = (json.dumps(task.config, sort_keys=True), str(getattr(task.expert, "path", "")))
    if key not in _BUILT:
        _BUILT[key] = build(from_dict(task.config), task.expert)
    return train_block(_BUILT[key], Path(task.run), task.block, task.checkpoint_every_s)
