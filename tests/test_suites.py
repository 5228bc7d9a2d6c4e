"""The pure-JAX suites by id (Craftax, XLand-MiniGrid, Jumanji): each family's observations against
the suite's own reset and step (names, shapes, ranges, the episode limit), and the one-line
refusals (an unknown id, an id that would download, actions the agents cannot take, a missing
extra, pixels under an MLP)."""

import dataclasses
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from test_cuda_lowering import CRAFTAX, check_lowering

import ticketlab
from ticketlab.core.errors import ConfigError
from ticketlab.envs import craftax_suite, jumanji_suite, xminigrid_suite
from ticketlab.envs.registry import env_ids
from ticketlab.envs.suites import Field, flatten, groups_of, names_of, require


def _steps(spec, actions, key=0):
    """(obs, reward, terminated, truncated, final obs) of each step of the adapted environment."""
    obs, state = jax.jit(spec.env.reset)(jax.random.PRNGKey(key), spec.params)
    out = [obs]
    step = jax.jit(spec.env.step)
    for t, a in enumerate(actions):
        obs, state, reward, terminated, truncated, info = step(
            jax.random.PRNGKey(1000 + t), state, jnp.int32(a), spec.params
        )
        out.append((obs, float(reward), bool(terminated), bool(truncated), info["final_observation"]))
    return out


def test_the_flattening_rule_names_and_groups_by_hand():
    fields = (Field("grid", (1, 2, 2), items=("a", "b")), Field("count", (), scale=4.0), Field("mask", (2,)))
    assert names_of(fields) == (
        "grid (0,0): a",
        "grid (0,0): b",
        "grid (0,1): a",
        "grid (0,1): b",
        "count",
        "mask[0]",
        "mask[1]",
    )
    assert groups_of(fields) == ("grid: a", "grid: b", "grid: a", "grid: b", "count", "mask", "mask")
    flat = flatten(fields, [jnp.array([[[1, 2], [3, 4]]]), jnp.int32(2), jnp.array([True, False])])
    np.testing.assert_array_equal(flat, [1, 2, 3, 4, 0.5, 1, 0])
    assert flat.dtype == jnp.float32


def test_craftax_classic_symbolic_against_craftax_itself():
    from craftax.craftax_classic.constants import BlockType
    from craftax.craftax_env import make_craftax_env_from_name

    spec = ticketlab.make_env("craftax:Craftax-Classic-Symbolic-v1")
    own = make_craftax_env_from_name("Craftax-Classic-Symbolic-v1", auto_reset=False)
    assert spec.obs_shape == own.observation_space(own.default_params).shape == (1345,) and spec.num_actions == 17
    assert spec.max_episode_steps == own.default_params.max_timesteps == 10_000 and spec.return_floor == -0.9
    assert len(spec.obs_names) == len(spec.obs_groups) == 1345 and len(set(spec.obs_names)) == 1345
    key = jax.random.PRNGKey(3)
    obs = _steps(spec, [], key=3)[0]
    own_obs, own_state = own.reset(key, own.default_params)
    np.testing.assert_allclose(obs, own_obs, rtol=1e-6)  # jitted or not: the light level's last bit
    assert float(obs.min()) >= 0.0 and float(obs.max()) <= 1.0
    named = dict(zip(spec.obs_names, np.asarray(obs)))
    # the player stands at the view's centre, (3,4) of 7x9: the block under it is the one named there
    under = BlockType(int(own_state.map[tuple(own_state.player_position)]))
    assert named[f"map (3,4): block {under.name.lower().replace('_', ' ')}"] == 1.0
    assert sum(v for n, v in named.items() if n.startswith("map (3,4): block")) == 1.0
    assert named["intrinsics: health"] == pytest.approx(
        float(own_state.player_health) / 10, abs=1e-3
    )  # float16 in Craftax
    assert named["direction: " + ("left", "right", "up", "down")[int(own_state.player_direction) - 1]] == 1.0
    groups = set(spec.obs_groups)
    assert {"map: block grass", "map: zombie", "inventory", "intrinsics", "direction", "light level"} <= groups


@pytest.mark.slow  # compiling Craftax's step takes most of a minute here
def test_a_craftax_step_is_craftax_own_step_env():
    from craftax.craftax_env import make_craftax_env_from_name

    spec = ticketlab.make_env("craftax:Craftax-Classic-Symbolic-v1")
    own = make_craftax_env_from_name("Craftax-Classic-Symbolic-v1", auto_reset=False)
    _, own_state = own.reset(jax.random.PRNGKey(3), own.default_params)
    k_step, _ = jax.random.split(jax.random.PRNGKey(1000))  # the adapter steps with the first half of its key
    own_next = jax.jit(own.step_env)(k_step, own_state, 5, own.default_params)
    (_, (next_obs, reward, terminated, truncated, final)) = _steps(spec, [5], key=3)
    np.testing.assert_allclose(next_obs, own_next[0], rtol=1e-6)
    np.testing.assert_allclose(final, own_next[0], rtol=1e-6)
    assert reward == pytest.approx(float(own_next[2])) and not terminated and not truncated


