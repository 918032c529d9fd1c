"""Deploys Gatehouse's SAM stacks into a moto server and prints what was deployed as JSON.

    /opt/gatehouse/infra-tools/bin/python infra/tests/deploy_moto.py --endpoint http://127.0.0.1:PORT

Run it against testsupport/moto/launcher.py's server (the tests' moto, with its Step Functions
and SageMaker extensions). It does what `sam deploy` does, in order, for the pipeline, CI/CD and
dashboard stacks: `sam package` (uploads the state-machine definition and the functions' code to
moto's S3), aws-sam-translator's transform, CreateStack in moto's CloudFormation. The dashboard
is deployed twice, once per `Hosting` value. It prints one JSON document on stdout:

    {"region", "endpoint", "stacks": {"<key>": {"name", "parameters", "outputs",
     "resources": {"<logical id>": {"type", "physical_id", "how"}}}},
     "skipped_types": [...], "dropped_properties": [...]}

`how` is `cloudformation` (moto's CloudFormation made it), `api` (moto's CloudFormation skipped it
and this script made it through the service's API, see below), or `not-created` (moto has no API
for the type either, or the resource's condition is false). A later test (Rust or Python) can
run this script and read the outputs: the state machine ARN, the Cognito pool and client, the
tables, the bucket.

What moto 5.2.5's CloudFormation skips while reporting CREATE_COMPLETE, and how it is made here:
- AWS::S3::BucketPolicy                    -> PutBucketPolicy
- AWS::SNS::Subscription                   -> Subscribe
- AWS::Cognito::UserPool, UserPoolClient, UserPoolGroup -> CreateUserPool, CreateUserPoolClient,
  CreateGroup; the function's environment naming them is then updated (UpdateFunctionConfiguration)
- AWS::Lambda::Url                         -> CreateFunctionUrlConfig
- AWS::CodeBuild::Project                  -> CreateProject
- AWS::CodePipeline::Pipeline              -> CreatePipeline
- AWS::StepFunctions::StateMachine with DefinitionS3Location (what `sam package` writes): moto
  reads only DefinitionString and ignores DefinitionSubstitutions, and its resource lists the
  ARN while the service has no such machine -> CreateStateMachine with the packaged definition
  and the template's substitutions applied
- AWS::CodeConnections::Connection, AWS::ECS::ExpressGatewayService: moto has no API for them;
  not created (the tests pass an existing ConnectionArn, so the connection's condition is false).
Properties moto's CloudFormation drops from types it does create are listed in DROPPED below and
in the JSON; the tests do not check them.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import boto3
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
TOOLS_BIN = Path(sys.executable).parent

SKIPPED_TYPES = [
    "AWS::S3::BucketPolicy",
    "AWS::SNS::Subscription",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    "AWS::Lambda::Url",
    "AWS::CodeBuild::Project",
    "AWS::CodePipeline::Pipeline",
    "AWS::CodeConnections::Connection",
    "AWS::ECS::ExpressGatewayService",
]
NO_MOTO_API = {"AWS::CodeConnections::Connection", "AWS::ECS::ExpressGatewayService"}

# Set in the templates, silently not applied by moto 5.2.5's CloudFormation (seen through the
# services' APIs after CreateStack); not checked.
DROPPED = [
    "AWS::S3::Bucket PublicAccessBlockConfiguration, OwnershipControls, LifecycleConfiguration",
    "AWS::ECR::Repository ImageScanningConfiguration, LifecyclePolicy",
    "AWS::Lambda::Function Architectures (always x86_64), PackageType (always Zip)",
    "AWS::IAM::Role ManagedPolicyArns",
    "AWS::DynamoDB::Table TimeToLiveSpecification, PointInTimeRecoverySpecification, DeletionProtectionEnabled",
    "AWS::ECS::Cluster CapacityProviders",
]

ARTIFACT_BUCKET = "gatehouse-sam-artifacts"
EXISTING_CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/0c0ffee0-0000-4000-8000-000000000000"


class Deployer:
    def __init__(self, endpoint, region, prefix):
        self.endpoint = endpoint
        self.region = region
        self.prefix = prefix
        self.env = dict(
            os.environ,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
            AWS_DEFAULT_REGION=region,
            AWS_REGION=region,
            AWS_ENDPOINT_URL=endpoint,
            AWS_CONFIG_FILE=os.devnull,
            AWS_SHARED_CREDENTIALS_FILE=os.devnull,
            SAM_CLI_TELEMETRY="0",
        )
        # aws-sam-translator reads the region of its pseudo parameters from the environment.
        os.environ["AWS_DEFAULT_REGION"] = region
        self.session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
        )

    def client(self, name):
        return self.session.client(name, endpoint_url=self.endpoint)

    # --- what `sam deploy` does -----------------------------------------------------------

    def package(self, stack_dir, out_dir, image_repository=None):
        """`sam package`: local CodeUri/DefinitionUri go to moto's S3. A stack with an image
        function needs --image-repository even when its ImageUri is given (then left as is)."""
        s3 = self.client("s3")
        try:
            s3.create_bucket(Bucket=ARTIFACT_BUCKET)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        packaged = Path(out_dir) / f"{stack_dir.name}.packaged.yaml"
        done = subprocess.run(
            [
                str(TOOLS_BIN / "sam"), "package",
                "--template-file", str(stack_dir / "template.yaml"),
                "--s3-bucket", ARTIFACT_BUCKET,
                "--output-template-file", str(packaged),
                "--region", self.region,
            ] + (["--image-repository", image_repository] if image_repository else []),
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"sam package {stack_dir.name} failed:\n{done.stderr}")
        return yaml_parse(packaged.read_text())

    def deploy(self, key, stack_dir, parameters, out_dir):
        name = f"{self.prefix}{key}"
        image = parameters.get("ImageUri")
        packaged = self.package(stack_dir, out_dir, image.split(":", 1)[0] if image else None)
        template = transform(packaged, dict(parameters), _NoManagedPolicies())
        cf = self.client("cloudformation")
        cf.create_stack(
            StackName=name,
            TemplateBody=json.dumps(for_moto(template)),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        )
        stack = cf.describe_stacks(StackName=name)["Stacks"][0]
        if stack["StackStatus"] != "CREATE_COMPLETE":
            raise RuntimeError(f"stack {name}: {stack['StackStatus']} {stack.get('StackStatusReason')}")
        made = {
            r["LogicalResourceId"]: r["PhysicalResourceId"]
            for r in cf.list_stack_resources(StackName=name)["StackResourceSummaries"]
            if r.get("LogicalResourceId")
        }
        deployed = Deployed(self, name, template, parameters, packaged, made)
        deployed.outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        deployed.complete()
        return deployed


def for_moto(template):
    """moto refuses a stack whose resources reference (Ref, Fn::GetAtt) one of a type it skips.
    Such references are given what the resource's own properties say (a CodeBuild project's
    ARN and name follow from its Name) or a placeholder that this script replaces once it has
    made the resource (a function's environment, the outputs)."""
    resources = template["Resources"]
    skipped = {lid for lid, spec in resources.items() if spec["Type"] in SKIPPED_TYPES}

    def rewrite(value):
        if isinstance(value, list):
            return [rewrite(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (fn, arg), = value.items()
            target = None
            if fn == "Ref" and isinstance(arg, str) and arg in skipped:
                target, attribute = arg, None
            elif fn == "Fn::GetAtt":
                parts = arg if isinstance(arg, list) else arg.split(".", 1)
                if parts[0] in skipped:
                    target, attribute = parts
            if target is not None:
                spec = resources[target]
                if spec["Type"] == "AWS::CodeBuild::Project":
                    name = spec["Properties"]["Name"]
                    if attribute is None:
                        return name
                    return {"Fn::Join": ["", [
                        "arn:", {"Ref": "AWS::Partition"}, ":codebuild:", {"Ref": "AWS::Region"}, ":",
                        {"Ref": "AWS::AccountId"}, ":project/", name]]}
                # URL-shaped, so that functions splitting a URL (an output) still evaluate.
                return f"https://made-later.invalid/{target}" + (f"/{attribute}" if attribute else "")
        return {k: rewrite(v) for k, v in value.items()}

    return {k: (rewrite(v) if k in ("Resources", "Outputs") else v) for k, v in template.items()}


class _NoManagedPolicies:
    """The templates name managed policies by ARN only, so the translator asks IAM nothing."""

    def load(self):
        return {}


class Deployed:
    """One stack in moto, completed through the APIs where moto's CloudFormation skipped."""

    def __init__(self, deployer, name, template, parameters, packaged, made):
        self.d = deployer
        self.name = name
        self.template = template
        self.parameters = dict(parameters)
        for pname, spec in template.get("Parameters", {}).items():
            self.parameters.setdefault(pname, str(spec.get("Default", "")))
        self.packaged = packaged
        self.physical = dict(made)
        self.how = {lid: "cloudformation" for lid in made}
        self.outputs = {}
        self.exports = {
            e["Name"]: e["Value"]
            for e in deployer.client("cloudformation").list_exports()["Exports"]
        }

    # --- intrinsic functions, for what this script creates itself ---------------------------

    def condition(self, name):
        return bool(self.resolve(self.template["Conditions"][name]))

    def active(self, logical_id):
        cond = self.template["Resources"][logical_id].get("Condition")
        return cond is None or self.condition(cond)

    def pseudo(self, name):
        return {
            "AWS::Region": self.d.region,
            "AWS::AccountId": "123456789012",
            "AWS::Partition": "aws",
            "AWS::StackName": self.name,
            "AWS::URLSuffix": "amazonaws.com",
        }[name]

    def ref(self, name):
        if name.startswith("AWS::"):
            return self.pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        return self.physical[name]

    def get_att(self, logical_id, attribute):
        rtype = self.template["Resources"][logical_id]["Type"]
        physical = self.physical[logical_id]
        if attribute == "Arn":
            if rtype == "AWS::IAM::Role":
                return self.d.client("iam").get_role(RoleName=physical)["Role"]["Arn"]
            if rtype == "AWS::Lambda::Function":
                return self.d.client("lambda").get_function(FunctionName=physical)["Configuration"]["FunctionArn"]
            if rtype == "AWS::DynamoDB::Table":
                return self.d.client("dynamodb").describe_table(TableName=physical)["Table"]["TableArn"]
            if rtype == "AWS::S3::Bucket":
                return f"arn:aws:s3:::{physical}"
            if rtype == "AWS::Logs::LogGroup":
                return f"arn:aws:logs:{self.d.region}:123456789012:log-group:{physical}:*"
            if rtype == "AWS::CodeBuild::Project":
                return f"arn:aws:codebuild:{self.d.region}:123456789012:project/{physical}"
        if attribute == "Name" and rtype == "AWS::StepFunctions::StateMachine":
            return physical.rsplit(":", 1)[-1]
        if attribute == "TopicName" and rtype == "AWS::SNS::Topic":
            return physical.rsplit(":", 1)[-1]
        if attribute == "FunctionUrl" and rtype == "AWS::Lambda::Url":
            return physical
        raise KeyError(f"Fn::GetAtt {logical_id}.{attribute} ({rtype}) is not resolved here")

    def sub(self, text, variables):
        def one(match):
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}!]+)\}", one, text)

    def resolve(self, value):
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (fn, arg), = value.items()
            if fn == "Ref":
                return self.ref(arg)
            if fn == "Fn::GetAtt":
                parts = arg if isinstance(arg, list) else arg.split(".", 1)
                return self.get_att(*parts)
            if fn == "Fn::Sub":
                if isinstance(arg, list):
                    return self.sub(arg[0], {k: self.resolve(v) for k, v in arg[1].items()})
                return self.sub(arg, {})
            if fn == "Fn::ImportValue":
                return self.exports[self.resolve(arg)]
            if fn == "Fn::If":
                return self.resolve(arg[1] if self.condition(arg[0]) else arg[2])
            if fn == "Fn::Equals":
                return self.resolve(arg[0]) == self.resolve(arg[1])
            if fn == "Fn::Not":
                return not self.resolve(arg[0])
            if fn == "Fn::Join":
                return arg[0].join(str(x) for x in self.resolve(arg[1]))
            if fn == "Fn::Split":
                return self.resolve(arg[1]).split(arg[0])
            if fn == "Fn::Select":
                return self.resolve(arg[1])[int(arg[0])]
        return {k: self.resolve(v) for k, v in value.items()}

    def props(self, logical_id):
        return self.resolve(self.template["Resources"][logical_id].get("Properties", {}))

    # --- completing what moto skipped -------------------------------------------------------

    def complete(self):
        resources = self.template["Resources"]
        order = sorted(resources, key=lambda lid: _API_ORDER.get(resources[lid]["Type"], 99))
        for lid in order:
            rtype = resources[lid]["Type"]
            if not self.active(lid):
                self.how[lid] = "not-created"
                continue
            if rtype == "AWS::StepFunctions::StateMachine":
                self.state_machine(lid)
            elif rtype in SKIPPED_TYPES:
                if rtype in NO_MOTO_API:
                    self.how[lid] = "not-created"
                    continue
                getattr(self, "make_" + rtype.split("::", 1)[1].replace("::", "_"))(lid)
                self.how[lid] = "api"
        self.fix_outputs()

    def make_S3_BucketPolicy(self, lid):
        p = self.props(lid)
        self.d.client("s3").put_bucket_policy(Bucket=p["Bucket"], Policy=json.dumps(p["PolicyDocument"]))
        self.physical[lid] = p["Bucket"]

    def make_SNS_Subscription(self, lid):
        p = self.props(lid)
        arn = self.d.client("sns").subscribe(
            TopicArn=p["TopicArn"], Protocol=p["Protocol"], Endpoint=p["Endpoint"], ReturnSubscriptionArn=True
        )["SubscriptionArn"]
        self.physical[lid] = arn

    def make_Cognito_UserPool(self, lid):
        p = self.props(lid)
        args = {"PoolName": p.pop("UserPoolName")}
        args.update(p)
        pool = self.d.client("cognito-idp").create_user_pool(**args)["UserPool"]
        self.physical[lid] = pool["Id"]

    def make_Cognito_UserPoolClient(self, lid):
        client = self.d.client("cognito-idp").create_user_pool_client(**self.props(lid))["UserPoolClient"]
        self.physical[lid] = client["ClientId"]

    def make_Cognito_UserPoolGroup(self, lid):
        group = self.d.client("cognito-idp").create_group(**self.props(lid))["Group"]
        self.physical[lid] = group["GroupName"]

    def make_Lambda_Url(self, lid):
        p = self.props(lid)
        lam = self.d.client("lambda")
        url = lam.create_function_url_config(
            FunctionName=p["TargetFunctionArn"], AuthType=p["AuthType"], InvokeMode=p.get("InvokeMode", "BUFFERED")
        )["FunctionUrl"]
        self.physical[lid] = url
        # The function's environment named resources moto had skipped; give it their real ids.
        for fid, spec in self.template["Resources"].items():
            if spec["Type"] == "AWS::Lambda::Function" and self.active(fid):
                variables = self.props(fid).get("Environment", {}).get("Variables", {})
                lam.update_function_configuration(
                    FunctionName=self.physical[fid], Environment={"Variables": variables}
                )

    def make_CodeBuild_Project(self, lid):
        p = self.props(lid)
        env = p["Environment"]
        args = {
            "name": p["Name"],
            "description": p.get("Description", ""),
            "serviceRole": p["ServiceRole"],
            "timeoutInMinutes": p.get("TimeoutInMinutes", 60),
            # moto 5.2.5 requires a location even for CODEPIPELINE artifacts and sources, which
            # AWS ignores for them.
            "artifacts": {"type": p["Artifacts"]["Type"], "location": "codepipeline"},
            "source": {"type": p["Source"]["Type"], "buildspec": p["Source"]["BuildSpec"], "location": "codepipeline"},
            "environment": {
                "type": env["Type"],
                "computeType": env["ComputeType"],
                "image": env["Image"],
                "privilegedMode": env.get("PrivilegedMode", False),
                "environmentVariables": [
                    {"name": v["Name"], "value": v["Value"], "type": "PLAINTEXT"}
                    for v in env.get("EnvironmentVariables", [])
                ],
            },
        }
        self.d.client("codebuild").create_project(**args)
        self.physical[lid] = p["Name"]

    def make_CodePipeline_Pipeline(self, lid):
        p = self.props(lid)
        pipeline = {
            "name": p["Name"],
            "roleArn": p["RoleArn"],
            "artifactStore": {"type": p["ArtifactStore"]["Type"], "location": p["ArtifactStore"]["Location"]},
            "pipelineType": p.get("PipelineType", "V1"),
            "executionMode": p.get("ExecutionMode", "SUPERSEDED"),
            "stages": [
                {
                    "name": stage["Name"],
                    "actions": [
                        {
                            "name": a["Name"],
                            "actionTypeId": {
                                "category": a["ActionTypeId"]["Category"],
                                "owner": a["ActionTypeId"]["Owner"],
                                "provider": a["ActionTypeId"]["Provider"],
                                "version": a["ActionTypeId"]["Version"],
                            },
                            "configuration": {k: str(v).lower() if isinstance(v, bool) else v
                                              for k, v in a.get("Configuration", {}).items()},
                            "inputArtifacts": [{"name": x["Name"]} for x in a.get("InputArtifacts", [])],
                            "outputArtifacts": [{"name": x["Name"]} for x in a.get("OutputArtifacts", [])],
                        }
                        for a in stage["Actions"]
                    ],
                }
                for stage in p["Stages"]
            ],
        }
        self.d.client("codepipeline").create_pipeline(pipeline=pipeline)
        self.physical[lid] = p["Name"]

    def state_machine(self, lid):
        """moto ignores DefinitionS3Location and DefinitionSubstitutions: create the machine as
        Step Functions would, from the packaged definition with the substitutions applied."""
        p = self.props(lid)
        sfn = self.d.client("stepfunctions")
        arn = self.physical.get(lid, "")
        try:
            sfn.describe_state_machine(stateMachineArn=arn)
            return
        except sfn.exceptions.StateMachineDoesNotExist:
            pass
        location = p["DefinitionS3Location"]
        body = self.d.client("s3").get_object(Bucket=location["Bucket"], Key=location["Key"])["Body"].read().decode()
        for name, value in p.get("DefinitionSubstitutions", {}).items():
            body = body.replace("${" + name + "}", str(value))
        created = sfn.create_state_machine(
            name=p["StateMachineName"], definition=body, roleArn=p["RoleArn"], type=p.get("StateMachineType", "STANDARD")
        )
        self.physical[lid] = created["stateMachineArn"]
        self.how[lid] = "api"

    def fix_outputs(self):
        """Outputs that name resources made here are computed again from them."""
        for key, spec in self.template.get("Outputs", {}).items():
            cond = spec.get("Condition")
            if cond and not self.condition(cond):
                continue
            if all(self.how.get(lid) == "cloudformation" for lid in _referenced(spec["Value"])):
                continue
            try:
                self.outputs[key] = str(self.resolve(spec["Value"]))
            except KeyError:
                # Names a resource that exists nowhere here (no moto API).
                self.outputs.pop(key, None)

    def summary(self):
        resources = self.template["Resources"]
        return {
            "name": self.name,
            "parameters": self.parameters,
            "outputs": self.outputs,
            "resources": {
                lid: {"type": resources[lid]["Type"], "physical_id": self.physical.get(lid), "how": self.how.get(lid, "not-created")}
                for lid in resources
            },
        }


