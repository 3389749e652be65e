"""``h2ogpt-jupyter install-kernel``: a Jupyter kernel with the ``%h2ogpt`` magics ready.

The "Python 3 (h2oGPT)" kernel is IPython with this extension preloaded, so ``%h2ogpt`` works
in a new notebook without ``%load_ext``. Its spec is built here rather than copied from
``kernels/h2ogpt/kernel.json``: that folder is outside the package, so wheels and editable
installs do not carry it. The installed ``argv`` names the Python running the command
(``sys.executable``), so the kernel runs in this environment even when Jupyter itself runs from
another one. ``kernels/h2ogpt/kernel.json`` is the same spec with a bare ``python``, for tools
that read specs from a repository; a test keeps the two in step.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

KERNEL_NAME = "h2ogpt"
DISPLAY_NAME = "Python 3 (h2oGPT)"


def kernel_spec(executable: str | None = None, display_name: str = DISPLAY_NAME) -> dict[str, Any]:
    """The kernel.json contents; ``executable`` defaults to the running Python."""
    return {
        "argv": [
            executable or sys.executable,
            "-m",
            "ipykernel_launcher",
            "-f",
            "{connection_file}",
            "--InteractiveShellApp.extensions=h2ogpt_jupyter",
        ],
        "display_name": display_name,
        "language": "python",
        "metadata": {"debugger": True},
    }


def install(
    *,
    user: bool = False,
    prefix: str | None = None,
    name: str = KERNEL_NAME,
    display_name: str = DISPLAY_NAME,
) -> str:
    """Install the kernel spec; returns the folder it went to. Without ``user`` or ``prefix``
    it goes to the system-wide Jupyter folder, as ``jupyter kernelspec install`` does."""
    from jupyter_client.kernelspec import KernelSpecManager

    from h2ogpt_jupyter.errors import H2OGPTError

    if importlib.util.find_spec("ipykernel") is None:
        raise H2OGPTError("the kernel needs ipykernel here: pip install ipykernel")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / name
        folder.mkdir()
        spec = kernel_spec(display_name=display_name)
        (folder / "kernel.json").write_text(json.dumps(spec, indent=1) + "\n", encoding="utf-8")
        _copy_logos(folder)
        try:
            return str(
                KernelSpecManager().install_kernel_spec(
                    str(folder), name, user=user, prefix=prefix, replace=True
                )
            )
        except ValueError as exc:  # jupyter_client's word on a bad name
            raise H2OGPTError(str(exc)) from None
        except OSError as exc:
            raise H2OGPTError(f"cannot install the kernel: {exc}") from None


def _copy_logos(folder: Path) -> None:
    """IPython's logos, so the launcher shows the Python icon for this kernel too."""
    spec = importlib.util.find_spec("ipykernel")
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        for logo in (Path(root) / "resources").glob("logo-*"):
            shutil.copy(logo, folder / logo.name)


def arguments(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--user", action="store_true", help="for the current user only (the default)"
    )
    where.add_argument(
        "--sys-prefix",
        action="store_true",
        help=f"in this environment ({sys.prefix}), for a Jupyter installed in it",
    )
    where.add_argument("--prefix", metavar="P", help="under P/share/jupyter/kernels")
    parser.add_argument("--name", default=KERNEL_NAME, help=f"kernel name (default {KERNEL_NAME})")
    parser.add_argument(
        "--display-name", default=DISPLAY_NAME, help=f"shown in Jupyter (default {DISPLAY_NAME!r})"
    )


def run(args: argparse.Namespace) -> int:
    """``h2ogpt-jupyter install-kernel``."""
    from h2ogpt_jupyter.errors import H2OGPTError

    prefix = sys.prefix if args.sys_prefix else args.prefix
    try:
        path = install(
            user=not prefix, prefix=prefix, name=args.name, display_name=args.display_name
        )
    except H2OGPTError as exc:
        print(f"h2ogpt-jupyter install-kernel: {exc}", file=sys.stderr)
        return 2
    print(f"Installed kernel '{args.name}' ({args.display_name}) in {path}")
    return 0
