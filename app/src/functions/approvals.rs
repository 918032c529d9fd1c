//! Approvals' server functions: the pending list, one approval with its evidence, and the
//! decision. Viewers may look; only approvers decide. Every decision request — sent, counted,
//! refused or too late — appends exactly one audit record for the decision (an approval that
//! supersedes older runs waiting to deploy adds one for each run it stops).

use leptos::prelude::*;

use crate::errors::AppError;
use crate::models::approvals::{ApprovalList, ApprovalView, DecideAnswer};

/// Every pending approval, newest execution first (viewer).
#[server(endpoint = "list_approvals")]
pub async fn list_approvals() -> Result<ApprovalList, AppError> {
    crate::functions::access::require(crate::models::identity::Role::Viewer)?;
    let pipeline = crate::state::server_context()?.pipeline;
    let approvals = pipeline
        .pending_approvals()
        .await
        .map_err(AppError::from)
        .map_err(crate::functions::access::answer)?;
    Ok(ApprovalList {
        approvals,
        now: crate::models::pipeline::Timestamp::now(),
    })
}

/// How many approvals are pending, for the navigation's badge (viewer).
#[server(endpoint = "pending_approval_count")]
pub async fn pending_approval_count() -> Result<usize, AppError> {
    crate::functions::access::require(crate::models::identity::Role::Viewer)?;
    let pipeline = crate::state::server_context()?.pipeline;
    Ok(pipeline
        .pending_approvals()
        .await
        .map_err(AppError::from)
        .map_err(crate::functions::access::answer)?
        .len())
}

/// One approval with its evidence (viewer). `id` is the execution's name or ARN.
#[server(endpoint = "get_approval")]
pub async fn get_approval(id: String) -> Result<ApprovalView, AppError> {
    let identity = crate::functions::access::require(crate::models::identity::Role::Viewer)?;
    let context = crate::state::server_context()?;
    server::view(&context, &identity, &id)
        .await
        .map_err(crate::functions::access::answer)
}

