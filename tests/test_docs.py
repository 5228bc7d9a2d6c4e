"""The documentation site builds offline with `mkdocs build --strict` (a broken link or reference
fails it), loads nothing from the network, and renders in headless Chromium: the home page is not
blank, the API reference names the public functions, the CLI reference holds every subcommand's
--help."""

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from browser import rendered_dom, screenshot

from ticketlab.cli.options import COMMANDS

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_the_site_loads_nothing_from_the_network(site):
    remote = re.compile(r"""(?:src|href)=["'](?:https?:)?//""")
    css_import = re.compile(r"""@import\s+url\(["']?(?:https?:)?//|url\(["']?https?://""")
    pages = sorted(site.rglob("*.html"))
    assert len(pages) >= 15
    found = [(p.relative_to(site), m.group(0)) for p in pages for m in remote.finditer(p.read_text())]
    found += [
        (p.relative_to(site), m.group(0)) for p in site.rglob("*.css") for m in css_import.finditer(p.read_text())
    ]
    assert not found, found[:5]


def test_the_home_page_renders(site, tmp_path):
    pixels = screenshot(site / "index.html", tmp_path / "home.png", tmp_path, size=(1200, 1400))
    non_white = (pixels < 245).any(axis=2).mean()
    colours = len(np.unique((pixels // 16).reshape(-1, 3), axis=0))
    assert non_white > 0.10, f"only {non_white:.1%} of the home page is not white"
    assert colours >= 20, f"only {colours} distinct colours"  # the demo figure's curves among them


def test_the_api_page_renders_the_public_functions(site, tmp_path):
    pixels = screenshot(site / "api" / "index.html", tmp_path / "api.png", tmp_path, size=(1200, 1400))
    assert (pixels < 245).any(axis=2).mean() > 0.05
    text = re.sub(r"<[^>]+>", " ", rendered_dom(site / "api" / "index.html", tmp_path))
    for name in ("find_tickets", "register_env", "register_condition", "ExperimentConfig", "masked"):
        assert re.search(rf"\b{name}\b", text), name
    assert "Run (or resume) IMP on your own training function" in " ".join(text.split())  # a docstring


def test_the_cli_page_holds_every_subcommands_help(site):
    page = (site / "cli" / "index.html").read_text()
    for name in COMMANDS:
        assert f"usage: ticketlab {name} " in page, name
    assert "--checkpoint-every-s" in page and "--init.input-scale" in page
