"""Gatehouse itself, run in aws mode from what the stacks made: the image the Dockerfile
describes, started with the environment the dashboard stack gives its Lambda function, against
the moto the stacks were deployed into; then one run of the deployed state machine, started as
the CI/CD build starts it, taken through approval in Gatehouse.

Docker is not needed: stage.sh fills the image's build context and dashboard_image.py reads the
staged Dockerfile (COPY, ENV, USER, CMD) and maps the image's paths onto the staged folder, so
the staged server and site are run as the image would run them.

The server's environment is, in order (a later source wins, as on Lambda, where the function's
variables override the image's ENV):
1. the Dockerfile's ENV;
2. the function's Environment.Variables, read back from moto (lambda GetFunction);
3. what the Lambda runtime provides: AWS_REGION, AWS_DEFAULT_REGION and the role's credentials;
4. what differs here, each for a reason (`differences` in the `gatehouse` fixture):
   - AWS_ENDPOINT_URL: the AWS APIs are moto's, on loopback;
   - GATEHOUSE_COGNITO_JWKS_URL: Gatehouse fetches the pool's signing keys from
     https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json, Cognito's public
     address; moto serves them at <moto>/<pool>/.well-known/jwks.json. The issuer is unchanged:
     moto writes the `iss` AWS writes;
   - GATEHOUSE_BIND: 127.0.0.1:0 (a free loopback port) instead of 0.0.0.0:8080, where the
     Lambda Web Adapter or the load balancer would reach it;
   - AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE empty: a container has no ~/.aws, this
     machine's user might.
   Paths in the image (LEPTOS_SITE_ROOT, GATEHOUSE_DATA_DIR under /tmp) are mapped onto the
   staged folder and a container /tmp of its own. GATEHOUSE_COOKIE_SECURE=always is kept: the
   test's client sends the session cookie back itself (dashboard_image.Browser), so the cookie
   the stack asks for is the one checked, Secure flag included, although the test speaks HTTP.

Needs the aws-mode release server (GATEHOUSE_SERVER_BIN, default
$CARGO_TARGET_DIR/release/gatehouse-aws, which the test command copies there) and the built site
(GATEHOUSE_SITE_ROOT, default target/site); marked `dashboard_server` so that the test command
runs these once both exist. Runs the server as the image's USER, so it needs root (as the test
command runs).
"""

import gzip
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

import dashboard_image
import readme_steps

pytestmark = pytest.mark.dashboard_server

REPO = Path(__file__).resolve().parents[2]
# What the function URL's front end appends to X-Forwarded-For for each visitor: addresses of
# RFC 5737's documentation range, so the audit records show which one acted.
ADMIN_ADDRESS = "203.0.113.7"
APPROVER_ADDRESS = "203.0.113.8"
APPROVAL_STATE = "Send Approve/Reject Email Request"


def server_binary():
    explicit = os.environ.get("GATEHOUSE_SERVER_BIN")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "release" / "gatehouse-aws"


def site_dir():
    return Path(os.environ.get("GATEHOUSE_SITE_ROOT", REPO / "target/site"))


