//! Helpers shared by the integration tests.

use engine::{
    handler, Engine, EngineConfig, ExecutionStatus, FunctionError, HistoryRequest, LambdaHandler,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A local function that counts its calls in `calls` and fails with `Flaky` on the first
/// `fail_first` of them; the others answer `{"seen": <payload>}`.
pub fn flaky_count(calls: Arc<AtomicUsize>, fail_first: usize) -> LambdaHandler {
    handler(move |req| {
        let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
        if n <= fail_first {
            return Err(FunctionError {
                error: "Flaky".into(),
                cause: format!("call {n}"),
            });
        }
        Ok(json!({"seen": req.payload}))
    })
}

/// A file of the repository, found through cargo's run-time CARGO_MANIFEST_DIR rather than
/// the compiled-in one: a test binary built from a clone elsewhere is reused when its sources
/// are the same.
pub fn repo_file(relative: &str) -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("..")
        .join(relative)
}

pub fn read(relative: &str) -> String {
    std::fs::read_to_string(repo_file(relative)).unwrap()
}

/// The stable endpoint the pipeline deploys to (`EndpointName` in the local substitutions).
pub const SERVING: &str = "iris-serving";

/// The seed pipeline, in JSONPath and in JSONata: the two run the same pipeline.
pub const DEFINITIONS: [&str; 2] = [
    "infra/statemachine/mlops.asl.json",
    "infra/statemachine/mlops.jsonata.asl.json",
];

pub fn local_substitutions() -> BTreeMap<String, String> {
    serde_json::from_str(&read("infra/statemachine/local-substitutions.json")).unwrap()
}

/// A data dir with the iris files where the definitions expect them.
pub fn data_dir_with_iris(root: &Path) -> PathBuf {
    let data = root.join("data");
    let bucket = data.join("ml-models");
    std::fs::create_dir_all(bucket.join("iris")).unwrap();
    for f in ["iris.csv", "train.csv", "test.csv"] {
        std::fs::copy(
            repo_file(&format!("engine/data/iris/{f}")),
            bucket.join("iris").join(f),
        )
        .unwrap();
    }
    std::fs::copy(
        repo_file("engine/data/iris/iris.csv"),
        bucket.join("iris.csv"),
    )
    .unwrap();
    data
}

pub async fn open(root: &Path) -> Engine {
    let config = EngineConfig::new(Some(root.join("engine.sqlite")), data_dir_with_iris(root));
    Engine::open(config).await.unwrap()
}

pub fn history(engine: &Engine, arn: &str) -> Vec<Value> {
    engine
        .get_execution_history(arn, &HistoryRequest::default())
        .unwrap()
        .events
}

pub fn event_types(engine: &Engine, arn: &str) -> Vec<String> {
    history(engine, arn)
        .iter()
        .map(|e| e["type"].as_str().unwrap().to_string())
        .collect()
}

/// The task token of a `.waitForTaskToken` task that was submitted and not yet closed,
/// read from the history as the dashboard does.
pub fn pending_token(engine: &Engine, arn: &str) -> Option<String> {
    let events = history(engine, arn);
    let pending = engine::pending_callbacks(&events);
    let callback = pending.last()?;
    let submitted = events.iter().any(|e| {
        e["type"] == "TaskSubmitted" && e["id"].as_i64() > Some(callback.scheduled_event_id)
    });
    callback.token.clone().filter(|_| submitted)
}

/// Polls (in real time) until the execution waits for a decision.
pub async fn wait_for_pending_token(engine: &Engine, arn: &str) -> String {
    for _ in 0..3000 {
        if let Some(token) = pending_token(engine, arn) {
            return token;
        }
        let status = engine.describe_execution(arn).unwrap().status;
        assert_eq!(
            status,
            ExecutionStatus::Running,
            "{:?}",
            engine.describe_execution(arn).unwrap()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the execution never asked for a decision");
}

/// Starts the pipeline for `commit` and approves it once it asks for a decision; returns
/// the execution ARN. `before_approval` runs while the execution waits for the decision.
pub async fn approve_commit(
    engine: &engine::Engine,
    machine: &str,
    commit: &str,
    before_approval: impl FnOnce(),
) -> String {
    let input = json!({"commitID": commit, "imageUri": "local/iris:latest"}).to_string();
    let arn = engine
        .start_execution(machine, Some(commit), Some(&input))
        .unwrap()
        .execution_arn;
    let token = wait_for_pending_token(engine, &arn).await;
    before_approval();
    engine
        .send_task_success(&token, r#"{"decision": "approved", "by": "ana"}"#)
        .unwrap();
    arn
}
