"""MazeGrid (paper SI B) as a gymnax environment: a 10 x 20 grid, one object per cell, the same
layout every episode. The agent collects coins (+1) and poisons (-1) by walking over them; two
enemies patrol horizontally inside gaps in the walls (their corridors hold no coins). An episode
ends after 200 steps (truncation), when every coin is collected, or when the agent shares a cell
with an enemy (termination).

A step: the agent moves (a move into a wall or off the grid leaves it in place) and collects what
lies on its new cell; then each enemy moves one cell along its corridor, turning back at the
corridor's ends; then the episode terminates if the agent and an enemy share a cell (SI B's "same
location": an agent and an enemy that swap cells in one step pass each other).

Encodings: `object-map` (bool [6, 10, 20]: empty, agent, enemy 1, enemy 2, coin, poison; walls
are the cells where every channel is 0) and `rgb` (uint8 [3, 10, 20], SI B's colours). The
`entangled` encoding is the object map times a fixed per-seed matrix, applied by the agent
(`envs/encodings.py`) so that replay memory stores the compact object map.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import struct
from gymnax.environments import environment, spaces

from ticketlab.core.errors import check_choice
from ticketlab.envs.base import EnvDef, EnvSpec, image_input_names
from ticketlab.envs.encodings import entangled, scaled

LAYOUT = (
    "####################",
    "#c.c.cp.c.#.c.pc.c.#",
    "#.c.p.c.#...c.c.p..#",
    "######1=======######",
    "#cccp.cc.c.c.cc.p.c#",
    "#cccc.p.cAc.cc.c.pc#",
    "####=====2=====#####",
    "#cc.p.c..#.c.c.p.c.#",
    "#c.c.p.c.#..c.p.c..#",
    "####################",
)
"""`#` wall, `c` coin, `p` poison, `A` agent start, `1`/`2` enemy starts, `=` the rest of an enemy
corridor (the enemy on that row patrols every non-wall cell of it), `.` empty."""

ROWS, COLS = len(LAYOUT), len(LAYOUT[0])
CHANNELS = ("empty", "agent", "enemy 1", "enemy 2", "coin", "poison")
COLOURS = {
    "empty": (0, 0, 0),
    "wall": (128, 128, 128),
    "agent": (0, 255, 255),
    "enemy 1": (255, 0, 255),
    "enemy 2": (0, 255, 0),
    "coin": (255, 255, 0),
    "poison": (139, 69, 19),
}
"""SI B: empty black, walls grey, agent cyan, enemies magenta and green, coins yellow, poisons brown."""
MOVES = np.array([[-1, 0], [1, 0], [0, -1], [0, 1]], np.int32)
"""Actions 0..3: up, down, left, right."""
ENCODINGS = ("object-map", "rgb", "entangled")
ENV_ID = "MazeGrid-v0"


def _layout_arrays():
    grid = np.array([list(row) for row in LAYOUT])
    wall = grid == "#"
    coins, poisons = grid == "c", grid == "p"
    agent = np.argwhere(grid == "A")[0]
    enemy_rows, enemy_cols, bounds = [], [], []
    for symbol in ("1", "2"):
        row, col = np.argwhere(grid == symbol)[0]
        free = np.flatnonzero(~wall[row])
        enemy_rows.append(row)
        enemy_cols.append(col)
        bounds.append((free.min(), free.max()))
    return wall, coins, poisons, agent, np.array(enemy_rows), np.array(enemy_cols), np.array(bounds)


WALL, START_COINS, START_POISONS, AGENT_START, ENEMY_ROWS, ENEMY_START_COLS, ENEMY_BOUNDS = _layout_arrays()


def enemy_corridors() -> np.ndarray:
    """bool [2, ROWS, COLS]: the cells each enemy can ever occupy."""
    out = np.zeros((2, ROWS, COLS), bool)
    for i, (row, (lo, hi)) in enumerate(zip(ENEMY_ROWS, ENEMY_BOUNDS)):
        out[i, row, lo : hi + 1] = True
    return out


@struct.dataclass
class EnvState(environment.EnvState):
    agent: jax.Array
    """int32 [2]: row, column."""
    enemy_cols: jax.Array
    """int32 [2]: each enemy's column (its row is fixed)."""
    enemy_dirs: jax.Array
    """int32 [2]: +1 moving right, -1 moving left."""
    coins: jax.Array
    """bool [ROWS, COLS]."""
    poisons: jax.Array
    """bool [ROWS, COLS]."""
    time: int


@struct.dataclass
class EnvParams(environment.EnvParams):
    max_steps_in_episode: int = 200


