"""ARCHITECTURE.md stays true and short: the paths it names exist, every package is in its
picture, and it reads in five minutes."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURE = (ROOT / "ARCHITECTURE.md").read_text()
PATH = re.compile(r"(?:service|schema|tests|docs|bench|migrations)/[\w/.<>-]*")


def test_every_path_it_names_exists() -> None:
    # given every path written in ARCHITECTURE.md and docs/rules.md (templates like <domain> aside)
    rules = (ROOT / "docs" / "rules.md").read_text()
    named = {match.rstrip(".") for match in PATH.findall(ARCHITECTURE)}
    named |= {
        match if match.startswith("schema/") else f"service/{match}"
        for match in re.findall(r"`([\w/]+\.py)", rules)
    }

    # then each is a file or folder of the project
    missing = sorted(path for path in named if "<" not in path and not (ROOT / path).exists())
    assert missing == []


def test_every_package_is_in_the_picture() -> None:
    # given the packages of service/, and the domains the picture lists under service/<domain>/
    packages = [path.parent.name for path in (ROOT / "service").glob("*/__init__.py")]
    domains = re.search(r"service/<domain>/ +(.+?)schemas\.py", ARCHITECTURE, re.S)
    assert domains is not None
    listed = set(domains.group(1).replace(":", " ").split())

    # then each has its own line in the picture or is one of those domains
    unnamed = [name for name in packages if f"service/{name}/" not in ARCHITECTURE]
    assert sorted(set(unnamed) - listed) == []
    assert all((ROOT / "service" / name).is_dir() for name in listed)


def test_it_reads_in_five_minutes() -> None:
    assert len(ARCHITECTURE.split()) <= 1300
