"""The presets on the paper's framework (presets/framework.py): where SI C is silent, rlpyt's and
PyTorch's pruning choices, checked field by field, and the presets that state their own choice
(the Bullet presets' rlpyt MuJoCo config) or are not the paper's keep theirs."""

import pytest

from ticketlab.presets import PRESETS, SCALES, preset

PPO_ON_JIT = ("cartpole-ppo", "acrobot-ppo", "mazegrid-ppo")
DQN_ON_JIT = ("cartpole-dqn", "mazegrid-dqn", "breakout-minatar-dqn", "seaquest-minatar-dqn")
NOT_THE_PAPERS = ("pendulum-ppo", "mountaincar-continuous-ppo", "pendulum-sac") + tuple(
    name for name, entry in PRESETS.items() if entry.family == "suites"
)


@pytest.mark.parametrize("scale", SCALES)
def test_the_papers_presets_take_torchs_prune_count(scale):
    for name in PRESETS.names():
        expected = "ceil" if name in NOT_THE_PAPERS else "round"
        assert preset(name, scale).imp.prune_count == expected, name


@pytest.mark.parametrize("name", PPO_ON_JIT)
def test_ppo_presets_take_rlpyts_ppo(name):
    cfg = preset(name)
    assert not cfg.ppo.normalize_advantages
    assert cfg.ppo.lr_schedule == cfg.ppo.clip_schedule == "linear"
    assert cfg.eval.policy == "sample" and cfg.env.time_limit == "terminate"


@pytest.mark.parametrize("name", DQN_ON_JIT)
def test_dqn_presets_take_rlpyts_dqn(name):
    cfg = preset(name)
    assert cfg.dqn.priority_rule == "rlpyt" and cfg.dqn.eps_anneal_from == "learning"
    assert cfg.env.time_limit == "terminate" and cfg.eval.policy == "greedy"  # epsilon-greedy at eps-eval
    assert cfg.dqn.adam_eps == 1e-8  # rlpyt's own Atari scripts pass optim_kwargs={}: torch's default


def test_atari_anneals_the_clip_as_rlpyt():
    for name in ("pong-atari-ppo", "atari-ppo"):
        cfg = preset(name, "paper")
        assert cfg.ppo.lr_schedule == cfg.ppo.clip_schedule == "linear" and not cfg.ppo.normalize_advantages
        assert cfg.eval.policy == "sample" and cfg.env.time_limit == "terminate"


def test_presets_that_state_their_own_choice_keep_it():
    bullet = preset("hopper-bullet-ppo")
    assert bullet.ppo.normalize_advantages and bullet.ppo.advantage_norm == "batch"  # rlpyt's MuJoCo config
    assert bullet.eval.policy == "sample" and bullet.env.time_limit == "terminate"
    for name in NOT_THE_PAPERS:
        cfg = preset(name)
        assert cfg.env.time_limit == "truncate" and cfg.eval.policy == "greedy", name
