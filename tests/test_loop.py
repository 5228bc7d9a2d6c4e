"""The best checkpoint is the best evaluation's, not the latest one (the paper's footnote 1: IMP
prunes the best checkpoint), with ties going to the later, longer-trained one."""

import jax.numpy as jnp

from ticketlab.agents.loop import fresh_tracking, track_evaluation


def test_the_best_checkpoint_is_kept_not_the_latest():
    tracking = fresh_tracking({"w": jnp.zeros(2)}, num_evals=4)
    for slot, (value, ret) in enumerate([(1.0, 5.0), (2.0, 9.0), (3.0, 4.0), (4.0, 9.0)]):
        tracking = track_evaluation(tracking, {"w": jnp.full(2, value)}, jnp.float32(ret), slot)
        expected = {0: 1.0, 1: 2.0, 2: 2.0, 3: 4.0}[slot]  # slot 2 is worse: slot 1 stays; slot 3 ties: the later
        assert float(tracking.best_params["w"][0]) == expected
    assert float(tracking.best_return) == 9.0
    assert tracking.eval_returns.tolist() == [5.0, 9.0, 4.0, 9.0]
