//! What one executions-list page view costs in AWS API calls (goal
//! ≤ 12 per page view), against moto holding 1,000 executions of one state machine, 20 of
//! them waiting for a decision.
//!
//! `cargo bench -p server --bench server -- list_page` (moto from scripts/bootstrap.sh). It starts the
//! tests' moto (`tests/api/moto.rs`, included by path), deploys the pipeline (for its roles,
//! bucket and approval Lambda) and a state machine beside it whose runs succeed, fail (every
//! 10th) or wait for a decision in a `lambda:invoke.waitForTaskToken` task, as the
//! pipeline's approval does (every 50th), and starts 1,000 of them. Then it starts the real
//! server in aws mode on that machine (Cognito sign-in, DynamoDB sessions and audit log, all
//! on moto), signs a viewer in, and requests `/executions` pages over HTTP.
//!
//! Calls are counted by moto itself (the launcher's counting hook, extension 12): every
//! request any of the server's AWS SDK clients makes during the view, whatever the service —
//! the session read from DynamoDB included — so nothing the server does is left out.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use app::control_plane::ControlPlane;
use app::models::about::Mode;
use app::models::identity::Role;
use app::models::pipeline::{ExecutionQuery, ExecutionStatus};
use server::pipeline::aws::{AwsControlPlane, NOT_WAITING_TTL, OPEN_APPROVAL_TTL};

use crate::cognito::{Pool, PASSWORD};
use crate::helpers::{try_spawn, Spawn, TestApp};
use crate::moto::{unique_name, MotoServer};

const EXECUTIONS: usize = 1_000;
/// Every this-many-th run waits for a decision.
const WAITING_EVERY: usize = 50;
const BUDGET: u64 = 12;
/// Views measured once the server is warm.
const WARM_VIEWS: usize = 30;

const DEFINITION: &str = r#"{
  "Comment": "Bench runs: succeed, fail (input.fail) or wait for a decision (input.hold).",
  "StartAt": "Route",
  "States": {
    "Route": {"Type": "Choice", "Choices": [
        {"Variable": "$.fail", "BooleanEquals": true, "Next": "Broken"},
        {"Variable": "$.hold", "BooleanEquals": true, "Next": "Approve"}],
      "Default": "Done"},
    "Approve": {
      "Type": "Task",
      "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
      "Parameters": {
        "FunctionName": "gatehouse-approval-notifier",
        "Payload": {"token.$": "$$.Task.Token", "execution.$": "$$.Execution.Id"}
      },
      "TimeoutSeconds": 86400,
      "Next": "Done"
    },
    "Done": {"Type": "Succeed"},
    "Broken": {"Type": "Fail", "Error": "Broken", "Cause": "every tenth run fails"}
  }
}"#;

