"""gymnax Cart-Pole and Acrobot transitions match Gymnasium's from the same state."""
import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ticketlab.envs.registry import make_env


def _gymnax_step(spec, state, action):
    obs, nstate, reward, terminated, truncated, info = spec.env.step(jax.random.PRNGKey(0), state, action, spec.params)
    return np.asarray(info["final_observation"]), float(reward), bool(terminated), nstate


@pytest.mark.parametrize("seed", range(3))
def test_cartpole_matches_gymnasium(seed):
    spec = make_env("CartPole-v1")
    ref = gymnasium.make("CartPole-v1").unwrapped
    ref.reset(seed=seed)
    rng = np.random.default_rng(seed)
    start = rng.uniform(-0.15, 0.15, size=4)
    ref.state = start.copy()
    _, state = spec.env.reset(jax.random.PRNGKey(seed), spec.params)
    state = state.replace(x=jnp.float32(start[0]), x_dot=jnp.float32(start[1]), theta=jnp.float32(start[2]), theta_dot=jnp.float32(start[3]))
    for t in range(30):
        action = int(rng.integers(2))
        ref_obs, ref_r, ref_term, _, _ = ref.step(action)
        obs, r, term, state = _gymnax_step(spec, state, action)
        np.testing.assert_allclose(obs, ref_obs, atol=2e-4, rtol=1e-4)
        assert r == ref_r
        assert term == ref_term
        if term:
            break
        # keep both on exactly the same state to avoid drift from float32 rounding
        ref.state = np.asarray([state.x, state.x_dot, state.theta, state.theta_dot], dtype=np.float64)


@pytest.mark.parametrize("seed", range(3))
def test_acrobot_matches_gymnasium(seed):
    spec = make_env("Acrobot-v1")
    ref = gymnasium.make("Acrobot-v1").unwrapped
    ref.reset(seed=seed)
    rng = np.random.default_rng(seed)
    start = rng.uniform(-1.0, 1.0, size=4)
    ref.state = start.copy()
    _, state = spec.env.reset(jax.random.PRNGKey(seed), spec.params)
    state = state.replace(
        joint_angle1=jnp.float32(start[0]), joint_angle2=jnp.float32(start[1]),
        velocity_1=jnp.float32(start[2]), velocity_2=jnp.float32(start[3]),
    )
    for t in range(20):
        action = int(rng.integers(3))
        ref_obs, ref_r, ref_term, _, _ = ref.step(action)
        obs, r, term, state = _gymnax_step(spec, state, action)
        np.testing.assert_allclose(obs, ref_obs, atol=2e-4, rtol=1e-4)
        assert r == ref_r
        assert term == ref_term
        ref.state = np.asarray([state.joint_angle1, state.joint_angle2, state.velocity_1, state.velocity_2], dtype=np.float64)
