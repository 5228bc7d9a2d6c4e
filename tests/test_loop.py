"""The best checkpoint is the best evaluation's, not the latest one (the paper's footnote 1: IMP
prunes the best checkpoint), with ties going to the later, longer-trained one."""

import jax.numpy as jnp

from ticketlab.agents.loop import Cadence, Stage, Stages, fresh_tracking, track_evaluation


def test_the_best_checkpoint_is_kept_not_the_latest():
    tracking = fresh_tracking({"w": jnp.zeros(2)}, num_evals=4)
    for slot, (value, ret) in enumerate([(1.0, 5.0), (2.0, 9.0), (3.0, 4.0), (4.0, 9.0)]):
        tracking = track_evaluation(tracking, {"w": jnp.full(2, value)}, jnp.float32(ret), slot)
        expected = {0: 1.0, 1: 2.0, 2: 2.0, 3: 4.0}[slot]  # slot 2 is worse: slot 1 stays; slot 3 ties: the later
        assert float(tracking.best_params["w"][0]) == expected
    assert float(tracking.best_return) == 9.0
    assert tracking.eval_returns.tolist() == [5.0, 9.0, 4.0, 9.0]


def test_a_whole_training_is_one_segment_from_step_zero():
    """`Stages.train` advances steps 0 .. steps - 1 in one segment, as the engine's segments do
    (an evaluation or rewind cadence keyed on the step index would shift by one otherwise)."""
    calls = []

    def advance(envs, stage, keys, mask, first, count):
        calls.append((first, count))
        return stage

    stages = Stages(begin=lambda envs, keys, start, mask: Stage(carry=0), advance=advance, end=lambda e, s: s, steps=7)
    stages.train(None, None, None, None)
    assert calls == [(0, 7)]


def test_the_cadence_evaluates_every_k_steps_and_after_the_last():
    cadence = Cadence(num_steps=10, eval_every=3, rewind_step=4)
    assert [i for i in range(10) if cadence.evaluates_after(i)] == [2, 5, 8, 9]
    assert cadence.num_evals == 4
    assert [i for i in range(10) if cadence.captures_after(i)] == [3]  # the params after 4 steps
    assert [i for i in range(6) if Cadence(num_steps=6, eval_every=3).evaluates_after(i)] == [2, 5]


def test_the_training_curve_is_the_mean_of_its_interval():
    """Each evaluation closes the interval since the last: its mean episode return (NaN where no
    episode ended) goes to the curve, and the interval starts again from zero."""
    tracking = fresh_tracking({"w": jnp.zeros(1)}, num_evals=3)
    tracking = tracking.replace(interval=tracking.interval.add(jnp.float32(30.0), jnp.int32(2)).add(10.0, 2))
    assert float(tracking.interval.total) == 40.0 and int(tracking.interval.count) == 4
    tracking = track_evaluation(tracking, {"w": jnp.ones(1)}, jnp.float32(1.0), 0)
    assert float(tracking.train_curve[0]) == 10.0  # 40 / 4
    assert float(tracking.interval.total) == 0.0 and int(tracking.interval.count) == 0
    tracking = track_evaluation(tracking, {"w": jnp.ones(1)}, jnp.float32(1.0), 1)
    assert jnp.isnan(tracking.train_curve[1])  # no episode ended in it
    tracking = tracking.replace(interval=tracking.interval.add(jnp.float32(7.0), jnp.int32(1)))
    tracking = track_evaluation(tracking, {"w": jnp.ones(1)}, jnp.float32(1.0), 2)
    assert float(tracking.train_curve[2]) == 7.0  # one episode: its own return
