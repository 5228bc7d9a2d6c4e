"""Every bad input exits 2 with one line naming the field and the allowed values, writing nothing."""

import json
import os
import re
import subprocess
import sys
import time

import pytest

from ticketlab.cli.main import main
from ticketlab.cli.options import COMMANDS
from ticketlab.core.flags import flags
from ticketlab.presets import preset

CASES = [
    (["run", "no-such-preset"], "preset: unknown 'no-such-preset'; allowed: cartpole-ppo, acrobot-ppo"),
    (["run"], "preset: missing; allowed:"),
    (["run", "cartpole-ppo", "--scale", "huge"], "scale: unknown 'huge'; allowed: demo, paper"),
    (
        ["run", "cartpole-ppo", "--env.name", "NoSuchEnv-v0"],
        "env.name: unknown 'NoSuchEnv-v0'; allowed: MazeGrid-v0, CartPole-v1",
    ),
    (["run", "cartpole-ppo", "--imp.prune-fraction", "1.0"], "imp.prune-fraction: must be in the open interval (0, 1)"),
    (["run", "cartpole-ppo", "--imp.prune-fraction", "0"], "imp.prune-fraction: must be in the open interval (0, 1)"),
    (["run", "cartpole-ppo", "--seeds", "0"], "seeds: must be >= 1, got 0"),
    (["run", "cartpole-ppo", "--ppo.total-steps", "-100"], "ppo.total-steps: must be > 0, got -100"),
    (
        ["run", "cartpole-ppo", "--init.scheme", "he-magic"],
        "init.scheme: unknown 'he-magic'; allowed: torch-default, kaiming-normal, xavier-uniform, orthogonal",
    ),
    (["run", "cartpole-ppo", "--imp.scope", "critic"], "imp.scope: unknown 'critic'; allowed: actor, actor_critic"),
    (["run", "cartpole-ppo", "--imp.conditions", "mask_weights", "lucky"], "imp.conditions: unknown 'lucky'; allowed:"),
    (["run", "cartpole-ppo", "--levels", "0"], "levels: must be >= 1"),
    (
        ["run", "cartpole-ppo", "--algo", "evolution"],
        "algo: unknown 'evolution'; allowed: ppo, dqn, bc, custom, supervised, sac",
    ),
    (
        ["run", "cartpole-bc", "--bc.loss", "mse"],
        "bc.loss: unknown 'mse'; allowed: cross_entropy, kl_gaussian, huber_value",
    ),
    (
        ["run", "cartpole-bc", "--bc.loss", "kl_gaussian"],
        "bc.loss: 'kl_gaussian' does not fit CartPole-v1's discrete actions; allowed: cross_entropy, huber_value",
    ),
    (
        ["run", "cartpole-bc", "--bc.expert", "nope"],
        "bc.expert: unknown 'nope'; allowed: cartpole-ppo, acrobot-ppo, cartpole-dqn, pendulum-ppo, "
        "mountaincar-continuous-ppo, mazegrid-dqn, mazegrid-ppo, hopper-bullet-ppo, hopper-brax-ppo, walker2d-bullet-ppo, walker2d-brax-ppo, "
        "halfcheetah-bullet-ppo, halfcheetah-brax-ppo, ant-bullet-ppo, ant-brax-ppo, breakout-minatar-dqn, spaceinvaders-minatar-dqn, freeway-minatar-dqn, "
        "asterix-minatar-dqn, seaquest-minatar-dqn, craftax-classic-ppo, craftax-classic-pixels-ppo, empty-xminigrid-ppo, snake-jumanji-ppo, "
        "<path>.safetensors",
    ),
    (["run", "cartpole-bc", "--student.hidden", "0,5"], "student.hidden: widths must be >= 1"),
    (["run", "cartpole-ppo", "--imp.prune-count", "floor"], "imp.prune-count: unknown 'floor'; allowed: ceil, round"),
    (["run", "cartpole-bc", "--imp.rewind-steps", "100"], "imp.rewind-steps: late rewinding is for RL runs"),
    (["run", "cartpole-bc", "--bc.batch-size", "20000"], "bc.batch-size: must be <= the collected transitions (10000)"),
    (["expert", "cartpole-bc"], "expert: name one RL preset; allowed: cartpole-ppo, acrobot-ppo"),
    (["expert", "cartpole-ppo", "--hidden", "128", "0"], "hidden: widths must be >= 1, got (128, 0)"),
    (["run", "cartpole-bc", "--bc.expert-hidden", "0"], "bc.expert-hidden: widths must be >= 1"),
    (["compare"], "compare: name one or more run directories"),
    (["compare", "nowhere"], "run: nowhere is not a directory"),
    (["compare", ".", "--conditions", "lucky"], "conditions: unknown 'lucky'"),
    (["run", "cartpole-ppo", "--nope", "1"], "nope: unknown field; see ticketlab run PRESET --help"),
    (
        ["run", "cartpole-ppo", "--lr", "1e-3"],
        "lr: unknown field; did you mean --ppo.lr, --dqn.lr, --sac.lr, --bc.lr, --supervised.lr?",
    ),
    (["run", "cartpole-ppo", "--seeds", "many"], "seeds: 'many' is not an integer"),
    (["run", "cartpole-ppo", "--ppo.lr", "fast"], "ppo.lr: 'fast' is not a number"),
    (["sweep"], "sweep: name one or more presets"),
    (["sweep", "cartpole-ppo", "--backend", "slurm"], "backend: unknown 'slurm'; allowed: local, ray, submitit"),
    (["sweep", "cartpole-ppo", "--grid", "init.scheme="], "grid: init.scheme has no values; give field=value1,value2"),
    (["sweep", "cartpole-ppo", "--grid", "init.scheme"], "grid: 'init.scheme' must look like field=value1,value2"),
    (["sweep", "cartpole-ppo", "--grid", "foo.bar=1,2"], "grid: unknown field 'foo.bar'"),
    (["sweep", "cartpole-ppo", "--grid", "ppo.lr=fast"], "grid: ppo.lr='fast' is not a float"),
    (["sweep", "cartpole-ppo", "--grid", "init.scheme=torch-default,he-magic"], "init.scheme: unknown 'he-magic'"),
    (["sweep", "cartpole-ppo", "--workers", "0"], "workers: must be a whole number >= 1 or auto, got '0'"),
    (["sweep", "cartpole-ppo", "--colour", "red"], "colour: unknown option of sweep; allowed: --workers"),
    (
        ["sweep", "cartpole-ppo", "--backend", "ray", "--address", "127.0.0.1:1"],
        "address: cannot reach a Ray cluster at 127.0.0.1:1",
    ),
    (
        ["sweep", "cartpole-ppo", "--backend", "ray", "--address", "nowhere"],
        "address: 'nowhere' must be auto, local or HOST:PORT",
    ),
    (["status"], "status: takes one directory"),
    (["status", "no/such/dir"], "status: no/such/dir is not a directory"),
    (["plot", "no/such/run"], "run: no/such/run is not a directory"),
    (
        ["run", "mazegrid-dqn", "--env.encoding", "grey"],
        "env.encoding: unknown 'grey'; allowed: object-map, rgb, entangled",
    ),
    (
        ["run", "cartpole-ppo", "--env.encoding", "rgb"],
        "env.encoding: encodings are MazeGrid's; CartPole-v1 allows only object-map",
    ),
    (
        ["run", "cartpole-bc", "--env.name", "mazegrid", "--env.encoding", "entangled"],
        "env.encoding: entangled is applied by the PPO/DQN/SAC agents",
    ),
    (
        ["run", "cartpole-bc", "--env.name", "mazegrid", "--env.encoding", "rgb"],
        "env.encoding: rgb is applied by the PPO/DQN/SAC agents; algo bc takes object-map",
    ),
    (
        ["run", "mazegrid-dqn", "--dqn.num-envs", "7"],
        "dqn.num-envs: batch-size / replay-ratio = 64 env steps per update must be a whole multiple of num-envs (7)",
    ),
    (["run", "mazegrid-dqn", "--dqn.priority-alpha", "1.5"], "dqn.priority-alpha: must be in [0, 1], got 1.5"),
    (
        ["run", "mazegrid-dqn", "--dqn.learning-starts", "10"],
        "dqn.learning-starts: must be >= batch-size (256), got 10",
    ),
    (["run", "mazegrid-dqn", "--imp.scope", "actor_critic"], "imp.scope: unknown 'actor_critic'; allowed: actor"),
    (["run", "mazegrid-dqn", "--network.dropout", "1.0"], "network.dropout: must be in [0, 1), got 1.0"),
    (
        ["run", "cartpole-ppo", "--network.dropout", "0.1"],
        "network.dropout: dropout is implemented for algo dqn; ppo allows only 0",
    ),
    (["run", "mazegrid-dqn", "--imp.rewind-steps", "6000000"], "imp.rewind-steps: must be in [0, dqn.total-steps)"),
    (["play"], "play: name one environment (e.g. mazegrid) or give --run RUN_DIR"),
    (["play", "Nowhere-v9"], "env.name: unknown 'Nowhere-v9'; allowed: MazeGrid-v0"),
    (
        ["play", "cartpole", "--render", "x.gif"],
        "render: rendering exists for MazeGrid-v0; CartPole-v1 has no renderer",
    ),
    (["play", "mazegrid", "--render", "x.jpg"], "render: unknown file type '.jpg'; allowed: .gif, .png"),
    (["play", "--run", "no/such"], "run: no/such is not a directory"),
    (["play", "mazegrid", "--episodes", "0"], "episodes: must be >= 1, got 0"),
    (
        ["run", "hopper-bullet-ppo", "--env.name", "CartPole-v1"],
        "env.name: hopper-bullet-ppo is a continuous-action preset and CartPole-v1 has discrete actions; allowed: continuous-action environments, a discrete-action preset (cartpole-ppo, acrobot-ppo,",
    ),
    (
        ["run", "cartpole-ppo", "--env.name", "hopper-bullet"],
        "env.name: cartpole-ppo is a discrete-action preset and HopperBulletEnv-v0 has continuous actions; allowed: discrete-action environments, a continuous-action preset (pendulum-ppo, mountaincar-continuous-ppo, pendulum-sac, hopper-bullet-ppo,",
    ),
    (
        ["run", "hopper-bullet-ppo", "--name", "hopper-on-pendulum", "--env.name", "Pendulum-v1"],
        "network.mean-activation: tanh squashes a Gaussian mean into [-1, 1]; Pendulum-v1 has actions in [-2, 2]; allowed: none",
    ),
    (
        ["run", "cartpole-dqn", "--env.name", "walker2d-bullet"],
        "algo: Walker2DBulletEnv-v0 steps on the host backend, which algo dqn does not support; allowed: ppo, bc",
    ),
    (
        ["run", "hopper-bullet-bc", "--bc.expert", "walker2d-bullet-ppo"],
        "bc.expert: walker2d-bullet-ppo plays Walker2DBulletEnv-v0, this run HopperBulletEnv-v0; allowed: hopper-bullet-ppo",
    ),
    (
        ["run", "hopper-bullet-bc", "--bc.expert", "hopper-brax-ppo"],
        "bc.expert: hopper-brax-ppo plays brax:hopper:spring, this run HopperBulletEnv-v0; allowed: hopper-bullet-ppo",
    ),
    (
        ["run", "hopper-bullet-ppo", "--ppo.advantage-norm", "whole"],
        "ppo.advantage-norm: unknown 'whole'; allowed: minibatch, batch",
    ),
    (
        ["run", "hopper-bullet-ppo", "--network.mean-activation", "sigmoid"],
        "network.mean-activation: unknown 'sigmoid'; allowed: none, tanh",
    ),
    (
        ["run", "hopper-bullet-ppo", "--imp.score", "snip"],
        "imp.score: snip needs the agent's loss on a batch, which environments on the host backend do not offer; allowed: magnitude",
    ),
    (
        ["run", "hopper-bullet-ppo", "--imp.conditions", "mask_weights", "snip", "grasp"],
        "imp.conditions: snip, grasp need the agent's loss on a batch, which environments on the host backend do not offer; allowed: mask_weights, mask_permuted, permuted_permuted, random_reinit, mask_reinit, one_shot, random_ratios, structured_inputs, structured_units",
    ),
    (
        ["run", "cartpole-ppo", "--imp.permute-values", "last"],
        "imp.permute-values: unknown 'last'; allowed: init, previous",
    ),
    (["run", "cartpole-ppo", "--log", "tensorbored"], "log: unknown 'tensorbored'; allowed: tensorboard, wandb"),
    (["report"], "report: name one or more run directories"),
    (["report", "no/such/run"], "run: no/such/run is not a directory"),
    (["report", "."], "run: . is not a ticketlab run directory (no config.json)"),
    (["report", ".", "--out", "report.pdf"], "out: 'report.pdf' must end in .html or .htm"),
    (["report", ".", "--colour", "red"], "colour: unknown option of report; allowed: --out"),
    (
        ["frobnicate"],
        "command: unknown 'frobnicate'; allowed: run, sweep, status, expert, compare, plot, play, presets",
    ),
]