def _referenced(value):
    """Logical ids a template value names through Ref, Fn::GetAtt or Fn::Sub."""
    found = set()
    if isinstance(value, list):
        for v in value:
            found |= _referenced(v)
    elif isinstance(value, dict):
        for fn, arg in value.items():
            if fn == "Ref" and isinstance(arg, str) and not arg.startswith("AWS::"):
                found.add(arg)
            elif fn == "Fn::GetAtt":
                found.add((arg if isinstance(arg, list) else arg.split(".", 1))[0])
            elif fn == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) else arg
                found |= {n.split(".", 1)[0] for n in re.findall(r"\$\{([^}!]+)\}", text) if not n.startswith("AWS::")}
                if isinstance(arg, list):
                    found |= _referenced(arg[1])
            else:
                found |= _referenced(arg)
    return found


# Resources made through the APIs need those they name made first.
_API_ORDER = {
    "AWS::Cognito::UserPool": 0,
    "AWS::Cognito::UserPoolClient": 1,
    "AWS::Cognito::UserPoolGroup": 1,
    "AWS::S3::BucketPolicy": 1,
    "AWS::SNS::Subscription": 1,
    "AWS::StepFunctions::StateMachine": 1,
    "AWS::CodeBuild::Project": 1,
    "AWS::CodePipeline::Pipeline": 2,
    "AWS::Lambda::Url": 3,
}


