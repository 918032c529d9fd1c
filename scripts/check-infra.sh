#!/usr/bin/env bash
# Checks the "Deploy to AWS" stacks in infra/ without AWS: cfn-lint and `sam validate --lint` on
# every template, the buildspec and the README's parameters against the templates, the
# notifier functions against moto's SNS, and the stacks created in the tests' moto with each
# resource's properties read back (infra/tests, pytest). The deployed state machine is validated
# by the engine's `gatehouse-engine` from ${CARGO_TARGET_DIR:-target}/release (the test command
# builds it with the engine's tests; GATEHOUSE_ENGINE_BIN names another).
# The tests marked `dashboard_server` also run Gatehouse itself from the dashboard image's layout
# (stage.sh, the Dockerfile's COPY/ENV/USER/CMD) with the stack's environment against those
# stacks, and take a run through approval in it: they need the aws-mode release server
# (GATEHOUSE_SERVER_BIN, default ${CARGO_TARGET_DIR:-target}/release/gatehouse-aws) and the built
# site (GATEHOUSE_SITE_ROOT, default target/site), and root (the server runs as the image's
# USER). Arguments go to pytest: the test command runs `-m "not dashboard_server"` before the
# site exists and `-m dashboard_server` after.
# Tools: scripts/bootstrap.sh installs them in /opt/gatehouse/infra-tools and /opt/gatehouse/moto.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
tools=/opt/gatehouse/infra-tools
[ -x "$tools/bin/pytest" ] || {
  echo "no $tools/bin/pytest: run scripts/bootstrap.sh" >&2
  exit 1
}
cd "$repo_root"
# The tools' own directory first: the tests call cfn-lint and sam from it. No AWS settings of the
# caller's reach the checks.
exec env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
  -u AWS_ENDPOINT_URL PATH="$tools/bin:$PATH" SAM_CLI_TELEMETRY=0 \
  "$tools/bin/pytest" -q -p no:cacheprovider infra/tests "$@"
