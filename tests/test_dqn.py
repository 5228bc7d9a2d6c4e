"""DQN pieces against hand computations and numpy references, and a short learning run."""

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax
from conftest import one_run

from ticketlab.agents import dqn
from ticketlab.agents.output import RunKeys
from ticketlab.agents.replay import Transition, compactor, importance_weights, make_buffer, new_priorities
from ticketlab.core.config import DQNConfig
from ticketlab.pruning.masked_optimizer import adam


def test_double_q_target_equals_a_hand_computation():
    q_online = jnp.array([[1.0, 5.0, 2.0], [0.0, -1.0, 3.0]])
    q_target = jnp.array([[4.0, 0.5, 9.0], [2.0, 7.0, 1.0]])
    reward, discount = jnp.array([1.0, -1.0]), jnp.array([1.0, 0.0])
    y = dqn.td_targets(q_online, q_target, reward, discount, 0.9, double_q=True)
    # row 0: online picks action 1, the target values it at 0.5 -> 1 + 0.9 * 0.5
    # row 1: terminal -> the reward alone
    np.testing.assert_allclose(np.asarray(y), [1.45, -1.0])
    y_vanilla = dqn.td_targets(None, q_target, reward, discount, 0.9, double_q=False)
    np.testing.assert_allclose(np.asarray(y_vanilla), [1.0 + 0.9 * 9.0, -1.0])


def test_epsilon_and_beta_schedules():
    cfg = DQNConfig(
        eps_start=1.0, eps_final=0.01, eps_anneal_steps=1000, priority_beta_start=0.4, priority_beta_final=1.0
    )
    assert float(dqn.epsilon(cfg, 0)) == 1.0
    np.testing.assert_allclose(float(dqn.epsilon(cfg, 500)), 0.505, rtol=1e-6)
    np.testing.assert_allclose(float(dqn.epsilon(cfg, 5000)), 0.01, rtol=1e-5)
    np.testing.assert_allclose(float(dqn.priority_beta(cfg, 0, 11)), 0.4, rtol=1e-6)
    np.testing.assert_allclose(float(dqn.priority_beta(cfg, 5, 11)), 0.7, rtol=1e-6)
    np.testing.assert_allclose(float(dqn.priority_beta(cfg, 10, 11)), 1.0, rtol=1e-6)


def test_epsilon_held_until_learning_starts_as_rlpyt():
    cfg = DQNConfig(
        eps_start=1.0, eps_final=0.01, eps_anneal_steps=1000, learning_starts=300, eps_anneal_from="learning"
    )
    assert float(dqn.epsilon(cfg, 0)) == 1.0 and float(dqn.epsilon(cfg, 300)) == 1.0
    np.testing.assert_allclose(float(dqn.epsilon(cfg, 800)), 0.505, rtol=1e-6)  # 500 steps into the schedule
    np.testing.assert_allclose(float(dqn.epsilon(cfg, 1300)), 0.01, rtol=1e-5)


def test_adam_eps_is_the_one_of_the_first_step_by_hand():
    """Adam's first step is -lr g / (|g| + eps) per weight (bias-corrected moments g and g^2):
    with rlpyt's DQN eps = 0.01 / 256 it shrinks a gradient of 1e-4 by a third."""
    g, lr, eps = jnp.array([1e-4, -1.0]), 1e-3, 0.01 / 256
    params = {"w": jnp.zeros(2)}
    tx = adam(lr, None, 0.0, eps=eps)
    updates, _ = tx.update({"w": g}, tx.init(params), params)
    np.testing.assert_allclose(np.asarray(updates["w"]), -lr * np.asarray(g) / (np.abs(np.asarray(g)) + eps), rtol=1e-5)
    assert abs(float(updates["w"][0])) < 0.75 * lr  # 1e-4 / (1e-4 + 3.9e-5)
    default, _ = adam(lr).update({"w": g}, adam(lr).init(params), params)
    np.testing.assert_allclose(np.asarray(default["w"]), -lr * np.sign(np.asarray(g)), rtol=1e-3)


