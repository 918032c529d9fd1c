"""Runs moto (an AWS-API server) on loopback for Gatehouse's tests.

Usage: python launcher.py   (with the venv's python; scripts/bootstrap.sh installs moto 5.2.5
into /opt/gatehouse/moto). Binds 127.0.0.1 on a free port, prints `PORT <n>` on stdout, then
serves until stdin closes (the test process went away) or SIGTERM/SIGINT arrives.

moto's configuration, set before the server accepts anything:
  {"stepfunctions": {"execute_state_machine": true}, "lambda": {"use_docker": false}}

Extensions. This file is the one place where the tests' moto differs from moto 5.2.5; each
change exists because a test needs AWS behaviour that moto lacks, and stays minimal:

1. SECRET_HASH on USER_PASSWORD_AUTH and on the NEW_PASSWORD_REQUIRED answer. moto 5.2.5
   checks SECRET_HASH only for USER_SRP_AUTH, REFRESH_TOKEN(_AUTH) and the MFA answers
   (cognitoidp/models.py, initiate_auth / respond_to_auth_challenge); for USER_PASSWORD_AUTH
   and NEW_PASSWORD_REQUIRED it ignores it, so a provider that forgot it, or computed it
   wrongly, would pass. AWS refuses both with NotAuthorizedException when the app client has
   a secret and the hash is missing or wrong; so does this moto now.

2. RevokeToken, which moto 5.2.5 does not implement. Gatehouse's sign-out revokes the
   session's refresh token (ending that sign-in only, as AWS does); this revokes the refresh
   token and the access tokens issued from it (same origin_jti), and checks the client
   secret when the app client has one.

3. The Step Functions interpreter's own calls reach this server. moto's interpreter calls the
   services a task integrates (Lambda, SageMaker, ...) through boto3 at
   localhost:$MOTO_PORT, default 5000 (stepfunctions/parser/asl/utils/boto_client.py); this
   server binds a free port, so MOTO_PORT is set to it once bound.

4. A SageMaker service integration for Step Functions. moto 5.2.5 lists "sagemaker" as
   unsupported (state_task_service_factory.py): request-response calls are forwarded, but
   `.sync` fails. The pipeline (infra/statemachine/mlops.asl.json) uses
   createTrainingJob.sync, createModel, createTransformJob.sync, createEndpointConfig,
   createEndpoint and updateEndpoint. A refused call fails the task with the error AWS names:
   `SageMaker.<Code>Exception` for SageMaker's modeled errors (ResourceLimitExceeded,
   ResourceInUse, ResourceNotFound), `SageMaker.AmazonSageMakerException` for the rest
   (ValidationException among them). This integration sends the request to moto's SageMaker and, for `.sync`,
   returns the Describe* answer of the job once it has completed, with dates as epoch
   milliseconds, as Step Functions does (so `$.ModelArtifacts.S3ModelArtifacts`,
   `$.result.TransformOutput.S3OutputPath`, ... resolve). moto's jobs complete at once and do
   nothing; a transform job here also writes `<input object>.out` under its S3OutputPath in
   moto's S3, one label per CSV row of the input, by a fixed rule on the iris features (after
   the `$[1:]` input filter drops the label column): petal length < 2.5 -> setosa, else petal
   width < 1.75 -> versicolor, else virginica. Not a model: a deterministic stand-in so the
   output is real and readable. What mirrors AWS is the object's name, `<input object>.out`,
   and one output line per input line (the definition's SplitType Line and AssembleWith
   Line), as SageMaker's batch transform writes them
   (https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform.html); the labels are
   the stand-in's, and the tests do not check them on moto.

5. SendTaskFailure's cause. moto 5.2.5 drops it (stepfunctions/responses.py passes only
   `error`), so a Fail state with `CausePath` (the pipeline's "Rejected") loses the
   rejection's JSON. The cause is now passed on.

6. GetExecutionHistory pages. moto 5.2.5 returns the whole history and ignores maxResults,
   nextToken and reverseOrder; AWS returns at most maxResults (default 100, up to 1000)
   events and a nextToken. Paged here the same way (the token is an opaque offset), so a
   client that forgets to follow nextToken fails against moto as it would against AWS.

7. Endpoints take time, and an update can fail and roll back. moto 5.2.5 creates an endpoint
   InService at once, has no UpdateEndpoint, and loads no model. AWS: CreateEndpoint answers
   with the endpoint `Creating`, then `InService` (or `Failed` with a `FailureReason` when a
   model cannot be loaded, e.g. its model data cannot be downloaded); UpdateEndpoint is refused
   unless the endpoint is InService ("Cannot update in-progress endpoint"), else the endpoint
   is `Updating` while the old config keeps serving (DescribeEndpoint's `EndpointConfigName`
   is still the old one; the new one is in `PendingDeploymentSummary.EndpointConfigName`,
   which AWS returns only while a new config is being deployed), then `InService` on the new
   config — or, when the new config's model cannot be loaded, SageMaker rolls back:
   `InService` on the old config with the `FailureReason`. Here both settle ENDPOINT_SETTLE_SECONDS after the call,
   and "cannot be loaded" means the model's ModelDataUrl names no object in this server's S3
   (a test breaks a model by deleting its artifact). So that a trained model has an artifact
   to load, the training `.sync` of extension 4 writes a placeholder object where
   ModelArtifacts.S3ModelArtifacts points (moto's jobs write nothing).

8. InvokeEndpoint answers. moto 5.2.5's runtime answers any endpoint name, existing or not,
   with the static body "body". Here an endpoint that does not exist is refused
   (ValidationError "Endpoint NAME of account ACCOUNT not found.", as AWS answers), and a
   text/csv body gets one label per row by the rule of extension 4 (rows of the four
   features, no label column), with the `x-Amzn-Invoked-Production-Variant` header naming
   the endpoint's first variant (the labels are the stand-in's, see extension 4; tests compare
   Gatehouse's answer with this one, not with the rule). Rows the rule cannot read (not four numbers) are answered
   as AWS answers a container's 4xx: HTTP 424 `ModelError` with `OriginalStatusCode` 400 and
   the container's `OriginalMessage`. An endpoint still Creating answers HTTP 429
   `ModelNotReadyException`, which AWS documents for a model that is still being deployed or
   loaded (serverless and multi-model endpoints); what AWS answers for a Creating endpoint
   is not documented, and the local engine answers the same, so a caller retries.

9. Fault injection (a test hook, not AWS behaviour): `POST /_gatehouse/faults` with
   `{"operation": "ListExecutions", "error": "ThrottlingException", "status": 400,
   "count": 5, "match": "<text the request body must contain>"}` makes the next `count`
   requests of that JSON-protocol operation (X-Amz-Target `*.ListExecutions`), or of the
   SageMaker runtime's `InvokeEndpoint` (REST: `POST /endpoints/NAME/invocations`), whose path
   or body contains `match` answer that error instead of reaching moto. `match` (say, a state
   machine ARN) keeps one test's faults away from the other tests sharing this server.
   `DELETE /_gatehouse/faults` clears them all.

10. Deploying the pipeline (a test hook): `POST /_gatehouse/deploy-pipeline` with
   `{"name": "<state machine name>"}` creates (once) the S3 bucket with the iris train/test
   data, the SageMaker and Step Functions IAM roles and the two Lambda functions the
   definition names, then the state machine from infra/statemachine/mlops.asl.json with
   moto's substitutions (see PIPELINE_SUBSTITUTIONS; the stable endpoint `${EndpointName}` is
   named after the state machine, so tests sharing this server never deploy to one another's
   endpoint), and answers `{"stateMachineArn"}`.
   Lambda runs without Docker here: a function answers with its own input, which is what
   the approval step (`lambda:invoke.waitForTaskToken`, then SendTaskSuccess/Failure) and
   the final notification step need; checked, not extended.

11. StopExecution stops at once. In AWS the execution is ABORTED when StopExecution answers,
   with the error and cause given, and its task tokens are spent. moto 5.2.5's interpreter
   only flags its program as stopped (stepfunctions/parser/backend/execution.py): an
   execution waiting for a callback (the approval) stays RUNNING for as long as the wait
   lasts (24 hours here); a stop racing a running step can end FAILED with a States.Runtime
   error instead (Environment.set_error overrides the stop); a stop right after the start
   fails with AttributeError (no worker environment yet); error and cause are dropped. Here
   the stop waits for the worker's environment, flags the stop, wakes every callback wait,
   and marks the execution ABORTED with its stop date, error and cause; a later error can no
   longer turn the stop into a failure, and the history records nothing after the stop but
   ExecutionAborted (the woken wait would otherwise add a TaskTimedOut AWS never writes).

12. Counting calls (a test hook, not AWS behaviour), the counting proxy the benchmarks read:
   every request an AWS SDK for Rust makes (its User-Agent names `aws-sdk-rust`; the Step
   Functions interpreter's own boto3 calls into this server are not Gatehouse's and are not
   counted) is counted per `service:Operation` — the service from the signature's credential
   scope (from the X-Amz-Target prefix for unsigned calls), the operation from X-Amz-Target, or `METHOD` for the REST protocols (S3, the
   SageMaker runtime). `GET /_gatehouse/calls` answers `{"calls": {...}}`;
   `DELETE /_gatehouse/calls` starts again from zero.

13. The AWS SDK integration's error names for SageMaker. Step Functions names an error of
   `arn:aws:states:::aws-sdk:sagemaker:*` `SageMaker.<Exception>`, and an error SageMaker's
   SDK does not model (ValidationException, e.g. DescribeEndpoint's "Could not find
   endpoint") `SageMaker.SageMakerException`: the pipeline catches that name to learn that its
   endpoint does not exist yet. moto 5.2.5 knows the spelling of only DynamoDB's and Step
   Functions' service names and falls back to the lower-case `sagemaker.sagemakerException`;
   SageMaker's spelling is added to its table.

14. GetResources (the Resource Groups Tagging API) names an endpoint config by its ARN.
   AWS answers each tagged resource's ARN as a string
   (`arn:aws:sagemaker:REGION:ACCOUNT:endpoint-config/NAME`); moto 5.2.5 keeps an endpoint
   config's `arn` as a one-element tuple (sagemaker/models.py, FakeEndpointConfig) and answers
   its text, `"('arn:…',)"`. The tagged resources SageMaker lists for GetResources carry the
   ARN itself here. Checked, not extended: GetResources filters by tag key and value and by
   `sagemaker:<type>`, and pages by ResourcesPerPage, as AWS does.

15. A task token takes one outcome. In AWS, SendTaskSuccess/SendTaskFailure on a token whose
   task is already closed (a decision sent before) fails with TaskTimedOut ("The task token
   has either expired or the task associated with the token has already been closed"), so of
   two decisions sent at once by two Gatehouse instances exactly one goes through. moto 5.2.5
   keeps the callback in its pool after the first outcome and takes a second one, overwriting
   the first while the execution has not moved on yet (parser/asl/eval/callback/callback.py,
   CallbackPoolManager.notify): a reject and an approve racing on two servers both answered
   200. Here the first outcome closes the callback (under a lock) and a later one answers
   TaskTimedOut. SendTaskSuccess/SendTaskFailure also look for the token only in executions
   whose interpreter has started: moto's SendTaskFailure walked every execution of the
   account and failed with a 500 on one without a worker (another test's, stopped early), and
   both answered a closed callback with TaskDoesNotExist (they test the wrapper exception's
   type instead of the consumer error inside it).

16. DynamoDB requests are taken one at a time. DynamoDB serves concurrent requests; moto
   5.2.5's backend is not safe for them: TransactWriteItems deep-copies the tables it touches
   (dynamodb/models/__init__.py, transact_write_items) while another request's thread changes
   them, and fails with a 500 ("dictionary changed size during iteration"). Two Gatehouse
   servers appending to one audit table at once met it. Here one lock serialises the
   DynamoDB requests; what each request does is moto's own.

17. A bucket policy's aws:SecureTransport condition. Requests to AWS's endpoints are HTTPS (the
   SDKs' and the CLI's default); this server stands in for them over plain HTTP on loopback.
   moto 5.2.5 does not evaluate the `Bool` operator and counts a condition it cannot evaluate
   as met (iam/policy_conditions.py), so a statement "Deny when aws:SecureTransport is false"
   (the pipeline stack's model bucket, infra/pipeline/template.yaml) refused every object
   request, uploads and Gatehouse's evidence reads alike. A bucket policy's statements are now
   read as for a request over TLS: one whose `Bool` condition wants aws:SecureTransport false
   does not apply (AWS: a statement whose condition is not met does not apply), and the
   condition is dropped from one that wants it true. Other conditions stay moto's.

Checked and not extended (moto 5.2.5 already behaves as AWS does for what the tests use):
- GetUser refuses a disabled user (NotAuthorizedException) and a deleted one
  (UserNotFoundException); InitiateAuth refuses a disabled user (NotAuthorizedException).
- GlobalSignOut revokes the user's refresh tokens and access tokens.
Known gaps left alone (no test depends on them): a refresh
token of a disabled user still refreshes; unknown challenge sessions answer
ResourceNotFoundException where AWS answers NotAuthorizedException.
"""

