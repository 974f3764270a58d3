"""`gateway plugins new`: the scaffold is an installable connector distribution that passes its own tests.

The round trip: generate into a temporary folder, install it (editable) into a fresh virtual environment that
reuses this one's packages (a `.pth` file; nothing is downloaded), run its tests there, and see the gateway find
the connector through its entry point.
"""

from __future__ import annotations

import re
import subprocess
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.support import Run, assert_one_line_error, clean_environment
from tests.test_architecture import private_gateway_imports


def environment_with_our_packages(path: Path) -> Path:
    """A virtual environment without pip that sees this environment's packages; its python."""
    venv.EnvBuilder(with_pip=False).create(path)
    python = path / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    ours = sysconfig.get_paths()["purelib"]
    # An `import` line (not a bare path) so that the .pth files there (the gateway's editable install) apply too.
    (Path(purelib) / "gateway-environment.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    return python


def run(*args: str | Path, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in args], capture_output=True, text=True, cwd=cwd, env=clean_environment(PYTHONPATH=""),
        timeout=timeout, check=False,
    )  # fmt: skip


def test_a_scaffolded_connector_installs_and_passes_its_own_tests(run_gateway: Run, tmp_path: Path) -> None:
    created = run_gateway("plugins", "new", "taskbox", "--directory", str(tmp_path / "taskbox"))
    assert created.returncode == 0, created.stderr
    project = tmp_path / "taskbox"
    assert "next: cd" in created.stdout
    assert (project / "pyproject.toml").is_file()
    # The connector imports nothing of the gateway but its public package.
    assert private_gateway_imports(project / "src" / "taskbox_connector", "taskbox_connector") == []

    python = environment_with_our_packages(tmp_path / "venv")
    install = run(
        python, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet", "-e", project,
        cwd=tmp_path,
    )  # fmt: skip
    assert install.returncode == 0, install.stdout + install.stderr

    tests = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", cwd=project)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    summary = tests.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"\d+ passed, 4 skipped in [\d.]+s", summary), tests.stdout
    # Exactly the capabilities it does not declare are skipped, by the suite itself.
    skipped = sorted(set(re.findall(r"does not declare Capability\.(\w+)", tests.stdout)))
    assert skipped == ["CHANGED_TICKETS", "DELETION_FEED", "WEBHOOKS"]

    listed = run(python, "-c", "from gateway.cli import main; main(['plugins', 'list'])", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    line = next(line for line in listed.stdout.splitlines() if "taskbox" in line)
    assert "timetracker-gateway-taskbox" in line
    assert "personal_token" in line
    assert "search" in line


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Not A Name", "'Not A Name' is not a connector name"), ("9lives", "'9lives' is not a connector name")],
)
def test_a_bad_name_is_refused(run_gateway: Run, tmp_path: Path, name: str, expected: str) -> None:
    assert_one_line_error(run_gateway("plugins", "new", name), expected)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_folder_is_not_overwritten(run_gateway: Run, tmp_path: Path) -> None:
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    assert_one_line_error(
        run_gateway("plugins", "new", "taskbox", "--directory", str(target)), "exists and is not an empty folder"
    )
    assert [path.name for path in target.iterdir()] == ["notes.txt"]


def test_the_default_folder_is_named_after_the_distribution(run_gateway: Run, tmp_path: Path) -> None:
    assert run_gateway("plugins", "new", "my_tracker").returncode == 0
    project = tmp_path / "timetracker-gateway-my-tracker"
    assert (project / "src" / "my_tracker_connector" / "connector.py").is_file()
    text = (project / "src" / "my_tracker_connector" / "connector.py").read_text()
    assert 'name = "my_tracker"' in text
    assert "class MyTrackerConnector(TokenConnector[MyTrackerConfig]):" in text
