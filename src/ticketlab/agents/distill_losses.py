"""Distillation losses, per sample: `loss(teacher_out, student_out) -> [batch]`.

The BC trainer looks a loss up by name, so a new student kind (Gaussian policies for continuous
control, value students for MinAtar) plugs in here without touching the IMP code.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax


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


LOSSES = {"cross_entropy": cross_entropy, "kl_gaussian": kl_gaussian, "huber_value": huber_value}
DISCRETE_POLICY_LOSSES = ("cross_entropy",)
"""Losses whose student is a discrete policy head (what the BC trainer wires today)."""