@pytest.mark.parametrize("argv,message", CASES)
def test_bad_input_exits_2_with_one_line(argv, message, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "runs"
    code = main(argv + (["--out", str(out)] if argv[:1] in (["run"], ["sweep"]) and len(argv) > 1 else []))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and message in err[0], err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_the_table_covers_at_least_twenty_cases():
    assert len(CASES) >= 20


def test_status_refuses_a_directory_without_runs(tmp_path, capsys):
    assert main(["status", str(tmp_path)]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"ticketlab: error: status: {tmp_path} holds no ticketlab run (no */config.json)"
    )


def test_a_config_that_disagrees_with_the_one_on_disk(tmp_path, capsys):
    import json

    from conftest import tiny_config

    from ticketlab.experiments.experiment import run as run_experiment

    cfg = tiny_config(tmp_path / "runs", levels=1, seeds=1)
    run = run_experiment(cfg)
    meta = json.loads((run / "config.json").read_text())
    meta["config"]["ppo"]["lr"] = 0.123
    (run / "config.json").write_text(json.dumps(meta))
    before = sorted(p for p in run.rglob("*"))
    with pytest.raises(Exception) as err:
        run_experiment(cfg)
    assert "holds a different config" in str(err.value)
    assert sorted(p for p in run.rglob("*")) == before


def test_real_process_exit_status(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "ticketlab.cli", "run", "cartpole-ppo", "--seeds", "0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == "ticketlab: error: seeds: must be >= 1, got 0"


def test_presets_lists_every_preset(capsys):
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    minatar = [
        f"{game}-minatar-{algo}"
        for game in ("breakout", "spaceinvaders", "freeway", "asterix", "seaquest")
        for algo in ("dqn", "bc")
    ]
    bullet = [
        f"{task}-{kind}"
        for task in ("hopper", "walker2d", "halfcheetah", "ant")
        for kind in ("bullet-ppo", "brax-ppo", "bullet-bc")
    ]
    atari = [f"{game}-atari-ppo" for game in ("pong", "breakout", "spaceinvaders", "freeway")] + ["atari-ppo"]
    assert [l.split()[0] for l in lines] == [
        "cartpole-ppo",
        "acrobot-ppo",
        "cartpole-bc",
        "acrobot-bc",
        "cartpole-dqn",
        "pendulum-ppo",
        "mountaincar-continuous-ppo",
        "pendulum-sac",
        "mazegrid-dqn",
        "mazegrid-ppo",
        *bullet,
        *minatar,
        *atari,
        "digits-mlp",
        "mnist-mlp",
        "craftax-classic-ppo",
        "craftax-classic-pixels-ppo",
        "empty-xminigrid-ppo",
        "snake-jumanji-ppo",
    ]
    starts = {len(l.split()[0]) + len(l[len(l.split()[0]) :]) - len(l[len(l.split()[0]) :].lstrip()) for l in lines}
    assert len(starts) == 1, f"descriptions start in {len(starts)} columns"


def test_size_sweep_splits_into_one_run_per_size():
    from ticketlab.experiments.configure import parse_run_args
    from ticketlab.presets.arguments import split_sweep

    argsets = split_sweep(["cartpole-bc", "--student.hidden", "128,128", "256,256", "--seeds", "2"])
    assert argsets == [
        ["cartpole-bc", "--student.hidden", "128", "128", "--seeds", "2"],
        ["cartpole-bc", "--student.hidden", "256", "256", "--seeds", "2"],
    ]
    assert [parse_run_args(a).student.hidden for a in argsets] == [(128, 128), (256, 256)]
    assert parse_run_args(["acrobot-bc", "--student.hidden", "256,128"]).student.hidden == (256, 128)


def test_plot_refuses_a_directory_that_is_not_a_run(tmp_path, capsys):
    assert main(["plot", str(tmp_path)]) == 2
    assert "not a ticketlab run directory" in capsys.readouterr().err


def test_envs_lists_every_id_and_family_with_its_backend(capsys):
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    assert "  CartPole-v1 " in out and "= cartpole" in out and "HopperBulletEnv-v0" in out
    families = [line.split(":")[0].strip() for line in out.splitlines() if line.startswith("  ") and "[" in line]
    assert families == ["gymnax", "brax", "ale", "gymnasium", "craftax", "xminigrid", "jumanji"]
    assert "    craftax:Craftax-Classic-Symbolic-v1\n" in out and "    jumanji:Snake-v1\n" in out
    assert "  gymnasium: gymnasium:<Gymnasium id>  [host]" in out and "    Catch-bsuite" in out
    assert out.count("    FourRooms-misc\n") == 1


def test_progress_off_a_terminal_is_one_plain_line_per_level(capsys):
    from conftest import tiny_config

    from ticketlab.reporting.progress import LevelProgress

    cfg = tiny_config("unused", levels=2)
    rows = [
        {"condition": c, "best_return": r, "seconds": 1.25}
        for c, r in (("mask_weights", 100.0), ("mask_weights", 50.0))
    ]
    with LevelProgress(cfg, live=False) as progress:
        progress.on_level(0, [{"condition": "dense", "best_return": 9.0, "seconds": 2.0}], resumed=False)
        progress.on_level(1, rows, resumed=True)
    lines = capsys.readouterr().out.splitlines()
    assert [re.sub(r"elapsed \d:\d\d:\d\d, eta \d:\d\d:\d\d", "T", line) for line in lines] == [
        "cartpole-ppo: level 0 done (1/2, 2.0s), T: dense 9.0",
        "cartpole-ppo: level 1 done (2/2, resumed), T: ticket 75.0",
    ]


@pytest.mark.slow  # about 35 s: a real process whose output is a file
def test_a_run_whose_output_is_a_file_logs_one_line_per_level_while_it_runs(tmp_path):
    log = tmp_path / "log"
    args = [
        "cartpole-ppo",
        "--seeds",
        "1",
        "--levels",
        "3",
        "--ppo.total-steps",
        "1024",
        "--ppo.eval-every",
        "4",
        "--ppo.eval-episodes",
        "2",
        "--workers",
        "1",
        "--out",
        str(tmp_path / "runs"),
    ]
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ticketlab.cli", "run", *args], stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path
        )
        seen_while_running = False
        while proc.poll() is None:
            seen_while_running |= "level 0 done" in log.read_text()
            time.sleep(0.05)
    assert proc.returncode == 0, log.read_text()
    assert seen_while_running  # (flushed when the level ended, not at exit)
    lines = [line for line in log.read_text().splitlines() if line.startswith("cartpole-ppo: level ")]
    assert [line.split(" done ")[0] for line in lines] == [f"cartpole-ppo: level {n}" for n in range(3)]
    assert re.fullmatch(
        r"cartpole-ppo: level 2 done \(3/3, [\d.]+s\), elapsed \d:\d\d:\d\d, eta 0:00:00: "
        r"m/perm [\d.]+  ticket [\d.]+  perm/perm [\d.]+  rand/reinit [\d.]+",
        lines[-1],
    ), lines[-1]
    assert "3/3 levels" not in log.read_text()  # no bar drawn into a file


@pytest.mark.parametrize("out", ["afile.txt", "afile.txt/runs"])
def test_an_out_that_is_a_file_exits_2_before_anything_is_written(tmp_path, capsys, out):
    (tmp_path / "afile.txt").write_text("keep me")
    before = sorted(tmp_path.rglob("*"))
    for argv in (["run", "cartpole-ppo"], ["sweep", "cartpole-ppo"]):
        assert main([*argv, "--out", str(tmp_path / out)]) == 2
        err = capsys.readouterr().err.strip()
        assert (
            err == f"ticketlab: error: out: {tmp_path / 'afile.txt'} is a file, not a directory; name a directory "
            f"(it is created if missing)"
        )
    assert sorted(tmp_path.rglob("*")) == before and (tmp_path / "afile.txt").read_text() == "keep me"


def test_a_store_of_another_engine_version_is_refused_and_kept(tmp_path):
    from conftest import tiny_config

    from ticketlab.core.errors import ConfigError
    from ticketlab.experiments.experiment import run as run_experiment

    cfg = tiny_config(tmp_path / "runs", levels=1, seeds=1)
    run = run_experiment(cfg)
    meta = json.loads((run / "config.json").read_text())
    meta["hash"] = "0123456789"  # as an older engine, which hashed the same config otherwise, wrote it
    (run / "config.json").write_text(json.dumps(meta))
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    with pytest.raises(
        ConfigError,
        match=r"^run: .* was written by another version of ticketlab's engine "
        r"\(hash 0123456789, this version's is [0-9a-f]{10}\)",
    ):
        run_experiment(cfg)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


HELP_CASES = [[name] for name in COMMANDS] + [["run", "cartpole-ppo"], ["run", "mazegrid-dqn", "--scale", "paper"]]


@pytest.mark.parametrize("argv", HELP_CASES, ids=" ".join)
def test_every_subcommand_answers_help_with_every_option(argv):
    proc = subprocess.run(
        [sys.executable, "-m", "ticketlab.cli", *argv, "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: ticketlab {argv[0]} "), proc.stdout[:200]
    options = flags(COMMANDS[argv[0]])
    missing = [flag for flag in options if not re.search(rf"{re.escape(flag)}[ ,]", proc.stdout)]
    assert not missing, missing
    if argv[0] == "run" and len(argv) > 1:  # the preset's values are the defaults shown
        cfg = preset(argv[1], argv[3] if len(argv) > 2 else "demo")
        assert f"(default: {cfg.name})" in proc.stdout and f"(default: {cfg.seeds})" in proc.stdout


def test_ticketlab_alone_prints_the_subcommands_and_exits_2(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    assert all(f"• {name} " in out for name in COMMANDS)


def test_help_presets_and_parse_errors_answer_without_jax_or_matplotlib():
    """The front parses before it imports a command: what it answers alone loads neither."""
    calls = [
        ["--help"],
        ["run", "--help"],
        ["run", "cartpole-ppo", "--help"],
        ["sweep", "--help"],
        ["presets"],
        ["run", "cartpole-ppo", "--seeds", "0"],
        ["run", "cartpole-ppo", "--seeds", "x"],
        ["run", "cartpole-ppo", "--lr", "1"],
        ["run", "cartpole-ppo", "--scale", "huge"],
        ["sweep", "cartpole-ppo", "--colour", "red"],
        ["status", "a", "b"],
        ["frobnicate"],
    ]
    code = (
        "import contextlib, io, json, sys\n"
        "from ticketlab.cli.main import main\n"
        "codes = []\n"
        f"for argv in {calls!r}:\n"
        "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "        try:\n"
        "            codes.append(main(argv))\n"
        "        except SystemExit as e:\n"
        "            codes.append(e.code)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'jaxlib', 'matplotlib', 'flax'))\n"
        "print(json.dumps([codes, heavy]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    codes, heavy = json.loads(proc.stdout)
    assert codes == [0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2]
    assert heavy == []
