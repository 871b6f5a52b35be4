"""The README's example (examples/quickstart.py), run as a user would run it."""

from __future__ import annotations

import os
import re
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
    # 1. the offers (catalog item, title, term, exact price), 2. the review, 3. the order, 4. history.
    review = next(i for i, line in enumerate(lines) if line.startswith("review "))
    assert 1 <= review <= 3, run.stdout
    for offer in lines[:review]:
        assert re.fullmatch(r"CFQ7TTC\w+:\w+:\w+ .+ TERM_DURATION_\w+ BILLING_CYCLE_\w+ \d+\.\d{2,9} USD", offer), offer
    assert lines[review].startswith("review [] total "), run.stdout
    order = re.fullmatch(r"order (ORD-\S+) (\d+\.\d{2,9} USD)", lines[review + 1])
    assert order, run.stdout
    assert lines[review].endswith(" " + order.group(2)), "the order's total is the review's"
    assert f"history {order.group(1)} {order.group(2)}" in lines[review + 2 :], run.stdout


def test_the_readme_shows_the_quickstart():
    readme = Path(__file__).resolve().parents[2] / "README.md"
    assert EXAMPLE.read_text() in readme.read_text(), (
        "clients/README.md does not show examples/quickstart.py verbatim: copy the file into it"
    )
