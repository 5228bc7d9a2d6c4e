"""Headless Chromium for the tests that render a page (the report, the documentation site): no
network, a screenshot or the rendered DOM."""

import os
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("TICKETLAB_REQUIRE_CHROMIUM") == "1":
            pytest.fail("TICKETLAB_REQUIRE_CHROMIUM=1 but no chromium on PATH (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium); no page is rendered")
    return path


def screenshot(page, png, tmp_path, size=(1200, 2000)):
    """Render `page` in headless Chromium (no network) and save a screenshot to `png`."""
    done = subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--screenshot={png}",
            f"--window-size={size[0]},{size[1]}",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and png.exists(), done.stderr[-2000:]
    return np.asarray(Image.open(png).convert("RGB"))


def rendered_dom(page, tmp_path) -> str:
    """The page's DOM after its scripts ran, as Chromium serializes it."""
    done = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout
