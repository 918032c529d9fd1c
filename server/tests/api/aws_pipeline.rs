//! The AWS adapter's error mapping against real servers (moto with injected faults, and a
//! port where nothing listens), and aws mode's start-up with and without a state machine.

use std::time::{Duration, Instant};

use app::control_plane::{ControlPlane, PipelineError};
use app::models::about::Mode;
use app::models::pipeline::{ExecutionQuery, ExecutionRef};
use aws_sdk_cognitoidentityprovider::config::{Credentials, Region};
use server::pipeline::aws::{AwsControlPlane, MAX_ATTEMPTS};

use crate::cognito::Pool;
use crate::helpers::{try_spawn, Spawn};
use crate::moto::{unique_name, MotoServer};

async fn adapter_on_moto() -> (AwsControlPlane, String) {
    let moto = MotoServer::shared();
    let arn = moto.deploy_pipeline(&unique_name("errors")).await;
    let adapter = AwsControlPlane::new(&moto.sdk_config().await, &arn).expect("adapter");
    (adapter, arn)
}

fn calls(adapter: &AwsControlPlane, operation: &str) -> u64 {
    adapter
        .api_calls()
        .iter()
        .filter(|(key, _)| key.ends_with(&format!(":{operation}")))
        .map(|(_, n)| n)
        .sum()
}

fn first_page() -> ExecutionQuery {
    ExecutionQuery {
        max_results: 25,
        ..ExecutionQuery::default()
    }
}

