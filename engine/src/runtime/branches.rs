//! Parallel and Map states: their branches and iterations run as nested machines under
//! the state's attempt key, and the first failure cancels the rest. Each branch and each
//! iteration is a variable scope of its own inside the state's scope: it reads the outer
//! variables and its own assignments end with it.

use crate::asl::definition::{MaxConcurrency, PathField, StateKind, StateMachine};
use crate::asl::query::{QueryLanguage, StatesEnv};
use crate::asl::variables::Sources;
use crate::error::StatesError;
use crate::runtime::history;
use crate::runtime::runner::{effective_parameters, run_machine, Visit};
use crate::runtime::{io, query, ExecutionRun};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::task::JoinSet;

/// Tasks of cancelled branches or iterations stop accepting decisions, as their tasks
/// were stopped. Best effort: a failure here leaves tokens nobody waits for.
fn close_cancelled_tokens(run: &ExecutionRun, attempt_key: &str) {
    let _ = run
        .env
        .store
        .close_tokens_under(&run.arn, &format!("{attempt_key}/"));
}

pub(crate) async fn parallel(
    visit: &Visit<'_>,
    branches: &[Arc<StateMachine>],
    attempt: u32,
    last: &mut i64,
) -> Result<Value, StatesError> {
    let run = visit.run;
    let input = effective_parameters(visit, attempt)?;
    let akey = format!("{}/a{attempt}", visit.key);
    let started = run.emit(
        &format!("{akey}/started"),
        "ParallelStateStarted",
        *last,
        None,
    )?;
    *last = started;
    let mut set = JoinSet::new();
    for (i, branch) in branches.iter().enumerate() {
        let fut = run_machine(
            run.clone(),
            branch.clone(),
            input.clone(),
            format!("{akey}/b{i}"),
            started,
            visit.vars.inner_scope(),
        );
        set.spawn(async move { (i, fut.await) });
    }
    let mut outputs = vec![Value::Null; branches.len()];
    let mut latest = started;
    while let Some(joined) = set.join_next().await {
        let (i, result) =
            joined.map_err(|e| StatesError::runtime(format!("a branch stopped: {e}")))?;
        match result {
            Ok((output, branch_last)) => {
                outputs[i] = output;
                latest = latest.max(branch_last);
            }
            Err(error) => {
                set.abort_all();
                close_cancelled_tokens(run, &akey);
                *last = run.emit(
                    &format!("{akey}/failed"),
                    "ParallelStateFailed",
                    latest,
                    Some(history::error_details(&error.error, &error.cause)),
                )?;
                return Err(error);
            }
        }
    }
    *last = run.emit(
        &format!("{akey}/succeeded"),
        "ParallelStateSucceeded",
        latest,
        None,
    )?;
    Ok(Value::Array(outputs))
}

