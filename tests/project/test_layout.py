"""The layers: README's picture, import-linter's contract and the tree say the same thing, no
arrow points up, and no package reaches into another's private names."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "h2ogpt_jupyter"


def picture_rows() -> list[list[str]]:
    """README's Layout picture: a row per layer, top first, names as module paths."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1]
    block = re.search(r"```text\nh2ogpt_jupyter/\n(.*?)```", section, re.S)
    assert block, "README's Layout section has no picture of h2ogpt_jupyter/"
    rows = []
    for line in block.group(1).splitlines():
        names = re.match(r"\s+((?:[\w.]+/?(?: · )?)+)\s{2,}", line)
        assert names, f"a picture row without a name: {line!r}"
        rows.append([n.strip().rstrip("/").removesuffix(".py") for n in names.group(1).split("·")])
    return rows


def contract_layers() -> list[list[str]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (contract,) = [c for c in config["tool"]["importlinter"]["contracts"] if c["id"] == "layers"]
    return [
        [m.strip().removeprefix("h2ogpt_jupyter.") for m in row.split("|")]
        for row in contract["layers"]
    ]


def test_the_readme_picture_is_the_contract() -> None:
    assert picture_rows() == contract_layers()


def test_every_module_and_package_of_the_root_is_in_a_layer() -> None:
    placed = {name for row in contract_layers() for name in row}
    here = {
        p.stem if p.is_file() else p.name
        for p in PACKAGE.iterdir()
        if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()
    }
    assert here == placed


def test_no_arrow_points_up() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:]


def test_no_package_imports_another_packages_private_names() -> None:
    found = []
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        home = parts[1] if len(parts) > 2 else ""
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.level == 0 and node.module):
                continue
            target = node.module.split(".")
            if target[0] != "h2ogpt_jupyter" or target[1:2] == [home]:
                continue
            names = [*target[1:], *(a.name for a in node.names)]
            private = [
                n for n in names if n.startswith("_") and n not in ("_version", "__version__")
            ]
            if private:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.module}: {private}")
    assert not found, "\n".join(found)
