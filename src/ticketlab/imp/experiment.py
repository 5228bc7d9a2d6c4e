"""Everything built once per config: the environment, the agent, its compiled batched trainer,
and the per-condition derivation of a level's (mask, start) from the previous level's results."""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

import jax
import jax.numpy as jnp

from ticketlab.agents.base import Agent, AgentDef
from ticketlab.agents.registry import AGENTS
from ticketlab.config import ExperimentConfig
from ticketlab.envs.base import EnvSpec
from ticketlab.envs.registry import env_spec
from ticketlab.errors import ConfigError
from ticketlab.pruning.conditions import Inputs, next_level
from ticketlab.pruning.masks import prunable_tree
from ticketlab.pruning.scores import SCORES


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
    _init: Any = None

    def init_batch(self, keys):
        """`agent.init` of each key, stacked along a leading axis (one compiled, vmapped call)."""
        if self._init is None:
            self._init = jax.jit(jax.vmap(self.agent.init))
        return self._init(jnp.stack(keys))

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
    spec = env_spec(cfg.env)
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
