"""MinAtar (paper SI A.1, figures 6, 9, 10): gymnax's games against the reference `minatar` package
(state-synced single steps, as gymnax's own tests do), sticky actions, bool screens packed in
replay, channel names, the presets of tables 10 and 11, and bad input."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import one_run

from ticketlab.agents.replay import bytes_per_transition, observation_compactor
from ticketlab.cli.main import main
from ticketlab.core.errors import ConfigError
from ticketlab.envs.registry import make_env
from ticketlab.experiments.configure import parse_run_args
from ticketlab.presets import preset

minatar = pytest.importorskip("minatar")  # a test-extra dependency: the reference implementation

GAMES = {
    "Breakout-MinAtar": "breakout",
    "SpaceInvaders-MinAtar": "space_invaders",
    "Freeway-MinAtar": "freeway",
    "Asterix-MinAtar": "asterix",
}


def gymnax_state(ref, env_id):
    """The gymnax EnvState of a reference `minatar.Environment` (gymnax's tests/state_translate.py,
    for the 1.0.1 field names). `time` is synced so that no time limit fires mid-test."""
    from gymnax.environments.minatar import asterix, breakout, freeway, space_invaders

    e = ref.env
    if env_id == "Breakout-MinAtar":
        return breakout.EnvState(
            ball_y=jnp.array(e.ball_y),
            ball_x=jnp.array(e.ball_x),
            ball_dir=jnp.array(e.ball_dir),
            pos=e.pos,
            brick_map=jnp.array(e.brick_map),
            strike=e.strike,
            last_y=jnp.array(e.last_y),
            last_x=jnp.array(e.last_x),
            time=0,
            terminal=e.terminal,
        )
    if env_id == "SpaceInvaders-MinAtar":
        return space_invaders.EnvState(
            pos=e.pos,
            f_bullet_map=jnp.array(e.f_bullet_map),
            e_bullet_map=jnp.array(e.e_bullet_map),
            alien_map=jnp.array(e.alien_map),
            alien_dir=e.alien_dir,
            enemy_move_interval=e.enemy_move_interval,
            alien_move_timer=e.alien_move_timer,
            alien_shot_timer=e.alien_shot_timer,
            ramp_index=e.ramp_index,
            shot_timer=e.shot_timer,
            ramping=e.ramping,
            time=0,
            terminal=bool(e.terminal),
        )
    if env_id == "Freeway-MinAtar":  # minatar counts its 2,500-step limit down
        return freeway.EnvState(
            pos=e.pos,
            cars=jnp.array(e.cars, dtype=jnp.int32),
            move_timer=e.move_timer,
            time=2500 - e.terminate_timer,
            terminal=e.terminal,
        )
    entities = np.zeros((8, 5), dtype=np.int32)  # Asterix: minatar's list of [x, y, lr, is_gold] | None
    for i, x in enumerate(e.entities):
        if x is not None:
            entities[i, :4] = [int(v) for v in x]
            entities[i, 4] = 1
    return asterix.EnvState(
        player_x=e.player_x,
        player_y=e.player_y,
        shot_timer=e.shot_timer,
        spawn_speed=e.spawn_speed,
        spawn_timer=e.spawn_timer,
        move_speed=e.move_speed,
        move_timer=e.move_timer,
        ramp_timer=e.ramp_timer,
        ramp_index=e.ramp_index,
        entities=jnp.array(entities),
        time=0,
        terminal=e.terminal,
    )


@pytest.mark.parametrize("env_id", sorted(GAMES))
def test_single_steps_match_the_minatar_reference(env_id):
    """From the reference's own state, one gymnax step gives the reference's screen, reward and
    termination, for random actions over several episodes. Steps where either side draws random
    numbers are skipped: Asterix's spawns, Freeway's cars re-drawn after a crossing."""
    spec = make_env(env_id, sticky_actions=0.0)
    env, params = spec.env, spec.params
    step = jax.jit(env.step_env)  # the game's own transition (no auto-reset), through our wrapper
    ref = minatar.Environment(GAMES[env_id], sticky_action_prob=0.0)
    ref.seed(3)
    ref.reset()
    actions = [int(a) for a in ref.minimal_action_set()]
    assert len(actions) == spec.num_actions
    rng = np.random.default_rng(0)
    checked = 0
    for t in range(300):
        a = int(rng.integers(spec.num_actions))
        state = gymnax_state(ref, env_id)
        random_step = env_id == "Asterix-MinAtar" and ref.env.spawn_timer == 0
        obs, _, reward, done, _ = step(jax.random.PRNGKey(t), state, a, params)
        r_ref, done_ref = ref.act(actions[a])
        expected = ref.state()
        if done_ref:
            ref.reset()
        if random_step or (env_id == "Freeway-MinAtar" and r_ref == 1):
            continue
        assert float(reward) == pytest.approx(float(r_ref)), f"{env_id} step {t}: reward"
        if env_id != "Freeway-MinAtar":  # gymnax's Freeway only truncates; minatar ends at its limit
            assert bool(done) == bool(done_ref), f"{env_id} step {t}: termination"
        if not done_ref:
            np.testing.assert_array_equal(np.asarray(obs).astype(bool), expected, err_msg=f"{env_id} step {t}")
        checked += 1
    assert checked > 250


@pytest.mark.parametrize("env_id", sorted(GAMES))
def test_minatar_screens_are_bool_and_pack_into_bits(env_id):
    spec = make_env(env_id)
    obs, state = spec.env.reset(jax.random.PRNGKey(0), spec.params)
    assert obs.dtype == jnp.bool_ and spec.obs_dtype == "bool" and obs.shape == spec.obs_shape
    obs2, _, _, _, _, info = spec.env.step(jax.random.PRNGKey(1), state, 0, spec.params)
    assert obs2.dtype == jnp.bool_ and info["final_observation"].dtype == jnp.bool_
    pack, unpack = observation_compactor(spec)
    stored = pack(obs2)
    assert stored.dtype == jnp.uint8 and stored.size == -(-obs2.size // 8)
    np.testing.assert_array_equal(np.asarray(unpack(stored)), np.asarray(obs2))
    raw, _ = spec.env._env._env.reset(jax.random.PRNGKey(0), spec.params)  # sticky(bool(gymnax env))
    np.testing.assert_array_equal(np.asarray(raw) > 0.5, np.asarray(obs))
    c = spec.obs_shape[-1]
    assert bytes_per_transition(spec.raw_obs_shape, jnp.bool_) == 2 * -(-100 * c // 8) + 20


def test_sticky_actions_default_to_minatar_and_repeat_the_executed_action():
    assert make_env("Breakout-MinAtar").sticky_actions == 0.1
    assert make_env("Breakout-MinAtar", sticky_actions=0.0).sticky_actions == 0.0
    assert make_env("CartPole-v1").sticky_actions == 0.0
    # with p = 1 every executed action is the first one (0): random requests change nothing
    always = make_env("Breakout-MinAtar", sticky_actions=1.0)
    inner = make_env("Breakout-MinAtar", sticky_actions=0.0)
    obs, state = always.env.reset(jax.random.PRNGKey(0), always.params)
    obs_i, state_i = inner.env.reset(jax.random.PRNGKey(0), inner.params)
    rng = np.random.default_rng(1)
    step, step_i = jax.jit(always.env.step), jax.jit(inner.env.step)
    for t in range(60):
        key = jax.random.PRNGKey(100 + t)
        obs, state, r, *_ = step(key, state, int(rng.integers(3)), always.params)
        _, k_env = jax.random.split(key)  # the wrapper's split: (replay draw, environment)
        obs_i, state_i, r_i, *_ = step_i(k_env, state_i, 0, inner.params)
        np.testing.assert_array_equal(np.asarray(obs), np.asarray(obs_i))
        assert float(r) == float(r_i)
        assert int(state.last_action) == 0


def test_channel_names_and_layout_come_from_minatar():
    freeway = make_env("freeway-minatar")
    assert freeway.image_layout == "HWC" and freeway.obs_shape == (10, 10, 7)
    assert freeway.channel_names == ("chicken", "car", "speed1", "speed2", "speed3", "speed4", "speed5")
    assert freeway.obs_names[0] == "chicken (0,0)" and freeway.obs_names[7] == "chicken (0,1)"
    space = make_env("SpaceInvaders-MinAtar")
    assert space.channel_names[-1] == "enemy_bullet" and space.obs_shape == (10, 10, 6)
    # the reference package's own channel order
    for env_id, game in GAMES.items():
        ref = minatar.Environment(game)
        channels = sorted(ref.env.channels, key=ref.env.channels.get)
        assert make_env(env_id).channel_names == tuple(channels), env_id


def test_dqn_presets_follow_table_11():
    cfg = preset("breakout-minatar-dqn", "paper")
    d = cfg.dqn
    assert (d.lr, d.batch_size, d.buffer_size, d.replay_ratio, d.huber_delta, d.max_grad_norm) == (
        2.5e-4,
        256,
        100_000,
        4,
        1.0,
        10.0,
    )
    assert (d.priority_alpha, d.priority_beta_start, d.priority_beta_final) == (0.6, 0.4, 1.0)
    assert (d.eps_start, d.eps_final, d.eps_anneal_steps, d.eps_eval) == (1.0, 0.05, 7_500_000, 0.001)
    assert d.total_steps == 15_000_000 and d.double_q and (cfg.seeds, cfg.levels) == (5, 20)
    assert cfg.network.q_hidden == (512, 256) and cfg.network.torso == "mlp" and cfg.env.sticky_actions == 0.1
    cnn = parse_run_args(["freeway-minatar-dqn", "--network.torso", "cnn"])
    assert cnn.network.torso == "minatar-cnn" and cnn.network.q_hidden == (128, 64)
    assert cnn.env.name == "Freeway-MinAtar"
    wide = parse_run_args(["freeway-minatar-dqn", "--network.torso=cnn", "--network.q-hidden", "256", "128"])
    assert wide.network.torso == "minatar-cnn" and wide.network.q_hidden == (256, 128)


def test_bc_presets_follow_table_10():
    mlp = preset("spaceinvaders-minatar-bc", "paper")
    assert mlp.algo == "bc" and mlp.bc.loss == "huber_value" and mlp.bc.lr == 5e-4
    assert mlp.student.hidden == (1024, 512) and mlp.bc.total_steps == 10_000_000 and mlp.seeds == 5
    assert (mlp.bc.expert, mlp.bc.expert_torso, mlp.bc.expert_scale) == ("spaceinvaders-minatar-dqn", "mlp", "paper")
    cnn = preset("spaceinvaders-minatar-bc", "paper", "minatar-cnn")
    assert cnn.network.torso == "minatar-cnn" and cnn.student.hidden == (128, 64) and cnn.bc.total_steps == 5_000_000
    assert cnn.bc.expert_torso == "minatar-cnn"
    from ticketlab.experiments.experts import expert_config

    teacher = expert_config(cnn.bc.expert, "runs", 2, torso=cnn.bc.expert_torso, scale="paper")
    assert teacher.network.torso == "minatar-cnn" and teacher.network.q_hidden == (128, 64)
    assert teacher.dqn.total_steps == 15_000_000 and teacher.levels == 1


@pytest.mark.parametrize(
    "args,field",
    [
        (["breakout-minatar-dqn", "--env.name", "Pong-MinAtar"], "env.name"),
        (["cartpole-dqn", "--network.torso", "cnn"], "network.torso"),
        (["breakout-minatar-bc", "--bc.expert", "cartpole-ppo"], "bc.expert"),
        (["breakout-minatar-bc", "--bc.expert", "asterix-minatar-dqn"], "bc.expert"),
        (["cartpole-bc", "--bc.loss", "huber_value"], "bc.expert"),
        (["breakout-minatar-dqn", "--env.sticky-actions", "1.5"], "env.sticky-actions"),
        (["pendulum-ppo", "--env.sticky-actions", "0.1"], "env.sticky-actions"),
    ],
)
def test_bad_minatar_input_names_the_field(args, field):
    with pytest.raises(ConfigError) as err:
        parse_run_args(args)
    assert err.value.field == field


def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "runs"
    # a real process once (its exit status and stderr), the other case through the same main()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ticketlab.cli",
            "run",
            "breakout-minatar-bc",
            "--bc.expert",
            "freeway-minatar-dqn",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "error" in proc.stderr
    assert main(["run", "breakout-minatar-dqn", "--env.name", "Pong-MinAtar", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "error" in err[0] and "env.name" in err[0], err
    assert not out.exists()


def _tiny(cfg, out):
    d = dataclasses.replace(
        cfg.dqn,
        total_steps=3_072,
        learning_starts=512,
        buffer_size=2_048,
        eps_anneal_steps=1_024,
        eval_every=16,
        eval_episodes=1,
    )
    return dataclasses.replace(
        cfg,
        seeds=1,
        levels=2,
        out=str(out),
        dqn=d,
        network=dataclasses.replace(cfg.network, q_hidden=(16,)),
        imp=dataclasses.replace(cfg.imp, conditions=("mask_weights", "random_reinit")),
    )


@pytest.mark.slow  # about 22 s: a whole MinAtar DQN preset run; CI runs it in its second step
def test_a_minatar_dqn_preset_runs_imp_and_draws_pixel_maps_per_channel(tmp_path):
    from ticketlab.experiments.experiment import run
    from ticketlab.reporting.plots import plot_run
    from ticketlab.store.results import load_metrics

    run_dir = run(_tiny(preset("freeway-minatar-dqn"), tmp_path / "runs"))
    rows = load_metrics(run_dir)
    assert sorted((r["level"], r["condition"]) for r in rows) == [
        (0, "dense"),
        (1, "mask_weights"),
        (1, "random_reinit"),
    ]
    assert all(len(r["input_layer"]["q"]["kept"]) == 700 for r in rows)
    names = {p.stem for p in plot_run(run_dir)}
    assert {"pixel_magnitude", "pixel_kept", "channel_density", "ticket"} <= names


@pytest.mark.slow  # trains a (tiny) CNN DQN expert, then distils it: about a minute, mostly compilation
def test_q_value_students_distil_a_cached_cnn_expert_of_the_same_game(tmp_path):
    from ticketlab.agents import bc
    from ticketlab.experiments.experiment import run
    from ticketlab.experiments.experts import train_expert
    from ticketlab.store.results import load_metrics

    out = tmp_path / "runs"
    base = preset("breakout-minatar-bc", "demo", "cnn")
    expert = train_expert(base.bc.expert, str(out), threshold=-1.0, seeds=1, steps=6_000, torso=base.bc.expert_torso)
    assert (expert.kind, expert.torso, expert.hidden, expert.env) == ("q", "minatar-cnn", (128, 64), "Breakout-MinAtar")
    assert expert.epsilon == 0.05  # table 11's final epsilon: the behaviour the students' data come from
    cfg = dataclasses.replace(
        base,
        seeds=1,
        levels=2,
        out=str(out),
        bc=dataclasses.replace(
            base.bc, expert=str(expert.path), total_steps=2_048, epochs=1, eval_every=4, eval_episodes=1
        ),
        imp=dataclasses.replace(base.imp, conditions=("mask_weights",)),
    )
    spec = make_env("Breakout-MinAtar")
    student = bc.BC(cfg, spec, expert)
    obs, teacher_q = jax.jit(partial(student.collect, one_run(student)))(jax.random.PRNGKey(0))
    assert obs.dtype == jnp.uint8 and obs.shape == (2_048, 50)  # 400 screen bits in 50 bytes
    assert teacher_q.shape == (2_048, 3)
    rows = load_metrics(run(cfg))
    assert sorted((r["level"], r["condition"]) for r in rows) == [(0, "dense"), (1, "mask_weights")]
    assert all(r["input_layer"]["actor"]["layer"] == "conv_0" for r in rows)