def deploy_all(endpoint, region="us-east-1", prefix="gatehouse-"):
    d = Deployer(endpoint, region, prefix)
    stacks = {}
    with tempfile.TemporaryDirectory() as out:
        stacks["pipeline"] = d.deploy(
            "pipeline", INFRA / "pipeline",
            {
                # Named after the prefix, so deployments sharing one moto server stay apart.
                "StateMachineName": f"{prefix}pipeline",
                "ModelImageRepositoryName": f"{prefix}model",
                "EndpointName": f"{prefix}serving",
                "NotificationEmail": "ops@example.com",
                "DashboardUrl": "https://gatehouse.example.com",
            },
            out,
        )
        pipeline_stack = stacks["pipeline"].name
        repository = stacks["pipeline"].outputs["ModelImageRepositoryUri"]
        stacks["cicd"] = d.deploy(
            "cicd", INFRA / "cicd",
            {"PipelineStackName": pipeline_stack, "ConnectionArn": EXISTING_CONNECTION,
             "FullRepositoryId": "example-org/iris-model"}, out,
        )
        image = repository.rsplit("/", 1)[0] + "/gatehouse-dashboard:0c0ffee0"
        for hosting, key in (("Lambda", "dashboard"), ("EcsExpress", "dashboard-ecs")):
            stacks[key] = d.deploy(
                key, INFRA / "dashboard",
                {"PipelineStackName": pipeline_stack, "Hosting": hosting, "ImageUri": image}, out,
            )
    return d, stacks


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", required=True, help="the moto server, http://127.0.0.1:PORT")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument(
        "--prefix", default="gatehouse-",
        help="lower-case; stack names are PREFIX + pipeline, cicd, dashboard, dashboard-ecs",
    )
    args = parser.parse_args()
    _, stacks = deploy_all(args.endpoint, args.region, args.prefix)
    json.dump(
        {
            "region": args.region,
            "endpoint": args.endpoint,
            "stacks": {k: s.summary() for k, s in stacks.items()},
            "skipped_types": SKIPPED_TYPES,
            "dropped_properties": DROPPED,
        },
        sys.stdout,
        indent=2,
    )
    print()


if __name__ == "__main__":
    main()