/// Approves or rejects an execution's pending approval (approver). `verdict` is `approve` or
/// `reject`; a rejection needs a comment.
#[server(endpoint = "decide")]
pub async fn decide(
    id: String,
    verdict: String,
    comment: String,
) -> Result<DecideAnswer, AppError> {
    let target = crate::models::pipeline::shorten(id.trim(), 120);
    let identity = crate::functions::audit_trail::require_audited(
        crate::models::identity::Role::Approver,
        "approval.decide",
        &target,
    )
    .await?;
    let context = crate::state::server_context()?;
    let answer = server::decide(&context, &identity, &id, &verdict, &comment)
        .await
        .map_err(crate::functions::access::answer)?;
    {
        use crate::functions::form_post::answer_form;
        use crate::models::navigation::outcome;
        match &answer {
            DecideAnswer::Decided { verdict } => answer_form(
                outcome::DECIDED,
                crate::models::approvals::verdict_word(*verdict),
            ),
            DecideAnswer::Counted { approvals, needed } => {
                answer_form(outcome::COUNTED, &format!("{approvals}-of-{needed}"))
            }
        }
    }
    Ok(answer)
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use serde_json::{json, Value};

    use crate::ballots::BallotKey;
    use crate::control_plane::{ControlPlane, PipelineError};
    use crate::errors::AppError;
    use crate::evidence::evidence_for;
    use crate::functions::audit_trail::record;
    use crate::models::approvals::{
        check_comment, verdict_word, ApprovalView, DecideAnswer, RecordedDecision, Vote,
    };
    use crate::models::audit::{AuditOutcome, AuditQuery};
    use crate::models::evidence::Evidence;
    use crate::models::executions::CreatedResource;
    use crate::models::identity::{Identity, Role};
    use crate::models::pipeline::{
        shorten, Decision, ExecutionDetail, ExecutionRef, ExecutionStatus, HistoryEvent, Timestamp,
        Verdict,
    };
    use crate::state::ServerContext;

    /// The execution's input as JSON (`{}` when it has none or it is not JSON).
    fn input_of(detail: &ExecutionDetail) -> Value {
        detail
            .input
            .as_deref()
            .and_then(|text| serde_json::from_str(text).ok())
            .unwrap_or_else(|| json!({}))
    }

    /// The transform job (and model) a run made: named by its `commitID`.
    fn job_name(detail: &ExecutionDetail) -> String {
        input_of(detail)
            .get("commitID")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| detail.summary.name.clone())
    }

    fn author_of(detail: &ExecutionDetail) -> Option<String> {
        input_of(detail)
            .get("author")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_string)
    }

    /// The decision the execution's history holds: the output of a task that succeeded, or
    /// the cause of one that failed with `rejected`, carrying the decision JSON.
    pub async fn recorded_decision(
        pipeline: &dyn ControlPlane,
        execution: &ExecutionRef,
    ) -> Result<Option<RecordedDecision>, AppError> {
        let history = pipeline.execution_history(execution).await?;
        Ok(decision_in(&history))
    }

    fn decision_in(history: &[HistoryEvent]) -> Option<RecordedDecision> {
        history.iter().rev().find_map(|event| {
            let details: Value = serde_json::from_str(event.details.as_deref()?).ok()?;
            match event.kind.as_str() {
                "TaskSucceeded" => RecordedDecision::from_json(details.get("output")?.as_str()?),
                "TaskFailed" if details.get("error") == Some(&json!("rejected")) => {
                    RecordedDecision::from_json(details.get("cause")?.as_str()?)
                }
                _ => None,
            }
        })
    }

    /// Decisions made through Gatehouse, newest first per execution name, from the audit log:
    /// it has every one (who, when, comment) without reading a run's history, and the
    /// accuracy of the run's batch transform as it was when the decision was taken.
    pub async fn audited_decisions(
        context: &ServerContext,
    ) -> Result<std::collections::HashMap<String, (RecordedDecision, Option<f64>)>, AppError> {
        let records = context
            .audit
            .search(&AuditQuery {
                action: Some("approval.decide".into()),
                outcome: Some(AuditOutcome::Success),
                limit: 2000,
                ..AuditQuery::default()
            })
            .await?;
        let mut out = std::collections::HashMap::new();
        for record in records {
            let details: serde_json::Value =
                serde_json::from_str(&record.entry.details).unwrap_or_default();
            let verdict = match details.get("decision").and_then(Value::as_str) {
                Some("approved") => Verdict::Approved,
                Some("rejected") => Verdict::Rejected,
                _ => continue,
            };
            let decision = RecordedDecision {
                verdict,
                by: record.entry.actor.clone(),
                comment: details
                    .get("comment")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string(),
                at: record.at.rfc3339(),
            };
            out.entry(record.entry.target.clone())
                .or_insert((decision, details.get("accuracy").and_then(Value::as_f64)));
        }
        Ok(out)
    }

    /// The newest endpoint in service other than this run's, and its model's figures.
    async fn serving(
        context: &ServerContext,
        this_run: &str,
    ) -> Option<(String, Result<Evidence, String>)> {
        let pipeline = context.pipeline.as_ref();
        let mut endpoints = pipeline.endpoints().await.ok()?;
        // Every commit deploys to the same endpoint, under an endpoint config named after
        // the commit: what serves now is an endpoint on another run's config.
        endpoints.retain(|e| e.status == "InService" && e.config_name.as_deref() != Some(this_run));
        endpoints.sort_by_key(|e| std::cmp::Reverse(e.modified.or(e.created)));
        let endpoint = endpoints.into_iter().next()?;
        let figures = match &endpoint.config_name {
            None => Err("The endpoint names no endpoint config.".to_string()),
            Some(config) => match pipeline.endpoint_config(config).await {
                Err(e) => Err(e.to_string()),
                Ok(config) => match config.variants.first() {
                    None => Err("The endpoint config has no model.".to_string()),
                    Some(variant) => {
                        evidence_for(pipeline, &context.evidence, &variant.model_name).await
                    }
                },
            },
        };
        Some((endpoint.name, figures))
    }

    /// Approvals counted so far for this approval (its `TaskScheduled` event): none to read
    /// when one approval decides.
    async fn votes(
        context: &ServerContext,
        execution: &str,
        scheduled_event_id: i64,
    ) -> Result<Vec<Vote>, AppError> {
        if context.approval_policy.quorum <= 1 {
            return Ok(Vec::new());
        }
        let ballot = BallotKey {
            execution: execution.to_string(),
            scheduled_event_id,
        };
        Ok(context.ballots.votes(&ballot).await?)
    }

    pub async fn view(
        context: &ServerContext,
        caller: &Identity,
        id: &str,
    ) -> Result<ApprovalView, AppError> {
        let pipeline = context.pipeline.as_ref();
        let execution = ExecutionRef::parse(id).map_err(|e| AppError::InvalidInput(e.0))?;
        let detail = pipeline.describe_execution(&execution).await?;
        let job = job_name(&detail);
        let author = author_of(&detail);
        let pending = pipeline.approval_of(&detail.summary).await?;
        // A run that waits has neither a decision nor an endpoint yet; one that does not
        // has both (or neither) in its history.
        let history = match pending {
            Some(_) => Vec::new(),
            None => pipeline.execution_history(&execution).await?,
        };
        let decided = decision_in(&history);
        let votes = match &pending {
            Some(p) => votes(context, &detail.summary.name, p.scheduled_event_id).await?,
            None => Vec::new(),
        };
        let policy = context.approval_policy;
        let cannot_decide = if !caller.has(Role::Approver) {
            Some("Deciding needs the approver role.".to_string())
        } else if pending.is_none() {
            Some("Nothing is waiting for a decision.".to_string())
        } else if policy.no_self_approval && author.as_deref() == Some(&caller.username) {
            Some("You wrote this commit: someone else must approve it.".to_string())
        } else if votes.iter().any(|v| v.by == caller.username) {
            Some("You approved already; the decision waits for other approvers.".to_string())
        } else {
            None
        };
        let (evidence, serving) = tokio::join!(
            evidence_for(pipeline, &context.evidence, &job),
            serving(context, &job)
        );
        // The endpoint is stable (one name for every commit): this run's is the one its
        // history deployed to.
        let endpoint = match CreatedResource::from_history(&history)
            .into_iter()
            .rfind(|r| r.kind == "Endpoint")
        {
            Some(deployed) => pipeline.endpoint(&deployed.name).await.ok(),
            None => None,
        };
        Ok(ApprovalView {
            execution: detail.summary,
            pending,
            decided,
            author,
            evidence,
            serving,
            policy,
            votes,
            cannot_decide,
            endpoint,
            now: Timestamp::now(),
        })
    }

    fn parse_verdict(text: &str) -> Result<Verdict, AppError> {
        match text.trim().to_ascii_lowercase().as_str() {
            "approve" | "approved" => Ok(Verdict::Approved),
            "reject" | "rejected" => Ok(Verdict::Rejected),
            other => Err(AppError::InvalidInput(format!(
                "'{}' is not a decision; use approve or reject.",
                shorten(other, 40)
            ))),
        }
    }

    /// How long a late decision waits for the decision that beat it to show in the run's
    /// history, so that it can be told who decided.
    const DECISION_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

    /// Why the execution is not waiting for a decision, as a 404 or 409 with words.
    async fn not_waiting(
        pipeline: &dyn ControlPlane,
        execution: &ExecutionRef,
        wait_for_decision: bool,
    ) -> Result<AppError, AppError> {
        // A decision the backend took a moment ago may not be in the history yet (the engine
        // and Step Functions both record it as the run resumes, and a busy machine can take
        // seconds to get there): give it time, measured by the clock rather than by tries, so
        // slow reads do not shorten the wait.
        let patience = tokio::time::Instant::now() + DECISION_PATIENCE;
        let detail = loop {
            // The run's state first, its history second: a run that has ended by the time its
            // state is read has every event in the history read after it. The other order
            // can read the history just before the decision lands and the state just after
            // the run ended by it, and tell a late approver there was nothing to decide.
            let detail = pipeline.describe_execution(execution).await?;
            if let Some(decided) = recorded_decision(pipeline, execution).await? {
                return Ok(AppError::Conflict(decided.already()));
            }
            if !wait_for_decision
                || detail.summary.status != ExecutionStatus::Running
                || tokio::time::Instant::now() >= patience
            {
                break detail;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        };
        Ok(AppError::Conflict(match detail.summary.status {
            ExecutionStatus::Running => format!(
                "Execution {} is not waiting for a decision (it is at {}).",
                detail.summary.name,
                detail
                    .summary
                    .current_state
                    .as_deref()
                    .unwrap_or("another state")
            ),
            status => format!(
                "Execution {} has ended ({}); there is nothing to decide.",
                detail.summary.name,
                status.as_str()
            ),
        }))
    }

    /// One decision request: checked, serialised with the others for the same execution in
    /// this process, counted or sent, and recorded once in the audit log whatever happens.
    pub async fn decide(
        context: &ServerContext,
        caller: &Identity,
        id: &str,
        verdict: &str,
        comment: &str,
    ) -> Result<DecideAnswer, AppError> {
        let target = shorten(id.trim(), 120);
        let mut details =
            json!({ "verdict": shorten(verdict, 40), "comment": shorten(comment, 500) });
        let outcome = attempt(context, caller, id, verdict, comment, &mut details).await;
        let audit_outcome = match &outcome {
            Ok(_) => AuditOutcome::Success,
            Err(AppError::Upstream(_) | AppError::Unavailable(_)) => AuditOutcome::Failure,
            Err(_) => AuditOutcome::Refused,
        };
        if let (Err(error), Some(fields)) = (&outcome, details.as_object_mut()) {
            fields.insert("refusal".into(), json!(error.to_string()));
        }
        let action = match &outcome {
            Ok(DecideAnswer::Counted { .. }) => "approval.vote",
            _ => "approval.decide",
        };
        let name = details
            .get("execution")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or(target);
        record(Some(caller), action, &name, audit_outcome, details).await?;
        if let Ok(DecideAnswer::Decided {
            verdict: Verdict::Approved,
        }) = &outcome
        {
            crate::functions::superseding::supersede_older_deployments(
                context.pipeline.as_ref(),
                caller,
                &ExecutionRef::Name(name),
            )
            .await;
        }
        outcome
    }

    async fn attempt(
        context: &ServerContext,
        caller: &Identity,
        id: &str,
        verdict: &str,
        comment: &str,
        details: &mut Value,
    ) -> Result<DecideAnswer, AppError> {
        let pipeline = context.pipeline.as_ref();
        let verdict = parse_verdict(verdict)?;
        let comment = check_comment(verdict, comment).map_err(AppError::InvalidInput)?;
        let execution = ExecutionRef::parse(id).map_err(|e| AppError::InvalidInput(e.0))?;
        details["execution"] = json!(execution.name());
        let _serialised = context.decision_locks.lock(execution.name()).await;
        let detail = pipeline.describe_execution(&execution).await?;
        let Some(pending) = pipeline.approval_of(&detail.summary).await? else {
            // Nothing waits: perhaps because another approver decided a moment ago and the
            // run has not recorded it yet (the backend closes the wait before the history
            // shows the decision), so give the decision time to appear and name it.
            return Err(not_waiting(pipeline, &execution, true).await?);
        };
        details["scheduled_event_id"] = json!(pending.scheduled_event_id);
        details["token_sha256"] = json!(pending.token_sha256);
        let policy = context.approval_policy;
        if verdict == Verdict::Approved
            && policy.no_self_approval
            && author_of(&detail).as_deref() == Some(&caller.username)
        {
            return Err(AppError::NotAllowed(
                "You wrote this commit: someone else must approve it.".into(),
            ));
        }
        if verdict == Verdict::Approved && policy.quorum > 1 {
            let ballot = BallotKey {
                execution: detail.summary.name.clone(),
                scheduled_event_id: pending.scheduled_event_id,
            };
            let vote = Vote {
                by: caller.username.clone(),
                at: Timestamp::now(),
                comment: comment.clone(),
            };
            let cast = context.ballots.cast(&ballot, vote).await?;
            let approvals = u32::try_from(cast.votes.len()).unwrap_or(u32::MAX);
            details["approvals"] = json!(approvals);
            if approvals < policy.quorum {
                if !cast.counted {
                    return Err(AppError::Conflict(
                        "You approved already; the decision waits for other approvers.".into(),
                    ));
                }
                return Ok(DecideAnswer::Counted {
                    approvals,
                    needed: policy.quorum,
                });
            }
            // The quorum is met: by this vote, or earlier by one whose decision did not reach
            // the pipeline (the task token accepts one decision, so deciding again is safe).
        }
        // What the decider was shown, kept with the decision: the lineage reads it from the
        // audit record instead of reading the test data and predictions again.
        if let Ok(evidence) = evidence_for(pipeline, &context.evidence, &job_name(&detail)).await {
            details["accuracy"] = json!(evidence.accuracy());
        }
        let decision = Decision {
            verdict,
            by: caller.username.clone(),
            comment,
            at: Timestamp::now(),
        };
        match pipeline.decide(&execution, &decision).await {
            Ok(()) => {
                details["decision"] = json!(verdict_word(verdict));
                Ok(DecideAnswer::Decided { verdict })
            }
            Err(PipelineError::Conflict(_)) => Err(not_waiting(pipeline, &execution, true).await?),
            Err(other) => Err(other.into()),
        }
    }
}
