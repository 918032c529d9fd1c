"""The two notifier functions, run against moto's SNS: the approval notice links to the run's
approval page and never carries the task token; the endpoint notice returns its input."""

import importlib.util
import json
import os
from pathlib import Path

import boto3
import pytest

REPO = Path(__file__).resolve().parents[2]
TOKEN = "AQCEAAAAKgAAAAMAAAAAAAAAAb1+secret-task-token+Zm9vYmFy"
EXECUTION = "arn:aws:states:us-east-1:123456789012:execution:gatehouse-pipeline:3f2a9c1d-12-04-2026-10-00-00"


def load(name, endpoint):
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    spec = importlib.util.spec_from_file_location(name, REPO / f"infra/pipeline/functions/{name}/app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture()
def topic_and_queue(moto_endpoint, request):
    sns = boto3.client("sns", endpoint_url=moto_endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    sqs = boto3.client("sqs", endpoint_url=moto_endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    topic = sns.create_topic(Name=f"notices-{request.node.name[:40]}")["TopicArn"]
    queue = sqs.create_queue(QueueName=f"notices-{request.node.name[:40]}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    def received():
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    return topic, received


def test_approval_notice_links_to_the_run_and_never_carries_the_token(moto_endpoint, topic_and_queue):
    topic, received = topic_and_queue
    app = load("approval_notifier", moto_endpoint)
    os.environ.update(TOPIC_ARN=topic, DASHBOARD_URL="https://gatehouse.example.com/")
    event = {"token": TOKEN, "execution": EXECUTION, "commitID": "3f2a9c1d-12-04-2026-10-00-00",
             "s3_batch_output": "s3://models/transform_output/3f2a9c1d-12-04-2026-10-00-00"}
    answer = app.handler(event, None)
    link = "https://gatehouse.example.com/approvals/3f2a9c1d-12-04-2026-10-00-00"
    assert answer == {"notified": True, "link": link}
    [notice] = received()
    assert link in notice["Message"]
    assert "3f2a9c1d-12-04-2026-10-00-00" in notice["Subject"]
    everything = json.dumps(notice) + json.dumps(answer)
    assert TOKEN not in everything and "secret-task-token" not in everything


def test_approval_notice_without_a_dashboard_address_still_says_where_to_decide(moto_endpoint, topic_and_queue):
    topic, received = topic_and_queue
    app = load("approval_notifier", moto_endpoint)
    os.environ.update(TOPIC_ARN=topic, DASHBOARD_URL="")
    answer = app.handler({"token": TOKEN, "execution": EXECUTION, "commitID": "3f2a9c1d"}, None)
    assert answer["link"] is None
    [notice] = received()
    assert "Approvals page" in notice["Message"] and TOKEN not in notice["Message"]


def test_endpoint_notice_returns_the_state_unchanged(moto_endpoint, topic_and_queue):
    topic, received = topic_and_queue
    app = load("endpoint_notifier", moto_endpoint)
    os.environ.update(TOPIC_ARN=topic, DASHBOARD_URL="https://gatehouse.example.com", ENDPOINT_NAME="iris-serving")
    state = {"commitID": "3f2a9c1d-12-04-2026-10-00-00", "imageUri": "repo:3f2a9c1d",
             "deployment": {"polls": 3, "endpoint": {"EndpointName": "iris-serving", "EndpointStatus": "InService"}}}
    assert app.handler(json.loads(json.dumps(state)), None) == state
    [notice] = received()
    assert "https://gatehouse.example.com/endpoints/iris-serving" in notice["Message"]
    assert "serves commit 3f2a9c1d-12-04-2026-10-00-00" in notice["Message"]
