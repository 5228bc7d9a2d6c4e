import jax.numpy as jnp
import numpy as np

from ticketlab.agents.gae import gae


def gae_loop(rewards, values, dones, last_value, gamma, lam):
    T, N = rewards.shape
    adv = np.zeros((T, N))
    for n in range(N):
        running = 0.0
        for t in reversed(range(T)):
            next_value = last_value[n] if t == T - 1 else values[t + 1, n]
            nonterminal = 1.0 - dones[t, n]
            delta = rewards[t, n] + gamma * next_value * nonterminal - values[t, n]
            running = delta + gamma * lam * nonterminal * running
            adv[t, n] = running
    return adv, adv + values


def test_gae_matches_python_loop():
    rng = np.random.default_rng(0)
    T, N = 17, 3
    rewards = rng.normal(size=(T, N)).astype(np.float32)
    values = rng.normal(size=(T, N)).astype(np.float32)
    dones = (rng.random((T, N)) < 0.2).astype(np.float32)
    last = rng.normal(size=N).astype(np.float32)
    adv, ret = gae(jnp.array(rewards), jnp.array(values), jnp.array(dones), jnp.array(last), 0.99, 0.8)
    ref_adv, ref_ret = gae_loop(rewards, values, dones, last, 0.99, 0.8)
    np.testing.assert_allclose(adv, ref_adv, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ret, ref_ret, rtol=1e-5, atol=1e-5)


def test_gae_hand_computation():
    # two steps, no termination: delta1 = 1 + .5*3 - 2 = 0.5; delta0 = 1 + .5*2 - 1 = 1
    # adv1 = 0.5; adv0 = 1 + .5*.5*0.5 = 1.125
    adv, ret = gae(jnp.array([[1.0], [1.0]]), jnp.array([[1.0], [2.0]]), jnp.zeros((2, 1)), jnp.array([3.0]), 0.5, 0.5)
    np.testing.assert_allclose(np.asarray(adv)[:, 0], [1.125, 0.5])
    np.testing.assert_allclose(np.asarray(ret)[:, 0], [2.125, 2.5])
