"""Loading and validating the declarative agent definitions in ``agents/*.yaml``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.conf import settings

from apps.agents.models import CONTEXT_SIZE_DEFAULT, CONTEXT_SIZE_MAX, CONTEXT_SIZE_MIN

SLUG_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
REQUIRED_KEYS = {"slug", "name", "title", "persona", "model", "temperature", "command_prefix"}
KNOWN_KEYS = REQUIRED_KEYS | {
    "description",
    "allowed_tools",
    "examples",
    "commands",
    "context_size",
}


class AgentDefinitionError(ValueError):
    """An agent definition file is malformed; the message names the file and the problem."""


@dataclass(frozen=True)
class AgentDefinition:
    slug: str
    name: str
    title: str
    persona: str
    model: str
    temperature: float
    command_prefix: str
    description: str = ""
    allowed_tools: list[str] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)
    # Tokens the model reads at most, prompt and answer (Ollama's ``num_ctx``).
    context_size: int = CONTEXT_SIZE_DEFAULT


def _string_list(path: Path, data: dict, key: str) -> list[str]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise AgentDefinitionError(f"{path.name}: {key} must be a list of strings")
    return value


def _context_size(path: Path, data: dict) -> int:
    value = data.get("context_size", CONTEXT_SIZE_DEFAULT)
    if isinstance(value, bool) or not isinstance(value, int):
        raise AgentDefinitionError(f"{path.name}: context_size must be a whole number of tokens")
    if not CONTEXT_SIZE_MIN <= value <= CONTEXT_SIZE_MAX:
        raise AgentDefinitionError(
            f"{path.name}: context_size must be between {CONTEXT_SIZE_MIN} and "
            f"{CONTEXT_SIZE_MAX} tokens"
        )
    return value


def agent_definition_parse(path: Path) -> AgentDefinition:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise AgentDefinitionError(f"{path.name}: cannot read YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise AgentDefinitionError(f"{path.name}: expected a mapping at the top level")
    missing = REQUIRED_KEYS - data.keys()
    if missing:
        raise AgentDefinitionError(f"{path.name}: missing keys {sorted(missing)}")
    unknown = data.keys() - KNOWN_KEYS
    if unknown:
        raise AgentDefinitionError(f"{path.name}: unknown keys {sorted(unknown)}")
    for key in ("slug", "command_prefix"):
        if not isinstance(data[key], str) or not SLUG_RE.match(data[key]):
            raise AgentDefinitionError(f"{path.name}: {key} must be a lowercase slug")
    for key in ("name", "title", "persona", "model"):
        if not isinstance(data[key], str) or not data[key].strip():
            raise AgentDefinitionError(f"{path.name}: {key} must be a non-empty string")
    temperature = data["temperature"]
    if isinstance(temperature, bool) or not isinstance(temperature, int | float):
        raise AgentDefinitionError(f"{path.name}: temperature must be a number")
    if not 0 <= temperature <= 2:
        raise AgentDefinitionError(f"{path.name}: temperature must be between 0 and 2")
    return AgentDefinition(
        slug=data["slug"],
        name=data["name"].strip(),
        title=data["title"].strip(),
        persona=data["persona"].strip(),
        model=data["model"].strip(),
        temperature=float(temperature),
        command_prefix=data["command_prefix"],
        description=str(data.get("description", "")).strip(),
        allowed_tools=_string_list(path, data, "allowed_tools"),
        examples=_string_list(path, data, "examples"),
        context_size=_context_size(path, data),
    )


def agent_definitions_load(directory: Path | None = None) -> list[AgentDefinition]:
    """Every definition in the folder, sorted by slug; duplicates are an error."""
    directory = directory or Path(settings.AGENT_DEFINITIONS_DIR)
    definitions = [agent_definition_parse(p) for p in sorted(directory.glob("*.yaml"))]
    for key in ("slug", "command_prefix"):
        values = [getattr(d, key) for d in definitions]
        duplicates = {v for v in values if values.count(v) > 1}
        if duplicates:
            raise AgentDefinitionError(
                f"duplicate {key} in agent definitions: {sorted(duplicates)}"
            )
    return sorted(definitions, key=lambda d: d.slug)
