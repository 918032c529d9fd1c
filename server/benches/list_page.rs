//! What one executions-list page costs in AWS API calls (issue 5, acceptance 3: ≤ 12 per
//! page view), against moto holding 1,000 executions of one state machine.
//!
//! `cargo bench -p server --bench list_page` (moto from scripts/bootstrap.sh). It starts its
//! own moto through the tests' support (`tests/api/moto.rs`, included by path), deploys the
//! pipeline (for its roles and bucket) and a small state machine beside it whose runs succeed,
//! fail (every 10th) or wait an hour (every 50th), starts 1,000 of them, then asks the AWS
//! adapter for the pages the executions page shows and prints calls and time per page.
//!
//! To measure a whole page view later, spawn the server (`Application::build_with` with
//! `moto.sdk_config()` and `--state-machine-arn`) on the same machine and request
//! `/executions`; `fixture()` below is the part to keep.

#[allow(dead_code)]
#[path = "../tests/api/moto.rs"]
mod moto;

use std::time::{Duration, Instant};

use app::control_plane::ControlPlane;
use app::models::pipeline::{ExecutionQuery, ExecutionStatus};
use server::pipeline::aws::AwsControlPlane;

use moto::MotoServer;

const EXECUTIONS: usize = 1_000;
/// What the executions page asks for.
const PAGE: usize = 25;
const BUDGET: u64 = 12;

const DEFINITION: &str = r#"{
  "Comment": "Bench runs: succeed, fail (input.fail) or wait an hour (input.hold).",
  "StartAt": "Route",
  "States": {
    "Route": {"Type": "Choice", "Choices": [
        {"Variable": "$.fail", "BooleanEquals": true, "Next": "Broken"},
        {"Variable": "$.hold", "BooleanEquals": true, "Next": "Hold"}],
      "Default": "Done"},
    "Hold": {"Type": "Wait", "Seconds": 3600, "Next": "Done"},
    "Done": {"Type": "Succeed"},
    "Broken": {"Type": "Fail", "Error": "Broken", "Cause": "every tenth run fails"}
  }
}"#;

/// moto with a state machine of [`EXECUTIONS`] runs; returns its ARN.
async fn fixture(moto: &MotoServer, sdk: &aws_config::SdkConfig) -> String {
    // The pipeline's deploy creates the roles a state machine needs.
    moto.deploy_pipeline("bench-pipeline").await;
    let role = "arn:aws:iam::123456789012:role/gatehouse-states";
    let sfn = aws_sdk_sfn::Client::new(sdk);
    let arn = sfn
        .create_state_machine()
        .name("bench-list-page")
        .definition(DEFINITION)
        .role_arn(role)
        .send()
        .await
        .expect("create state machine")
        .state_machine_arn()
        .to_string();
    let started = Instant::now();
    let mut indices = (0..EXECUTIONS).peekable();
    while indices.peek().is_some() {
        let mut batch = tokio::task::JoinSet::new();
        for i in indices.by_ref().take(16) {
            let sfn = sfn.clone();
            let arn = arn.clone();
            batch.spawn(async move {
                // `<sha>-<unix time>`: the commit ID form, so the list parses a commit.
                let sha = (i as u32).wrapping_mul(2_654_435_761);
                let name = format!("{sha:08x}-{}", 1_764_086_645 + i);
                let input = serde_json::json!({
                    "commitID": name, "imageUri": "localhost/iris:bench",
                    "fail": i % 10 == 0, "hold": i % 50 == 1,
                });
                sfn.start_execution()
                    .state_machine_arn(arn)
                    .name(name)
                    .input(input.to_string())
                    .send()
                    .await
                    .expect("start execution");
            });
        }
        while let Some(done) = batch.join_next().await {
            done.expect("start task");
        }
    }
    println!(
        "started {EXECUTIONS} executions in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    arn
}

async fn measure(adapter: &AwsControlPlane, label: &str, query: &ExecutionQuery) -> Option<String> {
    adapter.api_call_counter().reset();
    let started = Instant::now();
    let page = adapter
        .list_executions(query)
        .await
        .unwrap_or_else(|e| panic!("{label}: {e}"));
    let elapsed = started.elapsed();
    let calls = adapter.api_calls();
    let total: u64 = calls.values().sum();
    let commits = page
        .executions
        .iter()
        .filter(|e| e.commit.is_some())
        .count();
    println!(
        "{label:<44} {:>3} rows ({commits} with a commit)  {total:>2} AWS calls {:?}  {:>7.1} ms  {}",
        page.executions.len(),
        calls,
        elapsed.as_secs_f64() * 1000.0,
        if total <= BUDGET { "within budget" } else { "OVER BUDGET" }
    );
    assert!(page
        .executions
        .windows(2)
        .all(|w| w[0].started >= w[1].started));
    page.next_token
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let moto = MotoServer::start();
        let sdk = moto.sdk_config().await;
        let arn = fixture(&moto, &sdk).await;
        let adapter = AwsControlPlane::new(&sdk, &arn).expect("adapter");
        // Let the quick runs finish, so the status filters have something to find.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let running = adapter
                .list_executions(&ExecutionQuery {
                    status: Some(ExecutionStatus::Running),
                    max_results: 1000,
                    next_token: None,
                })
                .await
                .expect("running")
                .executions
                .len();
            if running <= EXECUTIONS / 50 || Instant::now() > deadline {
                println!("{running} executions still running (the held ones)");
                break;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        let first = ExecutionQuery {
            max_results: PAGE,
            ..ExecutionQuery::default()
        };
        let next = measure(&adapter, "first page, newest first (cold adapter)", &first).await;
        measure(&adapter, "first page again", &first).await;
        measure(
            &adapter,
            "second page (next token)",
            &ExecutionQuery {
                next_token: next,
                ..first.clone()
            },
        )
        .await;
        for status in [ExecutionStatus::Failed, ExecutionStatus::Running] {
            measure(
                &adapter,
                &format!("first page of {}", status.as_str()),
                &ExecutionQuery {
                    status: Some(status),
                    ..first.clone()
                },
            )
            .await;
        }
        measure(
            &adapter,
            "one page of 1000",
            &ExecutionQuery {
                max_results: 1000,
                ..ExecutionQuery::default()
            },
        )
        .await;
    });
}
