"""Dense experts for behavioural cloning: an ordinary engine run (level 0 only) of an RL preset,
stored content-addressed by that preset's config hash and reused, so a second request trains
nothing. A user may also point at an expert file of their own.

An expert file is safetensors: the actor's params (`dense_0/kernel`, ...) and string metadata
(env, hidden widths, activation, mean return, source).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import jax
from safetensors import safe_open

from ticketlab import paths, store
from ticketlab.agents.evaluate import evaluate_greedy
from ticketlab.config import ExperimentConfig
from ticketlab.validate import ConfigError

EXPERT_THRESHOLDS = {"cartpole-ppo": 475.0, "acrobot-ppo": -100.0}
"""Mean greedy evaluation return an expert of each preset must reach (paper SI C)."""
REEVALUATION_EPISODES = 64


class ExpertError(RuntimeError):
    """The expert never reached its threshold."""


@dataclasses.dataclass(frozen=True)
class Expert:
    params: dict
    """Actor params: {"dense_0": {"kernel", "bias"}, ...}."""
    env: str
    hidden: tuple[int, ...]
    activation: str
    mean_return: float
    """Mean return of REEVALUATION_EPISODES fresh greedy episodes."""
    path: Path
    trained_now: bool
    """False when the expert came from the cache or a user's file."""


def expert_config(preset_name: str, out: str, seeds: int, steps: int = 0) -> ExperimentConfig:
    """The RL run (level 0 only) an expert comes from; `steps` > 0 overrides its training steps."""
    from ticketlab.presets import preset

    cfg = preset(preset_name)
    if cfg.algo != "ppo":
        raise ConfigError("bc.expert", f"{preset_name!r} is not an RL preset; allowed: {', '.join(EXPERT_THRESHOLDS)}")
    if steps:
        cfg = dataclasses.replace(cfg, ppo=dataclasses.replace(cfg.ppo, total_steps=steps))
    return dataclasses.replace(cfg, seeds=seeds, levels=1, out=str(Path(out) / "experts"))


def save_expert(path: Path, actor_params: dict, env: str, hidden, activation: str, mean_return: float, source: str):
    store.save_tree(path, actor_params, metadata={
        "env": env, "hidden": ",".join(map(str, hidden)), "activation": activation,
        "mean_return": repr(float(mean_return)), "source": source,
    })


def load_expert(path: Path, trained_now: bool = False) -> Expert:
    path = Path(path)
    if not path.is_file():
        raise ConfigError("bc.expert", f"no expert file at {path}; give an RL preset ({', '.join(EXPERT_THRESHOLDS)}) or a .safetensors expert")
    with safe_open(str(path), "np") as f:
        meta = f.metadata() or {}
        flat = {k: f.get_tensor(k) for k in f.keys()}
    params = store.unflatten_tree(flat)
    if "env" not in meta:
        raise ConfigError("bc.expert", f"{path} has no 'env' metadata; save it with ticketlab.agents.experts.save_expert")
    n_layers = len(params)
    hidden = tuple(int(params[f"dense_{i}"]["kernel"].shape[1]) for i in range(n_layers - 1))
    return Expert(
        params=params,
        env=meta["env"],
        hidden=hidden,
        activation=meta.get("activation", "tanh"),
        mean_return=float(meta.get("mean_return", "nan")),
        path=path,
        trained_now=trained_now,
    )


def get_expert(expert: str, out: str, threshold: float, seeds: int, steps: int = 0) -> Expert:
    """The cached expert of RL preset `expert` (training it once if needed), or a user's file."""
    if expert.endswith(".safetensors"):
        return load_expert(Path(expert))
    from ticketlab.imp.driver import run_experiment
    from ticketlab.imp.results import load_metrics

    cfg = expert_config(expert, out, seeds, steps)
    run = paths.run_dir(cfg)
    path = paths.expert_file(run)
    if path.exists():
        return load_expert(path)
    run_experiment(cfg)
    rows = [r for r in load_metrics(run) if r["level"] == 0]
    if not rows:
        raise ExpertError(f"every candidate expert of {expert!r} failed (NaN or inf); see ticketlab status {run}")
    best = max(rows, key=lambda r: r["best_return"])
    if best["best_return"] < threshold:
        raise ExpertError(
            f"expert {expert!r} reached a best mean evaluation return of {best['best_return']:.1f} < threshold "
            f"{threshold:g} in {cfg.ppo.total_steps:,} steps over {seeds} seeds ({run}); train longer "
            f"(--bc.expert-steps), add --bc.expert-seeds, or lower --bc.expert-threshold"
        )
    params = store.load_tree(paths.tree_file(run, 0, best["seed"], "dense", "best"))
    mean_return = reevaluate(cfg, params["actor"], seed=best["seed"])
    save_expert(path, params["actor"], cfg.env.name, cfg.network.actor_hidden, cfg.network.activation,
                mean_return, f"{run.name} seed {best['seed']}")
    return dataclasses.replace(load_expert(path), trained_now=True)


def reevaluate(cfg: ExperimentConfig, actor_params: dict, seed: int) -> float:
    """Mean return of fresh greedy episodes of an actor."""
    from ticketlab.envs.registry import make_env
    from ticketlab.networks.mlp import actor_critic

    spec = make_env(cfg.env.name, cfg.env.encoding)
    actor, _ = actor_critic(cfg.network, cfg.init, spec.num_actions, len(spec.obs_shape))
    key = jax.random.fold_in(jax.random.PRNGKey(seed), 777)
    ret = jax.jit(lambda k: evaluate_greedy(k, lambda o: actor.apply({"params": actor_params}, o), spec, REEVALUATION_EPISODES))(key)
    return float(ret)
