"""The files other people run: docker-compose.yml wires what README documents, and README
documents every setting that jamono/settings.py reads."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_VARIABLE_RE = re.compile(r'env_(?:str|bool|int|list)\("([A-Z0-9_]+)"')


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _readme_variables() -> set[str]:
    table_rows = [line for line in (ROOT / "README.md").read_text().splitlines() if "| `" in line]
    return {m.group(1) for row in table_rows if (m := re.match(r"\| `([A-Z0-9_]+)`", row))}


def test_every_setting_read_from_the_environment_is_documented_in_readme():
    read = set(SETTINGS_VARIABLE_RE.findall((ROOT / "jamono/settings.py").read_text()))
    assert read, "settings.py reads no variables?"
    assert read <= _readme_variables(), sorted(read - _readme_variables())


def test_readme_gives_the_two_commands_first():
    readme = (ROOT / "README.md").read_text()
    assert readme.index("make run") < readme.index("## Configuration")
    assert readme.index("make test") < readme.index("## Configuration")


def test_ci_runs_make_test_after_at_most_installing_the_browser():
    """CI runs what a developer runs; it may first install Debian's chromium (the browser
    tests' only need outside Python), and makes those tests mandatory."""
    text = (ROOT / ".ci/run").read_text()
    commands = [
        line.strip()
        for line in text.splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))
    ]
    assert commands[-1] == "make test"
    installs = [command for command in commands if "apt-get install" in command]
    assert installs and all(command.endswith(" chromium") for command in installs)
    assert "export JAMONO_REQUIRE_BROWSER=1" in commands


def test_compose_has_the_services_and_wires_them_with_the_documented_variables():
    compose = _compose()
    services = compose["services"]
    assert {"postgres", "redis", "ollama", "web", "worker", "beat", "migrate"} <= services.keys()
    assert "pgvector" in services["postgres"]["image"]
    for name in ("web", "worker", "beat", "migrate"):
        environment = services[name]["environment"]
        assert "@postgres:5432/" in environment["DATABASE_URL"]
        assert environment["REDIS_URL"].startswith("redis://redis:6379")
        assert environment["OLLAMA_HOST"].endswith("ollama:11434}")
        assert environment["JAMONO_SECRET_KEY"].startswith("${JAMONO_SECRET_KEY:?")
        assert set(environment) <= _readme_variables()
    assert "celery" in services["worker"]["command"] and "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]
    assert "jamono.asgi:application" in services["web"]["command"]
    for name in ("web", "worker", "beat"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"


def test_compose_only_references_variables_it_defines_or_readme_documents():
    text = (ROOT / "docker-compose.yml").read_text()
    referenced = set(re.findall(r"\$\{([A-Z0-9_]+)", text))
    assert referenced - {"POSTGRES_PASSWORD"} <= _readme_variables()
    # Every named volume used is declared.
    compose = _compose()
    used = {
        volume.split(":")[0]
        for service in compose["services"].values()
        for volume in service.get("volumes", [])
    }
    assert used <= set(compose["volumes"])
