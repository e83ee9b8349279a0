"""The README and docker-compose.yml name only settings that exist, and the README names all."""

from __future__ import annotations

import re
from pathlib import Path

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {f"CSM_{name.upper()}" for name in Settings.model_fields}


def mentioned(path: Path) -> set[str]:
    return set(re.findall(r"\bCSM_[A-Z_]+\b", path.read_text()))


def test_readme_documents_every_setting_and_no_other() -> None:
    assert mentioned(ROOT / "README.md") == SETTINGS


def test_docker_compose_uses_real_settings() -> None:
    assert mentioned(ROOT / "docker-compose.yml") <= SETTINGS


def test_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line]
    assert commands == ["bin/stack", "bin/test"]
