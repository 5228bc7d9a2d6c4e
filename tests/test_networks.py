import jax
import numpy as np
import pytest

from ticketlab.agents.ppo import PPO
from ticketlab.core.config import ExperimentConfig, InitConfig, NetworkConfig
from ticketlab.envs.registry import make_env
from ticketlab.networks.init import INIT_SCHEMES
from ticketlab.pruning.masks import leaf_paths


def make(scheme="torch-default", scale=1.0, hidden=(64, 64)):
    cfg = ExperimentConfig(
        network=NetworkConfig(actor_hidden=hidden, critic_hidden=hidden),
        init=InitConfig(scheme=scheme, input_scale=scale),
    )
    return PPO(cfg, make_env("CartPole-v1")).init(jax.random.PRNGKey(0))


def test_layer_names_are_api():
    assert leaf_paths(make()) == [
        "actor/dense_0/bias",
        "actor/dense_0/kernel",
        "actor/dense_1/bias",
        "actor/dense_1/kernel",
        "actor/dense_2/bias",
        "actor/dense_2/kernel",
        "critic/dense_0/bias",
        "critic/dense_0/kernel",
        "critic/dense_1/bias",
        "critic/dense_1/kernel",
        "critic/dense_2/bias",
        "critic/dense_2/kernel",
    ]


def test_torch_default_matches_nn_linear_bounds():
    p = make(hidden=(256, 256))
    for name, fan_in in (("dense_0", 4), ("dense_1", 256), ("dense_2", 256)):
        bound = 1 / np.sqrt(fan_in)
        k, b = np.asarray(p["actor"][name]["kernel"]), np.asarray(p["actor"][name]["bias"])
        assert np.abs(k).max() <= bound and np.abs(b).max() <= bound
        # uniform on (-bound, bound): std = bound / sqrt(3)
        assert abs(k.std() - bound / np.sqrt(3)) < 0.1 * bound
    assert np.abs(np.asarray(p["actor"]["dense_1"]["bias"])).max() > 0  # biases are not zero


def test_input_scale_rescales_first_layer_only():
    a, b = make(scale=1.0), make(scale=0.1)
    for module in ("actor", "critic"):
        np.testing.assert_allclose(
            np.asarray(b[module]["dense_0"]["kernel"]), 0.1 * np.asarray(a[module]["dense_0"]["kernel"]), rtol=1e-6
        )
        np.testing.assert_array_equal(
            np.asarray(b[module]["dense_1"]["kernel"]), np.asarray(a[module]["dense_1"]["kernel"])
        )


@pytest.mark.parametrize("scheme", INIT_SCHEMES.names())
def test_every_scheme_initializes(scheme):
    p = make(scheme)
    k = np.asarray(p["actor"]["dense_1"]["kernel"])
    assert np.isfinite(k).all() and k.std() > 0


def test_kaiming_and_xavier_scales():
    k = np.asarray(make("kaiming-normal", hidden=(512, 512))["actor"]["dense_1"]["kernel"])
    assert abs(k.std() - np.sqrt(2 / 512)) < 0.05 * np.sqrt(2 / 512)
    x = np.asarray(make("xavier-uniform", hidden=(512, 512))["actor"]["dense_1"]["kernel"])
    assert np.abs(x).max() <= np.sqrt(6 / 1024)


def test_input_scale_reaches_the_critic_only_when_asked():
    """`init.input-scale-modules pruned`: under actor-only pruning the critic's first layer keeps
    its plain init; `all` (the default) rescales both modules."""
    from ticketlab.core.config import IMPConfig

    def first_kernels(**init):
        cfg = ExperimentConfig(init=InitConfig(**init))
        params = PPO(cfg, make_env("CartPole-v1")).init(jax.random.PRNGKey(0))
        return (np.asarray(params["actor"]["dense_0"]["kernel"]), np.asarray(params["critic"]["dense_0"]["kernel"]))

    actor1, critic1 = first_kernels()
    actor_all, critic_all = first_kernels(input_scale=0.1)
    actor_p, critic_p = first_kernels(input_scale=0.1, input_scale_modules="pruned")
    np.testing.assert_allclose(actor_all, 0.1 * actor1, rtol=1e-6)
    np.testing.assert_allclose(critic_all, 0.1 * critic1, rtol=1e-6)
    np.testing.assert_allclose(actor_p, 0.1 * actor1, rtol=1e-6)
    np.testing.assert_array_equal(critic_p, critic1)
    acp = ExperimentConfig(
        init=InitConfig(input_scale=0.1, input_scale_modules="pruned"), imp=IMPConfig(scope="actor_critic")
    )
    params = PPO(acp, make_env("CartPole-v1")).init(jax.random.PRNGKey(0))
    np.testing.assert_allclose(np.asarray(params["critic"]["dense_0"]["kernel"]), 0.1 * critic1, rtol=1e-6)
