"""The stacks deployed into moto (deploy_moto.py): each resource that moto's CloudFormation
creates exists with the properties the templates set, the state machine Step Functions would
run is the definition file with the stack's substitutions and is valid for Gatehouse's engine,
and the resources moto skips were made through their APIs. Expected values come from the
templates' own text and from the AWS resources' real identifiers, read back from the services.
"""

import ast
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def client(deployed, name):
    return deployed[0].client(name)


def policy_statements(iam, role_name):
    statements = {}
    for name in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):
            # moto 5.2.5 answers a role policy made by CloudFormation as Python's repr of it.
            try:
                document = json.loads(document)
            except json.JSONDecodeError:
                document = ast.literal_eval(document)
        for statement in document["Statement"]:
            statements[statement.get("Sid", name)] = statement
    return statements


def as_list(value):
    return value if isinstance(value, list) else [value]


def test_every_stack_is_complete_and_every_skipped_resource_was_made(deployed):
    _, stacks = deployed
    counts = {}
    for key, stack in stacks.items():
        for lid, resource in stack.summary()["resources"].items():
            counts[resource["how"]] = counts.get(resource["how"], 0) + 1
            # moto gives a Lambda permission no physical id; its statements are checked below.
            if resource["how"] != "not-created" and resource["type"] != "AWS::Lambda::Permission":
                assert resource["physical_id"], f"{key}.{lid} has no physical id"
    print(f"resources by how they were made: {counts}")
    assert stacks["cicd"].how["SourceConnection"] == "not-created"  # condition false here
    assert stacks["dashboard"].how["DashboardService"] == "not-created"  # Hosting=Lambda


def test_model_bucket_is_encrypted_and_refuses_plain_http(deployed):
    pipeline = deployed[1]["pipeline"]
    s3 = client(deployed, "s3")
    bucket = pipeline.outputs["ModelBucketName"]
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"][0]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert set(deny["Resource"]) == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}


def test_model_image_repository_keeps_tags_immutable(deployed):
    pipeline = deployed[1]["pipeline"]
    repo = client(deployed, "ecr").describe_repositories(repositoryNames=["it-model"])["repositories"][0]
    assert repo["imageTagMutability"] == "IMMUTABLE"
    assert repo["repositoryUri"] == pipeline.outputs["ModelImageRepositoryUri"]


def test_the_state_machine_is_the_definition_with_the_stacks_substitutions(deployed):
    pipeline = deployed[1]["pipeline"]
    out = pipeline.outputs
    sfn = client(deployed, "stepfunctions")
    machine = sfn.describe_state_machine(stateMachineArn=out["StateMachineArn"])
    lam = client(deployed, "lambda")
    approval_name = lam.get_function(FunctionName=out["ApprovalNotifierFunctionArn"])["Configuration"]["FunctionName"]
    expected = (REPO / "infra/statemachine/mlops.asl.json").read_text()
    for name, value in {
        "S3ModelBucket": out["ModelBucketName"],
        "SagemakerRoleArn": out["SageMakerRoleArn"],
        "CreateAndEmailLinkFnName": approval_name,
        "UpdateSagemakerEndpointAPI": out["EndpointNotifierFunctionArn"],
        "EndpointName": out["EndpointName"],
    }.items():
        expected = expected.replace("${" + name + "}", value)
    assert machine["definition"] == expected
    assert machine["roleArn"] == out["StepFunctionsRoleArn"]
    assert "${" not in machine["definition"]


def engine_binary():
    explicit = os.environ.get("GATEHOUSE_ENGINE_BIN")
    if explicit:
        return Path(explicit)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "release" / "gatehouse-engine"


