"""The README's example (examples/quickstart.py), run as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "quickstart.py"


def test_quickstart_runs_against_the_server(server):
    env = dict(os.environ, CSP_ADDR=server.address, CSP_TOKEN=server.token("us", "sales_agent"))
    run = subprocess.run(
        [sys.executable, str(EXAMPLE)], env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == "Fabrikam, Inc. US", run.stdout
    assert any(line.startswith("CFQ7TTC") for line in lines), run.stdout
    assert any(line.startswith("customer ") for line in lines), run.stdout


def test_the_readme_shows_the_quickstart():
    readme = Path(__file__).resolve().parents[2] / "README.md"
    assert EXAMPLE.read_text() in readme.read_text(), (
        "clients/README.md does not show examples/quickstart.py verbatim: copy the file into it"
    )
