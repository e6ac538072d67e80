import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from apps.agents.definitions import AgentDefinitionError, agent_definitions_load
from apps.agents.models import Agent
from apps.agents.services import agents_sync_definitions

VALID = """
slug: sage
name: SAGE
title: Security engineer
command_prefix: sage
model: llama3.1:8b
temperature: 0.1
persona: You are SAGE.
"""


def test_shipped_definitions_are_nox_atlas_cirrus_with_personas_and_commands():
    definitions = {d.slug: d for d in agent_definitions_load()}

    assert set(definitions) == {"nox", "atlas", "cirrus"}
    assert {d.command_prefix for d in definitions.values()} == {"nox", "atlas", "cirrus"}
    for definition in definitions.values():
        assert definition.name in definition.persona
        assert definition.examples and definition.allowed_tools
        assert 0 <= definition.temperature <= 2
        assert definition.context_size == 8192


def test_adding_an_agent_is_adding_a_file(tmp_path):
    (tmp_path / "sage.yaml").write_text(VALID)
    assert [d.slug for d in agent_definitions_load(tmp_path)] == ["sage"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("slug: [unclosed", "cannot read YAML"),
        ("- a list", "mapping"),
        (VALID.replace("persona: You are SAGE.", ""), "missing keys"),
        (VALID + "colour: blue\n", "unknown keys"),
        (VALID.replace("temperature: 0.1", "temperature: 7"), "between 0 and 2"),
        (VALID.replace("temperature: 0.1", "temperature: hot"), "must be a number"),
        (VALID.replace("slug: sage", "slug: Sage Agent"), "lowercase slug"),
        (VALID.replace("model: llama3.1:8b", "model: ''"), "non-empty"),
    ],
)
def test_a_malformed_definition_names_the_file_and_the_problem(tmp_path, text, reason):
    (tmp_path / "broken.yaml").write_text(text)
    with pytest.raises(AgentDefinitionError, match=reason) as error:
        agent_definitions_load(tmp_path)
    assert "broken.yaml" in str(error.value)


def test_a_context_size_is_read_and_a_missing_one_is_8192(tmp_path):
    (tmp_path / "sage.yaml").write_text(VALID + "context_size: 32768\n")
    (tmp_path / "tern.yaml").write_text(
        VALID.replace("sage", "tern")  # slug and command prefix
    )

    sizes = {d.slug: d.context_size for d in agent_definitions_load(tmp_path)}

    assert sizes == {"sage": 32768, "tern": 8192}


@pytest.mark.parametrize("value", ["2047", "1048577", "0", "-8192", "8192.5", "'8192'", "true"])
def test_a_context_size_out_of_range_or_not_a_whole_number_is_refused(tmp_path, value):
    (tmp_path / "broken.yaml").write_text(VALID + f"context_size: {value}\n")

    with pytest.raises(AgentDefinitionError, match="context_size must be") as error:
        agent_definitions_load(tmp_path)

    assert str(error.value).startswith("broken.yaml: context_size")


@pytest.mark.parametrize("value", [2048, 1_048_576])
def test_the_context_size_bounds_are_allowed(tmp_path, value):
    (tmp_path / "sage.yaml").write_text(VALID + f"context_size: {value}\n")
    assert agent_definitions_load(tmp_path)[0].context_size == value


def test_duplicate_slugs_across_files_are_refused(tmp_path):
    (tmp_path / "a.yaml").write_text(VALID)
    (tmp_path / "b.yaml").write_text(VALID.replace("command_prefix: sage", "command_prefix: s2"))
    with pytest.raises(AgentDefinitionError, match="duplicate slug"):
        agent_definitions_load(tmp_path)


def test_sync_adds_new_agents_but_keeps_the_tenant_tuning(tenant_a, tmp_path):
    with schema_context(tenant_a.schema_name):
        Agent.objects.filter(slug="nox").update(temperature=1.5, enabled=False)

        assert agents_sync_definitions() == []
        nox = Agent.objects.get(slug="nox")
        assert (nox.temperature, nox.enabled) == (1.5, False)

        (tmp_path / "sage.yaml").write_text(VALID)
        assert agents_sync_definitions(tmp_path) == ["sage"]
        assert Agent.objects.count() == 4
        assert Agent.objects.get(slug="nox").context_size == 8192


def test_sync_carries_the_definition_context_size_into_a_new_agent(tenant_a, tmp_path):
    (tmp_path / "sage.yaml").write_text(VALID + "context_size: 16384\n")
    with schema_context(tenant_a.schema_name):
        assert agents_sync_definitions(tmp_path) == ["sage"]
        assert Agent.objects.get(slug="sage").context_size == 16384


def test_the_model_validates_the_context_size_range(tenant_a):
    with schema_context(tenant_a.schema_name):
        nox = Agent.objects.get(slug="nox")
        nox.context_size = 1024
        with pytest.raises(ValidationError, match="2048"):
            nox.full_clean()


def test_every_shipped_title_and_description_is_marked_for_translation():
    from apps.agents.texts import SHIPPED_AGENT_TEXTS

    for definition in agent_definitions_load():
        assert definition.title in SHIPPED_AGENT_TEXTS, definition.slug
        assert definition.description in SHIPPED_AGENT_TEXTS, definition.slug
