//! Two Gatehouse instances of one deployment: two servers in aws mode on one moto, sharing the
//! user pool, the state machine and the session, audit and coordination tables, as two Lambda
//! instances or two containers behind a load balancer do. What correctness rests on must hold
//! across them: a quorum's votes, one decision per approval, one audit chain, the sign-in
//! throttle.

use app::models::audit::{AuditOutcome, AuditQuery};
use app::models::identity::Role;
use app::models::pipeline::StartRequest;
use server::audit::dynamo::DynamoAuditLog;
use server::pipeline::aws::AwsControlPlane;

use crate::approvals::{assert_one_winner, decide, race_over};
use crate::aws_pipeline::{spawn_aws, wait_for_approval};
use crate::cognito::{Pool, PASSWORD};
use crate::helpers::TestApp;
use crate::moto::{unique_name, MotoServer};

/// One deployment: its pool, its state machine, its tables, two instances of it.
struct Deployment {
    pool: Pool,
    adapter: AwsControlPlane,
    audit_table: String,
    instances: [TestApp; 2],
}

impl Deployment {
    async fn start(prefix: &str, extra: &[&str]) -> Deployment {
        let moto = MotoServer::shared();
        let pool = Pool::new().await;
        let arn = moto.deploy_pipeline(&unique_name(prefix)).await;
        let (sessions, audit_table, coordination) = (
            unique_name("sessions"),
            unique_name("audit"),
            unique_name("coordination"),
        );
        let mut args = vec![
            "--state-machine-arn",
            arn.as_str(),
            "--session-table",
            sessions.as_str(),
            "--audit-table",
            audit_table.as_str(),
            "--coordination-table",
            coordination.as_str(),
        ];
        args.extend_from_slice(extra);
        let first = spawn_aws(&pool, &args).await.expect("the first instance");
        let second = spawn_aws(&pool, &args).await.expect("the second instance");
        let adapter = AwsControlPlane::new(&moto.sdk_config().await, &arn).expect("adapter");
        Deployment {
            pool,
            adapter,
            audit_table,
            instances: [first, second],
        }
    }

    /// Starts a run and waits until it waits for a decision; answers its name.
    async fn waiting_run(&self, prefix: &str) -> String {
        let run = StartRequest {
            name: unique_name(prefix),
            commit_id: format!("{:08x}-2026-12-04-10-00-00", std::process::id()),
            image_uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/iris-model:two".into(),
        };
        app::control_plane::ControlPlane::start_execution(&self.adapter, &run)
            .await
            .expect("start");
        wait_for_approval(&self.adapter, &run.name).await;
        run.name
    }

    /// The shared audit log, read directly.
    async fn audit(&self) -> DynamoAuditLog {
        DynamoAuditLog::new(
            aws_sdk_dynamodb::Client::new(&MotoServer::shared().sdk_config().await),
            self.audit_table.clone(),
        )
    }

    async fn records(&self, action: &str, target: &str) -> Vec<app::models::audit::AuditRecord> {
        app::audit::AuditLog::search(
            &self.audit().await,
            &AuditQuery {
                action: Some(action.into()),
                target: Some(target.into()),
                limit: 1000,
                ..AuditQuery::default()
            },
        )
        .await
        .expect("audit search")
    }
}

