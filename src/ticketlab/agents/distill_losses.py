"""Distillation losses by name (`bc.loss`), per sample: `loss(teacher_out, student_out) -> [batch]`.
Each is tied to the kind of student it trains: a categorical policy (logits), a Gaussian policy
((mean, log_std)) or a value estimator (Q-values, the MinAtar students of the paper's table 10)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import optax

from ticketlab.agents.heads import Categorical, Gaussian, QValues
from ticketlab.core.registry import Registry


def cross_entropy(teacher_logits, student_logits):
    """H(teacher, student) = -sum_a pi_T(a) log pi_S(a): the KL to the teacher plus a constant."""
    return -jnp.sum(jax.nn.softmax(teacher_logits) * jax.nn.log_softmax(student_logits), axis=-1)


def kl_gaussian(teacher, student):
    """KL(teacher || student) of diagonal Gaussians given as (mean, log_std), summed over dims."""
    (mu_t, log_std_t), (mu_s, log_std_s) = teacher, student
    var_t, var_s = jnp.exp(2 * log_std_t), jnp.exp(2 * log_std_s)
    return jnp.sum(log_std_s - log_std_t + (var_t + (mu_t - mu_s) ** 2) / (2 * var_s) - 0.5, axis=-1)


def huber_value(teacher_values, student_values, delta: float = 1.0):
    """Huber loss between teacher and student value estimates (e.g. Q-values), mean over outputs."""
    return jnp.mean(optax.huber_loss(student_values, teacher_values, delta=delta), axis=-1)


@dataclass(frozen=True)
class DistillLoss:
    name: str
    fn: Callable
    head: type[Categorical] | type[Gaussian] | type[QValues]
    """The head (agents/heads.py) of the teacher and the student it compares."""


LOSSES: Registry[DistillLoss] = Registry("bc.loss")
for _loss in (
    DistillLoss("cross_entropy", cross_entropy, Categorical),
    DistillLoss("kl_gaussian", kl_gaussian, Gaussian),
    DistillLoss("huber_value", huber_value, QValues),
):
    LOSSES.register(_loss.name, _loss)
