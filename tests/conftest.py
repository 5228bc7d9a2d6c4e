import contextlib
import dataclasses
import os

import pytest

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=1")

from ticketlab.core.config import ExperimentConfig, IMPConfig, PPOConfig  # noqa: E402
from ticketlab.presets import preset  # noqa: E402
from ticketlab.runtime.workers import usable_cores  # noqa: E402


def pytest_xdist_auto_num_workers(config):
    """`pytest -n auto`: one worker per usable core, as `--workers auto` counts them, at most 4 (each
    holds JAX, torch and its compiled programs: 2-3 GiB measured)."""
    return min(len(usable_cores()), 4)


def tiny_config(out, **overrides) -> ExperimentConfig:
    """A Cart-Pole config that trains in about a second per level (after compilation)."""
    base = preset("cartpole-ppo")
    cfg = dataclasses.replace(
        base,
        seeds=2,
        levels=3,
        out=str(out),
        ppo=dataclasses.replace(base.ppo, total_steps=1024, eval_every=4, eval_episodes=2),
    )
    return dataclasses.replace(cfg, **overrides)


@pytest.fixture
def tiny(tmp_path):
    return tiny_config(tmp_path / "runs")


@contextlib.contextmanager
def two_node_ray(monkeypatch):
    """A real two-node Ray cluster on 127.0.0.1 (one CPU each), connected for the block's duration."""
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        ray.init(address=cluster.address, log_to_driver=False)
        yield
    finally:
        ray.shutdown()
        cluster.shutdown()


def stored_arrays(out):
    """Every stored array of the runs under `out`, as bytes, by file and key."""
    from safetensors.numpy import load_file

    return {
        str(p.relative_to(out)): {k: v.tobytes() for k, v in load_file(str(p)).items()}
        for p in sorted(out.glob("*/levels/**/*.safetensors"))
    }


def teacher_file(tmp_path, env_id, kind, hidden=(32, 32)):
    """An expert file holding a freshly initialized teacher network of `kind`."""
    import jax
    import jax.numpy as jnp

    from ticketlab.agents.experts import save_expert
    from ticketlab.envs.registry import make_env
    from ticketlab.networks.network import make_network

    spec = make_env(env_id)
    out = spec.num_actions if kind != "gaussian" else spec.action_dim
    net = make_network(
        hidden=hidden,
        out=out,
        obs_shape=spec.obs_shape,
        is_policy=kind != "q",
        gaussian=kind == "gaussian",
        log_std_init=-0.5,
    )
    params = net.init(jax.random.PRNGKey(42), jnp.zeros((1,) + spec.obs_shape))["params"]
    path = tmp_path / f"{kind}.safetensors"
    save_expert(
        path,
        params,
        env=spec.id,
        kind=kind,
        hidden=hidden,
        activation="tanh",
        torso="mlp",
        mean_return=0.0,
        source="test",
        epsilon=0.1,
    )
    return path


__all__ = ["teacher_file", "two_node_ray", "stored_arrays", "tiny_config", "ExperimentConfig", "IMPConfig", "PPOConfig"]


def one_run(program):
    """The gymnax environments of one run of an agent's program (PPO, DQN, BC), as the engine gives
    them to its training function (`program.stages.train(envs, keys, start, mask)`)."""
    from ticketlab.agents.base import Agent
    from ticketlab.envs.gymnax_envs import GymnaxEnvs

    program = program.program if isinstance(program, Agent) else program
    return GymnaxEnvs(program.spec, program.cfg.num_envs, program.cfg.eval_episodes)