def test_the_deployed_definition_is_valid_for_gatehouses_engine(deployed, tmp_path):
    binary = engine_binary()
    assert binary.is_file(), (
        f"no {binary}: build it with `cargo build --release -p engine --bin gatehouse-engine` "
        "(the test command builds it with the engine's tests) or set GATEHOUSE_ENGINE_BIN"
    )
    out = deployed[1]["pipeline"].outputs
    definition = client(deployed, "stepfunctions").describe_state_machine(stateMachineArn=out["StateMachineArn"])["definition"]
    path = tmp_path / "deployed.asl.json"
    path.write_text(definition)
    done = subprocess.run([str(binary), "validate", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report == {"valid": True, "unresolvedSubstitutions": []}


def test_step_functions_role_is_limited_to_the_pipelines_resources(deployed):
    out = deployed[1]["pipeline"].outputs
    iam = client(deployed, "iam")
    role = iam.get_role(RoleName=out["StepFunctionsRoleArn"].rsplit("/", 1)[-1])["Role"]
    trust = role["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "states.amazonaws.com"}
    assert trust["Condition"]["ArnLike"]["aws:SourceArn"] == out["StateMachineArn"]
    s = policy_statements(iam, role["RoleName"])
    assert as_list(s["PassSageMakerRole"]["Resource"]) == [out["SageMakerRoleArn"]]
    assert s["PassSageMakerRole"]["Condition"] == {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
    fns = [out["ApprovalNotifierFunctionArn"], out["EndpointNotifierFunctionArn"]]
    assert set(as_list(s["Notifiers"]["Resource"])) == set(fns + [f + ":*" for f in fns])
    assert as_list(s["TheStableEndpoint"]["Resource"]) == [
        f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{out['EndpointName']}"
    ]
    # The .sync integrations' managed rules, named as the Step Functions documentation names them.
    assert {r.rsplit("/", 1)[-1] for r in as_list(s["SyncEventRules"]["Resource"])} == {
        "StepFunctionsGetEventsForSageMakerTrainingJobsRule",
        "StepFunctionsGetEventsForSageMakerTransformJobsRule",
    }


def test_sagemaker_role_reads_the_bucket_and_pulls_the_one_repository(deployed):
    out = deployed[1]["pipeline"].outputs
    iam = client(deployed, "iam")
    name = out["SageMakerRoleArn"].rsplit("/", 1)[-1]
    trust = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]["Statement"][0]
    assert trust["Principal"] == {"Service": "sagemaker.amazonaws.com"}
    s = policy_statements(iam, name)
    bucket = out["ModelBucketName"]
    assert as_list(s["ModelBucketObjects"]["Resource"]) == [f"arn:aws:s3:::{bucket}/*"]
    assert as_list(s["ModelBucketList"]["Resource"]) == [f"arn:aws:s3:::{bucket}"]
    assert as_list(s["ModelImagePull"]["Resource"]) == [out["ModelImageRepositoryArn"]]


def test_notifier_functions_are_configured_as_set(deployed):
    out = deployed[1]["pipeline"].outputs
    lam = client(deployed, "lambda")
    iam = client(deployed, "iam")
    for arn in (out["ApprovalNotifierFunctionArn"], out["EndpointNotifierFunctionArn"]):
        config = lam.get_function(FunctionName=arn)["Configuration"]
        assert (config["Runtime"], config["Handler"], config["MemorySize"], config["Timeout"]) == (
            "python3.13", "app.handler", 128, 30)
        variables = config["Environment"]["Variables"]
        assert variables["TOPIC_ARN"] == out["NotificationTopicArn"]
        assert variables["DASHBOARD_URL"] == "https://gatehouse.example.com"
        statements = policy_statements(iam, config["Role"].rsplit("/", 1)[-1]).values()
        publish = [st for st in statements if "sns:Publish" in as_list(st["Action"])]
        assert [as_list(st["Resource"]) for st in publish] == [[out["NotificationTopicArn"]]]
    logs = client(deployed, "logs").describe_log_groups(logGroupNamePrefix="/aws/lambda/it-pipeline-")["logGroups"]
    assert sorted(g["retentionInDays"] for g in logs) == [30, 30]


def test_topic_is_encrypted_and_mails_the_given_address(deployed):
    out = deployed[1]["pipeline"].outputs
    sns = client(deployed, "sns")
    attributes = sns.get_topic_attributes(TopicArn=out["NotificationTopicArn"])["Attributes"]
    assert attributes["KmsMasterKeyId"] == "alias/aws/sns"
    subs = sns.list_subscriptions_by_topic(TopicArn=out["NotificationTopicArn"])["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("email", "ops@example.com")]


def test_build_project_pushes_to_the_repository_and_starts_the_state_machine(deployed):
    pipeline, cicd = deployed[1]["pipeline"].outputs, deployed[1]["cicd"]
    project = client(deployed, "codebuild").batch_get_projects(names=[cicd.outputs["BuildProjectName"]])["projects"][0]
    variables = {v["name"]: v["value"] for v in project["environment"]["environmentVariables"]}
    assert variables == {
        "STATE_MACHINE_ARN": pipeline["StateMachineArn"],
        "REPOSITORY_URI": pipeline["ModelImageRepositoryUri"],
        "CONTAINER_DIRECTORY": "container",
        "COMMIT_AUTHOR_FIELD": "email",
    }
    assert project["environment"]["privilegedMode"] is True
    assert project["source"]["buildspec"] == (REPO / "infra/cicd/buildspec.yml").read_text()
    iam = client(deployed, "iam")
    s = policy_statements(iam, project["serviceRole"].rsplit("/", 1)[-1])
    assert as_list(s["StartPipelineRun"]["Resource"]) == [pipeline["StateMachineArn"]]
    assert as_list(s["PushModelImage"]["Resource"]) == [pipeline["ModelImageRepositoryArn"]]
    assert as_list(s["CloneThroughConnection"]["Resource"]) == [cicd.parameters["ConnectionArn"]]


def test_code_pipeline_clones_the_branch_through_the_connection(deployed):
    cicd = deployed[1]["cicd"]
    pipeline = client(deployed, "codepipeline").get_pipeline(name=cicd.outputs["PipelineName"])["pipeline"]
    source = pipeline["stages"][0]["actions"][0]
    assert source["actionTypeId"]["provider"] == "CodeStarSourceConnection"
    assert source["configuration"]["ConnectionArn"] == cicd.parameters["ConnectionArn"]
    assert source["configuration"]["FullRepositoryId"] == "example-org/iris-model"
    assert source["configuration"]["BranchName"] == "main"
    assert source["configuration"]["OutputArtifactFormat"] == "CODEBUILD_CLONE_REF"
    build = pipeline["stages"][1]["actions"][0]
    assert build["configuration"]["ProjectName"] == cicd.outputs["BuildProjectName"]


def test_tables_have_the_key_schemas_the_server_uses(deployed):
    dashboard = deployed[1]["dashboard"].outputs
    ddb = client(deployed, "dynamodb")
    sessions = ddb.describe_table(TableName=dashboard["SessionsTableName"])["Table"]
    # server/src/sessions/dynamo_store.rs: partition key `id` (S).
    assert sessions["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert sessions["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    audit = ddb.describe_table(TableName=dashboard["AuditTableName"])["Table"]
    # server/src/audit/dynamo.rs: partition key `chain` (S), sort key `seq` (N).
    assert audit["KeySchema"] == [
        {"AttributeName": "chain", "KeyType": "HASH"}, {"AttributeName": "seq", "KeyType": "RANGE"}]
    assert sorted((a["AttributeName"], a["AttributeType"]) for a in audit["AttributeDefinitions"]) == [
        ("chain", "S"), ("seq", "N")]
    coordination = ddb.describe_table(TableName=dashboard["CoordinationTableName"])["Table"]
    # server/src/shared_state/dynamo.rs: partition key `id` (S).
    assert coordination["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert coordination["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    for table in (sessions, audit, coordination):
        assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"


def test_user_pool_has_the_four_role_groups_and_a_client_the_server_can_use(deployed):
    dashboard = deployed[1]["dashboard"].outputs
    idp = client(deployed, "cognito-idp")
    pool = dashboard["UserPoolId"]
    groups = {g["GroupName"] for g in idp.list_groups(UserPoolId=pool)["Groups"]}
    # app/src/models/identity.rs: Role::as_str.
    assert groups == {"viewer", "approver", "operator", "admin"}
    app = idp.describe_user_pool_client(UserPoolId=pool, ClientId=dashboard["UserPoolClientId"])["UserPoolClient"]
    assert set(app["ExplicitAuthFlows"]) == {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert "ClientSecret" not in app
    assert idp.describe_user_pool(UserPoolId=pool)["UserPool"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True


def test_a_first_admin_can_sign_in_with_the_readmes_commands(deployed):
    """infra/README.md's first-admin steps, as API calls: create the user with a temporary
    password, add it to `admin`; the first sign-in (USER_PASSWORD_AUTH) is asked for a new
    password (NEW_PASSWORD_REQUIRED), as Gatehouse's sign-in handles; the access token then
    carries `admin` in cognito:groups."""
    import base64

    import readme_steps

    dashboard = deployed[1]["dashboard"].outputs
    idp = client(deployed, "cognito-idp")
    pool, app = dashboard["UserPoolId"], dashboard["UserPoolClientId"]
    readme_steps.create_user(idp, pool, "ana", "Temporary-Pass-1", "admin")
    first = idp.initiate_auth(
        ClientId=app, AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "ana", "PASSWORD": "Temporary-Pass-1"},
    )
    assert first["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    tokens = idp.respond_to_auth_challenge(
        ClientId=app, ChallengeName="NEW_PASSWORD_REQUIRED", Session=first["Session"],
        ChallengeResponses={"USERNAME": "ana", "NEW_PASSWORD": "Correct-Horse-9x"},
    )["AuthenticationResult"]
    payload = tokens["AccessToken"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert claims["cognito:groups"] == ["admin"]


def test_dashboard_role_reaches_only_the_pipeline_and_its_tables(deployed):
    pipeline, dashboard = deployed[1]["pipeline"].outputs, deployed[1]["dashboard"].outputs
    iam = client(deployed, "iam")
    s = policy_statements(iam, dashboard["DashboardRoleArn"].rsplit("/", 1)[-1])
    ddb = client(deployed, "dynamodb")
    sessions_arn = ddb.describe_table(TableName=dashboard["SessionsTableName"])["Table"]["TableArn"]
    audit_arn = ddb.describe_table(TableName=dashboard["AuditTableName"])["Table"]["TableArn"]
    assert as_list(s["ThePipeline"]["Resource"]) == [pipeline["StateMachineArn"]]
    assert as_list(s["ItsExecutions"]["Resource"]) == [
        f"arn:aws:states:us-east-1:123456789012:execution:{pipeline['StateMachineName']}:*"]
    assert as_list(s["Sessions"]["Resource"]) == [sessions_arn]
    coordination_arn = ddb.describe_table(TableName=dashboard["CoordinationTableName"])["Table"]["TableArn"]
    assert as_list(s["Coordination"]["Resource"]) == [coordination_arn]
    assert as_list(s["AuditAppendOnly"]["Resource"]) == [audit_arn]
    # Append-only: nothing in the role may update or delete an audit record.
    for statement in s.values():
        if audit_arn in as_list(statement["Resource"]):
            assert not {"dynamodb:UpdateItem", "dynamodb:DeleteItem"} & set(as_list(statement["Action"]))
    assert as_list(s["Evidence"]["Resource"]) == [f"arn:aws:s3:::{pipeline['ModelBucketName']}/*"]
    endpoints = as_list(s["ChangeAndInvokePipelineEndpoints"]["Resource"])
    assert f"arn:aws:sagemaker:us-east-1:123456789012:endpoint/{pipeline['EndpointName']}" in endpoints
    assert all(e.startswith("arn:aws:sagemaker:us-east-1:123456789012:endpoint/") for e in endpoints)


def test_dashboard_function_runs_the_image_in_aws_mode_behind_a_streaming_url(deployed):
    pipeline, stack = deployed[1]["pipeline"].outputs, deployed[1]["dashboard"]
    lam = client(deployed, "lambda")
    name = stack.physical["DashboardFunction"]
    config = lam.get_function(FunctionName=name)["Configuration"]
    assert config["Role"] == stack.outputs["DashboardRoleArn"]
    assert (config["MemorySize"], config["Timeout"]) == (512, 900)
    v = config["Environment"]["Variables"]
    assert v["GATEHOUSE_MODE"] == "aws"
    assert v["GATEHOUSE_STATE_MACHINE_ARN"] == pipeline["StateMachineArn"]
    assert v["GATEHOUSE_COGNITO_USER_POOL_ID"] == stack.outputs["UserPoolId"]
    assert v["GATEHOUSE_COGNITO_CLIENT_ID"] == stack.outputs["UserPoolClientId"]
    assert v["GATEHOUSE_SESSION_TABLE"] == stack.outputs["SessionsTableName"]
    assert v["GATEHOUSE_AUDIT_TABLE"] == stack.outputs["AuditTableName"]
    assert v["GATEHOUSE_COORDINATION_TABLE"] == stack.outputs["CoordinationTableName"]
    assert v["GATEHOUSE_TRUSTED_PROXIES"] == "1"
    assert v["AWS_LWA_INVOKE_MODE"] == "response_stream"
    url = lam.get_function_url_config(FunctionName=name)
    assert (url["AuthType"], url["InvokeMode"]) == ("NONE", "RESPONSE_STREAM")
    assert stack.outputs["DashboardUrl"] == url["FunctionUrl"].rstrip("/")
    policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    actions = {st["Action"] for st in policy["Statement"]}
    assert {"lambda:InvokeFunctionUrl", "lambda:InvokeFunction"} <= actions


def test_ecs_hosting_makes_the_cluster_and_roles_instead_of_the_function(deployed):
    stack = deployed[1]["dashboard-ecs"]
    assert stack.how["DashboardFunction"] == "not-created"
    cluster = client(deployed, "ecs").describe_clusters(clusters=[stack.physical["EcsCluster"]])["clusters"][0]
    assert cluster["clusterName"] == "it-dashboard-ecs"
    iam = client(deployed, "iam")
    infra = iam.get_role(RoleName=stack.physical["EcsInfrastructureRole"])["Role"]
    assert infra["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ecs.amazonaws.com"}
    execution = iam.get_role(RoleName=stack.physical["EcsExecutionRole"])["Role"]
    assert execution["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