import base64
import dataclasses
import io
import json
import logging
import os
import signal
import threading
import time
import zipfile

from moto.cognitoidp.exceptions import NotAuthorizedError
from moto.cognitoidp.models import CognitoIdpBackend
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.responses import EmptyResult
from moto.cognitoidp.utils import check_secret_hash
from moto.moto_api._internal import moto_api_backend
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}


# Extension 1: SECRET_HASH where AWS requires it and moto 5.2.5 does not check it.
def _require_secret_hash(backend, client_id, username, secret_hash):
    for pool in backend.user_pools.values():
        client = pool.clients.get(client_id)
        if client is not None:
            if client.generate_secret and not check_secret_hash(
                client.secret, client.id, username or "", secret_hash
            ):
                raise NotAuthorizedError(
                    f"Unable to verify secret hash for client {client_id}"
                )
            return


_initiate_auth = CognitoIdpBackend.initiate_auth
_respond_to_auth_challenge = CognitoIdpBackend.respond_to_auth_challenge


def initiate_auth(self, client_id, auth_flow, auth_parameters):
    if auth_flow == "USER_PASSWORD_AUTH":
        _require_secret_hash(
            self,
            client_id,
            auth_parameters.get("USERNAME"),
            auth_parameters.get("SECRET_HASH"),
        )
    return _initiate_auth(self, client_id, auth_flow, auth_parameters)


