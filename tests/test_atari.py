"""ALE games through ale-py's XLA interface: the preprocessing against Gymnasium's own wrappers on
the same frames, the autoreset steps the loss leaves out, the loss over valid steps against a hand
filtering, bad input, and (slow) an IMP run of Pong as one compiled program per block."""

import dataclasses
import shutil
import subprocess
import sys

import gymnasium
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ticketlab.agents.ppo import PPO, Transition, normalize_over_batch
from ticketlab.cli.main import main
from ticketlab.core.config import AtariConfig
from ticketlab.envs.atari import RANDOM_SCORES, reset_steps, vector_env
from ticketlab.envs.registry import make_env
from ticketlab.experiments.configure import parse_run_args
from ticketlab.presets import preset
from ticketlab.presets.atari import GAMES as ATARI_GAMES
from ticketlab.store import files, paths

ale_py = pytest.importorskip("ale_py")


def test_ale_ids_are_rlpyts_settings_on_84x84_frames():
    spec = make_env("ALE/Pong-v5")
    assert spec.backend == "ale" and spec.env == "pong" and spec.discrete and spec.num_actions == 6
    assert spec.obs_shape == (4, 84, 84) and spec.obs_dtype == "uint8" and spec.image_layout == "CHW"
    assert spec.channel_names == ("frame t-3", "frame t-2", "frame t-1", "frame t")
    assert spec.obs_names[0] == "frame t-3 (0,0)" and len(spec.obs_names) == 4 * 84 * 84
    assert spec.return_floor == RANDOM_SCORES["pong"] and spec.max_episode_steps == 108_000 // 4
    assert spec.sticky_actions == 0.0  # rlpyt's (and ale-py's vector env's), not Gymnasium v5's 0.25
    assert make_env("ALE/SpaceInvaders-v5").env == "space_invaders"
    for name, env_id in ATARI_GAMES.items():
        cfg = preset(f"{name}-atari-ppo")
        assert cfg.env.name == env_id and cfg.network.torso == "nature-cnn" and cfg.imp.scope == "actor"
    paper = preset("breakout-atari-ppo", "paper").ppo  # table 9
    assert (
        paper.lr,
        paper.gamma,
        paper.gae_lambda,
        paper.total_steps,
        paper.value_coef,
        paper.entropy_coef,
        paper.clip_eps,
        paper.num_envs,
        paper.epochs,
    ) == (5e-4, 0.99, 0.98, 2_500_000, 0.5, 0.001, 0.2, 10, 10)


def _gymnasium_frames(game_id, actions, stack, size):
    env = gymnasium.make(game_id, frameskip=1, repeat_action_probability=0.0)
    env = gymnasium.wrappers.AtariPreprocessing(
        env, noop_max=0, frame_skip=4, screen_size=size, grayscale_obs=True, terminal_on_life_loss=False
    )
    env = gymnasium.wrappers.FrameStackObservation(env, stack, padding_type="zero")
    obs, _ = env.reset(seed=0)
    frames, rewards, ends = [np.asarray(obs)], [], []
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(int(a))
        frames.append(np.asarray(obs))
        rewards.append(reward)
        ends.append(terminated or truncated)
        if terminated or truncated:
            break
    env.close()
    return np.stack(frames), np.asarray(rewards), np.asarray(ends)


@pytest.mark.parametrize("game_id,stack,size", [("ALE/Breakout-v5", 4, 84), ("ALE/Pong-v5", 2, 64)])
def test_the_compiled_preprocessing_matches_gymnasiums_wrappers_frame_for_frame(game_id, stack, size):
    """The vector env stepped inside a jitted scan (as the program steps it) against Gymnasium's
    AtariPreprocessing + FrameStackObservation on the same actions: max of the last two of every 4
    frames, grayscale, area-resized, stacked oldest first with zeros before the first."""
    gymnasium.register_envs(ale_py)
    spec = make_env(game_id)
    settings = AtariConfig(frame_stack=stack, screen_size=size, noop_max=0, fire_reset=False, episodic_life=False)
    vec = vector_env(spec.env, settings, 0.0, 1, training=True)
    actions = np.random.default_rng(0).integers(0, spec.num_actions, 160).astype(np.int32)

    def play(handle):
        handle, (obs, _) = vec.reset(handle, jnp.zeros(1, jnp.int32))

        def step(handle, a):
            handle, (obs, reward, terminated, truncated, _) = vec.step(handle, a[None])
            return handle, (obs[0], reward[0], terminated[0] | truncated[0])

        handle, out = jax.lax.scan(step, handle, jnp.asarray(actions))
        return obs[0], out

    first, (frames, rewards, ends) = jax.jit(play)(vec.handle)
    expected, expected_rewards, expected_ends = _gymnasium_frames(game_id, actions, stack, size)
    n = len(expected) - 1
    assert n >= 100 and frames.shape[1:] == (stack, size, size)
    np.testing.assert_array_equal(np.asarray(first), expected[0])
    np.testing.assert_array_equal(np.asarray(frames)[:n], expected[1:])
    np.testing.assert_array_equal(np.asarray(rewards)[:n], expected_rewards)
    np.testing.assert_array_equal(np.asarray(ends)[:n], expected_ends)
    assert np.asarray(frames).std() > 0  # not a blank screen


