"""Announces a pipeline run that waits for a human decision.

Step Functions invokes this function from the state "Send Approve/Reject Email Request"
(`lambda:invoke.waitForTaskToken`) with the payload built in infra/statemachine/mlops.asl.json:
`{"token", "execution", "commitID", "s3_batch_output"}`. It publishes to the pipeline's SNS topic a
message naming the commit and linking to the run's approval page in Gatehouse, where a signed-in
approver sees the evidence and decides.

The task token is the capability to decide. It is never published, logged or returned: Gatehouse
reads it server-side from the execution's history (the TaskScheduled event), so a forwarded or
leaked e-mail decides nothing. What this function returns is ignored by Step Functions, which
waits for SendTaskSuccess/SendTaskFailure.
"""

import os
import urllib.parse

import boto3

_sns = boto3.client("sns")


def execution_name(execution_arn):
    """The last field of an execution ARN (arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME)."""
    return execution_arn.rsplit(":", 1)[-1] if execution_arn else ""


def approval_link(dashboard_url, execution_arn):
    """The run's approval page, or None while the dashboard's address is not configured."""
    name = execution_name(execution_arn)
    base = (dashboard_url or "").rstrip("/")
    if not base or not name:
        return None
    return f"{base}/approvals/{urllib.parse.quote(name, safe='')}"


def message(event, link):
    commit = event.get("commitID") or "(unknown commit)"
    lines = [
        f"Commit {commit} was trained and batch-transformed; its deployment waits for a decision.",
        "",
    ]
    if link:
        lines.append(f"Review the evidence and decide in Gatehouse: {link}")
    else:
        lines.append(
            "Review the evidence and decide on Gatehouse's Approvals page "
            "(set the pipeline stack's DashboardUrl to get a direct link here)."
        )
    if event.get("s3_batch_output"):
        lines.append(f"Batch-transform output: {event['s3_batch_output']}")
    if event.get("execution"):
        lines.append(f"Execution: {event['execution']}")
    lines += ["", "This message cannot approve or reject anything by itself."]
    return "\n".join(lines)


def handler(event, context):
    link = approval_link(os.environ.get("DASHBOARD_URL"), event.get("execution", ""))
    commit = event.get("commitID") or "a commit"
    _sns.publish(
        TopicArn=os.environ["TOPIC_ARN"],
        # SNS limits a subject to 100 printable ASCII characters.
        Subject=f"Gatehouse: approval needed for {commit}"[:100],
        Message=message(event, link),
    )
    return {"notified": True, "link": link}
