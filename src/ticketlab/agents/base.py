"""What an agent is to the engine. `AgentDef` is a registry entry (agents/registry.py): its config
section, its validation, how to build it, which network acts, and one trainer per environment
backend it supports. `Agent` is what `AgentDef.build` returns for one config: init, the training
function (written once, against the `Envs` of envs/stepping.py), sizes, and a loss on a batch (for
gradient-based pruning scores).

The IMP driver never knows the learning paradigm; conditions never know it either.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

import jax

from ticketlab.agents.loop import Stage, Stages
from ticketlab.envs.backends import BACKENDS, Programs, backend_of
from ticketlab.envs.base import PER_RUN


@dataclasses.dataclass(frozen=True)
class Agent:
    init: Callable
    """key -> params (a dict of modules, e.g. {"actor", "critic"})."""
    train: Callable
    """(envs, RunKeys, start_params, mask) -> TrainOutput: one run's training (a whole block's when
    `envs` steps a block; envs/stepping.py), pure but for effectful environments."""
    env_steps: int
    """Environment steps one training run consumes (expert transitions for BC)."""
    rewind_update: int
    """Step after which the rewind point is captured (0: none)."""
    batch_loss: Callable | None = None
    """(key, data_key, params, mask) -> scalar: the agent's own loss on one batch it draws itself
    (gradient-based pruning scores differentiate it); None when the agent has none, or its
    environment's backend steps whole blocks (a batch loss is vmapped over runs)."""
    program: Any = None
    """The agent's own object (e.g. `ppo.PPO`), for a trainer built around it."""
    batch_obs: Callable | None = None
    """(key, data_key, params, mask) -> the observations of one batch of its own, as its networks see
    them (what a score input reads beside the loss; None: the agent does not say)."""
    modules: Mapping[str, Callable] | None = None
    """{module: apply(module params, observations) -> outputs}: the networks of its params' modules."""
    num_envs: int = 1
    """Environment copies per run."""
    eval_episodes: int = 1
    """Evaluation episodes per run and evaluation."""
    stages: Stages | None = None
    """Its training as stages (agents/loop.py), which the engine advances in segments; None: `train`
    is one program (a block interrupted midway restarts)."""


@dataclasses.dataclass
class Trainer:
    """What the engine trains a block with (imp/blocks.py): `begin(keys, starts, masks) -> Stage`,
    `advance(stage, keys, masks, first, count) -> Stage` (steps first .. first + count - 1),
    `end(stage) -> TrainOutput`, every argument stacked over the block's runs but `first` and
    `count`, and `steps` in all. `resumable`: a stage's carry holds the whole training state, the
    environments' too (backends that step one run), so a saved carry can be advanced by another
    process; on backends whose environments live in other processes a block restarts instead."""

    begin: Callable
    advance: Callable
    end: Callable
    steps: int
    resumable: bool = False
    close: Callable = lambda: None

    def __call__(self, keys, starts, masks):
        """The whole training of a block, in one segment."""
        return self.end(self.advance(self.begin(keys, starts, masks), keys, masks, 0, self.steps))

    def warm(self, keys, starts, masks) -> None:
        """Compile its programs for these shapes (a segment of no steps)."""
        jax.block_until_ready(self.end(self.advance(self.begin(keys, starts, masks), keys, masks, 0, 0)))


def whole(train: Callable, close: Callable = lambda: None) -> Trainer:
    """A trainer that runs `train(keys, starts, masks)` as one program at its end (no segments)."""
    return Trainer(
        begin=lambda keys, starts, masks: Stage((keys, starts, masks)),
        advance=lambda stage, keys, masks, first, count: stage,
        end=lambda stage: train(*stage.carry),
        steps=1,
        close=close,
    )


def staged(programs: Programs, stages: Stages, begin: Callable | None = None) -> Trainer:
    """A trainer of `stages` compiled by `programs` (`begin`: a compiled begin of its own)."""

    def advance_carry(envs, stage, keys, mask, first, count):
        return stages.advance(envs, stage, keys, mask, first, count).carry

    advance = programs.compile(advance_carry, shared=2, runs_arg=1)
    return Trainer(
        begin=begin or programs.compile(stages.begin),
        advance=lambda stage, keys, masks, first, count: stage.replace(carry=advance(stage, keys, masks, first, count)),
        end=programs.compile(stages.end),
        steps=stages.steps,
        resumable=programs.backend.per_run,
        close=programs.close,
    )


