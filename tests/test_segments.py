"""A block's training advanced in segments, and saved and loaded between two of them, gives the
bits of its training in one program (imp/checkpoints.py): results never depend on wall time, on
whether a checkpoint was saved, or on where a block resumed. A checkpoint that cannot be used is
moved aside with an event and its block restarts."""

import dataclasses
import json

import jax
import numpy as np
import pytest
from conftest import teacher_file

from ticketlab.agents.experts import load_expert
from ticketlab.imp import checkpoints
from ticketlab.imp.blocks import run_keys, trained
from ticketlab.imp.layout import Block
from ticketlab.imp.program import build
from ticketlab.presets import preset
from ticketlab.pruning.magnitude import random_global_mask
from ticketlab.pruning.masks import prunable_tree
from ticketlab.store.completion import read_events


def _ppo():
    cfg = preset("cartpole-ppo")
    return dataclasses.replace(cfg, ppo=dataclasses.replace(cfg.ppo, total_steps=1024, eval_every=3, eval_episodes=2))


def _dqn():
    cfg = preset("cartpole-dqn")
    return dataclasses.replace(
        cfg,
        dqn=dataclasses.replace(
            cfg.dqn,
            total_steps=1_600,
            buffer_size=1_000,
            learning_starts=400,
            eval_every=70,
            eval_episodes=2,
            target_update_every=30,
        ),
    )


def _sac():
    cfg = preset("pendulum-sac")
    return dataclasses.replace(
        cfg, sac=dataclasses.replace(cfg.sac, total_steps=700, learning_starts=300, eval_every=200, eval_episodes=1)
    )


def _bc(tmp_path):
    expert = load_expert(teacher_file(tmp_path, "Pendulum-v1", "gaussian"))
    base = preset("cartpole-bc")
    cfg = dataclasses.replace(
        base,
        name="pendulum-students",
        env=dataclasses.replace(base.env, name="Pendulum-v1"),
        bc=dataclasses.replace(
            base.bc,
            expert=str(expert.path),
            loss="kl_gaussian",
            total_steps=1_000,
            epochs=5,
            batch_size=100,
            eval_every=7,
            eval_episodes=1,
        ),
    )
    return cfg, expert


@pytest.fixture(scope="module")
def experiments(tmp_path_factory):
    """name -> its experiment, built once per module (its trainer compiles once)."""
    built = {}

    def get(name):
        if name not in built:
            cfg, expert = (
                _bc(tmp_path_factory.mktemp("teacher"))
                if name == "bc"
                else ({"ppo": _ppo, "dqn": _dqn, "sac": _sac}[name](), None)
            )
            built[name] = build(dataclasses.replace(cfg, seeds=2), expert)
        return built[name]

    yield get
    for exp in built.values():
        exp.trainer.close()


def _inputs(exp):
    """Keys, starts and masks of a block of two runs, the second with a random half of its weights."""
    jobs = [(0, "dense"), (1, "mask_weights")]
    keys = run_keys(jobs, 1)
    starts = exp.init_batch(list(jax.random.split(jax.random.PRNGKey(5), 2)))
    one = jax.tree_util.tree_map(lambda x: x[1], starts)
    half = random_global_mask(
        jax.random.PRNGKey(6),
        one,
        prunable_tree(one, exp.cfg.imp.scope),
        sum(int(np.size(x)) for x in jax.tree_util.tree_leaves(one)) // 2,
    )
    masks = jax.tree_util.tree_map(lambda m: np.stack([np.ones_like(m), m]), half)
    return keys, starts, masks


def _advance(trainer, stage, keys, masks, cuts):
    for first, count in cuts:
        stage = trainer.advance(stage, keys, masks, first, count)
    return stage


def _assert_same(a, b):
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.parametrize(
    "name",
    [
        "ppo",
        "dqn",
        "bc",
        # (SAC's stages are runner_stages as PPO's and DQN's; its compilation is the slowest)
        pytest.param("sac", marks=pytest.mark.slow),
    ],
)
def test_segments_and_a_checkpoint_between_them_leave_the_bits_unchanged(tmp_path, experiments, name):
    exp = experiments(name)
    trainer = exp.trainer
    assert trainer.resumable and trainer.steps >= 5
    keys, starts, masks = _inputs(exp)
    whole = trainer(keys, starts, masks)
    steps = trainer.steps
    in_32 = trainer.end(_advance(trainer, trainer.begin(keys, starts, masks), keys, masks, checkpoints.segments(steps)))
    _assert_same(whole, in_32)
    uneven = [(0, 1), (1, 2), (3, steps - 5), (steps - 2, 0), (steps - 2, 2)]
    _assert_same(whole, trainer.end(_advance(trainer, trainer.begin(keys, starts, masks), keys, masks, uneven)))

    # saved after 3 steps, loaded into a fresh begin's stage (as another process would), continued
    block = Block(1, "mask_weights", ((0, "mask_weights"), (1, "mask_weights")), 2)
    stage = _advance(trainer, trainer.begin(keys, starts, masks), keys, masks, [(0, 3)])
    checkpoints.save(tmp_path, block, stage.carry, 3, steps)
    fresh = trainer.begin(keys, starts, masks)
    step, carry = checkpoints.load(tmp_path, block, fresh.carry, steps)
    assert step == 3
    resumed = trainer.end(trainer.advance(fresh.replace(carry=carry), keys, masks, 3, steps - 3))
    _assert_same(whole, resumed)


