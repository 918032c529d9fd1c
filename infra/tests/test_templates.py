"""Static checks of the SAM templates: cfn-lint, `sam validate --lint`, the inline buildspec,
and the README's parameter names."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from samtranslator.yaml_helper import yaml_parse

REPO = Path(__file__).resolve().parents[2]
TOOLS = Path(sys.executable).parent
STACKS = ["pipeline", "cicd", "dashboard"]


def template(stack):
    return yaml_parse((REPO / "infra" / stack / "template.yaml").read_text())


@pytest.mark.parametrize("stack", STACKS)
def test_cfn_lint_is_clean(stack):
    done = subprocess.run(
        [str(TOOLS / "cfn-lint"), str(REPO / "infra" / stack / "template.yaml")],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("stack", STACKS)
def test_sam_validate_lint_is_clean_offline(stack, tmp_path):
    # No credentials and no reachable AWS: validation must not need them.
    env = {
        "PATH": os.environ["PATH"], "HOME": str(tmp_path), "SAM_CLI_TELEMETRY": "0",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    done = subprocess.run(
        [str(TOOLS / "sam"), "validate", "--lint", "--region", "us-east-1"],
        cwd=REPO / "infra" / stack, env=env, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is a valid SAM Template" in done.stdout + done.stderr


def test_inline_buildspec_is_the_buildspec_file():
    inline = template("cicd")["Resources"]["ModelImageBuild"]["Properties"]["Source"]["BuildSpec"]
    assert inline == (REPO / "infra/cicd/buildspec.yml").read_text()


def test_buildspec_tags_like_the_article_and_starts_the_run_with_the_author():
    spec = yaml.safe_load((REPO / "infra/cicd/buildspec.yml").read_text())
    commands = "\n".join(c for phase in spec["phases"].values() for c in phase["commands"])
    # The seed article's tag: the commit's first 8 characters and date '+%m-%d-%Y-%H-%M-%S'.
    assert "${COMMIT:0:8}-$(date -u '+%m-%d-%Y-%H-%M-%S')" in commands
    assert "aws stepfunctions start-execution" in commands
    for key in ("commitID", "imageUri", "author"):
        assert f"{key}: ${key}" in commands


def test_the_state_machine_substitutions_are_exactly_the_definitions_placeholders():
    definition = (REPO / "infra/statemachine/mlops.asl.json").read_text()
    placeholders = set(re.findall(r"\$\{([A-Za-z0-9_]+)\}", definition))
    machine = template("pipeline")["Resources"]["PipelineStateMachine"]["Properties"]
    assert set(machine["DefinitionSubstitutions"]) == placeholders
    assert machine["DefinitionUri"] == "../statemachine/mlops.asl.json"


def readme_parameters():
    """The parameter names the README's "Deploy to AWS" section gives, per stack."""
    text = (REPO / "infra/README.md").read_text()
    found = {}
    for stack in STACKS:
        section = re.search(rf"^### .*`{stack}`.*?$(.*?)(?=^### |\Z)", text, re.M | re.S)
        assert section, f"infra/README.md has no section for the {stack} stack"
        found[stack] = set(re.findall(r"^\| `([A-Za-z0-9]+)` \|", section.group(1), re.M))
    return found


@pytest.mark.parametrize("stack", STACKS)
def test_readme_names_every_parameter_and_only_real_ones(stack):
    documented = readme_parameters()[stack]
    declared = set(template(stack)["Parameters"])
    assert documented == declared, (
        f"in the README, not the template: {sorted(documented - declared)}; "
        f"in the template, not the README: {sorted(declared - documented)}"
    )