@pytest.mark.slow  # tracing full Craftax's reset takes about a minute here
def test_craftax_symbolic_names_every_input():
    spec = ticketlab.make_env("craftax:Craftax-Symbolic-v1")
    assert spec.obs_shape == (8268,) and len(spec.obs_names) == 8268 and spec.max_episode_steps == 100_000
    obs, state = jax.jit(spec.env.reset)(jax.random.PRNGKey(0), spec.params)
    named = dict(zip(spec.obs_names, np.asarray(obs)))
    inner = state.env
    assert named["intrinsics: health"] == pytest.approx(float(inner.player_health) / 10)
    assert named["special: floor"] == pytest.approx(float(inner.player_level) / 10)
    assert named["map (4,5): lit"] == 1.0  # the player's own cell is lit at the start


def test_xminigrid_against_xland_minigrid_itself():
    import xminigrid

    spec = ticketlab.make_env("xminigrid:MiniGrid-Empty-5x5")
    own, params = xminigrid.make("MiniGrid-Empty-5x5")
    assert spec.obs_shape == (7, 7, 2) and spec.image_layout == "HWC" and spec.channel_names == ("tile", "colour")
    assert spec.max_episode_steps == params.max_steps and spec.num_actions == own.num_actions(params)
    timestep = own.reset(params, jax.random.PRNGKey(0))
    steps = _steps(spec, [], key=0)
    np.testing.assert_allclose(steps[0], np.asarray(timestep.observation, np.float32) / np.array([12, 11]))
    # forward until the goal, by XLand-MiniGrid's own steps: the adapter's reward and end agree
    actions, ts = [], timestep
    for a in [0, 0, 1, 0, 0, 0]:  # forward, forward, turn right, forward...
        ts = own.step(params, ts, a)
        actions.append(a)
        if ts.step_type == 2:
            break
    mine = _steps(spec, actions, key=0)[1:]
    assert [m[1] for m in mine][-1] == pytest.approx(float(ts.reward))
    assert mine[-1][2] == bool(ts.discount == 0) and mine[-1][3] == bool(ts.step_type == 2 and ts.discount == 1)
    np.testing.assert_allclose(mine[-1][4], np.asarray(ts.observation, np.float32) / np.array([12, 11]))
    assert xminigrid_suite.IDS == tuple(e for e in xminigrid.registered_environments() if not e.startswith("XLand"))


def test_jumanji_snake_against_jumanji_itself():
    import jumanji

    spec = ticketlab.make_env("jumanji:Snake-v1")
    own = jumanji.make("Snake-v1")
    assert spec.obs_shape == (12 * 12 * 5 + 1 + 4,) and spec.max_episode_steps == own.time_limit == 4000
    assert spec.obs_names[:5] == tuple(f"grid (0,0): {c}" for c in ("body", "head", "tail", "fruit", "body order"))
    assert spec.obs_names[-5:] == (
        "step_count",
        "action_mask: up",
        "action_mask: right",
        "action_mask: down",
        "action_mask: left",
    )
    state, timestep = own.reset(jax.random.PRNGKey(0))
    steps = _steps(spec, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], key=0)  # up until the wall ends the episode
    o = timestep.observation
    want = np.concatenate(
        [np.asarray(o.grid).reshape(-1), [o.step_count / 3999], np.asarray(o.action_mask, np.float32)]
    )
    np.testing.assert_allclose(steps[0], want, rtol=1e-6)
    ended = next(i for i, s in enumerate(steps[1:]) if s[2] or s[3])
    for t in range(ended + 1):
        state, timestep = own.step(state, jnp.int32(0))
    assert timestep.last() and steps[ended + 1][2] == bool(timestep.discount == 0)
    assert int(timestep.observation.step_count) == ended + 1
    assert set(jumanji_suite.IDS) <= set(jumanji.registered_environments())


@pytest.mark.parametrize(
    "env_id, says",
    [
        ("craftax:Craftax-Nope-v1", "env.name: unknown 'craftax:Craftax-Nope-v1'; allowed: craftax:Craftax-Classic-Symbolic-v1, "),
        ("xminigrid:MiniGrid-Nope", "env.name: unknown 'xminigrid:MiniGrid-Nope'; allowed: xminigrid:MiniGrid-BlockedUnlockPickUp, "),
        ("xminigrid:XLand-MiniGrid-R1-9x9", "env.name: xminigrid:XLand-MiniGrid-R1-9x9 draws its tasks from a benchmark ruleset"),
        ("jumanji:Nope-v0", "env.name: unknown 'jumanji:Nope-v0'; allowed: jumanji:Maze-v0, "),
        ("jumanji:Sokoban-v0", "env.name: jumanji:Sokoban-v0 downloads its levels when made, which ticketlab may not"),
        ("jumanji:Tetris-v0", "env.name: jumanji:Tetris-v0 takes actions of kind MultiDiscreteArray"),
        ("jumanji:Game2048-v1", "env.name: jumanji:Game2048-v1 has no time_limit"),
    ],
)  # fmt: skip
def test_a_suite_refuses_in_one_line(env_id, says):
    with pytest.raises(ConfigError) as raised:
        ticketlab.make_env(env_id)
    assert str(raised.value).startswith(says) and "\n" not in str(raised.value)
    if "unknown" in says:
        assert str(raised.value).endswith(": ticketlab envs)")