/// Waits until the run `name` waits for a decision (on moto it trains and transforms first).
pub(crate) async fn wait_for_approval(
    adapter: &AwsControlPlane,
    name: &str,
) -> app::models::pipeline::PendingApproval {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let pending = adapter.pending_approvals().await.expect("pending");
        if let Some(found) = pending.into_iter().find(|a| a.execution.name == name) {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never waited for a decision"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test]
async fn throttling_is_retried_and_what_stays_throttled_says_so() {
    let (adapter, arn) = adapter_on_moto().await;
    let moto = MotoServer::shared();
    // One throttled answer: the retry gets through.
    moto.inject_fault("ListExecutions", "ThrottlingException", 400, 1, &arn)
        .await;
    adapter
        .list_executions(&first_page())
        .await
        .expect("a retry gets through");
    assert_eq!(calls(&adapter, "ListExecutions"), 2);
    // Throttled on every attempt: Throttled, after MAX_ATTEMPTS calls.
    adapter.api_call_counter().reset();
    moto.inject_fault(
        "ListExecutions",
        "ThrottlingException",
        400,
        MAX_ATTEMPTS,
        &arn,
    )
    .await;
    match adapter.list_executions(&first_page()).await {
        Err(PipelineError::Throttled(message)) => {
            assert!(
                message.contains("AWS Step Functions is throttling"),
                "{message}"
            )
        }
        other => panic!("expected throttled, got {other:?}"),
    }
    assert_eq!(calls(&adapter, "ListExecutions"), u64::from(MAX_ATTEMPTS));
}

#[tokio::test]
async fn a_refusal_of_gatehouses_own_credentials_is_access_denied() {
    let (adapter, arn) = adapter_on_moto().await;
    let moto = MotoServer::shared();
    // DescribeExecution's body names the execution ARN, which holds the machine's name.
    let machine = arn.rsplit(':').next().expect("machine name");
    for error in ["AccessDeniedException", "UnrecognizedClientException"] {
        moto.inject_fault("DescribeExecution", error, 400, 1, machine)
            .await;
        let answer = adapter
            .describe_execution(&ExecutionRef::Name("some-run".into()))
            .await;
        match answer {
            Err(PipelineError::AccessDenied(message)) => {
                assert!(
                    message.contains("AWS refused Gatehouse's own credentials")
                        && message.contains(error),
                    "{message}"
                )
            }
            other => panic!("expected access denied for {error}, got {other:?}"),
        }
    }
    assert_eq!(calls(&adapter, "DescribeExecution"), 2, "not retried");
}

#[tokio::test]
async fn a_server_error_is_unavailable_after_its_retries() {
    let (adapter, arn) = adapter_on_moto().await;
    MotoServer::shared()
        .inject_fault(
            "DescribeStateMachine",
            "InternalFailure",
            500,
            MAX_ATTEMPTS,
            &arn,
        )
        .await;
    match adapter.definition().await {
        Err(PipelineError::Unavailable(message)) => {
            assert!(message.contains("AWS Step Functions"), "{message}")
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert_eq!(
        calls(&adapter, "DescribeStateMachine"),
        u64::from(MAX_ATTEMPTS)
    );
    // The definition is then read once and cached.
    adapter.definition().await.expect("definition");
    adapter.definition().await.expect("definition");
    assert_eq!(
        calls(&adapter, "DescribeStateMachine"),
        u64::from(MAX_ATTEMPTS) + 1
    );
}

#[tokio::test]
async fn an_unreachable_aws_is_unavailable_quickly() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_millis(500))
                .operation_timeout(Duration::from_secs(3))
                .build(),
        )
        .load()
        .await;
    let adapter = AwsControlPlane::new(
        &sdk,
        "arn:aws:states:us-east-1:123456789012:stateMachine:nowhere",
    )
    .expect("adapter");
    let started = Instant::now();
    match adapter.list_executions(&first_page()).await {
        Err(PipelineError::Unavailable(message)) => assert!(
            message.contains("Gatehouse could not reach AWS Step Functions"),
            "{message}"
        ),
        other => panic!("expected unavailable, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    match adapter.endpoints().await {
        Err(PipelineError::Unavailable(message)) => {
            assert!(message.contains("Amazon SageMaker"), "{message}")
        }
        other => panic!("expected unavailable, got {other:?}"),
    }
}

#[tokio::test]
async fn a_list_page_is_one_call_and_a_finished_run_is_described_once() {
    let (adapter, _) = adapter_on_moto().await;
    // Unique in this moto: SageMaker names are shared by every test.
    let name = unique_name("feedf00d");
    let run = app::models::pipeline::StartRequest {
        name: name.clone(),
        commit_id: name,
        image_uri: "localhost/iris:feedf00d".into(),
    };
    adapter.start_execution(&run).await.expect("start");
    let execution = ExecutionRef::Name(run.name.clone());
    adapter
        .stop_execution(&execution, "test")
        .await
        .expect("stop");
    let deadline = Instant::now() + Duration::from_secs(30);
    while adapter
        .describe_execution(&execution)
        .await
        .expect("describe")
        .summary
        .status
        == app::models::pipeline::ExecutionStatus::Running
    {
        assert!(Instant::now() < deadline, "the run stops");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    adapter.api_call_counter().reset();
    for _ in 0..3 {
        adapter
            .describe_execution(&execution)
            .await
            .expect("describe");
    }
    assert_eq!(
        adapter.api_call_counter().total(),
        0,
        "{:?}",
        adapter.api_calls()
    );
    let page = adapter.list_executions(&first_page()).await.expect("list");
    assert_eq!(page.executions.len(), 1);
    assert_eq!(
        adapter.api_calls().values().sum::<u64>(),
        1,
        "{:?}",
        adapter.api_calls()
    );
}

/// The nav's badge and the live watcher ask for the pending approvals on every page view and
/// every second: an approval read lately costs no history read again, while a decision reads
/// the history whatever was remembered, and forgets what was remembered once it is sent.
#[tokio::test]
async fn pending_approvals_are_remembered_and_decisions_read_afresh() {
    use app::models::pipeline::{Decision, StartRequest, Timestamp, Verdict};

    let (adapter, _) = adapter_on_moto().await;
    let name = unique_name("memo");
    let run = StartRequest {
        name: name.clone(),
        // SageMaker job names are shared by every test on this moto.
        commit_id: unique_name("feedbeef"),
        image_uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/iris-model:memo".into(),
    };
    adapter.start_execution(&run).await.expect("start");
    let pending = wait_for_approval(&adapter, &name).await;
    // What is remembered names the token Step Functions issued: its SHA-256, computed here.
    let issued = crate::leaks::moto_task_tokens(
        &MotoServer::shared().sdk_config().await,
        &pending.execution.arn,
    )
    .await;
    assert_eq!(
        issued
            .iter()
            .map(|token| crate::leaks::sha256_hex(token))
            .collect::<Vec<_>>(),
        std::slice::from_ref(&pending.token_sha256)
    );

    adapter.api_call_counter().reset();
    for _ in 0..5 {
        let again = adapter.pending_approvals().await.expect("pending");
        assert_eq!(again.len(), 1, "{again:?}");
        assert_eq!(again[0].token_sha256, pending.token_sha256);
    }
    assert_eq!(calls(&adapter, "ListExecutions"), 5);
    assert_eq!(
        calls(&adapter, "GetExecutionHistory"),
        0,
        "remembered: {:?}",
        adapter.api_calls()
    );

    // What a decision acts on is read from the history.
    let fresh = adapter
        .approval_of(&pending.execution)
        .await
        .expect("approval of")
        .expect("still waiting");
    assert_eq!(fresh.token_sha256, pending.token_sha256);
    assert!(calls(&adapter, "GetExecutionHistory") >= 1);

    adapter
        .decide(
            &ExecutionRef::Name(name.clone()),
            &Decision {
                verdict: Verdict::Rejected,
                by: "ana".into(),
                comment: "memo test".into(),
                at: Timestamp::now(),
            },
        )
        .await
        .expect("decide");
    let after = adapter.pending_approvals().await.expect("pending");
    assert!(
        after.iter().all(|a| a.execution.name != name),
        "a decided approval is not shown from memory: {after:?}"
    );
    assert_eq!(
        adapter.approval_of(&pending.execution).await.expect("read"),
        None
    );
}

/// The approval policy's "no self-approval": a run whose input names the commit's author (the
/// optional `author` a pipeline may add) cannot be approved by that author; another approver
/// can. The run is started straight on Step Functions, as CodePipeline would start it.
#[tokio::test]
async fn the_commits_author_cannot_approve_it() {
    use crate::cognito::PASSWORD;
    use app::models::identity::Role;

    let (pool, arn, app) = pipeline_server("author", &[]).await;
    let moto = MotoServer::shared();
    let name = unique_name("authored");
    let input = serde_json::json!({
        "commitID": unique_name("abad1dea"),
        "imageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/iris-model:authored",
        "author": "ana",
    });
    aws_sdk_sfn::Client::new(&moto.sdk_config().await)
        .start_execution()
        .state_machine_arn(&arn)
        .name(&name)
        .input(input.to_string())
        .send()
        .await
        .expect("start");
    let adapter = AwsControlPlane::new(&moto.sdk_config().await, &arn).expect("adapter");
    wait_for_approval(&adapter, &name).await;

    let mut answers = Vec::new();
    for who in ["ana", "ben"] {
        pool.user(who, &[Role::Approver]).await;
        let client = app.signed_in_client(who, PASSWORD).await;
        let page =
            crate::helpers::page_text(app.get_with(&client, &format!("/approvals/{name}")).await)
                .await;
        let (status, body) = crate::approvals::decide(&app, &client, &name, "approve", "").await;
        answers.push((page, status, body));
    }
    let (ana_page, ana_status, ana_body) = &answers[0];
    assert!(
        ana_page.contains("You wrote this commit"),
        "the page says why ana cannot decide: {ana_page}"
    );
    assert_eq!(*ana_status, 403, "{ana_body}");
    assert!(
        ana_body.contains("someone else must approve it"),
        "{ana_body}"
    );
    let (_, ben_status, ben_body) = &answers[1];
    assert_eq!(*ben_status, 200, "another approver can: {ben_body}");
}

/// A server in aws mode on the shared moto driving a pipeline state machine of its own, with
/// a user pool of its own: the pool, the state machine's ARN and the server.
pub(crate) async fn pipeline_server(
    prefix: &str,
    extra: &[&str],
) -> (Pool, String, crate::helpers::TestApp) {
    let pool = Pool::new().await;
    let arn = MotoServer::shared()
        .deploy_pipeline(&unique_name(prefix))
        .await;
    let mut args = vec!["--state-machine-arn", arn.as_str()];
    args.extend_from_slice(extra);
    let app = spawn_aws(&pool, &args).await.expect("aws mode starts");
    (pool, arn, app)
}

/// A server in aws mode on the shared moto with `pool`'s users. Its tables are its own unless
/// `extra` names them (two instances of one deployment share theirs).
pub(crate) async fn spawn_aws(
    pool: &Pool,
    extra: &[&str],
) -> Result<crate::helpers::TestApp, String> {
    let mut args = vec![
        "--cognito-user-pool-id".to_string(),
        pool.pool_id.clone(),
        "--cognito-client-id".into(),
        pool.public.client_id.clone(),
        "--cognito-jwks-url".into(),
        format!("{}/{}/.well-known/jwks.json", pool.endpoint, pool.pool_id),
        "--create-session-table".into(),
        "--create-audit-table".into(),
        "--create-coordination-table".into(),
    ];
    for (setting, prefix) in [
        ("--session-table", "sessions"),
        ("--audit-table", "audit"),
        ("--coordination-table", "coordination"),
    ] {
        if !extra.contains(&setting) {
            args.extend([setting.to_string(), unique_name(prefix)]);
        }
    }
    args.extend(extra.iter().map(|a| a.to_string()));
    try_spawn(Spawn {
        mode: Some(Mode::Aws),
        args,
        aws: Some(MotoServer::shared().sdk_config().await),
        ..Spawn::default()
    })
    .await
    .map_err(|e| e.to_string())
}

#[tokio::test]
async fn aws_mode_needs_a_state_machine_arn_and_starts_with_one() {
    let pool = Pool::new().await;
    let error = spawn_aws(&pool, &[]).await.err().expect("refused");
    assert!(error.contains("GATEHOUSE_STATE_MACHINE_ARN"), "{error}");
    assert!(error.contains("--state-machine-arn"), "{error}");
    let error = spawn_aws(&pool, &["--state-machine-arn", "pipeline"])
        .await
        .err()
        .expect("refused");
    assert!(
        error.contains("not a Step Functions state machine ARN"),
        "{error}"
    );

    let arn = MotoServer::shared()
        .deploy_pipeline(&unique_name("server"))
        .await;
    let app = spawn_aws(&pool, &["--state-machine-arn", &arn])
        .await
        .expect("aws mode starts");
    assert_eq!(app.get("/healthz").await.status(), 200);
}

/// At page level: an AWS error behind `/executions` (throttled on every
/// attempt, access denied, the service failing) is a readable banner with 503, on the page and
/// through the API, never a 500 page. Faults are injected by the moto launcher's test hook,
/// matched on this test's state machine ARN so other tests sharing moto are not touched.
#[tokio::test]
async fn aws_errors_behind_the_executions_page_are_a_banner_not_a_500() {
    use crate::cognito::PASSWORD;
    use crate::helpers::page_text;
    use app::models::identity::Role;

    let (pool, arn, app) = pipeline_server("banner", &[]).await;
    let moto = MotoServer::shared();
    pool.user("vic", &[Role::Viewer]).await;
    let viewer = app.signed_in_client("vic", PASSWORD).await;
    assert_eq!(app.get_with(&viewer, "/executions").await.status(), 200);

    // A page view lists executions more than once (the table, and the nav's pending-approval
    // badge, concurrently, each with its retries): the page's fault is injected with room to
    // spare, and what is left over is used up through the API before the next step, so steps
    // never see each other's faults.
    let list = || async {
        viewer
            .post(app.url("/api/list_executions"))
            .header("accept", "application/json")
            .json(&serde_json::json!({ "filter": {} }))
            .send()
            .await
            .expect("api call")
    };
    let drain = || async {
        for _ in 0..40 {
            if list().await.status() == 200 {
                return;
            }
        }
        panic!("the injected faults never ran out");
    };
    let cases = [
        ("ThrottlingException", 400, MAX_ATTEMPTS, "throttling"),
        (
            "AccessDeniedException",
            400,
            1,
            "IAM role lacks a permission",
        ),
        ("ServiceUnavailable", 503, MAX_ATTEMPTS, "failed to answer"),
    ];
    for (error, status, count, words) in cases {
        moto.inject_fault("ListExecutions", error, status, 10 * count, &arn)
            .await;
        let page = app.get_with(&viewer, "/executions").await;
        let code = page.status();
        let html = page_text(page).await;
        assert_eq!(code, 503, "{error}: the page answers 503: {html}");
        assert!(
            html.contains("data-testid=\"error-banner\""),
            "{error}: banner"
        );
        assert!(
            html.contains(words),
            "{error}: the banner says what happened"
        );
        drain().await;

        moto.inject_fault("ListExecutions", error, status, count, &arn)
            .await;
        let api = list().await;
        assert_eq!(api.status(), 503, "{error}: the API answers 503");
        let body = api.text().await.expect("body");
        assert!(body.contains(words), "{error}: {body}");
        drain().await;
    }
    // And the page is back once AWS is.
    assert_eq!(app.get_with(&viewer, "/executions").await.status(), 200);
}

/// On the AWS adapter: 100 concurrent decisions (approve and reject, four
/// Cognito approvers) on one execution waiting in Step Functions (moto) — exactly one wins, 99
/// are told who decided, 100 audit records land in DynamoDB, and the run takes one path.
#[tokio::test]
async fn a_hundred_racing_decisions_on_step_functions_have_one_winner() {
    use crate::cognito::PASSWORD;
    use app::models::identity::Role;
    use app::models::pipeline::ExecutionStatus;

    let audit_table = unique_name("audit");
    let (pool, arn, app) = pipeline_server("race", &["--audit-table", &audit_table]).await;
    let moto = MotoServer::shared();
    let adapter = AwsControlPlane::new(&moto.sdk_config().await, &arn).expect("adapter");
    let run = app::models::pipeline::StartRequest {
        name: unique_name("race"),
        commit_id: format!("{:08x}-2026-11-25-10-00-00", std::process::id()),
        image_uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/iris-model:race".into(),
    };
    adapter.start_execution(&run).await.expect("start");
    wait_for_approval(&adapter, &run.name).await;

    let mut clients = Vec::new();
    for who in ["ana", "ben", "cai", "dee"] {
        pool.user(who, &[Role::Approver]).await;
        clients.push(app.signed_in_client(who, PASSWORD).await);
    }
    let answers = crate::approvals::race(&app, &clients, &run.name).await;
    crate::approvals::assert_one_winner(&answers);

    let records = server::audit::dynamo::DynamoAuditLog::new(
        aws_sdk_dynamodb::Client::new(&moto.sdk_config().await),
        audit_table,
    );
    let decided = app::audit::AuditLog::search(
        &records,
        &app::models::audit::AuditQuery {
            action: Some("approval.decide".into()),
            target: Some(run.name.clone()),
            limit: 1000,
            ..Default::default()
        },
    )
    .await
    .expect("audit search");
    assert_eq!(decided.len(), 100);
    assert_eq!(
        decided
            .iter()
            .filter(|r| r.entry.outcome == app::models::audit::AuditOutcome::Success)
            .count(),
        1
    );
    assert!(server::audit::chain::verify(&records).await.is_ok());

    let history = adapter
        .execution_history(&ExecutionRef::Name(run.name.clone()))
        .await
        .expect("history");
    let closings = history
        .iter()
        .filter(|e| crate::approvals::carries_a_decision(&e.kind, e.details.as_deref()))
        .count();
    assert_eq!(closings, 1, "one decision reached Step Functions");
    let status = adapter
        .describe_execution(&ExecutionRef::Name(run.name.clone()))
        .await
        .expect("describe")
        .summary
        .status;
    assert_ne!(status, ExecutionStatus::TimedOut);
}