def respond_to_auth_challenge(
    self, session, client_id, challenge_name, challenge_responses
):
    if challenge_name == "NEW_PASSWORD_REQUIRED":
        _require_secret_hash(
            self,
            client_id,
            challenge_responses.get("USERNAME"),
            challenge_responses.get("SECRET_HASH"),
        )
    return _respond_to_auth_challenge(
        self, session, client_id, challenge_name, challenge_responses
    )


CognitoIdpBackend.initiate_auth = initiate_auth
CognitoIdpBackend.respond_to_auth_challenge = respond_to_auth_challenge


# Extension 2: RevokeToken.
def _origin_jti(jwt):
    try:
        payload = jwt.split(".")[1]
        payload += "=" * (-len(payload) % 4)
        return json.loads(base64.urlsafe_b64decode(payload)).get("origin_jti")
    except (IndexError, ValueError):
        return None


def revoke_token(self):
    token = self._get_param("Token")
    client_id = self._get_param("ClientId")
    client_secret = self._get_param("ClientSecret")
    for pool in self.backend.user_pools.values():
        client = pool.clients.get(client_id)
        if client is None:
            continue
        if client.generate_secret and client_secret != client.secret:
            raise NotAuthorizedError("Unable to verify secret for client " + client_id)
        entry = pool.refresh_tokens.get(token)
        if entry:
            origin_jti = entry[2]
            pool.refresh_tokens[token] = None
            for access_token in list(pool.access_tokens):
                if _origin_jti(access_token) == origin_jti:
                    pool.access_tokens.pop(access_token)
        # AWS answers success for a token that is already revoked or unknown.
        return EmptyResult()
    raise NotAuthorizedError("Invalid client id " + str(client_id))


CognitoIdpResponse.revoke_token = revoke_token


# Extension 3 is in main(): MOTO_PORT is set once the server is bound.

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ACCOUNT = "123456789012"
REGION = "us-east-1"
PIPELINE_BUCKET = "gatehouse-models"
PIPELINE_SUBSTITUTIONS = {
    "S3ModelBucket": PIPELINE_BUCKET,
    "SagemakerRoleArn": f"arn:aws:iam::{ACCOUNT}:role/gatehouse-sagemaker",
    "CreateAndEmailLinkFnName": "gatehouse-approval-notifier",
    "UpdateSagemakerEndpointAPI": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:gatehouse-endpoint-notifier",
}


def _self_client(service):
    """A boto3 client for this very server (the hooks and the SageMaker integration)."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        endpoint_url=f"http://127.0.0.1:{os.environ['MOTO_PORT']}",
        config=Config(
            s3={"addressing_style": "path"},
            retries={"max_attempts": 0, "total_max_attempts": 1},
        ),
    )


def _millis(value):
    """Describe* answers as Step Functions passes them on: dates as epoch milliseconds."""
    import datetime

    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        return {k: _millis(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list):
        return [_millis(v) for v in value]
    return value


def _iris_label(features):
    """Extension 4's fixed rule on [sepal length, sepal width, petal length, petal width]."""
    if len(features) != 4:
        raise ValueError(f"a row has {len(features)} values; the model takes 4 features")
    petal_length, petal_width = float(features[2]), float(features[3])
    if petal_length < 2.5:
        return "setosa"
    if petal_width < 1.75:
        return "versicolor"
    return "virginica"


