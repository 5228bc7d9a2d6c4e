"""Behavioural-cloning experts: resolved from a config (a file of your own, or an RL preset trained
once and cached), trained as ordinary level-0 runs of that preset, stored content-addressed by its
config hash under <out>/experts/ and reused: a second request trains nothing.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
import jax.numpy as jnp

from ticketlab.agents.experts import Expert, load_expert, save_expert
from ticketlab.agents.registry import AGENTS, run_spec
from ticketlab.core.config import ExperimentConfig, replace_fields
from ticketlab.core.errors import ConfigError, ExpertError
from ticketlab.envs.backends import backend_of, program
from ticketlab.experiments.validate import validate
from ticketlab.imp.driver import run_experiment
from ticketlab.presets import preset
from ticketlab.store import files, paths
from ticketlab.store.results import load_metrics

REEVALUATION_EPISODES = 64


def resolve_expert(cfg: ExperimentConfig, in_process: bool = True) -> Expert:
    b = cfg.bc
    if b.expert.endswith(".safetensors"):
        return load_expert(Path(b.expert))
    return train_expert(
        b.expert,
        cfg.out,
        b.expert_threshold,
        b.expert_seeds,
        b.expert_steps,
        torso=b.expert_torso,
        scale=b.expert_scale,
        hidden=b.expert_hidden,
        in_process=in_process,
    )


def expert_config(
    preset_name: str,
    out: str,
    seeds: int,
    steps: int = 0,
    torso: str = "",
    scale: str = "demo",
    hidden: tuple[int, ...] = (),
) -> ExperimentConfig:
    """The RL run (level 0 only) an expert comes from: the preset at `scale`'s training budget,
    with the preset's `torso` variant ("" its default), and the paper scale's initialization and
    IMP settings (a demo's input rescaling or prune fraction is for its own IMP run, not for the
    teacher it lends to students); `steps` > 0 overrides its training steps, `hidden` (non-empty)
    its network's widths (the agent's `width_fields`)."""
    paper = preset(preset_name, "paper", torso or None)
    cfg = dataclasses.replace(preset(preset_name, scale, torso or None), init=paper.init, imp=paper.imp)
    agent = AGENTS.get(cfg.algo)
    if agent.needs_expert or agent.spec is not None:
        raise ConfigError("bc.expert", f"{preset_name!r} is not an RL preset")
    if hidden:
        if not agent.width_fields:
            raise ConfigError("bc.expert-hidden", f"{preset_name!r} is a {cfg.algo} preset, whose width is fixed")
        cfg = replace_fields(cfg, {f"network.{f}": tuple(hidden) for f in agent.width_fields})
    if steps:
        section = getattr(cfg, agent.section)
        cfg = dataclasses.replace(cfg, **{agent.section: dataclasses.replace(section, total_steps=steps)})
    return dataclasses.replace(cfg, seeds=seeds, levels=1, out=str(Path(out) / "experts"))


def train_expert(
    preset_name: str,
    out: str,
    threshold: float,
    seeds: int,
    steps: int = 0,
    torso: str = "",
    scale: str = "demo",
    hidden: tuple[int, ...] = (),
    in_process: bool = True,
) -> Expert:
    """The cached expert of RL preset `preset_name`, training it once if needed."""
    cfg = expert_config(preset_name, out, seeds, steps, torso, scale, hidden)
    run_dir = paths.run_dir(cfg)
    path = paths.expert_file(run_dir)
    if path.exists():
        return load_expert(path)
    run_experiment(validate(cfg), in_process=in_process)
    rows = [r for r in load_metrics(run_dir) if r["level"] == 0]
    if not rows:
        raise ExpertError(
            f"every candidate expert of {preset_name!r} failed (NaN or inf); see ticketlab status {run_dir}"
        )
    best = max(rows, key=lambda r: r["best_return"])
    total = AGENTS.get(cfg.algo).total_steps(cfg)
    if best["best_return"] < threshold:
        raise ExpertError(
            f"expert {preset_name!r} reached a best mean evaluation return of {best['best_return']:.1f} < threshold "
            f"{threshold:g} in {total:,} steps over {seeds} seeds ({run_dir}); train longer "
            f"(--bc.expert-steps), add --bc.expert-seeds, or lower --bc.expert-threshold"
        )
    spec = run_spec(cfg)
    acting = AGENTS.get(cfg.algo).acting(cfg, spec)
    params = files.load_tree(paths.tree_file(run_dir, 0, best["seed"], "dense", "best"))[acting.module]
    mean_return = reevaluate(spec, acting, params, seed=best["seed"])
    net = acting.network
    save_expert(
        path,
        params,
        env=spec.id,
        kind=acting.head.name,
        hidden=net.hidden,
        activation=net.activation,
        torso=cfg.network.torso,
        mean_return=mean_return,
        source=f"{run_dir.name} seed {best['seed']}",
        epsilon=acting.head.data_epsilon,
        mean_activation=net.mean_activation,
    )
    return dataclasses.replace(load_expert(path), trained_now=True)


def reevaluate(spec, acting, params: dict, seed: int) -> float:
    """Mean return of fresh evaluation episodes of an acting network, as it is evaluated (greedy;
    Q-networks with their evaluation epsilon), on its environment's backend."""

    def policy(p, step_key, obs):
        return acting.head.actor(lambda o: acting.network.apply({"params": p}, o))(step_key, obs)

    def mean_return(envs, key, p):
        return envs.evaluate(envs.evaluation_state(), key, policy, p)[1]

    key = jax.random.fold_in(jax.random.PRNGKey(seed), 777)
    backend = backend_of(spec)
    if backend.per_run:
        envs = backend.make_envs(spec, 1, REEVALUATION_EPISODES, None)
        return float(jax.jit(lambda k: mean_return(envs, k, params))(key))
    one = jax.tree_util.tree_map(lambda x: jnp.asarray(x)[None], (key, params))
    evaluate = program(mean_return, spec, 1, REEVALUATION_EPISODES)
    try:
        return float(evaluate(*one)[0])
    finally:
        evaluate.close()
