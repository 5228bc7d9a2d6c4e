"""Experiment configuration: frozen dataclasses, one docstring per field, parsed by tyro.

Every field that changes results is part of the config hash (see `hashing.py`); fields equal to
their defaults stay out of it, so adding a field with a default never renames old runs.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field

from ticketlab.core.errors import ConfigError

T = typing.TypeVar("T")


@dataclass(frozen=True)
class AtariConfig:
    """How an ALE game (`env.name ALE/<Game>-v5`) is stepped and preprocessed: rlpyt's AtariEnv
    settings (the paper's framework), on ale-py's vector environment (envs/atari.py). The
    resolution is the standard 84x84 (rlpyt crops two rows and halves 210x160 to 104x80)."""

    frame_skip: int = 4
    """Emulator frames per agent step (the action repeats; the observation is the max of the last two)."""
    frame_stack: int = 4
    """Grayscale frames stacked into one observation, oldest first (zeros before the first reset)."""
    screen_size: int = 84
    """Height and width every frame is resized to (area interpolation)."""
    noop_max: int = 30
    """At most this many no-op steps after each reset (drawn per episode)."""
    episodic_life: bool = True
    """A lost life ends the episode for learning (no bootstrap across it) while the game goes on;
    scores and evaluation count whole games."""
    reward_clip: bool = True
    """Learn from the sign of each step's reward; training curves and evaluation report the game score."""
    fire_reset: bool = True
    """Press FIRE after a reset in games that have it (Breakout's ball needs it to start)."""
    max_frames: int = 108_000
    """An episode is truncated after this many emulator frames (rlpyt's horizon: 27,000 steps)."""


@dataclass(frozen=True)
class EnvConfig:
    name: str = "CartPole-v1"
    """Environment id: CartPole-v1, Acrobot-v1, MazeGrid-v0 (paper SI B), any gymnax id
    (Pendulum-v1, Breakout-MinAtar, ...), any ALE game as ALE/<Game>-v5 (the [atari] extra), any
    Gymnasium id as gymnasium:ID (stepped on the host), or
    an id registered with ticketlab.register_env by the module named in env.module; for algo
    supervised, the dataset: digits or mnist."""
    encoding: str = "object-map"
    """MazeGrid observation encoding: object-map (bool 6x10x20), rgb (uint8 3x10x20; the network
    sees value/255) or entangled (the object map times a fixed per-seed 1200x1200 U(-1, 1) matrix)."""
    module: str = ""
    """Python modules to import before the environment is looked up, comma-separated: a module of
    yours that calls ticketlab.register_env(...) makes its ids runnable by name."""
    sticky_actions: float = -1.0
    """Probability of repeating the previous action instead of the chosen one (gymnax's
    StickyActionWrapper; discrete gymnax environments; ALE's own repeat_action_probability): -1
    takes the environment's own default (MinAtar: 0.1, as the minatar package; ALE: 0, as rlpyt,
    where Gymnasium's ALE/*-v5 says 0.25; others: 0); 0 turns it off."""
    time_limit: str = "truncate"
    """What an episode's time limit is to the agents: truncate (they bootstrap through it, as
    Gymnasium means it) or terminate (no bootstrap, as rlpyt's PPO and DQN treat it, and as the
    paper's SI B says of MazeGrid). jitted environments only."""
    atari: AtariConfig = field(default_factory=AtariConfig)
    """ALE games only: frame skip and stack, screen size, no-op starts, episodic life, reward clip."""
    return_floor: float | None = None
    """The worst episode return, from which figures and tables normalize, (R - floor) / (dense mean
    - floor); None: the environment's own (0 assumed, and said, where it has none). Reporting only:
    not hashed, so it can be set on a finished run."""


@dataclass(frozen=True)
class NetworkConfig:
    actor_hidden: tuple[int, ...] = (64, 64)
    """Hidden layer widths of the actor MLP (layers are named actor/dense_0, actor/dense_1, ...)."""
    critic_hidden: tuple[int, ...] = (64, 64)
    """Hidden layer widths of the separate critic MLP (critic/dense_0, ...)."""
    q_hidden: tuple[int, ...] = (256, 256)
    """Hidden layer widths of the DQN Q-network (q/dense_0, ...)."""
    torso: str = "mlp"
    """Layers before the hidden dense layers: mlp (none: observations are flattened), minatar-cnn
    (Conv2D 16 filters 3x3 stride 1; paper table 10) or nature-cnn (32 8x8/4, 64 4x4/2, 64 3x3/1;
    Mnih et al. 2015). Conv layers are named <module>/conv_0, ...; image inputs only."""
    activation: str = "tanh"
    """Hidden activation: tanh or relu."""
    dropout: float = 0.0
    """Dropout rate after every hidden layer while training (DQN; paper figure 14 uses 0.1)."""
    weight_decay: float = 0.0
    """L2 weight decay: weight_decay * w is added to every gradient before Adam, as PyTorch's
    Adam(weight_decay=...) does (paper figure 14 uses 0.1)."""
    log_std_init: float = 0.0
    """Initial value of the Gaussian policy head's state-independent log standard deviation
    (continuous actions; rlpyt's default is 0)."""
    mean_activation: str = "none"
    """Squashing of the Gaussian head's mean: none, or tanh (rlpyt's MujocoFfModel; the
    PyBullet presets)."""


@dataclass(frozen=True)
class InitConfig:
    scheme: str = "torch-default"
    """Weight initialization: torch-default (PyTorch nn.Linear: Kaiming-uniform a=sqrt(5), bias
    U(+-1/sqrt(fan_in)); the paper's code), kaiming-normal, xavier-uniform or orthogonal."""
    input_scale: float = 1.0
    """Factor on the first layer's initial kernel (the paper's input-layer rescaling uses 0.1)."""
    input_scale_modules: str = "all"
    """Which modules' first layer input-scale rescales: all (actor and critic) or pruned (only the
    modules imp.scope prunes: under actor-only pruning the critic keeps its plain init)."""


@dataclass(frozen=True)
class PPOConfig:
    total_steps: int = 80_000
    """Environment steps per training run (one IMP level of one seed and condition)."""
    num_envs: int = 4
    """Parallel environments ("workers" in the paper's tables)."""
    rollout_len: int = 32
    """Steps per environment between updates; one update consumes num_envs * rollout_len steps."""
    epochs: int = 4
    """Passes over each rollout batch."""
    minibatches: int = 4
    """Minibatches per epoch."""
    lr: float = 5e-4
    """Adam learning rate."""
    lr_schedule: str = "constant"
    """Learning-rate schedule: constant or linear (decays to zero over training)."""
    gamma: float = 0.99
    """Temporal discount factor."""
    gae_lambda: float = 0.8
    """GAE lambda."""
    clip_eps: float = 0.2
    """Likelihood-ratio clip of the surrogate objective."""
    clip_schedule: str = "constant"
    """constant, or linear: update u of n clips at clip-eps * (n - max(u - 1, 0)) / n, as rlpyt's
    PPO does whenever its learning rate is annealed (algos/pg/ppo.py:111-113: the clip is set after
    each update, for the next)."""
    value_coef: float = 0.5
    """Value loss coefficient."""
    entropy_coef: float = 0.001
    """Entropy bonus coefficient."""
    max_grad_norm: float = 1.0
    """Global gradient-norm clip."""
    normalize_advantages: bool = True
    """Normalize advantages to zero mean and unit standard deviation (over `advantage-norm`)."""
    advantage_norm: str = "minibatch"
    """What advantages are normalized over: minibatch (each minibatch, std + 1e-8) or batch (the
    whole rollout once per update, unbiased std floored at 1e-6: rlpyt's PolicyGradientAlgo)."""
    eval_every: int = 50
    """Updates between evaluations (an evaluation also closes training)."""
    eval_episodes: int = 8
    """Greedy evaluation episodes per evaluation; the best-evaluating params are kept."""


@dataclass(frozen=True)
class DQNConfig:
    total_steps: int = 5_000_000
    """Environment steps per training run."""
    num_envs: int = 8
    """Parallel environments; each update follows batch-size / replay-ratio new env steps."""
    buffer_size: int = 100_000
    """Prioritized replay capacity in transitions (oldest overwritten first)."""
    batch_size: int = 256
    """Transitions per gradient step."""
    replay_ratio: int = 4
    """Data replay ratio: gradient-step transitions per collected transition (rlpyt's definition):
    one update of batch-size transitions after every batch-size / replay-ratio env steps."""
    learning_starts: int = 20_000
    """Env steps collected before the first update."""
    lr: float = 5e-4
    """Adam learning rate."""
    adam_eps: float = 1e-8
    """Adam's epsilon (PyTorch's and optax's default; rlpyt's DQN defaults to 0.01 / batch-size)."""
    gamma: float = 0.99
    """Temporal discount factor."""
    huber_delta: float = 1.0
    """Huber loss threshold on the TD error."""
    max_grad_norm: float = 10.0
    """Global gradient-norm clip."""
    double_q: bool = True
    """Double Q-learning targets: the online net picks the next action, the target net values it."""
    target_update_every: int = 312
    """Updates between hard copies of the online net into the target net."""
    eps_start: float = 1.0
    """Exploration epsilon at step 0."""
    eps_final: float = 0.01
    """Exploration epsilon after the annealing steps."""
    eps_anneal_steps: int = 1_000_000
    """Env steps over which epsilon falls linearly from eps-start to eps-final."""
    eps_anneal_from: str = "start"
    """Where the epsilon schedule starts: start (env step 0) or learning (held at eps-start until
    learning-starts, as rlpyt's epsilon-greedy agents do)."""
    eps_eval: float = 0.001
    """Epsilon of the evaluation policy."""
    priority_alpha: float = 0.6
    """Prioritized replay exponent: P(i) ~ priority_i ** alpha."""
    priority_beta_start: float = 0.4
    """Importance-weight exponent at the first update, annealed linearly to priority-beta-final."""
    priority_beta_final: float = 1.0
    """Importance-weight exponent at the last update."""
    priority_eps: float = 1e-6
    """Added to |TD error| so no transition's priority is zero."""
    priority_rule: str = "schaul"
    """Replay priorities: schaul (new transitions at the largest priority so far, |TD| +
    priority-eps; Schaul et al. 2016) or rlpyt (new transitions at priority huber-delta, rlpyt's
    default_priority; |TD| clamped to [0, huber-delta], no eps)."""
    eval_every: int = 500
    """Updates between evaluations (an evaluation also closes training)."""
    eval_episodes: int = 8
    """Evaluation episodes (epsilon eps-eval) per evaluation; the best-evaluating params are kept."""


@dataclass(frozen=True)
class SACConfig:
    """Soft actor-critic (Haarnoja et al. 2018) for continuous actions: twin critics, a tanh-squashed
    Gaussian policy, the entropy temperature tuned to a target entropy. The actor is network.actor-hidden,
    each critic network.critic-hidden."""

    total_steps: int = 100_000
    """Environment steps per training run."""
    num_envs: int = 1
    """Parallel environments; an iteration steps each once."""
    buffer_size: int = 100_000
    """Uniform replay capacity in transitions (oldest overwritten first)."""
    batch_size: int = 256
    """Transitions per gradient step."""
    learning_starts: int = 5_000
    """Env steps of uniformly random actions before the first update."""
    updates_per_step: int = 1
    """Gradient steps per environment step (each of critics, actor and temperature)."""
    lr: float = 3e-4
    """Adam learning rate of the actor."""
    critic_lr: float = 1e-3
    """Adam learning rate of the critics and the temperature."""
    gamma: float = 0.99
    """Temporal discount factor."""
    tau: float = 0.005
    """Polyak step of the target critics after every update."""
    init_alpha: float = 1.0
    """The entropy temperature at the start."""
    target_entropy: float | None = None
    """The entropy the temperature steers the policy to (None: -|A|, Haarnoja et al.)."""
    eval_every: int = 1_000
    """Iterations between evaluations (an evaluation also closes training)."""
    eval_episodes: int = 8
    """Evaluation episodes acting with the squashed mean; the best-evaluating params are kept."""


@dataclass(frozen=True)
class BCConfig:
    expert: str = "cartpole-ppo"
    """The teacher: an RL preset name (trained once, then cached content-addressed under
    <out>/experts/) or the path of an expert .safetensors file of your own."""
    expert_threshold: float = 475.0
    """Mean greedy evaluation return the expert must reach (Cart-Pole 475, Acrobot -100)."""
    expert_seeds: int = 4
    """Candidate experts trained in one call; the best one that passes the threshold is kept."""
    expert_steps: int = 0
    """Environment steps of the expert's training (0: its preset's own)."""
    expert_torso: str = ""
    """Torso of the expert preset's network, for presets with one per torso (MinAtar: mlp or
    minatar-cnn); "" takes the preset's default."""
    expert_scale: str = "demo"
    """Scale of the expert preset (its training budget): demo or paper."""
    expert_hidden: tuple[int, ...] = ()
    """Hidden widths of the expert preset's network (empty: the preset's own; table 2's second
    Cart-Pole teacher: 128 128)."""
    total_steps: int = 10_000
    """Expert transitions collected per seed (the paper's training environment steps)."""
    num_envs: int = 4
    """Parallel environments the expert's stochastic policy is rolled out in ("workers")."""
    lr: float = 1e-3
    """Adam learning rate of the student."""
    epochs: int = 20
    """Passes over the collected transitions."""
    batch_size: int = 250
    """Transitions per gradient step."""
    loss: str = "cross_entropy"
    """Distillation loss: cross_entropy (discrete policies; kl_gaussian and huber_value exist for
    Gaussian policies and value students)."""
    eval_every: int = 100
    """Gradient steps between evaluations of the student's own greedy policy."""
    eval_episodes: int = 8
    """Greedy evaluation episodes per evaluation; the best-evaluating student is kept."""


@dataclass(frozen=True)
class SupervisedConfig:
    """A classifier trained on labelled images (algo supervised, the paper's figure 1 left): the
    dataset is env.name (digits or mnist), the network network.actor-hidden, pruned as the actor."""

    lr: float = 1.2e-3
    """Adam learning rate (Frankle & Carbin 2019's LeNet-300-100: 1.2e-3)."""
    epochs: int = 20
    """Passes over the training set."""
    batch_size: int = 60
    """Samples per gradient step (Frankle & Carbin's 60); an epoch drops the last partial batch."""
    eval_every: int = 100
    """Gradient steps between evaluations of the test-set accuracy (the run's "return"); the
    most accurate checkpoint is kept, as IMP keeps the best-evaluating one."""
    test_fraction: float = 0.2
    """Share of each class held out as the test set, fixed by the dataset alone (every fifth
    sample of each class at 0.2; envs/datasets.py)."""


@dataclass(frozen=True)
class StudentConfig:
    hidden: tuple[int, ...] = (128, 128)
    """Hidden widths of the distilled student policy (behavioural cloning only); give
    several comma-separated sizes (e.g. 128,128 256,256) to sweep them in one command."""


@dataclass(frozen=True)
class EvalConfig:
    policy: str = "greedy"
    """How evaluation episodes act: greedy (the mode of a policy, the mean of a Gaussian, argmax Q
    with DQN's evaluation epsilon) or sample (draw from the policy, as rlpyt's PG agents do when
    evaluated)."""


@dataclass(frozen=True)
class IMPConfig:
    prune_fraction: float = 0.2
    """Fraction of the surviving prunable weights removed after each level, in (0, 1)."""
    prune_count: str = "ceil"
    """How fraction x surviving becomes a count: ceil (open_lth) or round (half to even, as
    PyTorch's pruning utilities, the paper's, count it)."""
    scope: str = "actor"
    """Which modules are pruned: actor (the paper's AP) or actor_critic (ACP)."""
    conditions: tuple[str, ...] = (
        "mask_weights",
        "mask_permuted",
        "permuted_permuted",
        "random_reinit",
    )
    """Chains to run, each its own: the paper's mask_weights (the ticket), mask_permuted,
    permuted_permuted, random_reinit; mask_reinit; the baselines one_shot, snip, grasp,
    random_ratios, structured_inputs, structured_units (pruning/conditions.py)."""
    score: str = "magnitude"
    """What IMP ranks surviving weights by: magnitude (|w|, the paper's IMP), snip (|g * w|) or
    grasp (w * Hg), g the gradient of the agent's own loss on one batch at the trained weights."""
    permute_values: str = "init"
    """What mask_permuted and permuted_permuted permute from level 2 on: init (the initial weights
    at the chain's surviving positions) or previous (the chain's own previous start values)."""
    allocation: str = "global"
    """How a level's surviving weights are shared among layers: global (one ranking over all
    layers, the paper's), uniform (each layer pruned by prune-fraction of its own survivors) or erk
    (Erdos-Renyi-Kernel shares of the level's count, Evci et al. 2020): the layer-specific pruning
    ratios the paper names as future work. random_reinit draws its random mask with the same
    per-layer counts."""
    rewind_steps: int = 0
    """Late rewinding: levels >= 1 restart from the dense run's weights after this many env steps
    (0: rewind to initialization). Rounded down to an update boundary."""


@dataclass(frozen=True)
class SparseConfig:
    """The sparse-training conditions gmp, set, rigl and static (pruning/sparse_training.py): each
    trains from the dense initialization at its IMP level's density, its mask changing while it
    trains; defaults from Graesser et al. 2022 (google-research/rigl, rigl/rl). Fractions are of
    the agent's own training steps (PPO updates, DQN and SAC iterations, BC epochs)."""

    allocation: str = "erk"
    """How each method's weights are shared among layers: erk (Evci et al. 2020, Graesser et al.'s
    default), uniform, or global (one ranking over all layers, as IMP)."""
    start: float = 0.2
    """gmp: the fraction of training at which pruning starts."""
    end: float = 0.8
    """gmp: the fraction at which it reaches the level's density; set and rigl: their last mask update."""
    update_every: float = 0.01
    """The fraction of training between two mask updates."""
    drop_fraction: float = 0.3
    """set and rigl: the share of each layer's live weights replaced at the first update."""
    drop_schedule: str = "cosine"
    """set and rigl: cosine (the drop fraction decays to 0 at `end`) or constant."""


@dataclass(frozen=True)
class CustomConfig:
    """A training function of your own (`ticketlab.find_tickets`, algo custom): where its functions
    are, and what the store and the figures need to know of it."""

    init: str = ""
    """`module:name` of `init(key) -> params`."""
    train: str = ""
    """`module:name` of `train(key, params, mask) -> TrainResult` (pure; jit- and vmap-able)."""
    loss: str = ""
    """`module:name` of `loss(key, params, mask) -> scalar` ("" none): the batch loss that
    gradient-based scores and the snip and grasp conditions differentiate."""
    prune: tuple[str, ...] = ("actor",)
    """Top-level subtrees of the params whose weights (leaves of two or more dimensions) are pruned."""
    obs_names: tuple[str, ...] = ()
    """Names of the input dimensions, in the first layer's order."""
    return_floor: float = 0.0
    """Worst possible return (the floor of normalized plots)."""
    env_steps: int = 0
    """Environment steps one training run takes (for tables; 0: unknown)."""
    settings: str = ""
    """Your function's own hyper-parameters as JSON: hashed, so a run directory holds one setting."""


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything that defines a run: the agent, environment, network, initialization, IMP and
    evaluation settings, one section each. Fields equal to their defaults stay out of the run's
    hash; every field is a `ticketlab run` flag (`--section.field`)."""

    name: str = "cartpole-ppo"
    """Run name: the prefix of the run directory."""
    algo: str = "ppo"
    """Learning paradigm: ppo, dqn or sac (reinforcement learning), bc (behavioural cloning by policy
    distillation from an expert), supervised (a classifier on a labelled image dataset, see
    SupervisedConfig), or custom (a training function of your own, see CustomConfig)."""
    seeds: int = 4
    """Independent seeds (0 .. seeds-1); a level's runs train in blocks (see block_seeds)."""
    levels: int = 10
    """IMP levels including the dense level 0; a finished run can be extended by raising this."""
    out: str = "runs"
    """Root directory of the results store."""
    env: EnvConfig = field(default_factory=EnvConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    init: InitConfig = field(default_factory=InitConfig)
    ppo: PPOConfig = field(default_factory=PPOConfig)
    dqn: DQNConfig = field(default_factory=DQNConfig)
    sac: SACConfig = field(default_factory=SACConfig)
    imp: IMPConfig = field(default_factory=IMPConfig)
    sparse: SparseConfig = field(default_factory=SparseConfig)
    bc: BCConfig = field(default_factory=BCConfig)
    student: StudentConfig = field(default_factory=StudentConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    custom: CustomConfig = field(default_factory=CustomConfig)
    supervised: SupervisedConfig = field(default_factory=SupervisedConfig)
    block_seeds: int = 0
    """Seeds per block (0: all seeds). A level's runs train in blocks, one compiled call each: at
    level 0 one per group of `block_seeds` seeds, later one per (condition, group). Blocks run in
    parallel worker processes; since the layout is part of the config, the results do not depend
    on how many workers or machines ran them. Smaller blocks: more parallelism, less memory."""


def check_bounds(cfg: ExperimentConfig) -> None:
    """The checks a config's own numbers decide (no environment, no registry): the command line
    makes them before it loads JAX; experiments/validate.py makes them first."""
    if cfg.seeds < 1:
        raise ConfigError("seeds", f"must be >= 1, got {cfg.seeds}")
    if cfg.levels < 1:
        raise ConfigError("levels", f"must be >= 1 (level 0 is the dense run), got {cfg.levels}")
    if not 0 <= cfg.block_seeds <= cfg.seeds:
        raise ConfigError(
            "block-seeds", f"must be in 0 .. seeds = {cfg.seeds} (0: all seeds in one block), got {cfg.block_seeds}"
        )
    if not cfg.name or "/" in cfg.name:
        raise ConfigError("name", f"must be a non-empty name without '/', got {cfg.name!r}")
    if not 0.0 < cfg.imp.prune_fraction < 1.0:
        raise ConfigError("imp.prune-fraction", f"must be in the open interval (0, 1), got {cfg.imp.prune_fraction}")


DEFAULT_EVERY_S = 600.0
"""`--checkpoint-every-s`'s default (how a run executes, not part of its config: it never changes
results): save a block at the first segment boundary 10 minutes after its start or its last save."""

TORSO_ALIASES = {"cnn": "minatar-cnn"}
"""Other names the command line and the presets accept for a torso (`--network.torso cnn`); configs
store the canonical name."""


def canonical_torso(name: str) -> str:
    return TORSO_ALIASES.get(name, name)


def replace_fields(cfg: T, fields: typing.Mapping[str, typing.Any]) -> T:
    """`cfg` with dotted fields set (`{"ppo.total_steps": 1_500_000, "seeds": 15}`), values as they
    are (typed, not strings); a ConfigError names a field the config does not have."""
    out = cfg
    for dotted, value in fields.items():
        out = _replace_path(out, dotted.split("."), value, dotted)
    return out


def _replace_path(node: typing.Any, parts: list[str], value: typing.Any, dotted: str) -> typing.Any:
    names = {f.name for f in dataclasses.fields(node)}
    if parts[0] not in names:
        raise ConfigError(dotted.replace("_", "-"), f"unknown field; allowed: {', '.join(sorted(names))}")
    if len(parts) == 1:
        return dataclasses.replace(node, **{parts[0]: value})
    return dataclasses.replace(node, **{parts[0]: _replace_path(getattr(node, parts[0]), parts[1:], value, dotted)})


def to_dict(cfg: typing.Any) -> dict[str, typing.Any]:
    """A JSON-ready dict of a (nested) config, tuples as lists."""
    return dataclasses.asdict(cfg)


def from_dict(data: dict[str, typing.Any]) -> ExperimentConfig:
    """Inverse of `to_dict`; unknown keys raise a ConfigError naming the field. Sections missing from
    an older file take their defaults."""
    data = {k: v for k, v in data.items() if k not in LEGACY_FIELDS}
    return _build(ExperimentConfig, data, "")


LEGACY_FIELDS = ("max_batch",)
"""Top-level fields of older config files that no longer exist; read and ignored (max_batch chunked
a level's single call; block_seeds replaced it)."""


def _build(cls: type[T], values: dict[str, typing.Any], prefix: str) -> T:
    hints = typing.get_type_hints(cls)
    # (`cls` is one of the config dataclasses: mypy cannot see it through type[T])
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, typing.Any] = {}
    for key, value in values.items():
        if key not in names:
            raise ConfigError(f"{prefix}{key}", f"unknown field; allowed: {', '.join(names)}")
        if dataclasses.is_dataclass(hints[key]):
            kwargs[key] = _build(hints[key], value, f"{prefix}{key}.")
        else:
            kwargs[key] = tuple(value) if isinstance(value, list) else value
    return cls(**kwargs)
