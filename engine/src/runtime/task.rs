//! One attempt of a Task state. The attempt's resolved parameters, task token, submission
//! and result are journaled, so an execution restarted in the middle of a task resumes
//! that same attempt — it does not create the job again or notify the approver twice.

use crate::asl::definition::{Seconds, State, TaskSpec};
use crate::asl::query::{QueryLanguage, StatesEnv};
use crate::asl::variables::Sources;
use crate::clock::after;
use crate::error::{names, StatesError};
use crate::integrations::ServiceCall;
use crate::runtime::history::error_details;
use crate::runtime::resource::{Pattern, Resource};
use crate::runtime::runner::Visit;
use crate::runtime::tokens::{close_or_take_decision, new_token, now_ms, wait_for_decision};
use crate::runtime::{io, storage_failure, ExecutionRun};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// The default task timeout in Step Functions (99999999 seconds).
const DEFAULT_TIMEOUT_SECONDS: u64 = 99_999_999;

/// `TimeoutSeconds[Path]` or `HeartbeatSeconds[Path]`; a path reads the effective input
/// (`sources.input`) or a variable.
fn resolve_seconds(
    seconds: &Option<Seconds>,
    sources: &Sources,
    field: &str,
) -> Result<Option<u64>, StatesError> {
    match seconds {
        None => Ok(None),
        Some(Seconds::Fixed(n)) => Ok(Some(*n)),
        Some(Seconds::Expr(_)) => crate::runtime::query::task_seconds(
            seconds,
            field.trim_end_matches("Path"),
            &StatesEnv::from_sources(sources),
        ),
        Some(Seconds::Path(p)) => {
            let v = p
                .select(sources)
                .map_err(|e| StatesError::runtime(e.to_string()))?;
            v.as_u64().filter(|n| *n > 0).map(Some).ok_or_else(|| {
                StatesError::runtime(format!(
                    "{field} '{p}' must select a positive integer, found {v}"
                ))
            })
        }
    }
}

pub(crate) async fn attempt(
    visit: &Visit<'_>,
    spec: &TaskSpec,
    attempt: u32,
    last: &mut i64,
) -> Result<Value, StatesError> {
    let (run, state, raw): (&Arc<ExecutionRun>, &State, &Value) =
        (visit.run, visit.state, visit.raw);
    let akey = format!("{}/a{attempt}", visit.key);
    let resource = Resource::parse(&spec.resource);
    let is_function = matches!(resource, Resource::Function { .. });
    let pattern = match &resource {
        Resource::Service { pattern, .. } => *pattern,
        _ => Pattern::RequestResponse,
    };
    let mut record = run.journal_get(&akey)?.unwrap_or(Value::Null);
    if let Some(result) = record.get("result") {
        // This attempt finished before a restart: its events are already written.
        return match result.get("ok") {
            Some(v) => Ok(v.clone()),
            None => Err(
                serde_json::from_value(result.get("err").cloned().unwrap_or_default())
                    .unwrap_or_else(|_| StatesError::runtime("unreadable journal entry")),
            ),
        };
    }
    let entered = run.env.clock.now();
    let plain_ctx = run.context(&state.name, entered, attempt, None);
    let effective = io::input_path(&state.input_path, &visit.sources(raw, &plain_ctx))?;
    let on_input = visit.sources(&effective, &plain_ctx);
    let resuming = !record.is_null();
    if !resuming {
        let token = (pattern == Pattern::WaitForTaskToken).then(new_token);
        let ctx = run.context(&state.name, entered, attempt, token.as_deref());
        let params = if state.language == QueryLanguage::Jsonata {
            crate::runtime::query::arguments(visit, &ctx)?
        } else {
            match &state.parameters {
                Some(t) => t.evaluate(&visit.sources(&effective, &ctx))?,
                None => effective.clone(),
            }
        };
        io::check_size(
            &params,
            run.env.limits.max_payload_bytes,
            &format!("parameters of state '{}'", state.name),
        )?;
        if let Some(token) = &token {
            run.env
                .store
                .create_token(token, &run.arn, &akey, now_ms(&run.env.clock))
                .map_err(storage_failure)?;
        }
        record = json!({"params": params, "token": token});
        run.journal_put(&akey, &record)?;
    }
    let params = record.get("params").cloned().unwrap_or(Value::Null);
    let token = record
        .get("token")
        .and_then(Value::as_str)
        .map(str::to_string);
    let timeout = resolve_seconds(&spec.timeout, &on_input, "TimeoutSecondsPath")?;
    let heartbeat = resolve_seconds(&spec.heartbeat, &on_input, "HeartbeatSecondsPath")?;
    let (resource_type, resource_name) = resource.event_names();
    let region = "local";

    *last = if is_function {
        run.emit(
            &format!("{akey}/scheduled"),
            "LambdaFunctionScheduled",
            *last,
            Some(json!({"resource": spec.resource, "input": params.to_string(), "timeoutInSeconds": timeout})),
        )?
    } else {
        run.emit(
            &format!("{akey}/scheduled"),
            "TaskScheduled",
            *last,
            Some(json!({
                "resourceType": resource_type,
                "resource": resource_name,
                "region": region,
                "parameters": params.to_string(),
                "timeoutInSeconds": timeout,
                "heartbeatInSeconds": heartbeat
            })),
        )?
    };
    *last = if is_function {
        run.emit(
            &format!("{akey}/started"),
            "LambdaFunctionStarted",
            *last,
            None,
        )?
    } else {
        run.emit(
            &format!("{akey}/started"),
            "TaskStarted",
            *last,
            Some(json!({"resourceType": resource_type, "resource": resource_name})),
        )?
    };

    let now = run.env.clock.now();
    let deadline = run.journaled_deadline(&format!("{akey}/deadline"), || {
        after(
            now,
            Duration::from_secs(timeout.unwrap_or(DEFAULT_TIMEOUT_SECONDS)),
        )
    })?;
    let work = invoke(
        run,
        state,
        &resource,
        &params,
        token.as_deref(),
        heartbeat,
        &akey,
        resuming,
        &mut record,
        last,
    );
    let outcome = tokio::select! {
        result = work => result,
        _ = run.env.clock.sleep_until(deadline) => {
            match &token {
                Some(t) => match close_or_take_decision(&run.env.store, t)? {
                    Some(decided) => decided,
                    None => Err(StatesError::new(names::TIMEOUT, "")),
                },
                None => Err(StatesError::new(names::TIMEOUT, "")),
            }
        }
    };
    let outcome = outcome.and_then(|v| {
        io::check_size(
            &v,
            run.env.limits.max_payload_bytes,
            &format!("result of state '{}'", state.name),
        )?;
        Ok(v)
    });
    if let (Err(_), Some(token)) = (&outcome, &token) {
        // The task failed (its notifier, say): the token must not accept a decision now.
        run.env.store.close_token(token).map_err(storage_failure)?;
    }
    let timed_out = matches!(&outcome, Err(e) if e.error == names::TIMEOUT || e.error == names::HEARTBEAT_TIMEOUT);
    *last = match (&outcome, is_function, timed_out) {
        (Ok(v), true, _) => run.emit(&format!("{akey}/done"), "LambdaFunctionSucceeded", *last, Some(json!({"output": v.to_string()})))?,
        (Ok(v), false, _) => run.emit(
            &format!("{akey}/done"),
            "TaskSucceeded",
            *last,
            Some(json!({"resourceType": resource_type, "resource": resource_name, "output": v.to_string()})),
        )?,
        (Err(e), true, true) => run.emit(&format!("{akey}/done"), "LambdaFunctionTimedOut", *last, Some(error_details(&e.error, &e.cause)))?,
        (Err(e), true, false) => run.emit(&format!("{akey}/done"), "LambdaFunctionFailed", *last, Some(error_details(&e.error, &e.cause)))?,
        (Err(e), false, timed_out) => {
            let mut details = error_details(&e.error, &e.cause);
            details["resourceType"] = json!(resource_type);
            details["resource"] = json!(resource_name);
            let kind = if timed_out { "TaskTimedOut" } else { "TaskFailed" };
            run.emit(&format!("{akey}/done"), kind, *last, Some(details))?
        }
    };
    record["result"] = match &outcome {
        Ok(v) => json!({"ok": v}),
        Err(e) => json!({"err": e}),
    };
    run.journal_put(&akey, &record)?;
    outcome
}

