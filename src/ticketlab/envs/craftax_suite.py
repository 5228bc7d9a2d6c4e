"""Craftax (Matthews et al. 2024) by id: `craftax:Craftax-Classic-Symbolic-v1`,
`craftax:Craftax-Classic-Pixels-v1`, `craftax:Craftax-Symbolic-v1`, `craftax:Craftax-Pixels-v1`
(the `[craftax]` extra), stepped inside the compiled program like any gymnax environment.

Craftax's environments are gymnax's image before 1.0: a five-value step, `step_env`/`reset_env`
that do not reset, the limit in `params.max_timesteps` (Classic 10,000; full 100,000). They go
through the same adapter as any such environment registered by hand (envs/adapters.py), with
their facts added here:

- the symbolic observation's names and groups, read off Craftax's renderers
  (`render_craftax_symbolic`): the local map, cell by cell (Classic 7x9, full 9x11), one-hot by
  block type, then (full only) item type, then the mobs on the cell (Classic: zombie, cow,
  skeleton, arrow; full: 8 types each of melee, passive and ranged mobs and of mob and player
  projectiles), then (full only) whether the cell is lit; after the map the inventory, (full:
  potions), the intrinsics, the direction faced (one-hot: left, right, up, down), (full: armour,
  armour enchantments), and the light level and sleeping flag (full: with resting, the two
  learned spells, the floor, whether it is cleared, whether the boss is vulnerable);
- pixel observations as HWC images with channels red, green, blue (a conv torso: nature-cnn);
- the return floor, -0.9: the reward is the achievements unlocked (never negative) plus 0.1 per
  point of health gained or lost; health starts at 9 and never goes below 0, so an episode's
  health rewards sum to at least -0.9.
"""

from __future__ import annotations

import functools
from typing import Any

from ticketlab.envs.adapters import check_env
from ticketlab.envs.base import EnvSpec, gymnax_spec
from ticketlab.envs.suites import Field, groups_of, names_of, require, unknown_id

PREFIX = "craftax:"
IDS = ("Craftax-Classic-Symbolic-v1", "Craftax-Classic-Pixels-v1", "Craftax-Symbolic-v1", "Craftax-Pixels-v1")
RETURN_FLOOR = -0.9
DIRECTIONS = ("left", "right", "up", "down")

CLASSIC_BLOCKS = (
    "invalid", "out of bounds", "grass", "water", "stone", "tree", "wood", "path", "coal", "iron", "diamond",
    "crafting table", "furnace", "sand", "lava", "plant", "ripe plant",
)  # fmt: skip
BLOCKS = CLASSIC_BLOCKS + (
    "wall", "darkness", "wall moss", "stalagmite", "sapphire", "ruby", "chest", "fountain", "fire grass", "ice grass",
    "gravel", "fire tree", "ice shrub", "enchantment table fire", "enchantment table ice", "necromancer", "grave",
    "grave2", "grave3", "necromancer vulnerable",
)  # fmt: skip
ITEMS = ("no item", "torch", "ladder down", "ladder up", "ladder down blocked")
MOB_CLASSES = ("melee", "passive", "ranged", "mob projectile", "player projectile")


def classic_symbolic_fields() -> tuple[Field, ...]:
    cell = tuple(f"block {b}" for b in CLASSIC_BLOCKS) + ("zombie", "cow", "skeleton", "arrow")
    inventory = ("wood", "stone", "coal", "iron", "diamond", "sapling", "wood pickaxe", "stone pickaxe",
                 "iron pickaxe", "wood sword", "stone sword", "iron sword")  # fmt: skip
    return (
        Field("map", (7, 9, len(cell)), items=cell),
        Field("inventory", (len(inventory),), items=inventory),
        Field("intrinsics", (4,), items=("health", "food", "drink", "energy")),
        Field("direction", (4,), items=DIRECTIONS),
        Field("light level", ()),
        Field("sleeping", ()),
    )


def symbolic_fields() -> tuple[Field, ...]:
    mobs = tuple(f"{c} {t}" for c in MOB_CLASSES for t in range(8))
    cell = tuple(f"block {b}" for b in BLOCKS) + tuple(f"item {i}" for i in ITEMS) + mobs + ("lit",)
    inventory = ("wood", "stone", "coal", "iron", "diamond", "sapphire", "ruby", "sapling", "torches", "arrows",
                 "books", "pickaxe", "sword", "sword enchantment", "bow enchantment", "bow")  # fmt: skip
    intrinsics = ("health", "food", "drink", "energy", "mana", "xp", "dexterity", "strength", "intelligence")
    special = ("light level", "sleeping", "resting", "learned spell 0", "learned spell 1", "floor",
               "floor cleared", "boss vulnerable")  # fmt: skip
    return (
        Field("map", (9, 11, len(cell)), items=cell),
        Field("inventory", (len(inventory),), items=inventory),
        Field("potions", (6,)),
        Field("intrinsics", (len(intrinsics),), items=intrinsics),
        Field("direction", (4,), items=DIRECTIONS),
        Field("armour", (4,)),
        Field("armour enchantments", (4,)),
        Field("special", (len(special),), items=special),
    )


SYMBOLIC_FIELDS = {"Craftax-Classic-Symbolic-v1": classic_symbolic_fields, "Craftax-Symbolic-v1": symbolic_fields}


def is_pixels(env_id: str) -> bool:
    return env_id.endswith("-Pixels-v1")


@functools.cache  # one instance per id and process (Craftax traces for seconds)
def craftax_spec(env_id: str) -> EnvSpec:
    """The spec of `craftax:<id>` (its Craftax environment without auto-reset, adapted)."""
    name = env_id.removeprefix(PREFIX)
    if name not in IDS:
        raise unknown_id(env_id, IDS, "craftax")
    require("craftax", "craftax", env_id)
    craftax_env: Any = require("craftax.craftax_env", "craftax", env_id)
    env = craftax_env.make_craftax_env_from_name(name, auto_reset=False)
    params = env.default_params
    env, params, limit = check_env(env_id, (env, params), int(params.max_timesteps))
    facts: dict[str, Any]
    if is_pixels(name):
        facts = dict(image_layout="HWC", channel_names=("red", "green", "blue"))
    else:
        fields = SYMBOLIC_FIELDS[name]()
        facts = dict(obs_names=names_of(fields), obs_groups=groups_of(fields))
    return gymnax_spec(env_id, env, params, return_floor=RETURN_FLOOR, max_episode_steps=limit, **facts)
