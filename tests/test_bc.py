"""Behavioural cloning: the loss layer, the expert cache, the data independence, and learning."""

import dataclasses
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import one_run

from ticketlab.agents import bc
from ticketlab.agents.distill_losses import cross_entropy, huber_value, kl_gaussian
from ticketlab.agents.output import RunKeys
from ticketlab.core.config import BCConfig, StudentConfig
from ticketlab.envs.registry import make_env
from ticketlab.experiments.experiment import run as run_experiment
from ticketlab.experiments.experts import expert_config, train_expert
from ticketlab.presets import preset
from ticketlab.store import paths


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_cross_entropy_matches_numpy():
    rng = np.random.default_rng(0)
    t, s = rng.normal(size=(32, 5)) * 3, rng.normal(size=(32, 5)) * 3
    ref = -(softmax(t) * np.log(softmax(s))).sum(-1)
    np.testing.assert_allclose(cross_entropy(jnp.array(t), jnp.array(s)), ref, rtol=1e-5)
    # minimized (as the KL) where the student equals the teacher
    assert np.all(np.asarray(cross_entropy(jnp.array(t), jnp.array(t))) <= ref + 1e-6)


def test_kl_gaussian_and_huber_match_numpy():
    rng = np.random.default_rng(1)
    mt, ms, lt, ls = (rng.normal(size=(8, 3)) for _ in range(4))
    vt, vs = np.exp(2 * lt), np.exp(2 * ls)
    ref = (0.5 * (np.log(vs / vt) + (vt + (mt - ms) ** 2) / vs - 1)).sum(-1)
    np.testing.assert_allclose(kl_gaussian((mt, lt), (ms, ls)), ref, rtol=1e-5)
    a, b = rng.normal(size=(8, 4)) * 2, rng.normal(size=(8, 4)) * 2
    d = np.abs(a - b)
    ref = np.where(d <= 1, 0.5 * d**2, d - 0.5).mean(-1)
    np.testing.assert_allclose(huber_value(jnp.array(a), jnp.array(b)), ref, rtol=1e-5)


@pytest.fixture(scope="module")
def expert(tmp_path_factory):
    """A quickly trained Cart-Pole expert (25,600 PPO steps), cached under <out>/experts/."""
    out = tmp_path_factory.mktemp("bc") / "runs"
    first = train_expert("cartpole-ppo", str(out), threshold=250.0, seeds=4, steps=25_600)
    files = {p: p.stat().st_mtime_ns for p in (out / "experts").rglob("*") if p.is_file()}
    second = train_expert("cartpole-ppo", str(out), threshold=250.0, seeds=4, steps=25_600)
    after = {p: p.stat().st_mtime_ns for p in (out / "experts").rglob("*") if p.is_file()}
    return out, first, second, files, after


def test_expert_cache_is_hit_on_second_call(expert):
    out, first, second, files, after = expert
    assert first.trained_now and not second.trained_now
    assert files == after  # nothing written or rewritten by the second call
    assert len(list((out / "experts").glob("*/levels/level_00/seed_0/complete.json"))) == 1
    assert first.path == second.path and first.mean_return >= 250
    for a, b in zip(jax.tree_util.tree_leaves(first.params), jax.tree_util.tree_leaves(second.params)):
        np.testing.assert_array_equal(a, b)


def test_a_teachers_width_is_its_own_expert(tmp_path):
    """Table 2's two Cart-Pole teachers (64,64 and 128,128): `bc.expert-hidden` sets the acting
    network's widths (PPO's critic with it, DQN's Q-network) and caches a separate expert."""
    default = expert_config("cartpole-ppo", str(tmp_path), 4)
    wide = expert_config("cartpole-ppo", str(tmp_path), 4, hidden=(128, 128))
    assert default.network.actor_hidden == (64, 64)
    assert wide.network.actor_hidden == wide.network.critic_hidden == (128, 128)
    assert paths.run_dir(wide) != paths.run_dir(default)
    assert expert_config("cartpole-dqn", str(tmp_path), 2, hidden=(32,)).network.q_hidden == (32,)


def _student_train(expert, cfg: BCConfig, hidden=(64, 64)):
    """(init, train) of a BC student of `expert` on Cart-Pole."""
    exp_cfg = dataclasses.replace(preset("cartpole-bc"), bc=cfg, student=StudentConfig(hidden))
    program = bc.BC(exp_cfg, make_env("CartPole-v1"), expert)
    return program.init, partial(program.stages.train, one_run(program))