@pytest.fixture(scope="module")
def staged():
    """The image's build context as stage.sh fills it, in a folder the image's USER can read
    (COPY keeps the context's file modes; the owner becomes root)."""
    binary, site = server_binary(), site_dir()
    assert binary.is_file(), (
        f"no {binary}: build the aws-mode server (`cargo leptos build --release --bin-features aws`, "
        "or the test command, which copies it to release/gatehouse-aws) or set GATEHOUSE_SERVER_BIN"
    )
    assert (site / "pkg").is_dir(), f"no site at {site}: build it (`cargo leptos build --release`) or set GATEHOUSE_SITE_ROOT"
    assert os.geteuid() == 0, "runs the server as the image's USER, which needs root (as the test command runs)"
    root = Path(tempfile.mkdtemp(prefix="gatehouse-image-"))
    root.chmod(0o755)
    context = root / "context"
    image = dashboard_image.stage(context, binary, site)
    yield context, image
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def gatehouse(deployed, staged):
    """The staged CMD, running as the image's USER with the container's environment."""
    deployer, stacks = deployed
    context, image = staged
    container_tmp = Path(tempfile.mkdtemp(prefix="gatehouse-container-tmp-"))
    container_tmp.chmod(0o1777)
    layout = dashboard_image.Layout(image, context, container_tmp)
    function = stacks["dashboard"].physical["DashboardFunction"]
    variables = deployer.client("lambda").get_function(FunctionName=function)["Configuration"]["Environment"]["Variables"]
    pool = stacks["dashboard"].outputs["UserPoolId"]
    runtime = {
        "AWS_REGION": deployer.region, "AWS_DEFAULT_REGION": deployer.region,
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing",
    }
    differences = {
        "AWS_ENDPOINT_URL": deployer.endpoint,
        "GATEHOUSE_COGNITO_JWKS_URL": f"{deployer.endpoint}/{pool}/.well-known/jwks.json",
        "GATEHOUSE_BIND": "127.0.0.1:0",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    env = {**image.env, **variables, **runtime, **differences}
    env = {key: layout.map_value(value) for key, value in env.items()}
    argv = [str(layout.host_path(image.cmd[0]) or image.cmd[0])] + image.cmd[1:]
    log = container_tmp.parent / (container_tmp.name + ".log")
    server = dashboard_image.Server(argv, env, image.user, log)
    server.env, server.argv, server.image, server.layout, server.function_env = env, argv, image, layout, variables
    yield server
    server.stop()
    shutil.rmtree(container_tmp, ignore_errors=True)
    log.unlink(missing_ok=True)


def media_type(value):
    return (value or "").split(";", 1)[0].strip().lower()


# Media types by the specifications the browser checks them against: WebAssembly's Web API
# (https://webassembly.github.io/spec/web-api/#streaming-modules: instantiateStreaming refuses
# anything but application/wasm), RFC 9239 (JavaScript: text/javascript), RFC 2318 (text/css).
MEDIA_TYPES = {".wasm": "application/wasm", ".js": "text/javascript", ".css": "text/css"}


def test_the_image_runs_from_the_stacks_environment_and_serves_its_site(gatehouse):
    # The Dockerfile's layout, read from it: its CMD runs the server it copied from the
    # context, and LEPTOS_SITE_ROOT names where it copied the site.
    program = gatehouse.layout.host_path(gatehouse.image.cmd[0])
    assert program is not None and program.read_bytes() == server_binary().read_bytes()
    site = gatehouse.layout.host_path(gatehouse.image.env["LEPTOS_SITE_ROOT"])
    assert site is not None and str(site) == gatehouse.env["LEPTOS_SITE_ROOT"]
    # The stack's settings reached the server as the stack wrote them.
    for key in ("GATEHOUSE_MODE", "GATEHOUSE_STATE_MACHINE_ARN", "GATEHOUSE_COGNITO_USER_POOL_ID",
                "GATEHOUSE_SESSION_TABLE", "GATEHOUSE_AUDIT_TABLE", "GATEHOUSE_COORDINATION_TABLE",
                "GATEHOUSE_COOKIE_SECURE", "GATEHOUSE_TRUSTED_PROXIES"):
        assert gatehouse.env[key] == gatehouse.function_env[key]
    browser = dashboard_image.Browser(gatehouse.base, ADMIN_ADDRESS)

    ready = browser.request("GET", "/readyz")
    assert ready.status == 200, ready.text
    report = ready.json()
    assert report["status"] == "ready"
    assert {c["name"]: c["ok"] for c in report["checks"]} == {"data_dir_writable": True, "site_assets_present": True}
    # The data folder the readiness probe wrote in is the container's /tmp/gatehouse.
    assert (gatehouse.layout.host_path("/tmp/gatehouse")).is_dir()

    # What a first visit loads: the sign-in page and the bundle it names under /pkg.
    page = browser.request("GET", "/signin")
    assert page.status == 200
    assets = sorted(set(re.findall(r"/pkg/[A-Za-z0-9_.-]+\.(?:wasm|js|css)", page.text)))
    assert any(a.endswith(".wasm") for a in assets), f"the page names no wasm: {assets}"
    for asset in assets:
        local = site / asset.lstrip("/")
        plain = browser.request("GET", asset)
        assert plain.status == 200, asset
        assert media_type(plain.header("content-type")) == MEDIA_TYPES[Path(asset).suffix], asset
        assert plain.body == local.read_bytes(), asset
        # Compressed by the server itself (the reason no CDN is needed, infra/dashboard/README.md).
        packed = browser.request("GET", asset, headers={"Accept-Encoding": "gzip"})
        assert packed.header("content-encoding") == "gzip", asset
        assert gzip.decompress(packed.body) == local.read_bytes(), asset
        assert len(packed.body) < len(plain.body), asset

    # GATEHOUSE_LOG_FORMAT=json and GATEHOUSE_MODE=aws: the server's start is logged as JSON
    # events a log collector can read, in aws mode, on the stack's state machine.
    events = [json.loads(line) for line in gatehouse.log_lines() if line.startswith("{")]
    starting = [e for e in events if e.get("message") == "starting"]
    assert [e["mode"] for e in starting] == ["aws"]
    machine = [e for e in events if e.get("message") == "pipeline on AWS Step Functions"]
    assert [e["state_machine"] for e in machine] == [gatehouse.function_env["GATEHOUSE_STATE_MACHINE_ARN"]]


def sign_in_first_time(gatehouse, username, temporary, chosen, address):
    """The first sign-in of a user created as infra/README.md says: Gatehouse's form, then its
    new-password form (Cognito's NEW_PASSWORD_REQUIRED); a browser with a signed-in session."""
    browser = dashboard_image.Browser(gatehouse.base, address)
    first = browser.request("POST", "/auth/signin", form={"username": username, "password": temporary, "next": "/approvals"})
    assert first.status == 303, first.text
    assert first.header("location").startswith("/signin/new-password"), first.header("location")
    chosen_answer = browser.request("POST", "/auth/new-password",
                                    form={"new_password": chosen, "confirm": chosen, "next": "/approvals"})
    assert chosen_answer.status == 303, chosen_answer.text
    assert chosen_answer.header("location") == "/approvals"
    cookie = [c for c in browser.set_cookies if c.startswith("gatehouse_session=")][-1]
    attributes = {a.strip().split("=", 1)[0].lower() for a in cookie.split(";")[1:]}
    # GATEHOUSE_COOKIE_SECURE=always from the stack, and the cookie's fixed attributes.
    assert {"secure", "httponly"} <= attributes, cookie
    assert "samesite=lax" in cookie.lower(), cookie
    return browser


def wait_for(what, check, timeout=120, every=0.5):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def test_a_run_started_like_the_build_starts_it_is_approved_in_gatehouse(deployed, gatehouse):
    deployer, stacks = deployed
    pipeline, dashboard = stacks["pipeline"].outputs, stacks["dashboard"].outputs
    s3, idp = deployer.client("s3"), deployer.client("cognito-idp")
    sfn, ddb, sagemaker = deployer.client("stepfunctions"), deployer.client("dynamodb"), deployer.client("sagemaker")
    bucket, pool = pipeline["ModelBucketName"], dashboard["UserPoolId"]
    readme_steps.upload_iris(s3, bucket)

    # infra/README.md's first admin, named after a git e-mail; an approver made the same way.
    readme_steps.create_user(idp, pool, "rui@example.com", "Temporary-Pass-1", "admin")
    readme_steps.create_user(idp, pool, "eva@example.com", "Temporary-Pass-2", "approver")
    admin = sign_in_first_time(gatehouse, "rui@example.com", "Temporary-Pass-1", "Chosen-Password-1", ADMIN_ADDRESS)
    # A mistyped password first: counted in the stack's coordination table, where every
    # instance sees it, against the address the proxy named.
    typo = dashboard_image.Browser(gatehouse.base, APPROVER_ADDRESS).request(
        "POST", "/auth/signin", form={"username": "eva@example.com", "password": "Temporary-Pass-X"})
    assert typo.status == 303 and typo.header("location").startswith("/signin?error=credentials"), typo.header("location")
    counted = ddb.get_item(TableName=dashboard["CoordinationTableName"], ConsistentRead=True,
                           Key={"id": {"S": f"signin-address#{APPROVER_ADDRESS}"}}).get("Item")
    assert counted and counted["failures"] == {"N": "1"}, counted
    approver = sign_in_first_time(gatehouse, "eva@example.com", "Temporary-Pass-2", "Chosen-Password-2", APPROVER_ADDRESS)

    # What infra/cicd/buildspec.yml does after pushing the image: the commit ID
    # <sha8>-<MM-DD-YYYY-HH-MM-SS>, the image tagged with it, the author's e-mail in lower case.
    commit_id = "9c3e51d7-" + datetime.now(timezone.utc).strftime("%m-%d-%Y-%H-%M-%S")
    image_uri = f"{pipeline['ModelImageRepositoryUri']}:{commit_id}"
    started = sfn.start_execution(
        stateMachineArn=pipeline["StateMachineArn"], name=commit_id,
        input=json.dumps({"commitID": commit_id, "imageUri": image_uri, "author": "rui@example.com"}),
    )
    execution_arn = started["executionArn"]

    def pending():
        answer = admin.call("list_approvals")
        assert answer.status == 200, answer.text
        return [a for a in answer.json()["approvals"] if a["execution"]["name"] == commit_id]

    [waiting] = wait_for("Gatehouse to list the run as waiting for approval", pending)
    assert waiting["state"] == APPROVAL_STATE
    assert waiting["execution"]["arn"] == execution_arn
    assert waiting["transform_output"] == f"s3://{bucket}/transform_output/{commit_id}"
    # The approval state's TimeoutSeconds (86400) in infra/statemachine/mlops.asl.json.
    assert waiting["deadline"] - waiting["waiting_since"] == 86400 * 1000
    page = admin.request("GET", f"/approvals/{commit_id}")
    assert page.status == 200 and commit_id in page.text

    # AllowSelfApproval=false reached the server: the commit's author may not approve it.
    refused = admin.call("decide", id=commit_id, verdict="approve", comment="")
    assert refused.status == 403, refused.text
    assert "someone else must approve it" in refused.text
    decided = approver.call("decide", id=commit_id, verdict="approve", comment="figures look right")
    assert decided.status == 200, decided.text
    assert decided.json() == {"Decided": {"verdict": "approved"}}

    # The run goes on: the approval task succeeded with the decision, the approved model was
    # deployed to the stack's endpoint and the endpoint notifier ran (moto answers a function
    # with its own input), so the execution succeeds.
    def ended():
        status = sfn.describe_execution(executionArn=execution_arn)["status"]
        return status if status != "RUNNING" else None

    status = wait_for("the run to end", ended)
    events = sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]
    assert status == "SUCCEEDED", [e["type"] for e in events][-10:]
    # The approval is the pipeline's one lambda:invoke.waitForTaskToken task.
    [approval] = [e["taskSucceededEventDetails"] for e in events if e["type"] == "TaskSucceeded"
                  and e["taskSucceededEventDetails"]["resource"] == "invoke.waitForTaskToken"]
    assert approval["resourceType"] == "lambda"
    decision = json.loads(approval["output"])
    assert (decision["decision"], decision["by"], decision["comment"]) == ("approved", "eva@example.com", "figures look right")
    exited = [e["stateExitedEventDetails"]["name"] for e in events if e["type"].endswith("StateExited")]
    assert exited.index(APPROVAL_STATE) < exited.index("Sagemaker Create Endpoint Config")
    assert "Send Email With API Endpoint" in exited
    endpoint = sagemaker.describe_endpoint(EndpointName=pipeline["EndpointName"])
    assert (endpoint["EndpointStatus"], endpoint["EndpointConfigName"]) == ("InService", commit_id)

    # The audit table holds both decision requests, from the addresses the proxy named.
    records = ddb.query(
        TableName=dashboard["AuditTableName"], KeyConditionExpression="#c = :records",
        ExpressionAttributeNames={"#c": "chain"}, ExpressionAttributeValues={":records": {"S": "records"}},
    )["Items"]
    decisions = [{k: v.get("S", v.get("N")) for k, v in r.items()} for r in records
                 if r["action"]["S"] == "approval.decide" and r["target"]["S"] == commit_id]
    assert [(d["actor"], d["outcome"], d["source_ip"]) for d in decisions] == [
        ("rui@example.com", "refused", ADMIN_ADDRESS), ("eva@example.com", "success", APPROVER_ADDRESS)]
    details = json.loads(decisions[1]["details"])
    assert (details["decision"], details["comment"]) == ("approved", "figures look right")
    # The accuracy the approver was shown, against an independent count: the test data's labels
    # (column 1) beside the predictions the batch transform wrote, read from the bucket.
    labels = [row.split(",")[0] for row in (readme_steps.IRIS / "test.csv").read_text().split()]
    output = s3.get_object(Bucket=bucket, Key=f"transform_output/{commit_id}/test.csv.out")["Body"].read().decode().split()
    assert len(output) == len(labels) == 30
    assert details["accuracy"] == pytest.approx(sum(p == l for p, l in zip(output, labels)) / len(labels))
    # The chain verifies with the same binary and environment (`gatehouse audit verify`).
    verify = subprocess.run([gatehouse.argv[0], "audit", "verify"], env=gatehouse.env, capture_output=True, text=True,
                            user=int(gatehouse.image.user.split(":")[0]),
                            group=int(gatehouse.image.user.split(":")[-1]), extra_groups=[], timeout=60)
    assert verify.returncode == 0, verify.stdout + verify.stderr
