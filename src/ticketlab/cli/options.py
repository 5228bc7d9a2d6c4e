"""What each `ticketlab` subcommand takes: one frozen dataclass per subcommand, its docstring the
subcommand's description and each field's docstring its option's `--help` line. tyro parses them
(cli/parse.py); nothing here loads JAX or matplotlib."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import tyro

from ticketlab.core.config import DEFAULT_EVERY_S, ExperimentConfig


def named(metavar: str) -> Any:
    """A positional argument's name in the usage line (tyro would say STR)."""
    return tyro.conf.arg(metavar=metavar)


@dataclass(frozen=True)
class Execution:
    """How a run's blocks execute; never part of the results."""

    workers: str = "auto"
    """Worker processes that train blocks in parallel: a whole number >= 1, or auto (one per core
    on the CPU, one per device on an accelerator)."""
    devices: str = "all"
    """Devices to spread blocks over: a whole number >= 1, or all."""
    checkpoint_every_s: float = DEFAULT_EVERY_S
    """Save a training block at the first segment boundary this many seconds after its start or
    its last save, so a killed run resumes mid-block (0: off)."""


@dataclass(frozen=True)
class Run(Execution):
    """Run IMP on a preset (or resume it): every level, seed and condition, then the figures.
    `ticketlab run PRESET --help` shows that preset's value of every field; `ticketlab presets`
    lists the presets. Several sizes (`--student.hidden 128,128 256,256`) run one after another."""

    preset: tyro.conf.Positional[Annotated[str, named("PRESET")]] = ""
    """The preset: cartpole-ppo, acrobot-ppo, mazegrid-dqn, ... (ticketlab presets)."""
    scale: str = "demo"
    """The preset's budget: demo (minutes on a laptop) or paper (the paper's seeds and levels)."""
    wait: bool = False
    """Wait for another process that holds the run's lock instead of refusing to start."""
    log: tuple[str, ...] = ()
    """Trackers that log every level as it finishes: tensorboard, wandb (optional extras)."""
    config: Annotated[ExperimentConfig, tyro.conf.arg(name="")] = ExperimentConfig()


@dataclass(frozen=True)
class Sweep(Execution):
    """Run presets over a grid of config values on local workers, a Ray cluster or Slurm (submitit);
    each (config, group of seeds) is one task, and a resubmitted sweep skips what is done."""

    presets: tyro.conf.Positional[Annotated[tuple[str, ...], named("PRESET")]] = ()
    """The presets to sweep (ticketlab presets)."""
    grid: Annotated[tuple[str, ...], tyro.conf.UseAppendAction] = ()
    """A config field and its values, FIELD=V1,V2 (repeat the option for a product of fields),
    e.g. --grid init.input-scale=1.0,0.1 --grid imp.scope=actor,actor_critic."""
    seeds: int | None = None
    """Seeds of every config (default: the preset's at this scale)."""
    levels: int | None = None
    """IMP levels of every config (default: the preset's at this scale)."""
    block_seeds: int | None = None
    """Seeds per task (default: the preset's block size)."""
    scale: str = "demo"
    """The presets' budget: demo or paper."""
    out: str = "runs"
    """Root directory of the results store."""
    backend: str = "local"
    """Where tasks run: local (worker processes here), ray (a Ray cluster) or submitit (Slurm)."""
    address: str = "auto"
    """Ray: the cluster's address, auto (RAY_ADDRESS or a running local cluster), local (start one)
    or HOST:PORT."""
    partition: str = ""
    """Slurm: the partition to submit to."""
    cluster: str = ""
    """submitit: its cluster (slurm, local or debug; default: what submitit detects)."""
    retries: int = 2
    """Times a failed task is resubmitted before the sweep reports it."""
    gpus_per_task: int | None = None
    """GPUs each Ray task or Slurm job asks for (default: one where this machine's JAX backend is
    an accelerator, else none)."""


@dataclass(frozen=True)
class Status:
    """Each run's progress: levels done, blocks and checkpoints present, failed tasks."""

    path: tyro.conf.Positional[Annotated[str, named("DIR")]] = ""
    """A run directory or a store root holding runs."""
    verify: bool = False
    """Check every stored file against its recorded checksum."""


@dataclass(frozen=True)
class Expert:
    """Train (or read from the cache) the experts that behavioural cloning distils from: the best
    of several seeds of an RL preset, kept if it reaches the threshold."""

    preset: tyro.conf.Positional[Annotated[str, named("PRESET")]] = ""
    """The RL preset whose agent becomes the expert (cartpole-ppo, mazegrid-dqn, ...)."""
    out: str = "runs"
    """Root directory of the results store (experts are cached under it)."""
    threshold: float | None = None
    """Mean greedy return the expert must reach (default: the preset's)."""
    seeds: int = 4
    """Seeds trained; the best is the expert."""
    steps: int = 0
    """Environment steps per seed (0: the preset's)."""
    torso: str = ""
    """The network torso (mlp, minatar-cnn, ...; default: the preset's)."""
    scale: str = "demo"
    """The preset's budget: demo or paper."""
    hidden: tuple[int, ...] = ()
    """The expert's hidden widths (default: the preset's; table 2's second Cart-Pole teacher: 128 128)."""


