"""ticketlab: lottery tickets and minimal task representations in deep RL, in JAX.

The registries are the public way to extend it; each addition is one entry:
`register_env` (a gymnax-API environment), `register_agent`, `register_condition`,
`register_score` (a pruning score), `register_init` (an init scheme), `register_torso`.
`run(cfg)` runs (or resumes) an experiment; `preset(name)` gives the paper's configs.
`find_tickets(init=, train=, ...)` runs IMP on a training function of your own (`TrainResult`,
`apply_mask`, `masked`), through the same engine; `plot(run)` and `report(run)` read any run.
"""
from ticketlab.threefry_cpu import use_unrolled_threefry

use_unrolled_threefry()  # same bits as JAX's rolled CPU loop, compiled faster (see threefry_cpu)

from ticketlab.agents.custom import TrainResult  # noqa: E402
from ticketlab.agents.registry import AGENTS, register_agent  # noqa: E402
from ticketlab.config import ExperimentConfig  # noqa: E402
from ticketlab.envs.registry import ENVS, make_env, register_env  # noqa: E402
from ticketlab.experiments import run  # noqa: E402
from ticketlab.networks.init import INIT_SCHEMES, register_init  # noqa: E402
from ticketlab.networks.torsos import TORSOS, register_torso  # noqa: E402
from ticketlab.presets import preset  # noqa: E402
from ticketlab.pruning.conditions import CONDITIONS, PAPER_CONDITIONS, Condition, register_condition  # noqa: E402
from ticketlab.pruning.masked_optimizer import masked  # noqa: E402
from ticketlab.pruning.masks import apply_mask  # noqa: E402
from ticketlab.pruning.scores import SCORES, Score, register_score  # noqa: E402
from ticketlab.tickets import find_tickets, plot, report  # noqa: E402

__all__ = [
    "AGENTS", "CONDITIONS", "Condition", "ENVS", "ExperimentConfig", "INIT_SCHEMES", "PAPER_CONDITIONS", "SCORES",
    "Score", "TORSOS", "make_env", "preset", "register_agent", "register_condition", "register_env",
    "register_init", "register_score", "register_torso", "run", "find_tickets", "TrainResult", "apply_mask",
    "masked", "plot", "report",
]