def _fixed_buffer(priorities, alpha=0.6, batch=64):
    n = len(priorities)
    buffer = make_buffer(64, batch, alpha)
    example = Transition(
        obs=jnp.zeros(()),
        action=jnp.zeros((), jnp.int32),
        reward=jnp.zeros(()),
        discount=jnp.zeros(()),
        next_obs=jnp.zeros(()),
    )
    state = buffer.init(example)
    items = Transition(
        obs=jnp.arange(n, dtype=jnp.float32),
        action=jnp.arange(n, dtype=jnp.int32),
        reward=jnp.zeros(n),
        discount=jnp.ones(n),
        next_obs=jnp.zeros(n),
    )
    state = buffer.add(state, items)
    state = buffer.set_priorities(state, jnp.arange(n), jnp.asarray(priorities, jnp.float32))
    return buffer, state


def test_prioritized_sampling_frequencies_and_weights_match_numpy():
    priorities = np.array([0.1, 0.5, 1.0, 2.0, 4.0, 0.25, 3.0, 1.5])
    alpha, beta = 0.6, 0.4
    buffer, state = _fixed_buffer(priorities, alpha)
    expected = priorities**alpha / (priorities**alpha).sum()
    sample = jax.jit(jax.vmap(buffer.sample, in_axes=(None, 0)))(state, jax.random.split(jax.random.PRNGKey(0), 2000))
    counts = np.bincount(np.asarray(sample.indices).ravel(), minlength=len(priorities))
    freq = counts / counts.sum()
    np.testing.assert_allclose(freq, expected, atol=0.01)
    probs = np.asarray(sample.probabilities[0])
    np.testing.assert_allclose(probs, expected[np.asarray(sample.indices[0])], rtol=1e-5)
    n = len(priorities)
    reference = (n * probs) ** -beta
    reference /= reference.max()
    np.testing.assert_allclose(np.asarray(importance_weights(jnp.asarray(probs), beta)), reference, rtol=1e-5)


def test_new_transitions_enter_at_the_largest_priority():
    buffer, state = _fixed_buffer([0.1, 0.5, 3.0, 1.0])
    one = Transition(
        obs=jnp.ones(1), action=jnp.ones(1, jnp.int32), reward=jnp.zeros(1), discount=jnp.ones(1), next_obs=jnp.zeros(1)
    )
    state = buffer.add(state, one)
    from flashbax.buffers import sum_tree

    p = np.asarray(sum_tree.get_batch(state.sum_tree_state, jnp.arange(5)))
    np.testing.assert_allclose(p[4], 3.0**0.6, rtol=1e-6)


def test_empty_slot_samples_get_zero_weight_and_keep_zero_priority():
    probs = jnp.array([0.25, 0.0, 0.5])
    w = np.asarray(importance_weights(probs, 1.0))
    np.testing.assert_allclose(w, [1.0, 0.0, 0.5])
    np.testing.assert_allclose(
        np.asarray(new_priorities(jnp.array([-2.0, 5.0, 0.0]), probs, 1e-6)), [2.000001, 0.0, 1e-6]
    )


def test_boolean_observations_are_stored_as_bits():
    pack, unpack = compactor((6, 10, 20), jnp.bool_)
    obs = jax.random.bernoulli(jax.random.PRNGKey(0), 0.3, (5, 6, 10, 20))
    packed = pack(obs)
    assert packed.shape == (5, 150) and packed.dtype == jnp.uint8
    np.testing.assert_array_equal(np.asarray(unpack(packed)), np.asarray(obs))


def test_weight_decay_is_pytorch_coupled_l2():
    params = {"w": jnp.array([1.0, -2.0, 0.0])}
    grads = {"w": jnp.array([0.1, 0.1, 0.1])}
    tx = adam(1e-2, None, 0.1)
    updates, _ = tx.update(grads, tx.init(params), params)
    ref = optax.adam(1e-2)
    expected, _ = ref.update({"w": grads["w"] + 0.1 * params["w"]}, ref.init(params), params)
    np.testing.assert_allclose(np.asarray(updates["w"]), np.asarray(expected["w"]), rtol=1e-6)


def test_dropout_acts_only_while_training():
    from ticketlab.networks.network import make_network

    net = make_network(hidden=(32, 32), out=4, obs_shape=(5,), activation="relu", dropout=0.5)
    plain = make_network(hidden=(32, 32), out=4, obs_shape=(5,), activation="relu")
    x = jax.random.normal(jax.random.PRNGKey(0), (8, 5))
    params = net.init(jax.random.PRNGKey(1), x)
    eval_out = net.apply(params, x)
    np.testing.assert_array_equal(np.asarray(eval_out), np.asarray(plain.apply(params, x)))
    train_out = net.apply(params, x, train=True, rngs={"dropout": jax.random.PRNGKey(2)})
    assert not np.allclose(np.asarray(train_out), np.asarray(eval_out))