def test_autoreset_steps_are_told_apart_and_lost_lives_do_not_reset():
    """Breakout under episodic life: a lost life terminates while the game goes on; only the step
    after a game over is the vector env's autoreset (episode frame count starts again), and it
    pays nothing."""
    vec = vector_env("breakout", AtariConfig(), 0.0, 2, training=True)
    env = vec.env
    env.reset(seed=1)
    rng = np.random.default_rng(1)
    previous = None
    game_over_before, restarts, life_losses = [], [], 0
    ended = np.zeros(2, bool)
    for _ in range(900):
        obs, reward, terminated, truncated, info = env.step(rng.integers(0, 4, 2).astype(np.int32))
        frames = info["episode_frame_number"]
        if previous is not None:
            restart = reset_steps(frames, previous)
            restarts.append(restart)
            game_over_before.append(ended.copy())
            assert np.all(reward[restart] == 0)
        life_losses += int(np.sum(terminated & (info["lives"] > 0)))
        ended = terminated & (info["lives"] == 0) | truncated
        previous = frames
    restarts, game_over_before = np.asarray(restarts), np.asarray(game_over_before)
    assert restarts.sum() >= 2 and life_losses >= 4
    np.testing.assert_array_equal(restarts, game_over_before)


def test_the_loss_over_valid_steps_is_the_loss_of_those_steps_alone():
    cfg = preset("cartpole-ppo")
    spec = make_env("CartPole-v1")
    ppo = PPO(cfg, spec)
    params = ppo.init(jax.random.PRNGKey(0))
    mask = jax.tree_util.tree_map(lambda x: jnp.ones(x.shape, bool), params)
    n = 12
    k = jax.random.split(jax.random.PRNGKey(1), 4)
    obs = jax.random.normal(k[0], (n, 4))
    action = jax.random.randint(k[1], (n,), 0, 2)
    log_prob = -jnp.abs(jax.random.normal(k[2], (n,)))
    zeros = jnp.zeros(n)
    valid = jnp.asarray([True, False] * 3 + [True] * 5 + [False])
    advantages, targets = jax.random.normal(k[3], (2, n))
    batch = Transition(obs, action, log_prob, zeros, zeros > 0, zeros > 0, valid)
    kept = Transition(*(x[valid] for x in (obs, action, log_prob, zeros, zeros > 0, zeros > 0)))
    for norm in ("minibatch", "batch"):
        ppo.cfg = dataclasses.replace(cfg.ppo, advantage_norm=norm)
        weighted = ppo.loss(params, mask, None, batch, advantages, targets)
        alone = ppo.loss(params, mask, None, kept, advantages[valid], targets[valid])
        np.testing.assert_allclose(weighted, alone, rtol=1e-5)
    np.testing.assert_allclose(
        normalize_over_batch(advantages, valid)[valid], normalize_over_batch(advantages[valid]), rtol=1e-5
    )


