"""The demo organization's admin key file, which GraphiQL fills in during development."""

import os
from pathlib import Path

from service.settings import Settings

DEMO_KEY_FILENAME = "demo-api-key"


def demo_key_path(settings: Settings) -> Path:
    return settings.data_dir / DEMO_KEY_FILENAME


def read_demo_key(settings: Settings) -> str | None:
    """The demo admin key saved by `serve --demo`, for GraphiQL; None in production or if absent."""
    if settings.is_production:
        return None
    try:
        key = demo_key_path(settings).read_text().strip()
    except OSError:
        return None
    return key or None


def write_demo_key(settings: Settings, key: str) -> Path:
    """Save the demo key readable by this user only (0600)."""
    path = demo_key_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(key + "\n")
    path.chmod(0o600)  # also when the file existed with wider permissions
    return path
