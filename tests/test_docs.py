"""The README stays true: CI runs its test command, and its settings table lists every setting."""

import re
from pathlib import Path

from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    return re.findall(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text())


def test_ci_runs_the_readme_test_command() -> None:
    # given
    test_command = next(command for command in readme_commands() if "pytest" in command)

    # then
    assert test_command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_readme_first_command_installs_and_serves_the_demo() -> None:
    assert readme_commands()[0] == (
        "python3 -m venv .venv && .venv/bin/pip install -c requirements.lock -e ."
        " && .venv/bin/lodestar serve --demo"
    )


def test_readme_lists_every_setting() -> None:
    # given
    readme = (ROOT / "README.md").read_text()

    # then
    missing = [
        f"LODESTAR_{name.upper()}"
        for name in Settings.model_fields
        if f"`LODESTAR_{name.upper()}`" not in readme
    ]
    assert missing == []