/// Quorum two, one approval on each instance at the same moment: one of them is counted, the
/// other completes the quorum and decides, and the run goes on once.
#[tokio::test]
async fn a_quorum_of_two_met_on_two_instances_decides_once() {
    let deployment = Deployment::start("quorum", &["--approval-quorum", "2"]).await;
    let [first, second] = &deployment.instances;
    for who in ["ana", "ben"] {
        deployment.pool.user(who, &[Role::Approver]).await;
    }
    let ana = first.signed_in_client("ana", PASSWORD).await;
    let ben = second.signed_in_client("ben", PASSWORD).await;
    let name = deployment.waiting_run("quorum").await;

    let (on_first, on_second) = tokio::join!(
        decide(first, &ana, &name, "approve", "looks right"),
        decide(second, &ben, &name, "approve", "agreed"),
    );
    let answers = [on_first, on_second];
    assert!(
        answers.iter().all(|(status, _)| *status == 200),
        "{answers:?}"
    );
    let decided = answers
        .iter()
        .filter(|(_, body)| body.contains("Decided"))
        .count();
    let counted = answers
        .iter()
        .filter(|(_, body)| body.contains("Counted"))
        .count();
    assert_eq!((decided, counted), (1, 1), "{answers:?}");

    let decisions = deployment.records("approval.decide", &name).await;
    assert_eq!(decisions.len(), 1, "one decision record");
    assert_eq!(decisions[0].entry.outcome, AuditOutcome::Success);
    assert_eq!(deployment.records("approval.vote", &name).await.len(), 1);
    // The run no longer waits: the approval went to Step Functions once. (Read by an adapter
    // of its own: the one that saw the run wait keeps what it read for a while.)
    let fresh = AwsControlPlane::new(
        &MotoServer::shared().sdk_config().await,
        deployment.adapter.state_machine_arn(),
    )
    .expect("adapter");
    let pending = app::control_plane::ControlPlane::pending_approvals(&fresh)
        .await
        .expect("pending");
    assert!(pending.iter().all(|p| p.execution.name != name));
}

/// A hundred decisions (approve and reject, four approvers) spread over both instances: one
/// wins, 99 are told who decided, 100 records in one audit chain that verifies.
#[tokio::test]
async fn a_hundred_decisions_over_two_instances_have_one_winner_and_one_chain() {
    let deployment = Deployment::start("race2", &[]).await;
    let mut clients = Vec::new();
    for (i, who) in ["ana", "ben", "cai", "dee"].into_iter().enumerate() {
        deployment.pool.user(who, &[Role::Approver]).await;
        let instance = &deployment.instances[i % 2];
        clients.push(instance.signed_in_client(who, PASSWORD).await);
    }
    let name = deployment.waiting_run("race2").await;

    let [first, second] = &deployment.instances;
    let answers = race_over(&[first, second], &clients, &name).await;
    assert_one_winner(&answers);

    let decisions = deployment.records("approval.decide", &name).await;
    assert_eq!(decisions.len(), 100);
    assert_eq!(
        decisions
            .iter()
            .filter(|r| r.entry.outcome == AuditOutcome::Success)
            .count(),
        1
    );
    let audit = deployment.audit().await;
    let verified = server::audit::chain::verify(&audit).await;
    assert!(verified.is_ok(), "{verified:?}");
    let head = app::audit::AuditLog::head(&audit)
        .await
        .expect("head")
        .expect("records");
    let all = app::audit::AuditLog::scan(&audit, 0, 10_000)
        .await
        .expect("scan");
    assert_eq!(
        all.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (1..=head.0).collect::<Vec<_>>(),
        "one chain: every sequence number once, none skipped"
    );
}

/// Failed sign-ins made on both instances add up: three free failures (two on one, one on the
/// other; one process alone would have counted two at most), then the next attempt, on
/// either, must wait (a second after the third failure), even with the right password.
#[tokio::test]
async fn the_sign_in_throttle_counts_attempts_made_on_both_instances() {
    let deployment = Deployment::start("throttle", &[]).await;
    deployment.pool.user("ana", &[Role::Viewer]).await;
    let [first, second] = &deployment.instances;
    let attempt = |instance: &TestApp, password: &str| {
        let url = instance.url("/auth/token");
        let body = serde_json::json!({ "username": "ana", "password": password });
        async move {
            reqwest::Client::new()
                .post(url)
                .json(&body)
                .send()
                .await
                .expect("token request")
        }
    };
    for instance in [first, second, first] {
        let answer = attempt(instance, "not the password").await;
        assert_eq!(answer.status(), 401, "a free failure");
    }
    let (on_first, on_second) = tokio::join!(attempt(first, PASSWORD), attempt(second, PASSWORD));
    for answer in [on_first, on_second] {
        assert_eq!(answer.status(), 429, "throttled on both instances");
        assert!(answer.headers().contains_key("retry-after"));
    }
}
