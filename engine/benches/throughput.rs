//! `cargo bench -p engine`: state transitions per second on a chain of Pass states (JSONPath
//! `Parameters`, and the same chain in JSONata with `Output`), and whole seed pipelines
//! (mlops.asl.json on iris, auto-approved) per minute.
//! A plain bench binary (no criterion) so it builds fast; it prints its figures.

use engine::{handler, Engine, EngineConfig, ExecutionStatus};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

fn repo(relative: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

async fn pass_chain(root: &Path, chain: usize, executions: usize, jsonata: bool) {
    let file = if jsonata {
        "chain-jsonata.sqlite"
    } else {
        "chain.sqlite"
    };
    let engine = Engine::open(EngineConfig::new(Some(root.join(file)), root.join("data")))
        .await
        .unwrap();
    let mut states = serde_json::Map::new();
    for i in 0..chain {
        let mut state = if jsonata {
            json!({"Type": "Pass", "Output": {"step": i, "prev": "{% $states.input.step %}"}})
        } else {
            json!({"Type": "Pass", "Parameters": {"step": i, "prev.$": "$.step"}})
        };
        if i + 1 == chain {
            state["End"] = json!(true);
        } else {
            state["Next"] = json!(format!("S{}", i + 1));
        }
        states.insert(format!("S{i}"), state);
    }
    let language = if jsonata { "JSONata" } else { "JSONPath" };
    let definition = json!({"QueryLanguage": language, "StartAt": "S0", "States": states});
    let arn = engine
        .create_state_machine("chain", &definition.to_string(), &BTreeMap::new())
        .unwrap();
    let started = Instant::now();
    let mut arns = Vec::new();
    for _ in 0..executions {
        arns.push(
            engine
                .start_execution(&arn, None, Some(r#"{"step": -1}"#))
                .unwrap()
                .execution_arn,
        );
    }
    for a in &arns {
        let d = engine.wait_for_execution(a).await.unwrap();
        assert_eq!(d.status, ExecutionStatus::Succeeded, "{d:?}");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let transitions = (chain * executions) as f64;
    let label = if jsonata {
        "pass chain (JSONata Output)"
    } else {
        "pass chain"
    };
    println!(
        "{label}: {executions} executions x {chain} Pass states = {transitions} transitions in {elapsed:.2} s -> {:.0} transitions/s (SQLite file, WAL, every step journaled)",
        transitions / elapsed
    );
}

async fn pipelines(root: &Path, total: usize, concurrency: usize) {
    let data = root.join("data");
    std::fs::create_dir_all(data.join("ml-models/iris")).unwrap();
    for f in ["train.csv", "test.csv", "iris.csv"] {
        std::fs::copy(
            repo(&format!("engine/data/iris/{f}")),
            data.join("ml-models/iris").join(f),
        )
        .unwrap();
    }
    let mut config = EngineConfig::new(Some(root.join("pipelines.sqlite")), data);
    config.endpoint_delay = std::time::Duration::ZERO;
    let engine = Engine::open(config).await.unwrap();
    // Auto-approval: the notifier decides at once (the token is already waiting).
    let slot: Arc<OnceLock<Engine>> = Arc::new(OnceLock::new());
    let for_handler = slot.clone();
    engine.register_function(
        "auto-approve",
        handler(move |req| {
            let token = req.payload["token"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if let Some(engine) = for_handler.get() {
                engine
                    .send_task_success(&token, r#"{"decision": "approved", "by": "bench"}"#)
                    .map_err(|e| engine::FunctionError {
                        error: "Approve".into(),
                        cause: e.to_string(),
                    })?;
            }
            Ok(json!({}))
        }),
    );
    let _ = slot.set(engine.clone());
    let mut subs: BTreeMap<String, String> = serde_json::from_str(
        &std::fs::read_to_string(repo("infra/statemachine/local-substitutions.json")).unwrap(),
    )
    .unwrap();
    subs.insert("CreateAndEmailLinkFnName".into(), "auto-approve".into());
    let definition = std::fs::read_to_string(repo("infra/statemachine/mlops.asl.json")).unwrap();
    // The pipeline deploys to one stable endpoint, which takes one update at a time: each
    // concurrent slot gets its own state machine and endpoint. Slot i runs executions i,
    // i + concurrency, ... one after the other.
    let machines: Vec<String> = (0..concurrency)
        .map(|slot| {
            let mut subs = subs.clone();
            subs.insert("EndpointName".into(), format!("bench-serving-{slot}"));
            engine
                .create_state_machine(&format!("mlops-{slot}"), &definition, &subs)
                .unwrap()
        })
        .collect();
    let started = Instant::now();
    let mut in_flight: Vec<String> = Vec::new();
    let mut done = 0;
    let mut next = 0;
    while done < total {
        while in_flight.len() < concurrency && next < total {
            let input: Value =
                json!({"commitID": format!("c{next:07}-bench"), "imageUri": "local/iris"});
            in_flight.push(
                engine
                    .start_execution(
                        &machines[next % concurrency],
                        None,
                        Some(&input.to_string()),
                    )
                    .unwrap()
                    .execution_arn,
            );
            next += 1;
        }
        let first = in_flight.remove(0);
        let d = engine.wait_for_execution(&first).await.unwrap();
        assert_eq!(d.status, ExecutionStatus::Succeeded, "{d:?}");
        done += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "seed pipeline: {total} auto-approved runs of mlops.asl.json on iris (train, model, transform, approval, endpoint config, create or update the endpoint, one 5 s deployment poll, tag, notify), {concurrency} at a time, in {elapsed:.2} s -> {:.0} pipelines/min",
        total as f64 / elapsed * 60.0
    );
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not: keep that run tiny.
    let full = std::env::args().any(|a| a == "--bench");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let root = tempfile::tempdir().unwrap();
    runtime.block_on(async {
        if full {
            pass_chain(root.path(), 200, 50, false).await;
            pass_chain(root.path(), 200, 50, true).await;
            pipelines(root.path(), 400, 16).await;
        } else {
            pass_chain(root.path(), 10, 2, false).await;
            pass_chain(root.path(), 10, 2, true).await;
            pipelines(root.path(), 2, 2).await;
        }
    });
    drop(runtime);
}
