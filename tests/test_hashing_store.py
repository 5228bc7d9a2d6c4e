import dataclasses
import json

import numpy as np

from ticketlab.core.config import ExperimentConfig, from_dict, to_dict
from ticketlab.core.hashing import config_hash, hashed_fields
from ticketlab.presets import preset
from ticketlab.store.files import load_tree, save_tree


def test_known_hashes_are_pinned():
    # Changing these renames every existing run directory: do it only on purpose (hashing.ENGINE).
    assert config_hash(ExperimentConfig()) == config_hash(dataclasses.replace(ExperimentConfig(), levels=30, out="x"))
    assert hashed_fields(ExperimentConfig()) == {}
    assert config_hash(preset("cartpole-ppo")) == "4b6dce6459"
    assert config_hash(preset("cartpole-ppo", "paper")) == "7630bd0d08"


def test_hash_changes_with_results_relevant_fields():
    base = preset("cartpole-ppo", "paper")
    other = dataclasses.replace(base, init=dataclasses.replace(base.init, input_scale=0.7))
    assert config_hash(base) != config_hash(other)
    assert hashed_fields(other)["init.input_scale"] == 0.7
    assert config_hash(other) == config_hash(dataclasses.replace(preset("cartpole-ppo"), seeds=15))  # the demo: 0.7


def test_config_round_trips_through_json():
    cfg = preset("acrobot-ppo", "paper")
    assert from_dict(json.loads(json.dumps(to_dict(cfg)))) == cfg


def test_tree_round_trip_keeps_dtypes(tmp_path):
    tree = {"actor": {"dense_0": {"kernel": np.arange(6, dtype=np.float32).reshape(2, 3), "bias": np.ones(3, bool)}}}
    save_tree(tmp_path / "t.safetensors", tree)
    back = load_tree(tmp_path / "t.safetensors")
    assert back["actor"]["dense_0"]["bias"].dtype == bool
    np.testing.assert_array_equal(back["actor"]["dense_0"]["kernel"], tree["actor"]["dense_0"]["kernel"])
    assert [p.name for p in tmp_path.iterdir()] == ["t.safetensors"]  # no temp file left behind
    assert not (tmp_path / "t.safetensors").read_bytes().startswith(b"\x80")  # not a pickle