@pytest.mark.parametrize(
    "args,message",
    [
        (["pong-atari-ppo", "--env.name", "ALE/Pongg-v5"], "env.name: unknown ALE game 'ALE/Pongg-v5'"),
        (["pong-atari-ppo", "--env.atari.frame-stack", "0"], "env.atari.frame-stack: must be >= 1, got 0"),
        (
            ["pong-atari-ppo", "--env.atari.screen-size", "30"],
            "network.torso: nature-cnn needs images of at least 36x36; ALE/Pong-v5 has 30x30 (env.atari.screen-size)",
        ),
        (["cartpole-ppo", "--env.name", "ALE/Pong-v5"], "network.torso: ALE/Pong-v5 observes 4x84x84 frames"),
        (
            ["pong-atari-ppo", "--algo", "dqn"],
            "algo: ALE/Pong-v5 steps on the ale backend, which algo dqn does not support; allowed: ppo",
        ),
    ],
)
def test_bad_atari_input_is_one_line_and_writes_nothing(args, message, tmp_path, capsys):
    assert main(["run", *args, "--out", str(tmp_path / "runs")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "runs").exists()


def test_an_mlp_on_frames_said_explicitly_is_allowed_and_ids_are_listed(capsys):
    cfg = parse_run_args(["cartpole-ppo", "--env.name", "ALE/Pong-v5", "--network.torso", "mlp"])
    assert cfg.network.torso == "mlp"
    assert main(["envs", "--atari"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert "ALE/Pong-v5  (ROM pong)" in listed and len(listed) > 100


def test_without_the_atari_extra_the_error_says_how_to_install_it(tmp_path):
    shadow = tmp_path / "shadow" / "ale_py"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError(\"No module named 'ale_py'\")\n")
    code = (
        "import sys; from ticketlab.cli.main import main; "
        f"sys.exit(main(['run', 'pong-atari-ppo', '--out', {str(tmp_path / 'runs')!r}]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path / "shadow"), "PATH": "/usr/bin:/bin"},
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, proc.stderr
    assert "ALE/Pong-v5 needs ale-py" in lines[0] and 'pip install -e ".[atari]"' in lines[0]
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_pong_imp_trains_pruned_cnns_in_one_program_and_resumes_identically(tmp_path):
    from ticketlab.experiments.experiment import run
    from ticketlab.pruning.conditions import DENSE, PAPER_CONDITIONS
    from ticketlab.reporting.plots import plot_run
    from ticketlab.store.results import load_metrics

    base = preset("pong-atari-ppo")
    cfg = dataclasses.replace(
        base,
        seeds=2,
        levels=2,
        out=str(tmp_path / "runs"),
        env=dataclasses.replace(base.env, atari=dataclasses.replace(base.env.atari, max_frames=800)),
        # two updates of one epoch each, one evaluation at the end: what is checked is the program's
        # structure (masks, pruned weights at zero, the resumed bits), not learning (7.7 min before)
        ppo=dataclasses.replace(base.ppo, total_steps=1280, epochs=1, minibatches=2, eval_every=2, eval_episodes=1),
    )
    run_dir = run(cfg, workers=1)
    rows = {(r["seed"], r["level"], r["condition"]): r for r in load_metrics(run_dir)}
    assert set(rows) == {(s, 0, DENSE) for s in (0, 1)} | {(s, 1, c) for s in (0, 1) for c in PAPER_CONDITIONS}
    for (seed, level, condition), row in rows.items():
        assert row["env_steps"] == 1280 and -21 <= row["best_return"] <= 21
        mask = files.load_tree(paths.tree_file(run_dir, level, seed, condition, "mask"))
        best = files.load_tree(paths.tree_file(run_dir, level, seed, condition, "best"))
        for module in ("actor", "critic"):
            for layer, leaves in mask[module].items():
                m, w = np.asarray(leaves["kernel"]), np.asarray(best[module][layer]["kernel"])
                assert m.dtype == bool and np.all(w[~m] == 0.0), (module, layer)
                if module == "critic" or level == 0:
                    assert m.all()  # the actor alone is pruned (AP)
        if level == 1:
            kept = sum(int(np.asarray(v["kernel"]).sum()) for v in mask["actor"].values())
            total = sum(np.asarray(v["kernel"]).size for v in mask["actor"].values())
            assert kept == total // 2
    figures = {p.name for p in plot_run(run_dir)}
    assert {"ticket.png", "channel_density.png"} <= figures
    before = {k: (r["best_return"], r["final_return"]) for k, r in rows.items()}
    best = files.load_tree(paths.tree_file(run_dir, 1, 1, "mask_weights", "best"))
    shutil.rmtree(run_dir / "levels" / "level_01")  # as if killed before level 1 finished
    run(cfg, workers=1)
    after = {
        (r["seed"], r["level"], r["condition"]): (r["best_return"], r["final_return"]) for r in load_metrics(run_dir)
    }
    assert after == before
    again = files.load_tree(paths.tree_file(run_dir, 1, 1, "mask_weights", "best"))
    for a, b in zip(jax.tree_util.tree_leaves(best), jax.tree_util.tree_leaves(again)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
