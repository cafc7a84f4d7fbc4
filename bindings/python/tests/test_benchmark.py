"""The echo round trip through Python against the same loop in C (benchmarks/echo_c.c).

Opt-in (PACKETDTLS_BENCH=1): timing on a shared machine is too noisy for every run. The goal is
that Python reaches at least half the C rate; the best of three runs of each is compared."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import packetdtls

from .conftest import PACKAGE_ROOT, REPO_ROOT

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("PACKETDTLS_BENCH") != "1", reason="set PACKETDTLS_BENCH=1 to run"),
    pytest.mark.skipif(shutil.which("cc") is None, reason="needs a C compiler for the baseline"),
]


def rate(command: list) -> float:
    output = subprocess.run(command, capture_output=True, text=True, timeout=300, check=True).stdout
    return float(re.search(r"([\d.]+) round trips/s", output).group(1))


def test_python_echo_reaches_half_the_c_rate(tmp_path):
    library = Path(packetdtls.library_path())
    baseline = tmp_path / "echo_c"
    subprocess.run(
        ["cc", "-O2", f"-I{REPO_ROOT / 'include'}", str(PACKAGE_ROOT / "benchmarks" / "echo_c.c"),
         f"-L{library.parent}", "-lpacketdtls", f"-Wl,-rpath,{library.parent}", "-o", str(baseline)],
        check=True, timeout=120,
    )
    c_rate = max(rate([str(baseline), "10000", "64"]) for _ in range(3))
    python_rate = max(rate([sys.executable, str(PACKAGE_ROOT / "benchmarks" / "echo.py"), "10000", "64"]) for _ in range(3))
    print(f"C {c_rate:.0f}/s, Python {python_rate:.0f}/s, ratio {python_rate / c_rate:.2f}")
    assert python_rate >= 0.5 * c_rate
