"""Agents by name (`algo`): PPO, DQN, behavioural cloning, a supervised classifier, a training
function of your own, SAC, and any `AgentDef` a user registers with `register_agent`."""

from __future__ import annotations

from ticketlab.agents import bc, custom, dqn, ppo, sac, supervised
from ticketlab.agents.base import AgentDef
from ticketlab.core.config import ExperimentConfig
from ticketlab.core.registry import Registry
from ticketlab.envs.base import EnvSpec
from ticketlab.envs.registry import env_spec

AGENTS: Registry[AgentDef] = Registry("algo")
"""Every agent `algo` can name (ppo, dqn, bc, sac, supervised, custom): how it builds, trains and
evaluates, on which backends, and what IMP may prune of it."""


def register_agent(agent: AgentDef, *, replace: bool = False) -> AgentDef:
    """Make `agent` runnable as `--algo agent.name` (a ConfigError if the name is taken, unless
    `replace`); returns it."""
    return AGENTS.register(agent.name, agent, replace=replace)


for _agent in (ppo.AGENT, dqn.AGENT, bc.AGENT, custom.AGENT, supervised.AGENT, sac.AGENT):
    register_agent(_agent)


def run_spec(cfg: ExperimentConfig) -> EnvSpec:
    """The environment facts of a run: those its agent declares (a training function of your own),
    else the environment cfg.env names."""
    agent = AGENTS.get(cfg.algo)
    return agent.spec(cfg) if agent.spec else env_spec(cfg.env)