pub(crate) async fn map(
    visit: &Visit<'_>,
    attempt: u32,
    last: &mut i64,
) -> Result<Value, StatesError> {
    let (run, state) = (visit.run, visit.state);
    let StateKind::Map {
        processor,
        items_path,
        item_selector,
        max_concurrency,
        items: jsonata_items,
        jsonata_selector,
    } = &state.kind
    else {
        return Err(StatesError::runtime("not a Map state"));
    };
    let ctx = run.context(&state.name, run.env.clock.now(), attempt, None);
    let effective = io::input_path(&state.input_path, &visit.sources(visit.raw, &ctx))?;
    let on_input = visit.sources(&effective, &ctx);
    let jsonata = state.language == QueryLanguage::Jsonata;
    let items = if jsonata {
        query::map_items(visit, jsonata_items.as_ref(), &ctx)?
    } else {
        let items = match items_path {
            PathField::Path(p) => p
                .select(&on_input)
                .map_err(|e| StatesError::runtime(e.to_string()))?,
            _ => effective.clone(),
        };
        let Value::Array(items) = items else {
            return Err(StatesError::runtime(format!(
                "Map state '{}': the ItemsPath must select an array, found {items}",
                state.name
            )));
        };
        items
    };
    let akey = format!("{}/a{attempt}", visit.key);
    let started = run.emit(
        &format!("{akey}/started"),
        "MapStateStarted",
        *last,
        Some(json!({"length": items.len()})),
    )?;
    *last = started;
    let limit = match concurrency_bound(max_concurrency, &on_input, &state.name)? {
        0 => items.len().max(1),
        n => n,
    };
    let permits = Arc::new(tokio::sync::Semaphore::new(limit));
    let mut set = JoinSet::new();
    for (index, item) in items.into_iter().enumerate() {
        let iteration_input = match item_selector {
            _ if jsonata => {
                query::select_item(visit, jsonata_selector.as_ref(), &ctx, index, item)?
            }
            Some(selector) => {
                let mut item_ctx = ctx.clone();
                item_ctx["Map"] = json!({"Item": {"Index": index, "Value": item}});
                selector.evaluate(&on_input.with_context(&item_ctx))?
            }
            None => item,
        };
        let (run, processor, permits, name) = (
            run.clone(),
            processor.clone(),
            permits.clone(),
            state.name.clone(),
        );
        let scope_vars = visit.vars.inner_scope();
        let scope = format!("{akey}/i{index}");
        set.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let details = json!({"name": name, "index": index});
            let result = async {
                let began = run.emit(
                    &format!("{scope}/started"),
                    "MapIterationStarted",
                    started,
                    Some(details.clone()),
                )?;
                let (output, end) = run_machine(
                    run.clone(),
                    processor,
                    iteration_input,
                    scope.clone(),
                    began,
                    scope_vars,
                )
                .await?;
                let done = run.emit(
                    &format!("{scope}/succeeded"),
                    "MapIterationSucceeded",
                    end,
                    Some(details.clone()),
                )?;
                Ok::<_, StatesError>((output, done))
            }
            .await;
            if result.is_err() {
                // Best effort: the Map's own failure event follows either way.
                let _ = run.emit(
                    &format!("{scope}/failed"),
                    "MapIterationFailed",
                    started,
                    Some(details),
                );
            }
            (index, result)
        });
    }
    let mut outputs: Vec<Value> = Vec::new();
    let mut results: Vec<(usize, Value)> = Vec::new();
    let mut latest = started;
    while let Some(joined) = set.join_next().await {
        let (index, result) =
            joined.map_err(|e| StatesError::runtime(format!("an iteration stopped: {e}")))?;
        match result {
            Ok((output, id)) => {
                latest = latest.max(id);
                results.push((index, output));
            }
            Err(error) => {
                set.abort_all();
                close_cancelled_tokens(run, &akey);
                *last = run.emit(&format!("{akey}/failed"), "MapStateFailed", latest, None)?;
                return Err(error);
            }
        }
    }
    results.sort_by_key(|(i, _)| *i);
    outputs.extend(results.into_iter().map(|(_, v)| v));
    *last = run.emit(
        &format!("{akey}/succeeded"),
        "MapStateSucceeded",
        latest,
        None,
    )?;
    Ok(Value::Array(outputs))
}

/// The Map state's concurrency bound (0: none). `MaxConcurrencyPath` is resolved against
/// the state's effective input (`sources.input`) or a variable and must select a
/// non-negative integer.
fn concurrency_bound(
    bound: &MaxConcurrency,
    sources: &Sources,
    state: &str,
) -> Result<usize, StatesError> {
    let path = match bound {
        MaxConcurrency::Fixed(n) => return Ok(*n),
        MaxConcurrency::Expr(e) => {
            let n = query::seconds(e, "MaxConcurrency", 0, &StatesEnv::from_sources(sources))?;
            return Ok(usize::try_from(n).unwrap_or(usize::MAX));
        }
        MaxConcurrency::Path(path) => path,
    };
    let value = path.select(sources).map_err(|e| match path.variable() {
        Some(_) => StatesError::runtime(format!(
            "The MaxConcurrencyPath '{path}' of the Map state '{state}' could not be resolved: {e}"
        )),
        None => StatesError::runtime(format!(
            "The MaxConcurrencyPath '{path}' of the Map state '{state}' could not be found in the input '{}'",
            sources.input
        )),
    })?;
    value
        .as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| {
            StatesError::runtime(format!(
                "The MaxConcurrencyPath '{path}' of the Map state '{state}' selected {value}, which is not a non-negative integer"
            ))
        })
}