@dataclass(frozen=True)
class Compare:
    """One figure of several runs' ticket curves, on sparsity or on remaining weights."""

    runs: tyro.conf.Positional[Annotated[tuple[str, ...], named("RUN_DIR")]] = ()
    """Run directories."""
    x: str = "percent"
    """The x axis: percent (of weights remaining) or weights (their number)."""
    conditions: tuple[str, ...] = ("mask_weights", "permuted_permuted")
    """The conditions drawn for every run."""
    out: str = ""
    """The figure's path without suffix (default: <store>/comparisons/<run>__<run>)."""


@dataclass(frozen=True)
class Plot:
    """Draw (again) a run's figures from its store."""

    run: tyro.conf.Positional[Annotated[str, named("RUN_DIR")]] = ""
    """A run directory."""
    table: str = ""
    """Also print a table: return (the closing table), or a plasticity measure at the best
    checkpoint per level and condition: dormant, srank or norm."""


@dataclass(frozen=True)
class Play:
    """Play episodes of a random agent on an environment, or of a trained one from a run's store,
    and render MazeGrid episodes to GIF (or the first frame to PNG)."""

    env: tyro.conf.Positional[Annotated[str, named("ENV")]] = ""
    """An environment id (mazegrid, cartpole, ...), for a random agent."""
    run: str = ""
    """A run directory: play its trained agent instead."""
    level: int = 0
    """With --run: the IMP level (0: the dense network)."""
    seed: int = 0
    """With --run: the seed."""
    condition: str = "mask_weights"
    """With --run: the condition."""
    episodes: int = 1
    """Episodes to play."""
    key: int = 0
    """The first episode's random key (episode i uses key + i)."""
    encoding: str = "object-map"
    """MazeGrid's observation encoding: object-map, rgb or entangled."""
    render: str = ""
    """Save the first episode as FILE.gif, or its first frame as FILE.png (MazeGrid)."""


@dataclass(frozen=True)
class Presets:
    """Every preset: its environment, agent, network, and seeds and levels at each scale."""


@dataclass(frozen=True)
class Envs:
    """Every registered environment id (its backend and aliases), then every family of ids."""

    atari: bool = False
    """List every installed ALE game instead (the atari extra)."""


@dataclass(frozen=True)
class Inputs:
    """Train dense agents on the inputs a ticket kept at one level, against all inputs and as many
    random ones: do the kept inputs carry the task?"""

    run: tyro.conf.Positional[Annotated[str, named("RUN_DIR")]] = ""
    """A run directory."""
    level: int | None = None
    """The IMP level whose kept inputs to train on."""
    condition: str = "mask_weights"
    """The condition whose mask names the inputs."""


@dataclass(frozen=True)
class Report:
    """One self-contained HTML page of one or more runs: curves, tables, statistics, input maps."""

    runs: tyro.conf.Positional[Annotated[tuple[str, ...], named("RUN_DIR")]] = ()
    """Run directories."""
    out: str = "report.html"
    """The page to write (.html or .htm); nothing else is written."""


@dataclass(frozen=True)
class Export:
    """Write one chain's best weights as the smaller dense network they are: inputs with no
    connection left and hidden units that feed nothing removed, units that receive nothing folded
    into the next layer's bias (safetensors per module, and compact.json: layer shapes, the inputs
    kept by name). MLP modules only."""

    run: tyro.conf.Positional[Annotated[str, named("RUN_DIR")]] = ""
    """A run directory."""
    level: int | None = None
    """The IMP level (0: the dense network)."""
    seed: int = 0
    """The seed."""
    condition: str = "mask_weights"
    """The condition (levels >= 1)."""
    out: str = ""
    """A new (or empty) directory to write into."""


@dataclass(frozen=True)
class Figure:
    """Run what a figure of the paper needs (resuming what exists), then draw it; `figure list`
    names every figure, its panels and the runs they need."""

    figure: tyro.conf.Positional[Annotated[str, named("N|list")]] = ""
    """A figure number, or list."""
    scale: str = "demo"
    """The runs' budget: demo or paper."""
    out: str = "runs"
    """Root directory of the results store."""
    only: tuple[str, ...] = ()
    """Draw only these panels (their keys, from figure list)."""


COMMANDS = {
    "run": Run,
    "sweep": Sweep,
    "status": Status,
    "expert": Expert,
    "compare": Compare,
    "plot": Plot,
    "play": Play,
    "presets": Presets,
    "envs": Envs,
    "inputs": Inputs,
    "report": Report,
    "figure": Figure,
    "export": Export,
}
"""Subcommand -> what it takes, in the order `ticketlab --help` lists them."""