#[allow(clippy::too_many_arguments)]
async fn invoke(
    run: &Arc<ExecutionRun>,
    state: &State,
    resource: &Resource,
    params: &Value,
    token: Option<&str>,
    heartbeat: Option<u64>,
    akey: &str,
    replayed: bool,
    record: &mut Value,
    last: &mut i64,
) -> Result<Value, StatesError> {
    let services = &run.env.services;
    let (service, action, pattern) = match resource {
        Resource::Function { name } => {
            return services.invoke_function(name, params, &run.arn, &state.name).await;
        }
        Resource::Unsupported(arn) => {
            return Err(StatesError::new(
                names::RUNTIME,
                format!("The resource '{arn}' of state '{}' is not supported by the local engine (an unresolved substitution?)", state.name),
            ))
        }
        Resource::Service { service, action, pattern } => (service.as_str(), action.as_str(), *pattern),
    };
    // A replayed attempt may have made its call before the process stopped: the service
    // then answers from what exists instead of refusing a duplicate name.
    let submitted = record.get("submitted").is_some();
    let call = ServiceCall {
        service,
        action,
        params,
        resuming: replayed,
        execution_arn: &run.arn,
        state_name: &state.name,
    };
    let (resource_type, resource_name) = resource.event_names();
    match pattern {
        Pattern::RequestResponse => services.request(&call).await,
        Pattern::Sync | Pattern::WaitForTaskToken => {
            if !submitted {
                let submitted = if pattern == Pattern::Sync {
                    services.start_sync(&call).await?
                } else {
                    services.request(&call).await?
                };
                record["submitted"] = submitted.clone();
                run.journal_put(akey, record)?;
                *last = run.emit(
                    &format!("{akey}/submitted"),
                    "TaskSubmitted",
                    *last,
                    Some(json!({"resourceType": resource_type, "resource": resource_name, "output": submitted.to_string()})),
                )?;
            }
            if pattern == Pattern::Sync {
                services.wait_sync(&call).await
            } else {
                let token = token
                    .ok_or_else(|| StatesError::runtime("a waitForTaskToken task has no token"))?;
                wait_for_decision(
                    &run.env.store,
                    &run.env.tokens,
                    &run.env.clock,
                    token,
                    heartbeat,
                )
                .await
            }
        }
    }
}