def _label_csv(text, drop_first_column):
    labels = []
    for line in text.splitlines():
        fields = [f.strip() for f in line.split(",")]
        if not line.strip():
            continue
        if drop_first_column:
            fields = fields[1:]
        labels.append(_iris_label(fields))
    return "\n".join(labels) + "\n"


def _split_s3(uri):
    bucket, _, key = uri[len("s3://") :].partition("/")
    return bucket, key


# Extension 4: the SageMaker service integration.
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (  # noqa: E402
    state_task_service_factory as _factory,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.resource import (  # noqa: E402
    ResourceCondition,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback import (  # noqa: E402
    StateTaskServiceCallback,
)
from moto.stepfunctions.parser.api import HistoryEventType, TaskFailedEventDetails  # noqa: E402
from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import (  # noqa: E402
    CustomErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (  # noqa: E402
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails  # noqa: E402

# action -> (Describe* call, name parameter, status field), for `.sync`.
_SAGEMAKER_ACTIONS = {
    "createtrainingjob": ("describe_training_job", "TrainingJobName", "TrainingJobStatus"),
    "createtransformjob": ("describe_transform_job", "TransformJobName", "TransformJobStatus"),
    "createmodel": None,
    "createendpointconfig": None,
    "createendpoint": None,
    "updateendpoint": None,
}


# The optimised SageMaker integration names errors as AWS's Java SDK classes do: the modeled
# ones by name (what the seed article's Retry catches, `SageMaker.ResourceLimitExceededException`),
# everything else - ValidationException included - as `SageMaker.AmazonSageMakerException`.
_SAGEMAKER_MODELED_ERRORS = {"ResourceLimitExceeded", "ResourceInUse", "ResourceNotFound"}


class StateTaskServiceSageMaker(StateTaskServiceCallback):
    def __init__(self):
        super().__init__(supported_integration_patterns={ResourceCondition.Sync})

    def _get_supported_parameters(self):
        action = self.resource.api_action.lower()
        return set() if action in _SAGEMAKER_ACTIONS else None

    def _from_error(self, env, ex):
        from botocore.exceptions import ClientError

        if isinstance(ex, ClientError):
            code = ex.response["Error"]["Code"]
            if code in _SAGEMAKER_MODELED_ERRORS:
                error_name = f"SageMaker.{code}Exception"
            else:
                error_name = "SageMaker.AmazonSageMakerException"
            return FailureEvent(
                env=env,
                error_name=CustomErrorName(error_name),
                event_type=HistoryEventType.TaskFailed,
                event_details=EventDetails(
                    taskFailedEventDetails=TaskFailedEventDetails(
                        error=error_name,
                        cause=ex.response["Error"]["Message"],
                        resource=self._get_sfn_resource(),
                        resourceType=self._get_sfn_resource_type(),
                    )
                ),
            )
        return super()._from_error(env=env, ex=ex)

    def _eval_service_task(
        self, env, resource_runtime_part, normalised_parameters, state_credentials
    ):
        action = self._get_boto_service_action()
        response = getattr(_self_client("sagemaker"), action)(**normalised_parameters)
        env.stack.append(_millis(response))

    def _eval_integration_pattern(
        self, env, resource_runtime_part, normalised_parameters, state_credentials
    ):
        # `.sync`: moto's jobs are complete as soon as they exist; wait for the terminal
        # status all the same, then answer with the Describe* of the job.
        env.stack.pop()
        describe, name_key, status_key = _SAGEMAKER_ACTIONS[
            self.resource.api_action.lower()
        ]
        client = _self_client("sagemaker")
        name = normalised_parameters[name_key]
        while True:
            job = getattr(client, describe)(**{name_key: name})
            status = job[status_key]
            if status in ("Completed", "Failed", "Stopped"):
                break
            if not env.is_running():
                return
            time.sleep(0.2)
        if status != "Completed":
            error = "States.TaskFailed"
            raise FailureEventException(
                FailureEvent(
                    env=env,
                    error_name=CustomErrorName(error),
                    event_type=HistoryEventType.TaskFailed,
                    event_details=EventDetails(
                        taskFailedEventDetails=TaskFailedEventDetails(
                            error=error,
                            cause=json.dumps(_millis(job)),
                            resource=self._get_sfn_resource(),
                            resourceType=self._get_sfn_resource_type(),
                        )
                    ),
                )
            )
        if describe == "describe_transform_job":
            _write_transform_output(job)
        if describe == "describe_training_job":
            _write_model_artifact(job)
        env.stack.append(_millis(job))


def _write_model_artifact(job):
    """Extension 7: a placeholder where the trained model's artifact would be, so it loads."""
    bucket, key = _split_s3(job["ModelArtifacts"]["S3ModelArtifacts"])
    _self_client("s3").put_object(Bucket=bucket, Key=key, Body=b"placeholder model")


def _write_transform_output(job):
    s3 = _self_client("s3")
    source = job["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"]
    drop_first = job.get("DataProcessing", {}).get("InputFilter") == "$[1:]"
    bucket, prefix = _split_s3(source)
    out_bucket, out_prefix = _split_s3(job["TransformOutput"]["S3OutputPath"])
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    for item in listed.get("Contents", []):
        body = s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
        name = item["Key"].rsplit("/", 1)[-1]
        s3.put_object(
            Bucket=out_bucket,
            Key=f"{out_prefix.rstrip('/')}/{name}.out",
            Body=_label_csv(body, drop_first).encode(),
        )


_state_task_service_for = _factory.state_task_service_for


def state_task_service_for(service_name):
    if service_name == "sagemaker":
        return StateTaskServiceSageMaker()
    return _state_task_service_for(service_name)


_factory.state_task_service_for = state_task_service_for
# The task factory imported the name before this module ran.
from moto.stepfunctions.parser.asl.component.state.exec.state_task import (  # noqa: E402
    state_task_factory as _task_factory,
)

_task_factory.state_task_service_for = state_task_service_for


# Extension 13: the SDK integration's error names for SageMaker.
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (  # noqa: E402
    state_task_service_aws_sdk as _aws_sdk,
)

_aws_sdk._SERVICE_ERROR_NAMES["sagemaker"] = "SageMaker"


# Extension 5: SendTaskFailure passes its cause on.
from moto.stepfunctions.responses import StepFunctionResponse  # noqa: E402


def send_task_failure(self):
    self.stepfunction_backend.send_task_failure(
        self._get_param("taskToken"),
        error=self._get_param("error"),
        cause=self._get_param("cause"),
    )
    return EmptyResult()


StepFunctionResponse.send_task_failure = send_task_failure


# Extension 6: GetExecutionHistory pages.
from moto.core.responses import ActionResult  # noqa: E402
from moto.stepfunctions.exceptions import InvalidToken  # noqa: E402


def get_execution_history(self):
    history = self.stepfunction_backend.get_execution_history(
        self._get_param("executionArn")
    )
    events = list(history["events"])
    if self._get_param("reverseOrder"):
        events.reverse()
    max_results = self._get_int_param("maxResults") or 100
    token = self._get_param("nextToken")
    start = 0
    if token:
        try:
            start = int(base64.b64decode(token).decode().removeprefix("history:"))
        except (ValueError, UnicodeDecodeError):
            raise InvalidToken("the nextToken is not one this API gave out")
    page = events[start : start + max(1, min(max_results, 1000))]
    answer = {"events": page}
    end = start + len(page)
    if end < len(events):
        answer["nextToken"] = base64.b64encode(f"history:{end}".encode()).decode()
    return ActionResult(answer)


StepFunctionResponse.get_execution_history = get_execution_history


# Extension 7: endpoints take time, and an update can fail and roll back.
from moto.sagemaker.exceptions import ValidationError as SageMakerValidationError  # noqa: E402
from moto.sagemaker.models import FakeEndpoint, SageMakerModelBackend  # noqa: E402
from moto.sagemaker.responses import SageMakerResponse  # noqa: E402
from moto.core.utils import utcnow  # noqa: E402

ENDPOINT_SETTLE_SECONDS = 1.0


def _model_load_failure(backend, config_name):
    """SageMaker's FailureReason when a model of the config cannot be loaded, else None."""
    s3 = _self_client("s3")
    config = backend.describe_endpoint_config(config_name)
    for variant in config["ProductionVariants"]:
        model = backend.describe_model(variant["ModelName"])
        url = (getattr(model, "primary_container", None) or {}).get("ModelDataUrl")
        if not url:
            continue
        bucket, key = _split_s3(url)
        try:
            s3.head_object(Bucket=bucket, Key=key)
        except Exception:
            return (
                f'Failed to download model data for container "container_1" from URL: '
                f'"{url}". Please ensure that there is an object located at the URL and '
                "that the role passed to CreateModel has permissions to download the object."
            )
    return None


def _settle_later(backend, endpoint_name, config_name, creating):
    def settle():
        endpoint = backend.endpoints.get(endpoint_name)
        if endpoint is None:
            return
        try:
            failure = _model_load_failure(backend, config_name)
            config = backend.describe_endpoint_config(config_name)
        except Exception as e:  # the config or a model was deleted meanwhile
            failure, config = str(e), None
        if failure is None:
            endpoint.endpoint_config_name = config_name
            endpoint.production_variants = endpoint._process_production_variants(
                config["ProductionVariants"]
            )
            endpoint.endpoint_status = "InService"
            endpoint.failure_reason = None
        elif creating:
            endpoint.endpoint_status = "Failed"
            endpoint.failure_reason = failure
        else:
            # Rolled back: the old config keeps serving, and says why.
            endpoint.endpoint_status = "InService"
            endpoint.failure_reason = failure
        endpoint.pending_deployment_summary = None
        endpoint.last_modified_time = utcnow()

    timer = threading.Timer(ENDPOINT_SETTLE_SECONDS, settle)
    timer.daemon = True
    timer.start()


_create_endpoint = SageMakerModelBackend.create_endpoint


def backend_create_endpoint(self, endpoint_name, endpoint_config_name, tags):
    if endpoint_name in self.endpoints:
        arn = FakeEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
        raise SageMakerValidationError(message=f'Cannot create already existing endpoint "{arn}".')
    endpoint = _create_endpoint(self, endpoint_name, endpoint_config_name, tags)
    endpoint.endpoint_status = "Creating"
    _settle_later(self, endpoint_name, endpoint_config_name, creating=True)
    return endpoint


def backend_update_endpoint(self, endpoint_name, endpoint_config_name):
    endpoint = self.endpoints.get(endpoint_name)
    arn = FakeEndpoint.arn_formatter(endpoint_name, self.account_id, self.region_name)
    if endpoint is None:
        raise SageMakerValidationError(message=f"Could not find endpoint '{arn}'.")
    self.describe_endpoint_config(endpoint_config_name)
    if endpoint.endpoint_status != "InService":
        raise SageMakerValidationError(message=f'Cannot update in-progress endpoint "{arn}".')
    endpoint.endpoint_status = "Updating"
    endpoint.failure_reason = None
    endpoint.last_modified_time = utcnow()
    # Serialised by moto as DescribeEndpoint's PendingDeploymentSummary; None leaves it out.
    endpoint.pending_deployment_summary = {
        "EndpointConfigName": endpoint_config_name,
        "StartTime": endpoint.last_modified_time,
    }
    _settle_later(self, endpoint_name, endpoint_config_name, creating=False)
    return endpoint


def update_endpoint(self):
    endpoint = self.sagemaker_backend.update_endpoint(
        self._get_param("EndpointName"), self._get_param("EndpointConfigName")
    )
    return ActionResult({"EndpointArn": endpoint.arn})


SageMakerModelBackend.create_endpoint = backend_create_endpoint
SageMakerModelBackend.update_endpoint = backend_update_endpoint
SageMakerResponse.update_endpoint = update_endpoint


# Extension 8: InvokeEndpoint answers.
from moto.sagemaker.models import sagemaker_backends  # noqa: E402
from moto.core.exceptions import JsonRESTError  # noqa: E402
from moto.sagemakerruntime.responses import SageMakerRuntimeResponse  # noqa: E402

_invoke_endpoint = SageMakerRuntimeResponse.invoke_endpoint


def invoke_endpoint(self):
    name = self.path.split("/")[2] if self.path.startswith("/endpoints/") else None
    backend = sagemaker_backends[self.current_account][self.region]
    if name not in backend.endpoints:
        raise JsonRESTError(
            "ValidationError",
            f"Endpoint {name} of account {self.current_account} not found.",
        )
    endpoint = backend.endpoints[name]
    if endpoint.endpoint_status == "Creating":
        raise _RuntimeError(
            429,
            "ModelNotReadyException",
            {"Message": f"Endpoint {name} is still Creating: its model is being deployed."},
        )
    variant = (endpoint.production_variants or [{}])[0].get("VariantName", "AllTraffic")
    if "csv" in (self.headers.get("Content-Type") or ""):
        text = self.body.decode() if isinstance(self.body, bytes) else self.body
        try:
            labels = _label_csv(text, drop_first_column=False)
        except (IndexError, ValueError) as error:
            reason = f"The model could not read the CSV rows: {error}."
            raise _RuntimeError(
                424,
                "ModelError",
                {
                    "Message": f"Received client error (400) from primary with message \"{reason}\".",
                    "OriginalStatusCode": 400,
                    "OriginalMessage": reason,
                },
            )
        return 200, {"Content-Type": "text/csv", "x-Amzn-Invoked-Production-Variant": variant}, labels
    return _invoke_endpoint(self)


class _RuntimeError(JsonRESTError):
    """An error of the SageMaker runtime (restJson1): its HTTP status, and the error's fields
    beside its type in the body."""

    def __init__(self, status, code, fields):
        super().__init__(code, fields.get("Message", ""))
        self.code = status
        self.description = json.dumps(dict(fields, __type=code))


SageMakerRuntimeResponse.invoke_endpoint = invoke_endpoint


# Extension 14: GetResources names an endpoint config by its ARN, not a tuple's text.
_iter_tagged_resources = SageMakerModelBackend.iter_tagged_resources


def iter_tagged_resources(self):
    for resource in _iter_tagged_resources(self):
        if isinstance(resource.arn, tuple) and len(resource.arn) == 1:
            resource = dataclasses.replace(resource, arn=resource.arn[0])
        yield resource


SageMakerModelBackend.iter_tagged_resources = iter_tagged_resources


# Extension 11: StopExecution stops at once.
from moto.stepfunctions.parser.api import ExecutionStatus as ParserExecutionStatus  # noqa: E402
from moto.stepfunctions.parser.asl.eval.environment import Environment as ParserEnvironment  # noqa: E402
from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped  # noqa: E402
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager  # noqa: E402
from moto.stepfunctions.parser.backend import execution as _parser_execution  # noqa: E402


def stop_now(self, stop_date, error, cause):
    worker = self.exec_worker
    deadline = time.monotonic() + 2
    while worker is not None and worker.env is None and time.monotonic() < deadline:
        time.sleep(0.01)
    if worker is not None and worker.env is not None:
        env = worker.env
        env.event_manager.gatehouse_stopped = True
        env.set_stop(stop_date=stop_date, cause=cause, error=error)
        for endpoint in list(env.callback_pool_manager._pool.values()):
            endpoint.interrupt_all()
    if self.exec_status == ParserExecutionStatus.RUNNING:
        self.exec_status = ParserExecutionStatus.ABORTED
        self.stop_date = stop_date
        self.error = error or None
        self.cause = cause or None


_reflect_execution_status = _parser_execution.BaseExecutionWorkerCommunication._reflect_execution_status


def reflect_execution_status(self):
    if self.execution.exec_status == ParserExecutionStatus.ABORTED:
        return
    _reflect_execution_status(self)


_set_error = ParserEnvironment.set_error


def set_error(self, error):
    if isinstance(self._program_state, ProgramStopped):
        return
    _set_error(self, error)


def stop_execution(self):
    arn = self._get_param("executionArn")
    execution = self.stepfunction_backend.describe_execution(arn)
    if execution.status == "RUNNING":
        execution.stop(
            stop_date=utcnow(),
            error=self._get_param("error"),
            cause=self._get_param("cause"),
        )
    return ActionResult({"stopDate": execution.stop_date})


_add_event = EventManager.add_event


def add_event(self, context, event_type, *args, **kwargs):
    if getattr(self, "gatehouse_stopped", False) and event_type != HistoryEventType.ExecutionAborted:
        return 0
    return _add_event(self, context, event_type, *args, **kwargs)


EventManager.add_event = add_event
_parser_execution.Execution.stop = stop_now
_parser_execution.BaseExecutionWorkerCommunication._reflect_execution_status = reflect_execution_status
ParserEnvironment.set_error = set_error
StepFunctionResponse.stop_execution = stop_execution


# Extension 15: a task token takes one outcome.
from moto.core.exceptions import AWSError  # noqa: E402
from moto.stepfunctions.parser.api import SendTaskFailureOutput, SendTaskSuccessOutput  # noqa: E402
from moto.stepfunctions.parser.asl.eval.callback.callback import (  # noqa: E402
    CallbackConsumerTimeout,
    CallbackNotifyConsumerError,
    CallbackOutcomeFailure,
    CallbackOutcomeSuccess,
    CallbackPoolManager,
)
from moto.stepfunctions.parser.models import StepFunctionsParserBackend  # noqa: E402

_notify_lock = threading.Lock()
_callback_notify = CallbackPoolManager.notify


class _CallbackClosed(Exception):
    pass


class TaskTimedOut(AWSError):
    TYPE = "TaskTimedOut"
    STATUS = 400


class TaskDoesNotExist(AWSError):
    TYPE = "TaskDoesNotExist"
    STATUS = 400


def notify_once(self, callback_id, outcome):
    with _notify_lock:
        endpoint = self._pool.get(callback_id, None)
        if endpoint is not None and getattr(endpoint, "gatehouse_closed", False):
            raise _CallbackClosed()
        notified = _callback_notify(self, callback_id, outcome)
        if notified:
            endpoint.gatehouse_closed = True
        return notified


def _send_task_outcome(backend, task_token, outcome):
    for execution in backend._get_executions():
        env = getattr(getattr(execution, "exec_worker", None), "env", None)
        if env is None:
            continue
        try:
            if env.callback_pool_manager.notify(callback_id=task_token, outcome=outcome):
                return
        except _CallbackClosed:
            raise TaskTimedOut("The task associated with the token has already been closed.")
        except CallbackNotifyConsumerError as error:
            if isinstance(error.callback_consumer_error, CallbackConsumerTimeout):
                raise TaskTimedOut("The task token has expired.")
            raise TaskDoesNotExist("The task associated with the token does not exist.")
    raise InvalidToken("The task token is not one this account issued.")


def parser_send_task_success(self, task_token, outcome):
    _send_task_outcome(self, task_token, CallbackOutcomeSuccess(callback_id=task_token, output=outcome))
    return SendTaskSuccessOutput()


def parser_send_task_failure(self, task_token, error=None, cause=None):
    _send_task_outcome(
        self,
        task_token,
        CallbackOutcomeFailure(callback_id=task_token, error=error, cause=cause),
    )
    return SendTaskFailureOutput()


CallbackPoolManager.notify = notify_once
StepFunctionsParserBackend.send_task_success = parser_send_task_success
StepFunctionsParserBackend.send_task_failure = parser_send_task_failure


# Extension 16: DynamoDB requests one at a time.
from moto.dynamodb.responses import DynamoHandler  # noqa: E402

_dynamodb_lock = threading.Lock()
_dynamodb_call_action = DynamoHandler.call_action


def dynamodb_call_action(self):
    with _dynamodb_lock:
        return _dynamodb_call_action(self)


DynamoHandler.call_action = dynamodb_call_action


# Extension 17: a bucket policy's aws:SecureTransport condition, read as over TLS.
from moto.iam.access_control import IAMPolicy, PermissionResult  # noqa: E402
from moto.s3.models import FakeBucket  # noqa: E402

_bucket_get_permission = FakeBucket.get_permission


def _statement_over_tls(statement):
    """The statement as it reads for a request over HTTPS: None when its aws:SecureTransport
    condition excludes such a request, else the statement without that condition."""
    conditions = statement.get("Condition") or {}
    kept = {}
    for operator, values in conditions.items():
        values = dict(values)
        transport = [v for k, v in list(values.items()) if k.lower() == "aws:securetransport"]
        values = {k: v for k, v in values.items() if k.lower() != "aws:securetransport"}
        if transport:
            if operator != "Bool":
                return statement  # left to moto as it was
            wanted = transport[0] if isinstance(transport[0], list) else [transport[0]]
            if "true" not in [str(v).lower() for v in wanted]:
                return None
        if values:
            kept[operator] = values
    statement = {k: v for k, v in statement.items() if k != "Condition"}
    if kept:
        statement["Condition"] = kept
    return statement


def bucket_get_permission(self, action, resource):
    if self.policy is None:
        return _bucket_get_permission(self, action, resource)
    policy = json.loads(self.policy)
    statements = policy["Statement"] if isinstance(policy["Statement"], list) else [policy["Statement"]]
    applying = [s for s in map(_statement_over_tls, statements) if s is not None]
    if not applying:
        return PermissionResult.NEUTRAL
    return IAMPolicy(json.dumps(dict(policy, Statement=applying))).is_action_permitted(action, resource)


FakeBucket.get_permission = bucket_get_permission


# Extensions 9 and 10: the test hooks, in front of moto's own dispatcher.
_faults = []
_faults_lock = threading.Lock()
_deploy_lock = threading.Lock()


def _take_fault(operation, body):
    with _faults_lock:
        for fault in _faults:
            if fault["operation"] == operation and fault.get("match", "") in body:
                fault["count"] -= 1
                if fault["count"] <= 0:
                    _faults.remove(fault)
                return fault
    return None


def _deploy_pipeline(name):
    with _deploy_lock:
        s3 = _self_client("s3")
        existing = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
        if PIPELINE_BUCKET not in existing:
            s3.create_bucket(Bucket=PIPELINE_BUCKET)
            for split in ("train", "test"):
                path = os.path.join(REPO_ROOT, "engine", "data", "iris", f"{split}.csv")
                with open(path, "rb") as f:
                    s3.put_object(Bucket=PIPELINE_BUCKET, Key=f"iris/{split}.csv", Body=f.read())
        iam = _self_client("iam")
        trust = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": ["states.amazonaws.com", "sagemaker.amazonaws.com", "lambda.amazonaws.com"]},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        )
        roles = {r["RoleName"]: r["Arn"] for r in iam.list_roles()["Roles"]}
        for role in ("gatehouse-sagemaker", "gatehouse-states"):
            if role not in roles:
                roles[role] = iam.create_role(RoleName=role, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
        lam = _self_client("lambda")
        functions = {f["FunctionName"] for f in lam.list_functions()["Functions"]}
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as z:
            z.writestr("index.py", "def handler(event, context):\n    return event\n")
        for function in ("gatehouse-approval-notifier", "gatehouse-endpoint-notifier"):
            if function not in functions:
                lam.create_function(
                    FunctionName=function,
                    Runtime="python3.12",
                    Role=roles["gatehouse-sagemaker"],
                    Handler="index.handler",
                    Code={"ZipFile": code.getvalue()},
                )
        with open(os.path.join(REPO_ROOT, "infra", "statemachine", "mlops.asl.json")) as f:
            definition = f.read()
        for key, value in {**PIPELINE_SUBSTITUTIONS, "EndpointName": name}.items():
            definition = definition.replace("${" + key + "}", value)
        sfn = _self_client("stepfunctions")
        arn = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"
        try:
            sfn.describe_state_machine(stateMachineArn=arn)
        except sfn.exceptions.StateMachineDoesNotExist:
            arn = sfn.create_state_machine(
                name=name, definition=definition, roleArn=roles["gatehouse-states"]
            )["stateMachineArn"]
        return arn


_calls = {}
_calls_lock = threading.Lock()


def _count_call(environ):
    if "aws-sdk-rust" not in environ.get("HTTP_USER_AGENT", ""):
        return
    # AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ...
    auth = environ.get("HTTP_AUTHORIZATION", "")
    scope = auth.split("Credential=", 1)[-1].split(",", 1)[0].split("/")
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    # Calls made with a user's token (Cognito's GetUser) are not signed: name the service
    # by the target's prefix (AWSCognitoIdentityProviderService).
    service = scope[3] if len(scope) > 3 else (target.split(".", 1)[0] or "unknown")
    operation = target.rsplit(".", 1)[-1] if target else environ.get("REQUEST_METHOD", "")
    key = f"{service}:{operation}"
    with _calls_lock:
        _calls[key] = _calls.get(key, 0) + 1


def _json_response(start_response, status, value):
    body = json.dumps(value).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class GatehouseHooks:
    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "")
        if path.startswith("/_gatehouse/"):
            length = int(environ.get("CONTENT_LENGTH") or 0)
            request = json.loads(environ["wsgi.input"].read(length) or b"{}") if length else {}
            if path == "/_gatehouse/faults" and method == "POST":
                with _faults_lock:
                    _faults.append(
                        {
                            "operation": request["operation"],
                            "error": request["error"],
                            "status": int(request.get("status", 400)),
                            "count": int(request.get("count", 1)),
                            "match": request.get("match", ""),
                        }
                    )
                return _json_response(start_response, "200 OK", {})
            if path == "/_gatehouse/faults" and method == "DELETE":
                with _faults_lock:
                    _faults.clear()
                return _json_response(start_response, "200 OK", {})
            if path == "/_gatehouse/calls" and method == "GET":
                with _calls_lock:
                    return _json_response(start_response, "200 OK", {"calls": dict(_calls)})
            if path == "/_gatehouse/calls" and method == "DELETE":
                with _calls_lock:
                    _calls.clear()
                return _json_response(start_response, "200 OK", {})
            if path == "/_gatehouse/deploy-pipeline" and method == "POST":
                try:
                    arn = _deploy_pipeline(request["name"])
                except Exception as error:  # the test reads this, not a stack trace
                    logging.exception("deploy-pipeline failed")
                    return _json_response(start_response, "500 Internal Server Error", {"error": repr(error)})
                return _json_response(start_response, "200 OK", {"stateMachineArn": arn})
            return _json_response(start_response, "404 Not Found", {"error": "no such hook"})
        _count_call(environ)
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        operation = target.rsplit(".", 1)[-1] if target else _rest_operation(environ)
        if operation and _faults:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            raw = environ["wsgi.input"].read(length) if length else b""
            environ["wsgi.input"] = io.BytesIO(raw)
            seen = environ.get("PATH_INFO", "") + "\n" + raw.decode(errors="replace")
            fault = _take_fault(operation, seen)
            if fault is not None:
                body = json.dumps(
                    {"__type": fault["error"], "message": f"{fault['error']} (injected by the test)"}
                ).encode()
                start_response(
                    f"{fault['status']} Fault",
                    [
                        ("Content-Type", "application/x-amz-json-1.0"),
                        ("Content-Length", str(len(body))),
                        ("x-amzn-RequestId", "injected-fault"),
                    ],
                )
                return [body]
        return self.app(environ, start_response)



def _rest_operation(environ):
    """The operation of a REST-protocol request that faults can be injected into."""
    path = environ.get("PATH_INFO", "")
    if (
        environ.get("REQUEST_METHOD") == "POST"
        and path.startswith("/endpoints/")
        and path.endswith("/invocations")
    ):
        return "InvokeEndpoint"
    return ""


def main():
    moto_api_backend.set_config(MOTO_CONFIG)
    # One line per request on stderr would bury a failing test's output; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    # The Step Functions interpreter logs every error a state raises, caught or not: each
    # rejected approval (caught by the pipeline's Catch) would print a page of it.
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    app = GatehouseHooks(DomainDispatcherApplication(create_backend_app))
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler
    )
    # Extension 3: the Step Functions interpreter calls this server, not port 5000.
    os.environ["MOTO_PORT"] = str(server.server_port)
    stop = threading.Event()

    def on_signal(_signum, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def watch_stdin():
        # End of file: the process that started us closed the pipe or exited. os.read, not
        # sys.stdin: a daemon thread blocked in a buffered read aborts interpreter shutdown.
        while os.read(0, 4096):
            pass
        stop.set()

    threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"PORT {server.server_port}", flush=True)
    stop.wait()
    server.shutdown()


if __name__ == "__main__":
    main()