/// moto with a state machine of [`EXECUTIONS`] runs; returns its ARN.
async fn fixture(moto: &MotoServer, sdk: &aws_config::SdkConfig) -> String {
    // The pipeline's deploy creates the roles and the approval Lambda the machine names.
    moto.deploy_pipeline("bench-pipeline").await;
    let role = "arn:aws:iam::123456789012:role/gatehouse-states";
    let sfn = aws_sdk_sfn::Client::new(sdk);
    let arn = sfn
        .create_state_machine()
        .name(unique_name("bench-list-page"))
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
                    "fail": i % 10 == 0, "hold": i % WAITING_EVERY == 1,
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

/// Waits until only the held runs are left running and each waits for its decision.
async fn settle(adapter: &AwsControlPlane) -> usize {
    let waiting = EXECUTIONS / WAITING_EVERY;
    let deadline = Instant::now() + Duration::from_secs(300);
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
        let pending = adapter.pending_approvals().await.expect("pending").len();
        if (running == waiting && pending == waiting) || Instant::now() > deadline {
            println!("{running} executions running, {pending} of them waiting for a decision");
            return pending;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub(crate) async fn spawn_server(moto: &MotoServer, pool: &Pool, arn: &str) -> TestApp {
    spawn_instance(
        moto,
        pool,
        arn,
        &unique_name("sessions"),
        &unique_name("audit"),
    )
    .await
}

/// A server on these session and audit tables (two instances of one deployment share them).
pub(crate) async fn spawn_instance(
    moto: &MotoServer,
    pool: &Pool,
    arn: &str,
    sessions: &str,
    audit: &str,
) -> TestApp {
    let args = [
        "--cognito-user-pool-id",
        &pool.pool_id,
        "--cognito-client-id",
        &pool.public.client_id,
        "--cognito-jwks-url",
        &format!("{}/{}/.well-known/jwks.json", pool.endpoint, pool.pool_id),
        "--session-table",
        sessions,
        "--create-session-table",
        "--audit-table",
        audit,
        "--create-audit-table",
        "--state-machine-arn",
        arn,
    ];
    try_spawn(Spawn {
        mode: Some(Mode::Aws),
        args: args.iter().map(|a| a.to_string()).collect(),
        aws: Some(moto.sdk_config().await),
        ..Spawn::default()
    })
    .await
    .expect("aws mode starts")
}

/// One page view: its status, the AWS calls it cost and how long it took.
pub(crate) struct View {
    pub calls: BTreeMap<String, u64>,
    pub total: u64,
    pub elapsed: Duration,
}

pub(crate) async fn view(
    moto: &MotoServer,
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
) -> View {
    moto.reset_calls().await;
    let started = Instant::now();
    let response = app.get_with(client, path).await;
    let status = response.status();
    let body = response.text().await.expect("page body");
    let elapsed = started.elapsed();
    assert_eq!(status, 200, "{path}: {body}");
    assert!(body.contains("data-testid=\"executions-table\"") || body.contains("<table"));
    let calls = moto.calls().await;
    View {
        total: calls.values().sum(),
        calls,
        elapsed,
    }
}

fn report(label: &str, view: &View) {
    println!(
        "{label:<52} {:>3} AWS calls  {:>7.1} ms  {}  {:?}",
        view.total,
        view.elapsed.as_secs_f64() * 1000.0,
        if view.total <= BUDGET {
            "within budget"
        } else {
            "OVER BUDGET"
        },
        view.calls,
    );
}

pub fn run() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let moto = MotoServer::shared();
        let sdk = moto.sdk_config().await;
        let arn = fixture(moto, &sdk).await;
        let adapter = AwsControlPlane::new(&sdk, &arn).expect("adapter");
        let waiting = settle(&adapter).await;

        let pool = Pool::new().await;
        pool.user("vic", &[Role::Viewer]).await;
        let app = spawn_server(moto, &pool, &arn).await;
        let viewer = app.signed_in_client("vic", PASSWORD).await;

        println!(
            "\none page view of /executions (server in aws mode, 1,000 executions, {waiting} \
             waiting for a decision; budget {BUDGET} calls):"
        );
        for (label, path) in [
            ("first view after start (nothing read yet)", "/executions"),
            ("the next view", "/executions"),
            ("second page", "/executions?page=2"),
            ("failed runs only", "/executions?status=FAILED"),
            ("running runs only", "/executions?status=RUNNING"),
        ] {
            report(label, &view(moto, &app, &viewer, path).await);
        }

        // Views spread over more than the time a running-but-not-waiting run is trusted.
        let mut totals = Vec::with_capacity(WARM_VIEWS);
        let mut times = Vec::with_capacity(WARM_VIEWS);
        for _ in 0..WARM_VIEWS {
            let v = view(moto, &app, &viewer, "/executions").await;
            totals.push(v.total);
            times.push(v.elapsed);
            tokio::time::sleep(NOT_WAITING_TTL / 10).await;
        }
        totals.sort();
        times.sort();
        println!(
            "{WARM_VIEWS} views over {:.0} s: AWS calls min {} median {} max {}; time p50 {:.1} ms, max {:.1} ms",
            (NOT_WAITING_TTL / 10 * WARM_VIEWS as u32).as_secs_f64(),
            totals[0],
            totals[WARM_VIEWS / 2],
            totals[WARM_VIEWS - 1],
            times[WARM_VIEWS / 2].as_secs_f64() * 1000.0,
            times[WARM_VIEWS - 1].as_secs_f64() * 1000.0,
        );

        // Once what was read of the waiting runs is too old to show, a view reads it again.
        tokio::time::sleep(OPEN_APPROVAL_TTL + Duration::from_secs(1)).await;
        for label in [
            "a view once the approvals read are too old",
            "the view after it",
        ] {
            report(label, &view(moto, &app, &viewer, "/executions").await);
        }
    });
}
