"""Heads: what a network's output is and how it becomes an action. What differs between a
categorical policy, a Gaussian policy and Q-values is this small value, not a second agent.

A head turns a network's output into a greedy action (`greedy`), the actions an agent explores or an
expert acts with (`behave`), an evaluation policy (`actor`), and the environment's action
(`to_env`); a policy head also gives the distribution PPO trains (`distribution`). Categorical:
logits. Gaussian: (mean, log_std) from a network with a state-independent log-std; actions are
clipped to the bounds at the environment, never inside the log-probability. Q-values: argmax, and
epsilon-greedy with a uniformly random action otherwise (`epsilon_greedy`, the one implementation).

Heads are registered by name (`HEADS`): an expert file records its head's name, a distillation loss
names the head it distils.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import distrax
import jax
import jax.numpy as jnp

from ticketlab.core.registry import Registry

EVAL_POLICIES = ("greedy", "sample")


def epsilon_greedy(k_explore, k_random, values, epsilon, num_actions: int):
    """argmax of `values` (Q-values or logits, actions on the last axis), and with probability
    `epsilon` (per action drawn) a uniformly random action instead."""
    greedy = jnp.argmax(values, axis=-1)
    explore = jax.random.uniform(k_explore, greedy.shape) < epsilon
    return jnp.where(explore, jax.random.randint(k_random, greedy.shape, 0, num_actions), greedy)


@dataclass(frozen=True)
class Categorical:
    num_actions: int
    name: ClassVar[str] = "categorical"
    policy: ClassVar[bool] = True
    gaussian: ClassVar[bool] = False
    eval_epsilon: ClassVar[float] = 0.0
    data_epsilon: ClassVar[float] = 0.0

    @classmethod
    def for_spec(cls, spec, **_) -> Categorical:
        return cls(spec.num_actions)

    @property
    def num_outputs(self) -> int:
        return self.num_actions

    def distribution(self, out):
        return distrax.Categorical(logits=out)

    def mode(self, out):
        return jnp.argmax(out, axis=-1)

    greedy = mode

    def to_env(self, action):
        return action

    def behave(self, key, out):
        """An expert's action while its data are collected: a draw from its policy."""
        return jax.random.categorical(key, out)

    def actor(self, out_fn: Callable, policy: str = "greedy"):
        return policy_actor(self, out_fn, policy)


@dataclass(frozen=True)
class Gaussian:
    low: tuple[float, ...]
    high: tuple[float, ...]
    name: ClassVar[str] = "gaussian"
    policy: ClassVar[bool] = True
    gaussian: ClassVar[bool] = True
    eval_epsilon: ClassVar[float] = 0.0
    data_epsilon: ClassVar[float] = 0.0

    @classmethod
    def for_spec(cls, spec, **_) -> Gaussian:
        return cls(tuple(spec.action_low), tuple(spec.action_high))

    @property
    def num_outputs(self) -> int:
        return len(self.low)

    def distribution(self, out):
        mean, log_std = out
        return distrax.MultivariateNormalDiag(mean, jnp.exp(log_std))

    def mode(self, out):
        return out[0]

    greedy = mode

    def to_env(self, action):
        """Clip to the action bounds (the environment's side; log-probs use the raw action)."""
        return jnp.clip(action, jnp.asarray(self.low), jnp.asarray(self.high))

    def behave(self, key, out):
        """An expert's action while its data are collected: a draw from its policy, clipped."""
        return self.to_env(self.distribution(out).sample(seed=key))

    def actor(self, out_fn: Callable, policy: str = "greedy"):
        return policy_actor(self, out_fn, policy)


@dataclass(frozen=True)
class QValues:
    num_actions: int
    eval_epsilon: float = 0.0
    """The probability of a uniformly random action when evaluated (DQN's evaluation epsilon)."""
    data_epsilon: float = 0.0
    """As an expert: the exploration epsilon of the policy that collects distillation data."""
    name: ClassVar[str] = "q"
    policy: ClassVar[bool] = False
    gaussian: ClassVar[bool] = False

    @classmethod
    def for_spec(cls, spec, eval_epsilon: float = 0.0, data_epsilon: float = 0.0, **_) -> QValues:
        return cls(spec.num_actions, eval_epsilon, data_epsilon)

    @property
    def num_outputs(self) -> int:
        return self.num_actions

    def greedy(self, out):
        return jnp.argmax(out, axis=-1)

    def to_env(self, action):
        return action

    def behave(self, key, out):
        """An expert's action while its data are collected: epsilon-greedy with its data epsilon."""
        k_explore, k_random = jax.random.split(key)
        return epsilon_greedy(k_explore, k_random, out, self.data_epsilon, self.num_actions)

    def actor(self, out_fn: Callable, policy: str = "greedy"):
        """Greedy on the values, a random action with the evaluation epsilon (`policy` is greedy)."""
        return epsilon_greedy_actor(out_fn, self.num_actions, self.eval_epsilon)


HEADS: Registry[Any] = Registry("head")  # head classes: name, policy, gaussian, for_spec(spec, ...)
for _head in (Categorical, Gaussian, QValues):
    HEADS.register(_head.name, _head)


def head_for(spec):
    """The policy head of an environment's action space."""
    if spec.discrete:
        return Categorical(spec.num_actions)
    return Gaussian(tuple(spec.action_low), tuple(spec.action_high))


def policy_actor(head, out_fn, policy: str):
    """`act(step_key, obs) -> (env action, step_key)` of a policy head: the mode ("greedy") or a
    draw ("sample")."""

    def act(step_key, obs):
        out = out_fn(obs)
        if policy == "greedy":
            return head.to_env(head.mode(out)), step_key
        step_key, k_act = jax.random.split(step_key)
        return head.to_env(head.distribution(out).sample(seed=k_act)), step_key

    return act


def epsilon_greedy_actor(values_fn, num_actions: int, epsilon: float = 0.0):
    """`act(step_key, obs) -> (action, step_key)`: argmax of `values_fn(obs)` (Q-values or logits),
    uniformly random with probability `epsilon` (DQN's evaluation epsilon)."""

    def act(step_key, obs):
        if epsilon > 0.0:
            step_key, k_explore, k_random = jax.random.split(step_key, 3)
            return epsilon_greedy(k_explore, k_random, values_fn(obs), epsilon, num_actions), step_key
        return jnp.argmax(values_fn(obs), axis=-1), step_key

    return act
