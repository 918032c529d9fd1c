"""Shared fixtures: one moto server (testsupport/moto/launcher.py, the tests' moto) for the
session, and the stacks deployed into it once by deploy_moto.py."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO = Path(__file__).resolve().parents[2]
MOTO_PYTHON = os.environ.get("GATEHOUSE_MOTO_PYTHON", "/opt/gatehouse/moto/bin/python")


def pytest_configure(config):
    # The test command runs these in a step of their own, once the server and site are built.
    config.addinivalue_line(
        "markers", "dashboard_server: needs the aws-mode server binary and the built site"
    )


@pytest.fixture(scope="session")
def moto_endpoint():
    server = subprocess.Popen(
        [MOTO_PYTHON, str(REPO / "testsupport/moto/launcher.py")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    line = server.stdout.readline()
    if not line.startswith("PORT "):
        server.kill()
        raise RuntimeError(f"moto launcher did not start: {line!r}")
    yield f"http://127.0.0.1:{line.split()[1]}"
    server.stdin.close()  # the launcher stops when its stdin closes
    server.wait(timeout=30)


@pytest.fixture(scope="session")
def deployed(moto_endpoint):
    import deploy_moto

    deployer, stacks = deploy_moto.deploy_all(moto_endpoint, prefix="it-")
    return deployer, stacks