@pytest.mark.slow  # two students distilled (about 11 s), moved to keep the README's test command under 10 minutes
def test_student_data_never_depends_on_the_student(expert):
    _, first, *_ = expert
    cfg = BCConfig(total_steps=400, epochs=1, batch_size=100, eval_every=4, eval_episodes=1)
    program = bc.BC(dataclasses.replace(preset("cartpole-bc"), bc=cfg), make_env("CartPole-v1"), first)
    collect = jax.jit(partial(program.collect, one_run(program)))
    a_obs, a_logits = collect(jax.random.PRNGKey(7))
    b_obs, b_logits = collect(jax.random.PRNGKey(7))
    np.testing.assert_array_equal(a_obs, b_obs)
    np.testing.assert_array_equal(a_logits, b_logits)
    # the batches the train program steps on: same keys, different student weights (and widths)
    # -> identical batches; another data key -> other batches
    digests = []
    for hidden, runs in (((64, 64), ((0, 7), (1, 7), (0, 8))), ((128, 32), ((2, 7),))):
        init, train = _student_train(first, cfg, hidden)
        train = jax.jit(train)  # one compile per width, every (init seed, data seed) through it
        for init_seed, data_seed in runs:
            params = init(jax.random.PRNGKey(init_seed))
            mask = jax.tree_util.tree_map(lambda x: jnp.ones(x.shape, bool), params)
            out = train(RunKeys(jax.random.PRNGKey(1), jax.random.PRNGKey(data_seed)), params, mask)
            digests.append(float(out.data_digest))
    same_width, other_data, other_width = digests[:2], digests[2], digests[3]
    assert same_width[0] == same_width[1] == other_width != other_data
    assert len(a_obs) == 400 and not np.allclose(a_obs[0], a_obs[100])


def test_distilled_dense_student_learns_cartpole(expert):
    _, first, *_ = expert
    cfg = BCConfig(total_steps=10_000, epochs=10, batch_size=250, eval_every=40, eval_episodes=4)
    init, train = _student_train(first, cfg, hidden=(128, 128))
    keys = jax.random.split(jax.random.PRNGKey(3), 2)
    params = jax.vmap(init)(keys)
    mask = jax.tree_util.tree_map(lambda x: jnp.ones(x.shape, bool), params)
    out = jax.jit(jax.vmap(train))(RunKeys(keys, keys), params, mask)
    best = np.asarray(out.best_return)
    assert best.mean() >= 0.9 * first.mean_return, (best, first.mean_return)
    losses = np.asarray(out.train_curve)
    assert (losses[:, -1] < losses[:, 0]).all()  # the distillation loss goes down


def test_bc_run_through_the_engine(expert, tmp_path):
    """IMP over students: same driver, store and conditions as RL; the expert comes from the cache."""
    from ticketlab.store.results import load_metrics

    out, first, *_ = expert
    base = preset("cartpole-bc")
    cfg = dataclasses.replace(
        base,
        seeds=2,
        levels=2,
        out=str(out),
        bc=dataclasses.replace(
            base.bc, expert=str(first.path), total_steps=1000, epochs=2, eval_every=4, eval_episodes=2
        ),
    )
    run = run_experiment(cfg)
    rows = load_metrics(run)
    assert {r["condition"] for r in rows} == {"dense", *cfg.imp.conditions}
    assert all(
        set(r["layer_density"]) == {"actor/dense_0/kernel", "actor/dense_1/kernel", "actor/dense_2/kernel"}
        for r in rows
    )
    assert paths.config_file(run).exists()


@pytest.mark.slow  # trains a 2,048-step expert in a fresh process (about 30 s), kept out of the README's test command
def test_an_expert_short_of_its_threshold_is_one_line_from_run(tmp_path):
    """`ticketlab run` of a BC preset whose expert misses its threshold says so in one line (the
    expert command's message: its return, the threshold, what to change) and exits 1, where the
    Hopper BC demo once ended in a traceback; no student is trained."""
    import subprocess
    import sys

    out = tmp_path / "runs"
    flags = ["--bc.expert-steps", "2048", "--bc.expert-seeds", "1", "--bc.expert-threshold", "1e6"]
    args = [sys.executable, "-m", "ticketlab.cli", "run", "cartpole-bc", "--out", str(out), *flags]
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    [line] = [x for x in done.stderr.strip().splitlines() if x.startswith("ticketlab: error:")]
    assert line.startswith("ticketlab: error: expert 'cartpole-ppo' reached a best mean evaluation return of ")
    assert "< threshold 1e+06 in 2,048 steps over 1 seeds" in line and line.endswith("--bc.expert-threshold")
    assert [p.name for p in out.iterdir()] == ["experts"]
