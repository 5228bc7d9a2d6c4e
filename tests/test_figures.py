"""`ticketlab figure N`: every figure's runs are valid configs, bad input is one line, and a
figure runs what it needs and tiles its panels."""

import numpy as np
import pytest

from ticketlab import cli
from ticketlab.presets import SCALES
from ticketlab.reporting.paper_figures import FIGURES, Figure, Panel, make_figure, panel_configs, panels_of


def test_the_paper_figures_one_to_fifteen_are_registered():
    assert sorted(FIGURES) == list(range(1, 16))
    assert [n for n, f in FIGURES.items() if f.leaves_out] == [1]  # only figure 1's diagram


def test_the_network_size_figures_have_every_algorithm_of_the_paper():
    """Figure 11's bottom row: Cart-Pole and Acrobot PPO and MazeGrid DQN, two sizes each;
    figure 12: PPO on MazeGrid (left) and DQN on Cart-Pole (right)."""
    presets = lambda n: {p.key: {r[0] for r in p.runs} for p in panels_of(FIGURES[n], "demo")}
    assert presets(11) == {k: {k} for k in ("cartpole-bc", "acrobot-bc", "cartpole-ppo", "acrobot-ppo", "mazegrid-dqn")}
    assert presets(12) == {"mazegrid-ppo": {"mazegrid-ppo"}, "cartpole-dqn": {"cartpole-dqn"}}
    for n in (11, 12):
        for cfgs in (panel_configs((p,), "demo", "runs") for p in panels_of(FIGURES[n], "demo")):
            assert len(cfgs) >= 2  # distinct networks, so distinct runs


@pytest.mark.parametrize("scale", SCALES)
def test_every_panel_names_valid_runs(scale, tmp_path):
    """Each panel's preset and flags parse and validate (a typo in a flag would fail here, not
    after an hour of training); panels of one figure have distinct keys."""
    for fig in FIGURES.values():
        panels = panels_of(fig, scale)
        assert len({p.key for p in panels}) == len(panels)
        configs = panel_configs(panels, scale, str(tmp_path))
        assert configs and all(c.out == str(tmp_path) for c in configs)
        for p in panels:
            assert p.draw in (
                "compare",
                "selected_inputs",
                "ticket",
                "input_dimensions",
                "pixel_magnitude",
                "pixel_kept",
                "channel_density",
                "layer_density",
            )
            assert p.draw != "compare" or len(p.runs) > 1


def test_figure_8_reuses_one_run_for_the_scaled_inputs_and_their_study(tmp_path):
    configs = panel_configs(panels_of(FIGURES[8], "demo"), "demo", str(tmp_path))
    assert len(configs) == 7  # 3 initializations x 2 tasks, and the Cart-Pole demo (0.7) the study trains on
    assert {c.init.input_scale for c in configs} == {1.0, 0.7, 0.1}
    paper = panel_configs(panels_of(FIGURES[8], "paper"), "paper", str(tmp_path))
    assert len(paper) == 6 and {c.init.input_scale for c in paper} == {1.0, 0.1}


@pytest.mark.parametrize(
    "argv, field",
    [
        (["figure", "16"], "figure"),
        (["figure", "x"], "figure"),
        (["figure"], "figure"),
        (["figure", "8", "--scale", "huge"], "scale"),
        (["figure", "8", "--only", "nope"], "only"),
        (["figure", "8", "--bogus", "1"], "bogus: unknown option of figure"),
    ],
)
def test_bad_figure_input_one_line(argv, field, capsys, tmp_path):
    assert cli.main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"error: {field}" in err
    assert not any(tmp_path.iterdir())


def test_figure_list_names_every_figure(capsys):
    assert cli.main(["figure", "list"]) == 0
    out = capsys.readouterr().out
    for n in FIGURES:
        assert f"figure {n:2d}:" in out


TINY = (
    "--seeds",
    "2",
    "--levels",
    "2",
    "--ppo.total-steps",
    "1024",
    "--ppo.eval-every",
    "4",
    "--ppo.eval-episodes",
    "2",
)


@pytest.mark.slow
def test_a_figure_runs_what_it_needs_and_tiles_its_panels(tmp_path, monkeypatch):
    scaled = ("cartpole-ppo", *TINY, "--init.input-scale", "0.1")
    panels = (
        Panel("ticket", "ticket", (("cartpole-ppo", *TINY),)),
        Panel("compare", "compare", (("cartpole-ppo", *TINY), scaled)),
        Panel("inputs", "input_dimensions", (scaled,)),
        Panel("selected", "selected_inputs", (scaled,)),
    )
    monkeypatch.setitem(FIGURES, 99, Figure(99, "a test figure", lambda s: panels))
    png = make_figure(99, "demo", str(tmp_path), workers=1)
    assert png == tmp_path / "figures" / "figure_99.png" and png.with_suffix(".pdf").exists()
    assert len(list(tmp_path.glob("cartpole-ppo-*/levels/level_01"))) == 2  # two runs, each once
    import matplotlib.pyplot as plt

    image = plt.imread(png)
    assert image.shape[1] > 2000 and np.mean(image[..., :3] < 0.9) > 0.03  # four panels, not blank
    before = png.stat().st_mtime_ns
    assert make_figure(99, "demo", str(tmp_path), only=("ticket",), workers=1) == png  # finished runs: nothing trains
    assert png.stat().st_mtime_ns > before