def test_a_missing_extra_names_its_install():
    with pytest.raises(
        ConfigError,
        match=r"^env.name: craftax:X needs no_such_package_xyz \(.*\); run: pip install 'ticketlab\[craftax\]'$",
    ):
        require("no_such_package_xyz", "craftax", "craftax:X")


def test_ticketlab_envs_lists_every_suite_id():
    ids = env_ids()
    assert {f"craftax:{i}" for i in craftax_suite.IDS} <= set(ids)
    assert "xminigrid:MiniGrid-Empty-8x8" in ids and "jumanji:Snake-v1" in ids


@pytest.mark.slow  # Craftax draws its textures once (about a minute on 2 cores) before the pixel observation exists
def test_craftax_pixels_under_an_mlp_exit_2_before_anything_is_written(tmp_path):
    out = tmp_path / "runs"
    args = ["run", "cartpole-ppo", "--env.name", "craftax:Craftax-Classic-Pixels-v1", "--out", str(out)]
    done = subprocess.run([sys.executable, "-m", "ticketlab.cli", *args], capture_output=True, text=True, timeout=600)
    assert done.returncode == 2
    [line] = [x for x in done.stderr.strip().splitlines() if x.startswith("ticketlab: error:")]
    assert line.startswith(
        "ticketlab: error: network.torso: craftax:Craftax-Classic-Pixels-v1 observes 63x63x3 frames, which the mlp"
    ) and line.endswith("allowed: nature-cnn (its presets' network), or --network.torso mlp said explicitly")
    assert not out.exists()
    spec = ticketlab.make_env("craftax:Craftax-Classic-Pixels-v1")
    assert spec.image_layout == "HWC" and spec.channel_names == ("red", "green", "blue")


def _tiny(name, tmp_path, steps):
    cfg = ticketlab.preset(name)
    ppo = dataclasses.replace(cfg.ppo, total_steps=steps, num_envs=4, rollout_len=32, eval_every=8, eval_episodes=2)
    return dataclasses.replace(cfg, seeds=1, levels=2, out=str(tmp_path / "runs"), ppo=ppo)


@pytest.mark.slow  # an IMP run per suite and Craftax's pixels (about 5 min in all, most of it compiling Craftax)
@pytest.mark.parametrize(
    "name, steps, figure",
    [
        ("craftax-classic-ppo", 2048, "input_groups"),
        ("craftax-classic-pixels-ppo", 1024, "channel_density"),
        ("empty-xminigrid-ppo", 4096, "pixel_kept"),
        ("snake-jumanji-ppo", 4096, "input_groups"),
    ],
)
def test_a_suite_runs_imp_and_draws_what_its_mask_keeps(name, steps, figure, tmp_path):
    from ticketlab.reporting.html import write_report
    from ticketlab.reporting.plots import plot_run
    from ticketlab.store.results import load_metrics

    run = ticketlab.run(_tiny(name, tmp_path, steps))
    rows = load_metrics(run)
    assert {r["level"] for r in rows} == {0, 1} and all(r["status"] == "ok" for r in rows)
    assert run / "figures" / f"{figure}.png" in plot_run(run)
    page = write_report([str(run)], str(tmp_path / "report.html")).read_text()
    assert ("The observation's parts" in page) == (figure == "input_groups")


@pytest.mark.slow  # tracing each Craftax preset's program (test_cuda_lowering.py lowers the others)
@pytest.mark.parametrize("name", CRAFTAX)
def test_the_craftax_presets_lower_for_cuda(name, tmp_path):
    check_lowering(name, tmp_path)


def test_the_grouped_input_table_by_hand():
    from ticketlab.reporting.plots.input_groups import input_group_table

    def row(condition, level, seed, kept):
        return {"condition": condition, "level": level, "seed": seed, "density": 0.5**level,
                "input_layer": {"actor": {"kept": kept, "magnitude": kept}}}  # fmt: skip

    groups = ("map: a", "map: b", "map: a", "inventory")  # 4 inputs, 3 parts; 8 units: 8 connections each
    rows = [row("dense", 0, s, [8, 8, 8, 8]) for s in (0, 1)]
    rows += [row("mask_weights", 1, 0, [4, 2, 0, 8]), row("mask_weights", 1, 1, [2, 0, 2, 4])]
    levels, dens, fractions = input_group_table(rows, groups)
    np.testing.assert_array_equal(levels, [0, 1])
    np.testing.assert_allclose(dens, [1.0, 0.5])
    # map: a keeps (4 + 0) / 16 and (2 + 2) / 16; map: b 2/8 and 0/8; inventory 8/8 and 4/8
    np.testing.assert_allclose(fractions["map: a"], [1.0, 0.25])
    np.testing.assert_allclose(fractions["map: b"], [1.0, 0.125])
    np.testing.assert_allclose(fractions["inventory"], [1.0, 0.75])
    assert list(fractions) == ["map: a", "map: b", "inventory"]