class MazeGrid(environment.Environment[EnvState, EnvParams]):
    def __init__(self, encoding: str = "object-map"):
        super().__init__()
        if encoding not in ("object-map", "rgb"):
            raise ValueError(f"encoding: unknown {encoding!r}; the env renders object-map or rgb")
        self.encoding = encoding

    @property
    def default_params(self) -> EnvParams:
        return EnvParams()

    @property
    def name(self) -> str:
        return "MazeGrid-v0"

    @property
    def num_actions(self) -> int:
        return 4

    def initial_state(self) -> EnvState:
        return EnvState(
            agent=jnp.asarray(AGENT_START, jnp.int32),
            enemy_cols=jnp.asarray(ENEMY_START_COLS, jnp.int32),
            enemy_dirs=jnp.ones(2, jnp.int32),
            coins=jnp.asarray(START_COINS),
            poisons=jnp.asarray(START_POISONS),
            time=0,
        )

    def reset_env(self, key, params):
        state = self.initial_state()
        return self.get_obs(state), state

    def step_env(self, key, state: EnvState, action, params):
        target = jnp.clip(state.agent + jnp.asarray(MOVES)[action], 0, jnp.array([ROWS - 1, COLS - 1]))
        agent = jnp.where(jnp.asarray(WALL)[target[0], target[1]], state.agent, target)
        coin = state.coins[agent[0], agent[1]]
        poison = state.poisons[agent[0], agent[1]]
        coins = state.coins.at[agent[0], agent[1]].set(False)
        poisons = state.poisons.at[agent[0], agent[1]].set(False)
        lo, hi = jnp.asarray(ENEMY_BOUNDS[:, 0]), jnp.asarray(ENEMY_BOUNDS[:, 1])
        ahead = state.enemy_cols + state.enemy_dirs
        dirs = jnp.where((ahead < lo) | (ahead > hi), -state.enemy_dirs, state.enemy_dirs)
        enemy_cols = state.enemy_cols + dirs
        caught = jnp.any((agent[0] == jnp.asarray(ENEMY_ROWS)) & (agent[1] == enemy_cols))
        state = EnvState(
            agent=agent, enemy_cols=enemy_cols, enemy_dirs=dirs, coins=coins, poisons=poisons, time=state.time + 1
        )
        reward = coin.astype(jnp.float32) - poison.astype(jnp.float32)
        terminated = caught | ~jnp.any(coins)
        obs = self.get_obs(state)
        return obs, state, reward, terminated, {"coins_collected": coin.astype(jnp.float32)}

    def is_terminated(self, state: EnvState, params) -> jax.Array:
        caught = jnp.any((state.agent[0] == jnp.asarray(ENEMY_ROWS)) & (state.agent[1] == state.enemy_cols))
        return caught | ~jnp.any(state.coins)

    def get_obs(self, state: EnvState, params=None, key=None):
        maps = object_map(state)
        return maps if self.encoding == "object-map" else rgb(maps)

    def observation_space(self, params):
        if self.encoding == "object-map":
            return spaces.Box(0, 1, (len(CHANNELS), ROWS, COLS), jnp.bool_)
        return spaces.Box(0, 255, (3, ROWS, COLS), jnp.uint8)

    def action_space(self, params):
        return spaces.Discrete(4)


def object_map(state: EnvState) -> jax.Array:
    """bool [6, ROWS, COLS] in CHANNELS order; on a wall cell every channel is False."""
    rows = jnp.arange(ROWS)[:, None]
    cols = jnp.arange(COLS)[None, :]
    agent = (rows == state.agent[0]) & (cols == state.agent[1])
    enemies = [(rows == ENEMY_ROWS[i]) & (cols == state.enemy_cols[i]) for i in range(2)]
    coin = state.coins & ~agent & ~enemies[0] & ~enemies[1]
    poison = state.poisons & ~agent & ~enemies[0] & ~enemies[1]
    occupied = agent | enemies[0] | enemies[1] | coin | poison
    empty = ~jnp.asarray(WALL) & ~occupied
    return jnp.stack([empty, agent, enemies[0], enemies[1], coin, poison])


def rgb(maps: jax.Array) -> jax.Array:
    """uint8 [3, ROWS, COLS] from an object map: each cell takes its object's colour; walls grey.
    Later channels paint over earlier ones (an enemy over the agent it caught)."""
    image = jnp.broadcast_to(jnp.asarray(COLOURS["wall"], jnp.uint8)[:, None, None], (3, ROWS, COLS))
    for channel, name in enumerate(CHANNELS):
        colour = jnp.asarray(COLOURS[name], jnp.uint8)[:, None, None]
        image = jnp.where(maps[channel][None], colour, image)
    return image


def build_spec(encoding: str) -> EnvSpec:
    """MazeGrid in `encoding`: the environment renders the object map (object-map, entangled) or
    RGB; the agent applies the entangled projection or the / 255 scaling."""
    check_choice("env.encoding", encoding, ENCODINGS)
    env = MazeGrid("rgb" if encoding == "rgb" else "object-map")
    params = env.default_params
    raw = tuple(env.observation_space(params).shape)
    channels = CHANNELS if encoding != "rgb" else ("red", "green", "blue")
    if encoding == "entangled":
        size = raw[0] * raw[1] * raw[2]
        shape, names, layout = (size,), tuple(f"projection[{i}]" for i in range(size)), None
    else:
        shape, names, layout = raw, image_input_names(raw, "CHW", channels), "CHW"
    return EnvSpec(
        id=ENV_ID,
        env=env,
        params=params,
        obs_shape=shape,
        obs_names=names,
        return_floor=-float(START_POISONS.sum()),
        max_episode_steps=params.max_steps_in_episode,
        num_actions=env.num_actions,
        raw_obs_shape=raw,
        obs_dtype="bool" if encoding != "rgb" else "uint8",
        image_layout=layout,
        channel_names=channels if layout else (),
        encoder={"entangled": entangled(raw), "rgb": scaled(1.0 / 255.0)}.get(encoding),
        encoding=encoding,
    )


ENV_DEF = EnvDef(id=ENV_ID, build=lambda env_cfg: build_spec(env_cfg.encoding), aliases=("mazegrid",), discrete=True)
