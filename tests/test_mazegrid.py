"""MazeGrid rules on hand-placed states, its encodings and its renderer (paper SI B)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ticketlab.envs import mazegrid as mg
from ticketlab.envs.registry import make_env

UP, DOWN, LEFT, RIGHT = 0, 1, 2, 3
KEY = jax.random.PRNGKey(0)
ENV = mg.MazeGrid()
PARAMS = ENV.default_params


def place(agent, coins=None, poisons=None, enemy_cols=None, enemy_dirs=(1, 1), time=0):
    s = ENV.initial_state()
    return s.replace(
        agent=jnp.array(agent, jnp.int32),
        coins=s.coins if coins is None else jnp.asarray(coins),
        poisons=s.poisons if poisons is None else jnp.asarray(poisons),
        enemy_cols=s.enemy_cols if enemy_cols is None else jnp.array(enemy_cols, jnp.int32),
        enemy_dirs=jnp.array(enemy_dirs, jnp.int32),
        time=time,
    )


def step(state, action):
    return ENV.step(KEY, state, action, PARAMS)


def test_layout_matches_si_b():
    assert (mg.ROWS, mg.COLS) == (10, 20)
    assert mg.START_COINS.sum() == 42 and mg.START_POISONS.sum() == 12
    corridors = mg.enemy_corridors()
    assert corridors.sum() == 8 + 11
    assert not (mg.START_COINS & corridors.any(0)).any(), "an enemy corridor holds a coin"
    assert not (mg.START_POISONS & corridors.any(0)).any()
    # corridors are gaps in wall rows: the cells left and right of each corridor are walls
    for row, (lo, hi) in zip(mg.ENEMY_ROWS, mg.ENEMY_BOUNDS):
        assert mg.WALL[row, lo - 1] and mg.WALL[row, hi + 1]
    # one object per cell
    assert not (mg.START_COINS & mg.START_POISONS).any() and not (mg.WALL & (mg.START_COINS | mg.START_POISONS)).any()


def test_the_layout_is_the_same_every_episode():
    a = ENV.reset(jax.random.PRNGKey(1), PARAMS)[0]
    b = ENV.reset(jax.random.PRNGKey(2), PARAMS)[0]
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_walls_block_moves():
    # (1, 1) has the wall border above and to its left
    s = place((1, 1))
    for action in (UP, LEFT):
        _, s2, reward, terminated, truncated, _ = step(s, action)
        assert tuple(np.asarray(s2.agent)) == (1, 1)
    # (2, 7) -> right is the wall at (2, 8)
    _, s2, *_ = step(place((2, 7)), RIGHT)
    assert tuple(np.asarray(s2.agent)) == (2, 7)


def test_four_moves():
    for action, expected in ((UP, (4, 9)), (DOWN, (6, 9)), (LEFT, (5, 8)), (RIGHT, (5, 10))):
        _, s2, *_ = step(place((5, 9), enemy_cols=(6, 4)), action)
        assert tuple(np.asarray(s2.agent)) == expected


def test_coin_plus_one_and_removed():
    s = place((1, 2))  # (1, 3) is a coin
    assert bool(s.coins[1, 3])
    _, s2, reward, terminated, _, _ = step(s, RIGHT)
    assert float(reward) == 1.0 and not bool(s2.coins[1, 3]) and not bool(terminated)
    assert int(s2.coins.sum()) == 41
    _, s3, reward, *_ = step(s2.replace(agent=jnp.array([1, 2])), RIGHT)  # walking over it again: nothing
    assert float(reward) == 0.0


def test_poison_minus_one_and_removed():
    s = place((1, 5))  # (1, 6) is a poison
    assert bool(s.poisons[1, 6])
    _, s2, reward, *_ = step(s, RIGHT)
    assert float(reward) == -1.0 and not bool(s2.poisons[1, 6]) and int(s2.poisons.sum()) == 11


def test_enemies_patrol_their_corridors_and_turn_at_the_ends():
    s = ENV.initial_state()
    seen = [set(), set()]
    for _ in range(60):
        before = np.asarray(s.enemy_cols)
        s = mg.MazeGrid().step_env(KEY, s.replace(agent=jnp.array([1, 1])), UP, PARAMS)[1]
        after = np.asarray(s.enemy_cols)
        assert np.all(np.abs(after - before) == 1), "an enemy moves one cell per step"
        for i in range(2):
            lo, hi = mg.ENEMY_BOUNDS[i]
            assert lo <= after[i] <= hi
            seen[i].add(int(after[i]))
    for i in range(2):
        lo, hi = mg.ENEMY_BOUNDS[i]
        assert seen[i] == set(range(lo, hi + 1)), "every corridor cell is patrolled"
    # at the right end, moving right: turns back
    s = place((1, 1), enemy_cols=(13, 14), enemy_dirs=(1, 1))
    s2 = step(s, UP)[1]
    assert list(np.asarray(s2.enemy_cols)) == [12, 13] and list(np.asarray(s2.enemy_dirs)) == [-1, -1]


def test_meeting_an_enemy_terminates():
    # enemy 1 at (3, 8) moving right reaches (3, 9); the agent steps from (2, 9) down into (3, 9)
    s = place((2, 9), enemy_cols=(8, 4))
    obs, s2, reward, terminated, truncated, info = step(s, DOWN)
    assert bool(terminated) and not bool(truncated)
    # one step earlier the same move is safe
    s = place((2, 9), enemy_cols=(6, 4))
    assert not bool(step(s, DOWN)[3])


def test_collecting_every_coin_terminates():
    coins = np.zeros((10, 20), bool)
    coins[1, 3] = True
    _, _, reward, terminated, truncated, _ = step(place((1, 2), coins=coins), RIGHT)
    assert float(reward) == 1.0 and bool(terminated) and not bool(truncated)


def test_the_episode_is_truncated_after_200_steps():
    s = place((1, 1), time=199)
    _, _, _, terminated, truncated, _ = step(s, UP)
    assert bool(truncated) and not bool(terminated)
    _, _, _, _, truncated, _ = step(place((1, 1), time=198), UP)
    assert not bool(truncated)


def _visited_states(n=150):
    s, states = ENV.initial_state(), []
    key = jax.random.PRNGKey(3)
    for _ in range(n):
        key, k = jax.random.split(key)
        obs, s, _, term, trunc, _ = ENV.step(k, s, jax.random.randint(k, (), 0, 4), PARAMS)
        if not (term or trunc):
            states.append(s)
    return states


def test_object_map_is_one_hot_except_on_walls():
    for s in _visited_states()[::10]:
        maps = np.asarray(mg.object_map(s))
        assert maps.shape == (6, 10, 20) and maps.dtype == np.bool_
        total = maps.sum(axis=0)
        assert np.all(total[mg.WALL] == 0)
        assert np.all(total[~mg.WALL] == 1)
        assert maps[1].sum() == 1 and maps[2].sum() == 1 and maps[3].sum() == 1
        np.testing.assert_array_equal(maps[4], np.asarray(s.coins))


def test_rgb_colours():
    s = ENV.initial_state()
    image = np.asarray(mg.rgb(mg.object_map(s)))
    assert image.shape == (3, 10, 20) and image.dtype == np.uint8
    colour = lambda r, c: tuple(image[:, r, c])  # noqa: E731
    assert colour(0, 0) == (128, 128, 128)  # wall: grey
    assert colour(5, 9) == (0, 255, 255)  # agent: cyan
    assert colour(3, 6) == (255, 0, 255)  # enemy 1: magenta
    assert colour(6, 9) == (0, 255, 0)  # enemy 2: green
    assert colour(1, 1) == (255, 255, 0)  # coin: yellow
    assert colour(1, 6) == (139, 69, 19)  # poison: brown
    assert colour(1, 2) == (0, 0, 0)  # empty: black
    spec = make_env("MazeGrid-v0", "rgb")
    obs, _ = spec.env.reset(KEY, spec.params)
    np.testing.assert_array_equal(np.asarray(obs), image)
    seen = np.asarray(spec.encoder.apply(None, obs))  # what the network sees: value / 255
    np.testing.assert_allclose(seen, image / 255.0, rtol=1e-6)


def test_entangled_matrix_is_fixed_per_seed_across_levels_and_differs_across_seeds():
    from ticketlab.imp.blocks import run_keys

    spec = make_env("MazeGrid-v0", "entangled")
    assert spec.obs_shape == (1200,) and spec.raw_obs_shape == (6, 10, 20)
    level0 = run_keys([(0, "dense"), (1, "dense")], 0)
    level3 = run_keys([(0, "mask_weights"), (1, "random_reinit")], 3)
    m = lambda keys, i: np.asarray(spec.encoder.init(keys.data[i]))  # noqa: E731
    np.testing.assert_array_equal(m(level0, 0), m(level3, 0))
    np.testing.assert_array_equal(m(level0, 1), m(level3, 1))
    assert not np.allclose(m(level0, 0), m(level0, 1))
    a = m(level0, 0)
    assert a.shape == (1200, 1200) and a.min() >= -1 and a.max() <= 1 and abs(a.mean()) < 0.01
    obs = np.asarray(ENV.reset(KEY, PARAMS)[0])
    x = np.asarray(spec.encoder.apply(jnp.asarray(a), jnp.asarray(obs)[None]))[0]
    np.testing.assert_allclose(x, obs.reshape(-1).astype(np.float32) @ a, rtol=1e-4, atol=1e-3)


def test_unknown_encoding_names_the_field():
    from ticketlab.core.errors import ConfigError

    with pytest.raises(ConfigError, match="env.encoding: unknown 'grey'; allowed: object-map, rgb, entangled"):
        make_env("MazeGrid-v0", "grey")


def test_render_gif_and_png(tmp_path):
    from PIL import Image

    from ticketlab.cli.play import play_episode, random_policy
    from ticketlab.envs.render import save_frames

    spec = make_env("mazegrid")
    episode = play_episode(jax.random.PRNGKey(4), spec, random_policy(spec))
    assert len(episode.frames) == episode.steps + 1
    gif = save_frames(episode.frames, tmp_path / "episode.gif", cell=8)
    with Image.open(gif) as im:
        assert im.n_frames == len(episode.frames) and im.size == (160, 80)
    png = save_frames(episode.frames, tmp_path / "start.png", cell=8)
    with Image.open(png) as im:
        pixel = im.convert("RGB").getpixel((9 * 8 + 4, 5 * 8 + 4))  # the agent's start cell
    assert pixel == (0, 255, 255)


def test_time_limit_as_termination_reports_the_200th_step_terminated():
    """SI B: a MazeGrid game terminates after 200 steps; `--env.time-limit terminate` makes the
    limit a termination (no bootstrap), `truncate` (the default) keeps it a truncation."""
    import jax

    from ticketlab.envs.registry import make_env

    plain, ended = make_env("MazeGrid-v0"), make_env("MazeGrid-v0", time_limit="terminate")
    assert (plain.time_limit, ended.time_limit) == ("truncate", "terminate")
    flags = {}
    for name, spec in (("truncate", plain), ("terminate", ended)):
        step = jax.jit(spec.env.step)
        obs, state = spec.env.reset(jax.random.PRNGKey(0), spec.params)
        seen = []
        for t in range(200):
            # always action 0: this episode meets no enemy and runs to its limit (the flags below say so)
            obs, state, _, terminated, truncated, _ = step(jax.random.PRNGKey(t), state, 0, spec.params)
            seen.append((bool(terminated), bool(truncated)))
        flags[name] = seen
    assert flags["truncate"][-1] == (False, True) and flags["terminate"][-1] == (True, True)
    assert flags["truncate"][:-1] == flags["terminate"][:-1]  # nothing else changes
    import pytest

    from ticketlab.core.errors import ConfigError

    with pytest.raises(ConfigError, match="env.time-limit"):
        make_env("MazeGrid-v0", time_limit="stop")
