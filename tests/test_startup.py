"""Start-up: ``il6sim --version`` and ``il6sim --help`` import no numerical library.

Checked by what is imported (in a fresh interpreter), never by a timed assertion: the machine
may be loaded. The commands of other packages are listed from ``PACKAGE_COMMANDS`` and loaded
when used; the table must say what their ``register(app)`` adds.
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys

import pytest
import typer

from il6sim.cli import PACKAGE_COMMANDS, Il6simGroup

#: Libraries that take from tens of milliseconds to seconds to import; the bare command line
#: needs none of them.
HEAVY = ("numpy", "pandas", "scipy", "sympy", "libsbml", "roadrunner", "dask", "distributed",
         "sklearn", "skops", "matplotlib", "xarray", "pyarrow", "lifelines", "pint", "fastapi",
         "uvicorn", "pydantic", "sksundae")


def _modules_after(code: str) -> set[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def _heavy(modules: set[str]) -> list[str]:
    return sorted(name for name in HEAVY if name in modules)


def test_importing_the_command_line_pulls_in_no_heavy_module():
    assert _heavy(_modules_after("import il6sim.cli")) == []


@pytest.mark.parametrize("argument", ["--version", "--help"])
def test_version_and_help_pull_in_no_heavy_module(argument):
    code = ("from il6sim.cli import app\n"
            "try:\n"
            f"    app([{argument!r}], prog_name='il6sim')\n"
            "except SystemExit:\n"
            "    pass")
    assert _heavy(_modules_after(code)) == []


def test_help_lists_every_package_command():
    done = subprocess.run([sys.executable, "-c", "from il6sim.cli import main; main()",
                           "--help"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    for name in PACKAGE_COMMANDS:
        assert f" {name} " in done.stdout, name


@pytest.mark.parametrize("package", sorted({p for p, _ in PACKAGE_COMMANDS.values()}))
def test_package_commands_table_matches_register(package):
    """Each package adds exactly the commands listed for it, with the listed help line."""
    group = Il6simGroup(name="il6sim")
    group.load_package(package)
    listed = {name for name, (owner, _) in PACKAGE_COMMANDS.items() if owner == package}
    assert set(group.commands) == listed
    for name, command in group.commands.items():
        first = inspect.cleandoc(command.help or "").split("\n\n")[0].replace("\n", " ")
        assert first == PACKAGE_COMMANDS[name][1], name


def test_a_package_command_runs_from_the_full_app():
    from typer.testing import CliRunner

    from il6sim.cli import app

    result = CliRunner().invoke(app, ["trials"])
    assert result.exit_code == 0, result.output
    assert "recovery-tocilizumab" in result.output
    assert isinstance(app, typer.Typer)
