"""One agent interface for the IMP driver: init, the pure training program, sizes.

The driver never knows the learning paradigm; conditions never know it either.
"""
from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp

from ticketlab.config import ExperimentConfig
from ticketlab.envs.registry import EnvSpec


@dataclasses.dataclass(frozen=True)
class Agent:
    init: Callable
    """key -> params (a dict of modules, e.g. {"actor", "critic"})."""
    train: Callable
    """(RunKeys, start_params, mask) -> TrainOutput; pure, jit- and vmap-able."""
    env_steps: int
    """Environment steps one training run consumes (expert transitions for BC)."""
    rewind_update: int
    """Update after which the rewind point is captured (0: none)."""
    expert: object = None


def build_agent(cfg: ExperimentConfig, spec: EnvSpec) -> Agent:
    if cfg.algo == "ppo":
        return _ppo(cfg, spec)
    if cfg.algo == "bc":
        return _bc(cfg, spec)
    if cfg.algo == "dqn":
        return _dqn(cfg, spec)
    raise ValueError(f"algo: unknown {cfg.algo!r}; allowed: ppo, dqn, bc")


def _ppo(cfg, spec):
    from ticketlab.agents import ppo
    from ticketlab.networks.mlp import actor_critic, init_params

    actor, critic = actor_critic(cfg.network, cfg.init, spec.num_actions, len(spec.obs_shape))
    rewind_update = cfg.imp.rewind_steps // (cfg.ppo.num_envs * cfg.ppo.rollout_len)
    return Agent(
        init=lambda key: init_params(key, actor, critic, spec.obs_shape),
        train=ppo.make_train(cfg.ppo, spec, actor, critic, rewind_update, cfg.network.weight_decay),
        env_steps=ppo.schedule(cfg.ppo, spec)["env_steps"],
        rewind_update=rewind_update,
    )


def _bc(cfg, spec):
    from ticketlab.agents import bc
    from ticketlab.agents.experts import get_expert
    from ticketlab.networks.mlp import MLP
    from ticketlab.validate import ConfigError

    expert = get_expert(cfg.bc.expert, cfg.out, cfg.bc.expert_threshold, cfg.bc.expert_seeds, cfg.bc.expert_steps)
    if expert.env != cfg.env.name:
        raise ConfigError("bc.expert", f"the expert plays {expert.env}, this run {cfg.env.name}")
    obs_ndim = len(spec.obs_shape)
    teacher = MLP(expert.hidden, spec.num_actions, expert.activation, "torch-default", 1.0, True, obs_ndim)
    student = MLP(cfg.student.hidden, spec.num_actions, cfg.network.activation, cfg.init.scheme,
                  cfg.init.input_scale, True, obs_ndim)
    dummy = jnp.zeros((1,) + tuple(spec.obs_shape))
    teacher_params = jax.tree_util.tree_map(jnp.asarray, expert.params)
    return Agent(
        init=lambda key: {"actor": student.init(key, dummy)["params"]},
        train=bc.make_train(cfg.bc, spec, student, teacher, teacher_params, cfg.network.weight_decay),
        env_steps=bc.schedule(cfg.bc)["env_steps"],
        rewind_update=0,
        expert=expert,
    )


def q_network(cfg: ExperimentConfig, spec: EnvSpec):
    from ticketlab.networks.mlp import MLP

    n = cfg.network
    return MLP(n.q_hidden, spec.num_actions, n.activation, cfg.init.scheme, cfg.init.input_scale, False,
               len(spec.obs_shape), n.dropout)


def _dqn(cfg, spec):
    from ticketlab.agents import dqn

    qnet = q_network(cfg, spec)
    sizes = dqn.schedule(cfg.dqn)
    rewind_update = cfg.imp.rewind_steps // sizes["steps_per_iteration"]
    dummy = jnp.zeros((1,) + tuple(spec.obs_shape), jnp.float32)
    return Agent(
        init=lambda key: {"q": qnet.init(key, dummy)["params"]},
        train=dqn.make_train(cfg.dqn, spec, qnet, rewind_update, cfg.network.weight_decay),
        env_steps=sizes["env_steps"],
        rewind_update=rewind_update,
    )


def acting_network(cfg: ExperimentConfig, spec: EnvSpec):
    """(module name in params, network) of the net that picks actions: PPO's actor, the BC student,
    DQN's Q-network. Built from the config alone (no expert is loaded)."""
    from ticketlab.networks.mlp import MLP, actor_critic

    if cfg.algo == "dqn":
        return "q", q_network(cfg, spec)
    if cfg.algo == "bc":
        return "actor", MLP(cfg.student.hidden, spec.num_actions, cfg.network.activation, cfg.init.scheme,
                            cfg.init.input_scale, True, len(spec.obs_shape))
    return "actor", actor_critic(cfg.network, cfg.init, spec.num_actions, len(spec.obs_shape))[0]
