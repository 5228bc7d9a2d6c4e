"""Agents by name (`algo`): PPO, DQN, behavioural cloning, a supervised classifier, and any
`AgentDef` a user registers with `register_agent`."""
from __future__ import annotations

import dataclasses

from ticketlab.agents import bc, bc_host, custom, dqn, ppo, ppo_atari, ppo_host, supervised
from ticketlab.agents.base import AgentDef
from ticketlab.envs.base import EnvSpec
from ticketlab.envs.registry import env_spec
from ticketlab.core.registry import Registry

AGENTS: Registry[AgentDef] = Registry("algo")


def register_agent(agent: AgentDef, *, replace: bool = False) -> AgentDef:
    return AGENTS.register(agent.name, agent, replace=replace)


register_agent(dataclasses.replace(ppo.AGENT, host_train=ppo_host.make_host_train, ale_train=ppo_atari.make_ale_train,
                                    ale_build=ppo_atari.build))
register_agent(dqn.AGENT)
register_agent(dataclasses.replace(bc.AGENT, host_train=bc_host.make_host_train))
register_agent(custom.AGENT)
register_agent(supervised.AGENT)


def run_spec(cfg) -> EnvSpec:
    """The environment facts of a run: those its agent declares (a training function of your own),
    else the environment cfg.env names."""
    agent = AGENTS.get(cfg.algo)
    return agent.spec(cfg) if agent.spec else env_spec(cfg.env)
