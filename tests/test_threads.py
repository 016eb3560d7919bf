"""The process-wide BLAS/OpenMP thread limit: set by `kb` before any pool loads, seen by request threads."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kb.threads import THREAD_VARIABLES

KB = [str(Path(sys.executable).with_name("kb"))]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())


@pytest.mark.slow
def test_kb_serve_runs_every_pool_on_one_thread(tmp_path: Path) -> None:
    """Started without OMP_NUM_THREADS & co., every pool a request thread sees (numpy's and FAISS's
    OpenBLAS, FAISS's OpenMP) reports 1 thread: on two cores they would otherwise report 2."""
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARIABLES and k != "KB_NATIVE_THREADS"}
    env |= {"HF_HUB_OFFLINE": "1", "PYTHONPATH": os.pathsep.join(sys.path)}
    port, log = _free_port(), tmp_path / "serve.log"
    with log.open("wb") as stderr:
        server = subprocess.Popen(
            [*KB, "serve", "--init", "--port", str(port), "--data-dir", str(tmp_path / "data")],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        for _ in range(600):  # the embedder loads first; nothing here is timed, this only bounds a hang
            if server.poll() is not None:
                pytest.fail(log.read_text()[-2000:])
            try:
                _get(f"http://127.0.0.1:{port}/healthz")
                break
            except OSError:
                time.sleep(0.1)
        metrics = _get(f"http://127.0.0.1:{port}/metrics")
    finally:
        server.terminate()
        server.wait(timeout=30)
    pools = re.findall(r'^kb_native_threads\{api="(\w+)",library="([^"]+)"\} (\S+)$', metrics, re.M)
    assert {api for api, _, _ in pools} >= {"blas", "openmp"}, metrics
    assert all(float(n) == 1 for _, _, n in pools), pools


def test_pin_sets_the_variables_from_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from kb.threads import pin_native_threads

    for name in THREAD_VARIABLES:
        monkeypatch.setenv(name, "8")
    monkeypatch.setenv("KB_NATIVE_THREADS", "3")
    monkeypatch.setenv("KB_ANN_NPROBE", "not a number")  # another setting's mistake is reported later, not here
    try:
        assert pin_native_threads() == 3
        assert all(os.environ[name] == "3" for name in THREAD_VARIABLES)
    finally:
        pin_native_threads(1)
