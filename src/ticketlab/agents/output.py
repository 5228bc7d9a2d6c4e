"""What every training program returns, and the keys it is given."""

from __future__ import annotations

from typing import Any

import jax
from flax import struct


class RunKeys(struct.PyTreeNode):
    """`train` drives the learner (exploration, minibatch order, evaluation); `data` drives data
    that must not depend on the learner or the IMP condition (behavioural cloning's expert
    rollouts): it derives from the seed alone."""

    train: jax.Array
    data: jax.Array


class TrainOutput(struct.PyTreeNode):
    best_params: Any
    best_return: jax.Array
    final_params: Any
    final_return: jax.Array
    eval_returns: jax.Array
    """Mean greedy return of each evaluation, in order."""
    train_curve: jax.Array
    """One value per evaluation interval: PPO, the mean return of the training episodes that
    finished in it (nan: none); BC, the mean distillation loss."""
    rewind_params: Any
    """Params at the late-rewinding point; the start params when there is none."""
    data_digest: jax.Array
    """BC: a sum over every minibatch the student was trained on (inputs and teacher outputs), so
    tests can check that the data never depend on the student. PPO: 0."""
    best_mask: Any = None
    """The mask at the best checkpoint, for a training whose mask changes (the sparse-training
    conditions; agents/sparse_stages.py); None: the mask it was given."""
