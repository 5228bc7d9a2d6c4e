"""What an agent is to the engine. `AgentDef` is a registry entry (agents/registry.py): its
config section, its validation, how to build it, and which network acts. `Agent` is what
`AgentDef.build` returns for one config: init, the pure training program, sizes, and a loss on a
batch (for gradient-based pruning scores).

The IMP driver never knows the learning paradigm; conditions never know it either.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable


@dataclasses.dataclass(frozen=True)
class Agent:
    init: Callable
    """key -> params (a dict of modules, e.g. {"actor", "critic"})."""
    train: Callable | None
    """(RunKeys, start_params, mask) -> TrainOutput; pure, jit- and vmap-able (environments that
    step inside the compiled program)."""
    env_steps: int
    """Environment steps one training run consumes (expert transitions for BC)."""
    rewind_update: int
    """Step after which the rewind point is captured (0: none)."""
    batch_loss: Callable | None = None
    """(key, data_key, params, mask) -> scalar: the agent's own loss on one batch it draws itself
    (gradient-based pruning scores differentiate it); None when the agent has none."""
    program: Any = None
    """The agent's own object (e.g. `ppo.PPO`), for a host-side training path built around it."""


@dataclasses.dataclass(frozen=True)
class Acting:
    """The network that picks actions: its module name in params, the network, how its output
    becomes an action (`greedy(out) -> action`), and what kind of output it is."""

    module: str
    network: Any
    greedy: Callable
    kind: str
    """categorical (logits), gaussian ((mean, log_std)) or q (Q-values): what a student distils."""
    eval_epsilon: float = 0.0
    """Probability of a uniformly random action when evaluated (DQN's evaluation epsilon)."""
    data_epsilon: float = 0.0
    """q networks as experts: the exploration epsilon of the policy that collects distillation data."""


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
    scopes: tuple[str, ...] = ("actor",)
    """Allowed imp.scope values."""
    eval_policies: tuple[str, ...] = ("greedy",)
    train_curve_kind: str = "training_episode_return"
    needs_expert: bool = False
    applies_encoders: bool = False
    """Whether the agent applies an environment's agent-side encoder (MazeGrid's rgb, entangled)."""
    supports_dropout: bool = False
    builds_network: bool = True
    """Whether the agent trains a ticketlab network (network.* and init.* apply and are validated);
    False for a training function of your own."""
    spec: Callable | None = None
    """cfg -> EnvSpec for agents that step no ticketlab environment (a training function of your
    own declares its facts); None: the environment cfg.env names."""
    prunable: Callable | None = None
    """(params, cfg) -> tree of bools, where pruning applies; None: the kernels of imp.scope's modules."""
    host_train: Callable | None = None
    """(Agent) -> train_batch for host-side (Gymnasium) environments: `train_batch(stacked RunKeys,
    stacked start params, stacked masks) -> stacked TrainOutput`, the environments stepping in
    Python and the policy and updates compiled. None: the agent runs on gymnax environments only."""
    ale_train: Callable | None = None
    """(Agent) -> train_batch for ALE games (envs/atari.py): one compiled program per block of runs,
    the games stepped through ale-py's XLA interface. None: the agent does not play ALE games."""
    ale_build: Callable | None = None
    """(cfg, spec, expert) -> Agent for ALE games, when it differs from `build` (PPO on uint8 frames)."""
