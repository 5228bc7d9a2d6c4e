"""gymnax Cart-Pole and Acrobot transitions match Gymnasium's from the same state."""

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ticketlab.envs.registry import make_env

# env id -> (gymnax state fields in Gymnasium's state order, start-state range, steps, actions)
ENVS = {
    "CartPole-v1": (("x", "x_dot", "theta", "theta_dot"), 0.15, 30, 2),
    "Acrobot-v1": (("joint_angle1", "joint_angle2", "velocity_1", "velocity_2"), 1.0, 20, 3),
}


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("env_id", list(ENVS))
def test_transitions_match_gymnasium(env_id, seed):
    fields, spread, steps, actions = ENVS[env_id]
    spec = make_env(env_id)
    ref = gymnasium.make(env_id).unwrapped
    ref.reset(seed=seed)
    rng = np.random.default_rng(seed)
    start = rng.uniform(-spread, spread, size=4)
    ref.state = start.copy()
    _, state = spec.env.reset(jax.random.PRNGKey(seed), spec.params)
    state = state.replace(**{f: jnp.float32(v) for f, v in zip(fields, start)})
    for _ in range(steps):
        action = int(rng.integers(actions))
        ref_obs, ref_reward, ref_terminated, _, _ = ref.step(action)
        _, state, reward, terminated, _, info = spec.env.step(jax.random.PRNGKey(0), state, action, spec.params)
        np.testing.assert_allclose(np.asarray(info["final_observation"]), ref_obs, atol=2e-4, rtol=1e-4)
        assert float(reward) == ref_reward
        assert bool(terminated) == ref_terminated
        if ref_terminated:
            break
        # continue both from exactly the same state, so float32 rounding cannot accumulate
        ref.state = np.asarray([getattr(state, f) for f in fields], dtype=np.float64)
