//! The newest approved commit deploys; older approved runs still waiting for their turn are
//! stopped.
//!
//! The pipeline deploys every approved commit to one stable endpoint, and SageMaker refuses an
//! update while another is in progress, so the definition has a run retry its update until
//! the endpoint is free. Two commits approved close together therefore queue, and the older
//! may deploy after the newer one, putting an outdated model back in service. When an
//! approval is sent, Gatehouse stops every run that started before the approved one and is
//! still between its own approval and its endpoint update (it has deployed nothing yet), with
//! a cause naming the newer run, and records each stop in the audit log. Runs started after
//! the approved one are left alone: approving an older commit after a newer one is the
//! approver's choice, and it deploys after the newer. A deployment already under way (the
//! update was accepted) is not touched.
//!
//! Which states are "waiting to deploy" is read from the definition: those on the way from a
//! `.waitForTaskToken` task to the `sagemaker:updateEndpoint` task, that task included.

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::{json, Value};

use crate::control_plane::ControlPlane;
use crate::functions::audit_trail::record;
use crate::functions::execution_graph::transitions;
use crate::models::audit::AuditOutcome;
use crate::models::executions::EdgeKind;
use crate::models::identity::Identity;
use crate::models::pipeline::{ExecutionQuery, ExecutionRef, ExecutionStatus, ExecutionSummary};

/// How many running executions one approval looks at (newest first): more than a team keeps
/// running at once.
const RUNNING_LOOKED_AT: usize = 200;