def compiled(agent: Agent, spec) -> Trainer:
    """The standard trainer: the agent's stages (or its one training function) compiled for its
    environment's backend (envs/backends.py: vmapped over runs, or one program per block)."""
    programs = Programs(spec, agent.num_envs, agent.eval_episodes)
    if agent.stages is None:
        return whole(programs.compile(agent.train), programs.close)
    return staged(programs, agent.stages)


def on_backends(*names: str) -> dict[str, Callable]:
    """`AgentDef.trainers` of an agent whose training function serves these backends (names, or the
    kinds PER_RUN and BLOCK: every backend of that kind, those added later too) as it is."""
    return {name: compiled for name in names}


def with_one_run_envs(fn: Callable, spec, section) -> Callable | None:
    """A function written against one run's `Envs` (`fn(envs, key, data_key, params, mask)`: a batch
    loss, a batch's observations) bound to them where the backend steps one run, else None (it is
    vmapped over a block's runs)."""
    backend = backend_of(spec)
    if not backend.per_run:
        return None
    return partial(fn, backend.make_envs(spec, section.num_envs, section.eval_episodes, None))


@dataclasses.dataclass(frozen=True)
class Acting:
    """The network that picks actions: its module name in params, the network, and its head
    (agents/heads.py: what its output is, how it becomes an action)."""

    module: str
    network: Any
    head: Any


@dataclasses.dataclass(frozen=True)
class AgentDef:
    name: str
    section: str
    """The ExperimentConfig field holding this agent's settings (`ppo`, `dqn`, `bc`)."""
    build: Callable
    """(cfg, spec, expert) -> Agent; `expert` is the resolved teacher when `needs_expert`."""
    validate: Callable
    """(cfg, spec) -> None; raises ConfigError naming the bad field."""
    acting: Callable
    """(cfg, spec) -> Acting, from the config alone (no expert is loaded)."""
    total_steps: Callable
    """cfg -> environment steps of one run as configured (late rewinding must stay below it)."""
    trainers: Mapping[str, Callable] = dataclasses.field(default_factory=lambda: on_backends(PER_RUN))
    """Backend name, or backend kind (PER_RUN, BLOCK: every backend of that kind) -> `trainer(agent,
    spec) -> Trainer` (`compiled`: its stages or training function as they are; BC on the host
    backend: its expert data collected once per seed). A name takes precedence over a kind."""
    scopes: tuple[str, ...] = ("actor",)
    """Allowed imp.scope values."""
    eval_policies: tuple[str, ...] = ("greedy",)
    train_curve_kind: str = "training_episode_return"
    needs_expert: bool = False
    teaches: bool = True
    """Whether a distillation loss distils its acting head, so its presets may teach behavioural cloning."""
    applies_encoders: bool = False
    """Whether the agent applies an environment's agent-side encoder (MazeGrid's rgb, entangled)."""
    supports_dropout: bool = False
    builds_network: bool = True
    """Whether the agent trains a ticketlab network (network.* and init.* apply and are validated);
    False for a training function of your own."""
    trains_in_stages: bool = True
    """Whether its training is stages of steps (`Agent.stages`) that the sparse-training conditions
    can interleave with their mask updates; False for a training function of your own (which runs
    a method itself, through `ticketlab.sparse`)."""
    spec: Callable | None = None
    """cfg -> EnvSpec for agents that step no ticketlab environment (a training function of your
    own declares its facts); None: the environment cfg.env names."""
    prunable: Callable | None = None
    """(params, cfg) -> tree of bools, where pruning applies; None: the kernels of imp.scope's modules."""
    width_fields: tuple[str, ...] = ()
    """The `network.*` fields a teacher's width (`bc.expert-hidden`) sets: its acting network's, and
    those of networks that must match it (PPO's critic); empty: its width cannot be changed."""

    def trainer(self, backend: str) -> Callable | None:
        """The trainer of this agent on the backend of that name, or None where it has none."""
        entry = BACKENDS.get(backend)
        return self.trainers.get(entry.name) or self.trainers.get(entry.kind)
