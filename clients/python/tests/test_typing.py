"""The type stubs (*_pb2.pyi for messages, *_pb2_grpc.pyi for services, csp.commerce.connect)
make mypy --strict check the examples: request and response types of every call."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def mypy(tmp_path: Path, *paths: Path) -> subprocess.CompletedProcess[str]:
    # Run elsewhere than clients/python, so `csp` is the installed package, as a user has it.
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", *map(str, paths)],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )


def test_mypy_strict_passes_on_the_examples(tmp_path):
    run = mypy(tmp_path, EXAMPLES)
    assert run.returncode == 0, run.stdout + run.stderr


def test_mypy_sees_a_wrong_request_type_and_a_wrong_response_field(tmp_path):
    wrong = tmp_path / "wrong.py"
    wrong.write_text(
        "import csp.commerce\n"
        "from csp.commerce.v1 import customer_pb2\n"
        'api = csp.commerce.connect("127.0.0.1:50051", "token")\n'
        "api.catalog.ListProducts(customer_pb2.GetCustomerRequest())\n"
        'print(api.customers.GetCustomer(customer_pb2.GetCustomerRequest(customer_id="x")).customr)\n'
    )
    run = mypy(tmp_path, wrong)
    assert run.returncode == 1, run.stdout + run.stderr
    assert 'expected "ListProductsRequest"' in run.stdout, run.stdout
    assert '"GetCustomerResponse" has no attribute "customr"' in run.stdout, run.stdout