def _save_after_4(exp, tmp_path, block, keys, starts, masks):
    trainer = exp.trainer
    stage = _advance(trainer, trainer.begin(keys, starts, masks), keys, masks, [(0, 4)])
    checkpoints.save(tmp_path, block, stage.carry, 4, trainer.steps)


def _truncate(root):
    state = next(root.glob("state-*.safetensors"))
    state.write_bytes(state.read_bytes()[:-100])


def _flip_a_byte(root):
    state = next(root.glob("state-*.safetensors"))
    data = bytearray(state.read_bytes())
    data[-1] ^= 1
    state.write_bytes(bytes(data))


def _other_steps(root):
    meta = json.loads((root / "checkpoint.json").read_text())
    (root / "checkpoint.json").write_text(json.dumps(meta | {"steps": meta["steps"] + 1}))


def _no_json(root):
    (root / "checkpoint.json").write_text('{"step": 4, "file"')


DAMAGES = [
    (_truncate, "checksum mismatch"),
    (_flip_a_byte, "checksum mismatch"),
    (_other_steps, "does not match"),
    (_no_json, "unreadable"),
]


def test_a_block_resumes_from_its_checkpoint_or_restarts_when_the_checkpoint_is_unusable(tmp_path, experiments):
    exp = experiments("ppo")
    keys, starts, masks = _inputs(exp)
    block = Block(1, "mask_weights", ((0, "mask_weights"), (1, "mask_weights")), 2)
    root = checkpoints.block_dir(tmp_path, block)
    whole = exp.trainer(keys, starts, masks)

    _save_after_4(exp, tmp_path, block, keys, starts, masks)
    _assert_same(whole, trained(exp, tmp_path, block, keys, starts, masks, checkpoint_every_s=1e-9))
    [event] = [e for e in read_events(tmp_path) if e["event"] == "checkpoint_resumed"]
    assert event["step"] == 4 and event["steps"] == exp.trainer.steps and event["seeds"] == [0, 1]
    meta = json.loads((root / "checkpoint.json").read_text())
    assert meta["step"] == checkpoints.segments(exp.trainer.steps)[-1][0]  # the last boundary before the end
    assert len(list(root.glob("state-*"))) == 1  # older states deleted
    checkpoints.discard(tmp_path, block)

    for i, (damage, reason) in enumerate(DAMAGES):
        _save_after_4(exp, tmp_path, block, keys, starts, masks)
        damage(root)
        with pytest.raises(checkpoints.CorruptCheckpoint, match=reason):
            checkpoints.load(tmp_path, block, exp.trainer.begin(keys, starts, masks).carry, exp.trainer.steps)
        _assert_same(whole, trained(exp, tmp_path, block, keys, starts, masks, checkpoint_every_s=0.0))
        assert not root.exists()
        events = [e for e in read_events(tmp_path) if e["event"] == "checkpoint_corrupt"]
        assert len(events) == i + 1 and reason in events[-1]["reason"] and events[-1]["level"] == 1
        moved = root.with_name(events[-1]["moved_to"].split("/")[-1])
        assert moved.is_dir() and (moved / "checkpoint.json").exists()  # kept for a look, never deleted
        assert len([e for e in read_events(tmp_path) if e["event"] == "checkpoint_resumed"]) == 1


def test_segments_cover_every_step_once():
    for steps in (1, 5, 31, 32, 33, 100, 3907):
        cuts = checkpoints.segments(steps)
        assert len(cuts) <= checkpoints.SEGMENTS
        assert [f for f, _ in cuts] == list(np.cumsum([0] + [c for _, c in cuts[:-1]]))
        assert sum(c for _, c in cuts) == steps and all(c > 0 for _, c in cuts)


@pytest.mark.parametrize(
    "name, method",
    [  # end to end (a block's trainer compiled twice): test_sparse_training.py keeps a run of rigl in the fast suite
        pytest.param("ppo", "rigl", marks=pytest.mark.slow),
        pytest.param("dqn", "gmp", marks=pytest.mark.slow),
    ],
)
def test_a_sparse_methods_training_in_segments_keeps_its_bits(tmp_path, experiments, name, method):
    """The mask updates happen between steps (agents/sparse_stages.py): segments, and a checkpoint
    between them, change nothing, the changing mask and its best checkpoint's included."""
    exp = experiments(name)
    trainer = exp.trainer_for(method)
    keys, starts, masks = _inputs(exp)
    whole = trainer(keys, starts, masks)
    assert whole.best_mask is not None
    steps = trainer.steps
    uneven = [(0, 1), (1, 2), (3, steps - 5), (steps - 2, 2)]
    _assert_same(whole, trainer.end(_advance(trainer, trainer.begin(keys, starts, masks), keys, masks, uneven)))
    block = Block(1, method, ((0, method), (1, method)), 2)
    stage = _advance(trainer, trainer.begin(keys, starts, masks), keys, masks, [(0, 3)])
    checkpoints.save(tmp_path, block, stage.carry, 3, steps)
    fresh = trainer.begin(keys, starts, masks)
    step, carry = checkpoints.load(tmp_path, block, fresh.carry, steps)
    _assert_same(whole, trainer.end(trainer.advance(fresh.replace(carry=carry), keys, masks, 3, steps - 3)))
    trainer.close()