def _cartpole(steps, **dqn_fields):
    from ticketlab.agents import dqn
    from ticketlab.envs.registry import make_env
    from ticketlab.presets import preset

    cfg = preset("cartpole-dqn")
    cfg = dataclasses.replace(cfg, dqn=dataclasses.replace(cfg.dqn, total_steps=steps, **dqn_fields))
    return cfg, dqn.build(cfg, make_env(cfg.env.name))


def test_dqn_learns_cartpole_in_a_short_run():
    cfg, agent = _cartpole(60_000, eps_anneal_steps=20_000, eval_every=250)
    params = jax.vmap(agent.init)(jax.random.split(jax.random.PRNGKey(0), 2))
    from ticketlab.pruning.masks import ones_mask

    keys = RunKeys(jax.random.split(jax.random.PRNGKey(1), 2), jax.random.split(jax.random.PRNGKey(2), 2))
    out = jax.jit(jax.vmap(partial(agent.train, one_run(agent))))(keys, params, jax.vmap(ones_mask)(params))
    best = np.asarray(out.best_return)
    assert best.mean() >= 150, best  # a random policy scores about 22


def test_pruned_q_weights_stay_zero_and_the_mask_is_in_the_forward_pass():
    from ticketlab.pruning.magnitude import random_global_mask
    from ticketlab.pruning.masks import prunable_tree

    cfg, agent = _cartpole(4_000, eval_every=20)
    params = agent.init(jax.random.PRNGKey(0))
    mask = random_global_mask(jax.random.PRNGKey(1), params, prunable_tree(params, "actor"), 800)
    keys = RunKeys(jax.random.PRNGKey(3), jax.random.PRNGKey(4))
    train = jax.jit(partial(agent.train, one_run(agent)))
    out = train(keys, params, mask)
    for tree in (out.final_params, out.best_params):
        for p, m in zip(jax.tree_util.tree_leaves(tree), jax.tree_util.tree_leaves(mask)):
            assert np.all(np.asarray(p)[~np.asarray(m)] == 0.0)
    garbage = jax.tree_util.tree_map(lambda p, m: jnp.where(m, p, 77.0), params, mask)
    again = train(keys, garbage, mask)
    np.testing.assert_array_equal(np.asarray(out.eval_returns), np.asarray(again.eval_returns))
    for x, y in zip(jax.tree_util.tree_leaves(out.final_params), jax.tree_util.tree_leaves(again.final_params)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_late_rewinding_captures_the_params_after_the_rewind_update():
    from ticketlab.agents import dqn as dqn_module
    from ticketlab.envs.registry import make_env
    from ticketlab.pruning.masks import ones_mask

    cfg, agent = _cartpole(2_000, learning_starts=1_000, eval_every=50)
    spec = make_env(cfg.env.name)
    params = agent.init(jax.random.PRNGKey(0))
    keys = RunKeys(jax.random.PRNGKey(3), jax.random.PRNGKey(4))
    per_iteration = dqn_module.schedule(cfg.dqn).steps_per_iteration
    first = dqn_module.schedule(cfg.dqn).first_update
    outs = {}
    for rewind in (first + 10, first + 11):
        rewound = dataclasses.replace(cfg, imp=dataclasses.replace(cfg.imp, rewind_steps=rewind * per_iteration))
        program = dqn_module.DQN(rewound, spec)
        outs[rewind] = jax.jit(partial(program.stages.train, one_run(program)))(keys, params, ones_mask(params))
    a, b = outs[first + 10], outs[first + 11]
    leaves = lambda t: [np.asarray(x) for x in jax.tree_util.tree_leaves(t)]  # noqa: E731
    # same training either way; the captured params are 10 and 11 updates in: different from the
    # start, from each other, and from the end
    for x, y in zip(leaves(a.final_params), leaves(b.final_params)):
        np.testing.assert_array_equal(x, y)
    assert any(np.any(x != y) for x, y in zip(leaves(a.rewind_params), leaves(params)))
    assert any(np.any(x != y) for x, y in zip(leaves(a.rewind_params), leaves(b.rewind_params)))
    assert any(np.any(x != y) for x, y in zip(leaves(b.rewind_params), leaves(b.final_params)))
    assert agent.rewind_update == 0 and per_iteration == 8


def test_the_dqn_optimizer_takes_adam_eps():
    from ticketlab.envs.registry import make_env
    from ticketlab.presets import preset

    cfg = preset("cartpole-dqn")
    cfg = dataclasses.replace(cfg, dqn=dataclasses.replace(cfg.dqn, adam_eps=0.5))
    program = dqn.DQN(cfg, make_env("CartPole-v1"))
    params, g = {"w": jnp.zeros(1)}, {"w": jnp.array([0.5])}  # norm 0.5: below the clip of 10
    updates, _ = program.tx.update(g, program.tx.init(params), params)
    np.testing.assert_allclose(np.asarray(updates["w"]), [-cfg.dqn.lr * 0.5 / (0.5 + 0.5)], rtol=1e-4)


def test_rlpyt_priority_rule_new_at_one_and_td_clamped():
    td, probs = jnp.array([0.2, 3.0, -5.0, 0.0]), jnp.array([0.1, 0.2, 0.3, 0.0])
    np.testing.assert_allclose(np.asarray(new_priorities(td, probs, 1e-6, clip=1.0)), [0.2, 1.0, 1.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(
        np.asarray(new_priorities(td, probs, 1e-6)), [0.2 + 1e-6, 3.0 + 1e-6, 5.0 + 1e-6, 0.0], rtol=1e-6
    )
    alpha = 0.6
    for new_priority, expected in ((None, 4.0**alpha), (1.0, 1.0)):  # the largest so far, or rlpyt's 1 ** alpha
        buffer = make_buffer(64, 4, alpha, new_priority=new_priority)
        example = Transition(
            obs=jnp.zeros(()),
            action=jnp.zeros((), jnp.int32),
            reward=jnp.zeros(()),
            discount=jnp.zeros(()),
            next_obs=jnp.zeros(()),
        )
        state = buffer.add(
            buffer.init(example),
            Transition(
                obs=jnp.arange(4.0),
                action=jnp.zeros(4, jnp.int32),
                reward=jnp.zeros(4),
                discount=jnp.ones(4),
                next_obs=jnp.zeros(4),
            ),
        )
        state = buffer.set_priorities(state, jnp.arange(4), jnp.array([1.0, 4.0, 2.0, 0.5]))
        state = buffer.add(
            state,
            Transition(
                obs=jnp.ones(2),
                action=jnp.zeros(2, jnp.int32),
                reward=jnp.zeros(2),
                discount=jnp.ones(2),
                next_obs=jnp.zeros(2),
            ),
        )
        from flashbax.buffers import sum_tree

        leaves = np.asarray(sum_tree.get(state.sum_tree_state, jnp.arange(6)))
        np.testing.assert_allclose(leaves[4:], [expected] * 2, rtol=1e-5)


def test_the_dqn_takes_its_priority_rule():
    from ticketlab.envs.registry import make_env
    from ticketlab.presets import preset

    cfg = preset("cartpole-dqn")
    assert cfg.dqn.priority_rule == "rlpyt"  # the presets take rlpyt's (presets/framework.py)
    schaul = dataclasses.replace(cfg, dqn=dataclasses.replace(cfg.dqn, priority_rule="schaul"))
    assert dqn.DQN(schaul, make_env("CartPole-v1")).priority_clip is None
    cfg = dataclasses.replace(cfg, dqn=dataclasses.replace(cfg.dqn, priority_rule="rlpyt", huber_delta=2.0))
    program = dqn.DQN(cfg, make_env("CartPole-v1"))
    assert program.priority_clip == 2.0
    example = Transition(
        obs=jnp.zeros(4),
        action=jnp.zeros((), jnp.int32),
        reward=jnp.zeros(()),
        discount=jnp.zeros(()),
        next_obs=jnp.zeros(4),
    )
    state = program.buffer.add(
        program.buffer.init(example), jax.tree_util.tree_map(lambda x: jnp.stack([x] * 3), example)
    )
    from flashbax.buffers import sum_tree

    np.testing.assert_allclose(np.asarray(sum_tree.get(state.sum_tree_state, jnp.arange(3))), [2.0**0.6] * 3, rtol=1e-5)
