"""Policy heads, picked from the action space: what differs between discrete and continuous
policies is this small value, not a second PPO.

A head turns the policy network's output into a distribution (sample, log-prob, entropy), a mode
(the greedy action), and an environment action. Categorical: logits. Gaussian: (mean, log_std)
from a network with a state-independent log-std parameter; actions are clipped to the action
bounds at the environment, never inside the log-probability.
"""
from __future__ import annotations

from dataclasses import dataclass

import distrax
import jax.numpy as jnp

EVAL_POLICIES = ("greedy", "sample")


@dataclass(frozen=True)
class Categorical:
    num_actions: int
    name: str = "categorical"
    gaussian: bool = False

    @property
    def num_outputs(self) -> int:
        return self.num_actions

    def distribution(self, out):
        return distrax.Categorical(logits=out)

    def mode(self, out):
        return jnp.argmax(out, axis=-1)

    def to_env(self, action):
        return action


@dataclass(frozen=True)
class Gaussian:
    low: tuple[float, ...]
    high: tuple[float, ...]
    name: str = "gaussian"
    gaussian: bool = True

    @property
    def num_outputs(self) -> int:
        return len(self.low)

    def distribution(self, out):
        mean, log_std = out
        return distrax.MultivariateNormalDiag(mean, jnp.exp(log_std))

    def mode(self, out):
        return out[0]

    def to_env(self, action):
        """Clip to the action bounds (the environment's side; log-probs use the raw action)."""
        return jnp.clip(action, jnp.asarray(self.low), jnp.asarray(self.high))


def head_for(spec):
    """The policy head of an environment's action space."""
    if spec.discrete:
        return Categorical(spec.num_actions)
    return Gaussian(tuple(spec.action_low), tuple(spec.action_high))
