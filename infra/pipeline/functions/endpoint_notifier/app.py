"""Announces that the pipeline's endpoint serves a newly approved commit.

Step Functions invokes this function from the state "Send Email With API Endpoint" (a plain Lambda
task, `Resource` = this function's ARN) with the whole state of the run: the input
(`commitID`, `imageUri`, ...), the training job's description (`TrainingJobName`, ...) and
`deployment.endpoint`, the DescribeEndpoint answer that showed the endpoint InService on the
commit's config. It publishes a message with links to the endpoint's page and the playground in
Gatehouse, then returns its input unchanged: the state has no ResultPath, so what it returns is
the execution's output, the same as local mode's built-in notifier returns.
"""

import os
import urllib.parse

import boto3

_sns = boto3.client("sns")


def endpoint_name(event):
    endpoint = (event.get("deployment") or {}).get("endpoint") or {}
    return endpoint.get("EndpointName") or os.environ.get("ENDPOINT_NAME", "")


def message(event, dashboard_url):
    name = endpoint_name(event)
    commit = event.get("commitID") or event.get("TrainingJobName") or "(unknown commit)"
    base = (dashboard_url or "").rstrip("/")
    lines = [f"Endpoint {name} serves commit {commit} now."]
    if base and name:
        quoted = urllib.parse.quote(name, safe="")
        lines.append(f"Endpoint: {base}/endpoints/{quoted}")
        lines.append(f"Try it: {base}/playground")
        lines.append(
            f"API: POST {base}/v1/invokeSagemakerAPI?sagemaker_endpoint={quoted} "
            '(bearer token from POST /auth/token; body {"data": "<csv row>"})'
        )
    return "\n".join(lines)


def handler(event, context):
    name = endpoint_name(event) or "endpoint"
    _sns.publish(
        TopicArn=os.environ["TOPIC_ARN"],
        Subject=f"Gatehouse: {name} updated"[:100],
        Message=message(event, os.environ.get("DASHBOARD_URL")),
    )
    return event
