"""Everything built once per config: the environment, the agent, its trainer (compiled stages over
a block's runs), and the per-condition derivation of a level's (mask, start) from the previous level's results."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp

from ticketlab.agents.base import Agent, AgentDef, Trainer, staged
from ticketlab.agents.registry import AGENTS, run_spec
from ticketlab.agents.sparse_stages import sparse_stages
from ticketlab.core.config import ExperimentConfig
from ticketlab.core.errors import ConfigError
from ticketlab.envs.backends import Programs
from ticketlab.envs.base import EnvSpec
from ticketlab.networks.network import ACTIVATIONS
from ticketlab.pruning.conditions import SPARSE_METHODS, Inputs, next_level, score_name
from ticketlab.pruning.masks import prunable_tree
from ticketlab.pruning.plasticity import mlp_layers, plasticity
from ticketlab.pruning.scores import SCORES, ScoreBatch, score_inputs


def stack_trees(trees):
    """Pytrees of one structure stacked leaf by leaf along a new leading axis (a batch of runs)."""
    return jax.tree_util.tree_map(lambda *xs: jnp.stack([jnp.asarray(x) for x in xs]), *trees)


@dataclasses.dataclass
class Experiment:
    """Everything built once per config: env, agent, its trainer (agents/base.py)."""

    cfg: ExperimentConfig
    spec: EnvSpec
    agent_def: AgentDef
    agent: Agent
    prunable: dict
    trainer: Trainer
    _derive: dict = dataclasses.field(default_factory=dict)
    _sparse_trainers: dict = dataclasses.field(default_factory=dict)
    _plasticity: Any = None
    _inputs: dict = dataclasses.field(default_factory=dict)
    _init: Any = None

    def trainer_for(self, condition: str) -> Trainer:
        """The trainer of `condition`'s blocks: the agent's, or for a sparse-training condition
        (gmp, set, rigl, static) the agent's stages with the method's mask updates between steps."""
        if condition not in SPARSE_METHODS:
            return self.trainer
        if condition not in self._sparse_trainers:
            stages = self.agent.stages
            if stages is None:  # (validate refuses these conditions for such agents)
                raise ConfigError("imp.conditions", f"{condition} needs an agent trained in stages")
            programs = Programs(self.spec, self.agent.num_envs, self.agent.eval_episodes)
            method = sparse_stages(stages, self.agent, self.cfg, condition, self.prunable)
            self._sparse_trainers[condition] = staged(programs, method)
        return self._sparse_trainers[condition]

    def plasticity(self, keys, data_keys, best, final, masks):
        """Each run's plasticity metrics (pruning/plasticity.py) at its best and its final params, on
        one batch of its own observations, in one compiled call vmapped over the block's runs; None
        for an agent that does not say what its networks see (`Agent.batch_obs`)."""
        if self._plasticity is None:  # built once: False where there is nothing to measure
            self._plasticity = self._plasticity_program() or False
        if self._plasticity is False:
            return None
        return self._plasticity(keys, data_keys, best, final, masks)

    def _plasticity_program(self):
        """The compiled, vmapped measurement of a block's runs; None for an agent that does not say
        what its networks see, or whose modules are not MLPs (a conv torso's module has none)."""
        shapes = jax.eval_shape(self.agent.init, jax.random.PRNGKey(0))
        if self.agent.batch_obs is None or not any(mlp_layers(shapes[m]) for m in shapes):
            return None
        act = ACTIVATIONS.get(self.agent_def.acting(self.cfg, self.spec).network.activation)
        observe = self.agent.batch_obs

        def one(key, data_key, best, final, mask):
            x = observe(key, data_key, best, mask)
            x_of = {module: x for module in best}
            return {"best": plasticity(best, x_of, act), "final": plasticity(final, x_of, act)}

        return jax.jit(jax.vmap(one))

    def init_batch(self, keys):
        """`agent.init` of each key, stacked along a leading axis: one compiled call per key, not a
        vmapped one (the same values; a vmapped init with LAPACK calls, e.g. orthogonal kernels,
        hung the process now and then on CPU with jax 0.10.2, a batched QR in XLA's threads)."""
        if self._init is None:
            self._init = jax.jit(self.agent.init)
        return stack_trees([self._init(k) for k in keys])

    def derive(self, condition: str) -> Callable:
        """`(keys, scored, inputs, prev_mask, prev_start, init, fresh, keep, layer_keep) -> (mask, start)`:
        the condition's next level from the score of its source params (see conditions.py);
        compiled once per condition and vmapped over seeds."""
        if condition not in self._derive:
            score = SCORES.get(score_name(condition, self.cfg.imp.score))
            imp = self.cfg.imp

            def one(key, scored, inputs, prev_mask, prev_start, init, fresh, keep, layer_keep=None):
                return next_level(
                    condition,
                    Inputs(
                        key=key,
                        scores=score.fn(scored, inputs),
                        prev_mask=prev_mask,
                        init=init,
                        fresh=fresh,
                        prunable=self.prunable,
                        keep=keep,
                        prev_start=prev_start,
                        fraction=imp.prune_fraction,
                        rounding=imp.prune_count,
                        permute_values=imp.permute_values,
                        layer_keep=layer_keep,
                    ),
                )

            self._derive[condition] = jax.jit(jax.vmap(one, in_axes=(0, 0, 0, 0, 0, 0, 0, None, None)))
        return self._derive[condition]

    def score_inputs(self, condition: str, keys, data_keys, params, mask) -> dict:
        """What the condition's score reads (pruning/scores.py), from one batch of the agent's own at
        each run's scored params (vmapped); nothing for magnitude: no batch is drawn."""
        score = SCORES.get(score_name(condition, self.cfg.imp.score))
        if not score.needs_batch:
            return {}
        if score.needs not in self._inputs:
            agent = self.agent
            batch_loss = agent.batch_loss
            assert batch_loss is not None  # (validate refuses a batch score for an agent without a loss)

            def one(key, data_key, p, m):
                observe = partial(agent.batch_obs, key, data_key, p, m) if agent.batch_obs else None
                batch = ScoreBatch(
                    loss=lambda q: batch_loss(key, data_key, q, m), observe=observe, forward=agent.modules
                )
                return score_inputs(score, batch, p, self.prunable)

            self._inputs[score.needs] = jax.jit(jax.vmap(one))
        return self._inputs[score.needs](keys, data_keys, params, mask)


def build(cfg: ExperimentConfig, expert=None) -> Experiment:
    """The experiment of `cfg`; `expert` is the resolved teacher of agents that need one."""
    spec = run_spec(cfg)
    agent_def = AGENTS.get(cfg.algo)
    if agent_def.needs_expert and expert is None:
        raise ConfigError("bc.expert", "this agent needs a resolved expert; run it through ticketlab.run")
    agent = agent_def.build(cfg, spec, expert)
    shapes = jax.eval_shape(agent.init, jax.random.PRNGKey(0))
    prunable = agent_def.prunable(shapes, cfg) if agent_def.prunable else prunable_tree(shapes, cfg.imp.scope)
    make_trainer = agent_def.trainer(spec.backend)
    if make_trainer is None:  # (validate names the backends an agent trains on)
        raise ConfigError("algo", f"{cfg.algo} does not train on the {spec.backend} backend")
    trainer = make_trainer(agent, spec)
    return Experiment(cfg=cfg, spec=spec, agent_def=agent_def, agent=agent, prunable=prunable, trainer=trainer)