/// The top-level states of `definition` where an approved run waits to update the endpoint.
/// Empty when the definition has no approval task or no endpoint update.
pub fn deploy_queue_states(definition: &Value) -> BTreeSet<String> {
    let Some(states) = definition.get("States").and_then(Value::as_object) else {
        return BTreeSet::new();
    };
    let resource = |state: &Value| {
        state
            .get("Resource")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let updates: HashSet<&str> = states
        .iter()
        .filter(|(_, state)| resource(state).ends_with(":sagemaker:updateEndpoint"))
        .map(|(name, _)| name.as_str())
        .collect();
    // Where each state goes when it does not fail: `Next`, a Choice's rules and `Default`.
    let edges = transitions(states);
    let mut successors: HashMap<&str, Vec<&str>> = HashMap::new();
    for edge in edges.iter().filter(|edge| edge.kind != EdgeKind::Catch) {
        successors
            .entry(edge.from.as_str())
            .or_default()
            .push(edge.to.as_str());
    }
    // Forward from where an approval leads on success, not past an update.
    let mut after_approval = HashSet::new();
    let mut frontier: Vec<&str> = states
        .iter()
        .filter(|(_, state)| resource(state).ends_with(".waitForTaskToken"))
        .flat_map(|(name, _)| successors.get(name.as_str()).into_iter().flatten().copied())
        .collect();
    while let Some(name) = frontier.pop() {
        if !states.contains_key(name) || !after_approval.insert(name) || updates.contains(name) {
            continue;
        }
        frontier.extend(successors.get(name).into_iter().flatten().copied());
    }
    // Backward from the updates.
    let mut before_update: HashSet<&str> = updates.clone();
    let mut grew = true;
    while grew {
        grew = false;
        for (name, next) in &successors {
            if !before_update.contains(name) && next.iter().any(|n| before_update.contains(n)) {
                before_update.insert(name);
                grew = true;
            }
        }
    }
    after_approval
        .intersection(&before_update)
        .map(|name| name.to_string())
        .collect()
}

/// Whether `older` started before `newer`; executions started in the same millisecond are
/// ordered by name, so of any two runs exactly one can supersede the other.
fn started_before(older: &ExecutionSummary, newer: &ExecutionSummary) -> bool {
    (older.started, &older.name) < (newer.started, &newer.name)
}

/// Stops the runs `approved` supersedes (see the module's doc) and audits each stop as
/// `execution.supersede` by `approver`. The approval has been sent already: what fails here
/// is logged and leaves the older runs to deploy as before.
pub async fn supersede_older_deployments(
    pipeline: &dyn ControlPlane,
    approver: &Identity,
    approved: &ExecutionRef,
) {
    let queue = match pipeline.definition().await.map(|text| {
        serde_json::from_str::<Value>(&text)
            .map(|definition| deploy_queue_states(&definition))
            .unwrap_or_default()
    }) {
        Ok(queue) if !queue.is_empty() => queue,
        Ok(_) => return,
        Err(error) => {
            tracing::warn!(%error, "could not read the definition to supersede older runs");
            return;
        }
    };
    let (approved, running) = match tokio::try_join!(
        pipeline.describe_execution(approved),
        pipeline.list_executions(&ExecutionQuery {
            status: Some(ExecutionStatus::Running),
            max_results: RUNNING_LOOKED_AT,
            next_token: None,
        })
    ) {
        Ok((approved, running)) => (approved.summary, running.executions),
        Err(error) => {
            tracing::warn!(%error, "could not list the runs an approval supersedes");
            return;
        }
    };
    let older: Vec<ExecutionSummary> = running
        .into_iter()
        .filter(|run| run.arn != approved.arn && started_before(run, &approved))
        .collect();
    if older.is_empty() {
        return;
    }
    let states = pipeline.current_states(&older).await;
    for (run, state) in older.iter().zip(states) {
        let state = match state {
            Some(state) => Some(state),
            None => pipeline
                .describe_execution(&ExecutionRef::Name(run.name.clone()))
                .await
                .ok()
                .and_then(|detail| detail.summary.current_state),
        };
        let Some(state) = state.filter(|state| queue.contains(state)) else {
            continue;
        };
        let cause = format!(
            "Superseded: {} approved {}, which started after this run; the newer commit \
             deploys instead.",
            approver.username, approved.name
        );
        let stopped = pipeline
            .stop_execution(&ExecutionRef::Name(run.name.clone()), &cause)
            .await;
        if let Err(error) = &stopped {
            // It may have moved on (its update accepted) or ended a moment ago.
            tracing::info!(execution = %run.name, %error, "an older approved run was not stopped");
        }
        let details = json!({
            "superseded_by": approved.name,
            "state": state,
            "error": stopped.as_ref().err().map(|e| e.to_string()),
        });
        let outcome = if stopped.is_ok() {
            AuditOutcome::Success
        } else {
            AuditOutcome::Failure
        };
        if let Err(error) = record(
            Some(approver),
            "execution.supersede",
            &run.name,
            outcome,
            details,
        )
        .await
        {
            tracing::error!(execution = %run.name, %error, "a superseded run's stop was not audited");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(states: &[&str]) -> BTreeSet<String> {
        states.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_pipeline_waits_to_deploy_from_its_endpoint_config_to_its_endpoint_update() {
        // Read by hand from the definition: after "Send Approve/Reject Email Request" (the
        // wait for a decision) succeeds, the run creates
        // its endpoint config, looks for the serving endpoint and updates it. Creating the
        // endpoint (none exists yet) and everything after the update are not waiting.
        let definition: Value =
            serde_json::from_str(include_str!("../../../infra/statemachine/mlops.asl.json"))
                .expect("the pipeline's definition");
        assert_eq!(
            deploy_queue_states(&definition),
            names(&[
                "Find Serving Endpoint",
                "Sagemaker Create Endpoint Config",
                "Sagemaker Update Endpoint",
            ])
        );
    }

    #[test]
    fn a_choice_on_the_way_counts_and_a_catch_or_a_state_before_the_approval_does_not() {
        let definition = json!({
            "StartAt": "Train",
            "States": {
                "Train": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
                          "Next": "Approve"},
                "Approve": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                            "Next": "Canary?",
                            "Catch": [{"ErrorEquals": ["rejected"], "Next": "Fix"}]},
                "Canary?": {"Type": "Choice",
                            "Choices": [{"Variable": "$.canary", "BooleanEquals": true, "Next": "Done"}],
                            "Default": "Update"},
                "Update": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:updateEndpoint",
                           "Next": "Done"},
                "Fix": {"Type": "Pass", "Next": "Update"},
                "Done": {"Type": "Succeed"}
            }
        });
        assert_eq!(
            deploy_queue_states(&definition),
            names(&["Canary?", "Update"])
        );
    }

    #[test]
    fn a_definition_without_an_approval_or_an_update_has_no_queue() {
        let no_update = json!({"States": {
            "Approve": {"Type": "Task", "Resource": "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
                        "Next": "Done"},
            "Done": {"Type": "Succeed"}
        }});
        assert!(deploy_queue_states(&no_update).is_empty());
        let no_approval = json!({"States": {
            "Update": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:updateEndpoint",
                       "End": true}
        }});
        assert!(deploy_queue_states(&no_approval).is_empty());
        assert!(deploy_queue_states(&json!("not a definition")).is_empty());
    }
}
