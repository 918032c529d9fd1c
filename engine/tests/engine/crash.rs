//! Crash test: the CLI runs the pipeline in a child process that is killed with SIGKILL
//! while a training job runs, while executions wait for approval, and at a random moment;
//! a fresh engine on the same SQLite file then finishes every execution, each step once.

use crate::common::*;
use engine::sagemaker::ErrorCode;
use engine::store::Store;
use engine::{Engine, EngineConfig, ExecutionStatus};
use serde_json::{json, Value};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROWS_REPEATED: usize = 1500;

fn child(root: &Path, name: &str) -> Child {
    let input = root.join(format!("{name}.json"));
    let commit = format!("{name}-0001");
    std::fs::write(
        &input,
        json!({"commitID": commit, "imageUri": "local/iris:latest"}).to_string(),
    )
    .unwrap();
    Command::new(env!("CARGO_BIN_EXE_gatehouse-engine"))
        .args(["run", "--definition"])
        .arg(repo_file("infra/statemachine/mlops.asl.json"))
        .arg("--input")
        .arg(&input)
        .arg("--substitutions")
        .arg(repo_file("infra/statemachine/local-substitutions.json"))
        .arg("--database")
        .arg(root.join("engine.sqlite"))
        .arg("--data-dir")
        .arg(root.join("data"))
        .args(["--name", name])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn kill(mut child: Child) {
    child.kill().unwrap(); // SIGKILL on Unix: no destructor, no flush, no goodbye.
    child.wait().unwrap();
}

fn execution_arn(name: &str) -> String {
    format!("arn:aws:states:local:000000000000:execution:cli:{name}")
}

/// Polls the store (read-only use) until `check` holds.
fn wait_until(root: &Path, what: &str, check: impl Fn(&Store) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if root.join("engine.sqlite").exists() {
            if let Ok(store) = Store::open(&root.join("engine.sqlite")) {
                if check(&store) {
                    return;
                }
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    panic!("timed out waiting until {what}");
}

fn training_status(store: &Store, commit: &str) -> Option<String> {
    store
        .resource("training-job", commit)
        .ok()
        .flatten()
        .and_then(|j| j["TrainingJobStatus"].as_str().map(str::to_string))
}

fn waits_for_approval(store: &Store, name: &str) -> bool {
    let events = store
        .events(&execution_arn(name), None, false, 1000)
        .unwrap_or_default();
    events.iter().any(|e| {
        e["type"] == "TaskSubmitted"
            && e["taskSubmittedEventDetails"]["resource"] == "invoke.waitForTaskToken"
    })
}

/// The invariants every execution must keep across kills: contiguous event ids, each
/// state entered once, one TaskScheduled per task state, one start and one end.
fn assert_each_step_once(name: &str, events: &[Value], approve: bool) {
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert_eq!(
        ids,
        (1..=ids.len() as i64).collect::<Vec<_>>(),
        "{name}: event ids"
    );
    let mut entered: Vec<String> = events
        .iter()
        .filter(|e| e["type"].as_str().unwrap().ends_with("StateEntered"))
        .map(|e| {
            e["stateEnteredEventDetails"]["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let count = entered.len();
    entered.sort();
    entered.dedup();
    assert_eq!(
        entered.len(),
        count,
        "{name}: a state was entered twice: {events:#?}"
    );
    // The one expected task failure: the first deployment finds no endpoint to update.
    let unexpected_failure = |e: &Value| {
        e["type"] == "TaskFailed"
            && !(e["taskFailedEventDetails"]["resource"] == "describeEndpoint"
                && e["taskFailedEventDetails"]["error"] == "SageMaker.SageMakerException")
    };
    assert!(
        !events.iter().any(|e| approve && unexpected_failure(e)),
        "{name}: {events:#?}"
    );
    // Train, model, transform, approval; then endpoint config, find the endpoint, create
    // or update it, one DescribeEndpoint (it settles within the first wait), tag it, notify.
    let scheduled = events
        .iter()
        .filter(|e| e["type"] == "TaskScheduled" || e["type"] == "LambdaFunctionScheduled")
        .count();
    assert_eq!(scheduled, if approve { 10 } else { 4 }, "{name}");
    assert_eq!(
        events
            .iter()
            .filter(|e| e["type"].as_str().unwrap().starts_with("Execution"))
            .count(),
        2
    );
}

/// Kills the child at pseudo-random moments (the seed is printed) over and over, then
/// finishes the execution in-process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_kills_at_random_moments() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let data = data_dir_with_iris(root);
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("kill schedule seed: {seed}");
    for _ in 0..8 {
        // xorshift: a different moment each round.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let child = child(root, "random");
        std::thread::sleep(Duration::from_millis(20 + seed % 300));
        kill(child);
    }
    let engine = Engine::open(EngineConfig::new(Some(root.join("engine.sqlite")), data))
        .await
        .unwrap();
    let arn = execution_arn("random");
    let token = wait_for_pending_token(&engine, &arn).await;
    engine
        .send_task_success(&token, r#"{"decision": "approved"}"#)
        .unwrap();
    let done = tokio::time::timeout(Duration::from_secs(120), engine.wait_for_execution(&arn))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.status, ExecutionStatus::Succeeded, "{done:?}");
    assert_each_step_once("random", &history(&engine, &arn), true);
    assert_eq!(engine.sagemaker().list_training_jobs().unwrap().len(), 1);
    let approvals = engine
        .notifications()
        .unwrap()
        .iter()
        .filter(|n| n.kind == "approval_requested")
        .count();
    assert_eq!(approvals, 1);
    assert_eq!(
        engine
            .sagemaker()
            .invoke_endpoint(SERVING, "4.5,1.3,0.3,0.3")
            .unwrap(),
        "setosa"
    );
    assert_eq!(
        engine.sagemaker().describe_endpoint(SERVING).unwrap()["EndpointConfigName"],
        "random-0001"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_processes_lose_nothing_and_repeat_nothing() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let data = data_dir_with_iris(root);
    // A training set large enough that training takes a noticeable time to be killed in.
    let train = read("engine/data/iris/train.csv").repeat(ROWS_REPEATED);
    std::fs::write(data.join("ml-models/iris/train.csv"), train).unwrap();

    // 1. Killed while the training job of "alpha" runs.
    let first = child(root, "alpha");
    wait_until(root, "alpha trains", |s| {
        training_status(s, "alpha-0001").as_deref() == Some("InProgress")
    });
    kill(first);

    // 2. Restarted (resuming alpha, starting beta), killed while alpha waits for approval.
    let second = child(root, "beta");
    wait_until(root, "alpha waits for approval", |s| {
        waits_for_approval(s, "alpha")
    });
    kill(second);

    // 3. Restarted (starting gamma), killed at some moment of its run.
    let third = child(root, "gamma");
    wait_until(root, "gamma started", |s| {
        s.execution(&execution_arn("gamma"))
            .ok()
            .flatten()
            .is_some()
    });
    std::thread::sleep(Duration::from_millis(150));
    kill(third);

    // 4. A fresh engine resumes everything; decisions are accepted.
    let engine = Engine::open(EngineConfig::new(
        Some(root.join("engine.sqlite")),
        data.clone(),
    ))
    .await
    .unwrap();
    for (name, approve) in [("alpha", true), ("beta", false), ("gamma", true)] {
        let arn = execution_arn(name);
        let token = wait_for_pending_token(&engine, &arn).await;
        if approve {
            engine
                .send_task_success(&token, r#"{"decision": "approved"}"#)
                .unwrap();
        } else {
            engine
                .send_task_failure(&token, "rejected", r#"{"decision": "rejected"}"#)
                .unwrap();
        }
        let done = tokio::time::timeout(Duration::from_secs(120), engine.wait_for_execution(&arn))
            .await
            .unwrap()
            .unwrap();
        let expected = if approve {
            ExecutionStatus::Succeeded
        } else {
            ExecutionStatus::Failed
        };
        assert_eq!(done.status, expected, "{name}: {done:?}");

        // Every step ran once: one entry per state, no failed or repeated task.
        assert_each_step_once(name, &history(&engine, &arn), approve);
    }

    // One training job per execution, one approval request each, endpoints serve.
    assert_eq!(engine.sagemaker().list_training_jobs().unwrap().len(), 3);
    let notes = engine.notifications().unwrap();
    for name in ["alpha", "beta", "gamma"] {
        let arn = execution_arn(name);
        let approvals = notes
            .iter()
            .filter(|n| {
                n.kind == "approval_requested" && n.execution_arn.as_deref() == Some(arn.as_str())
            })
            .count();
        assert_eq!(approvals, 1, "{name}");
    }
    // alpha was deployed to the stable endpoint first, then gamma replaced it; the
    // rejected beta never got an endpoint config.
    let sm = engine.sagemaker();
    let served: Vec<String> = sm
        .endpoint_deployments(SERVING)
        .unwrap()
        .iter()
        .filter(|d| d.served_from.is_some())
        .map(|d| d.endpoint_config_name.clone())
        .collect();
    assert_eq!(served, ["alpha-0001", "gamma-0001"]);
    assert_eq!(
        sm.invoke_endpoint(SERVING, "4.5,1.3,0.3,0.3").unwrap(),
        "setosa"
    );
    // Trained on the repeated rows, the tree may split the borderline virginica differently.
    let label = sm.invoke_endpoint(SERVING, "5.9,3,5.1,1.8").unwrap();
    assert!(
        ["versicolor", "virginica"].contains(&label.as_str()),
        "{label}"
    );
    assert_eq!(
        sm.describe_endpoint_config("beta-0001").unwrap_err().code,
        ErrorCode::ValidationException
    );
    let job: Value = sm.describe_training_job("alpha-0001").unwrap();
    assert_eq!(job["TrainingJobStatus"], "Completed");
}
