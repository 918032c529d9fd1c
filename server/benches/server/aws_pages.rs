//! What a commit's lineage page and the endpoints page cost in AWS API calls (goals: 12 for
//! `/lineage/<commit>`; 60 for `/endpoints` with 50 endpoints on a first view, 5 on a view
//! soon after), against moto.
//!
//! `cargo bench -p server --bench server -- aws_pages` (moto from scripts/bootstrap.sh). It
//! deploys the pipeline on moto, starts one run named by a commit ID, approves it through
//! Gatehouse once it waits (so the decision is in the audit log, as in use), and waits until
//! the run has deployed the pipeline's endpoint. Then it starts the server in aws mode
//! (Cognito sign-in, DynamoDB sessions and audit log, all on moto) and views the commit's
//! lineage, on that server and on a second one that has read nothing yet; then it adds 49
//! endpoints beside the pipeline's and views `/endpoints`.
//!
//! Calls are counted by moto itself (the launcher's counting hook): every request of every
//! AWS client of the server during the view, the session read from DynamoDB included.

use std::time::{Duration, Instant};

use app::control_plane::ControlPlane;
use app::models::identity::Role;
use app::models::pipeline::{ExecutionRef, ExecutionStatus};
use server::pipeline::aws::AwsControlPlane;

use crate::cognito::{Pool, PASSWORD};
use crate::list_page::{spawn_instance, view, View};
use crate::moto::{unique_name, MotoServer};

const LINEAGE_BUDGET: u64 = 12;
const ENDPOINTS: usize = 50;
const ENDPOINTS_FIRST_BUDGET: u64 = 60;
const ENDPOINTS_CACHED_BUDGET: u64 = 5;

fn report(label: &str, budget: Option<u64>, view: &View) {
    let verdict = match budget {
        Some(budget) if view.total <= budget => format!("within budget ({budget})"),
        Some(budget) => format!("OVER BUDGET ({budget})"),
        None => "no budget".to_string(),
    };
    println!(
        "{label:<40} {:>3} AWS calls {:>7.1} ms  {verdict}  {:?}",
        view.total,
        view.elapsed.as_secs_f64() * 1000.0,
        view.calls,
    );
}

async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

pub fn run() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let moto = MotoServer::shared();
        let sdk = moto.sdk_config().await;
        // The launcher names the pipeline's endpoint after its state machine.
        let endpoint = unique_name("bench-pipeline");
        let arn = moto.deploy_pipeline(&endpoint).await;
        let adapter = AwsControlPlane::new(&sdk, &arn).expect("adapter");

        let pool = Pool::new().await;
        pool.user("olga", &[Role::Approver, Role::Operator]).await;
        pool.user("vic", &[Role::Viewer]).await;
        let (sessions, audit) = (unique_name("sessions"), unique_name("audit"));
        let app = spawn_instance(moto, &pool, &arn, &sessions, &audit).await;
        let olga = app.signed_in_client("olga", PASSWORD).await;
        let viewer = app.signed_in_client("vic", PASSWORD).await;

        let commit = "5eed1e55-12-04-2026-10-00-00";
        let started = app
            .call_form(
                &olga,
                "start_execution",
                &[
                    ("name", commit),
                    ("commit_id", commit),
                    (
                        "image_uri",
                        "123456789012.dkr.ecr.us-east-1.amazonaws.com/iris-model:5eed1e55",
                    ),
                ],
            )
            .await;
        assert_eq!(started.status(), 200, "start");
        eventually("the run waits for a decision", || async {
            let pending = adapter.pending_approvals().await.ok()?;
            pending
                .iter()
                .any(|a| a.execution.name == commit)
                .then_some(())
        })
        .await;
        let decided = app
            .call_form(
                &olga,
                "decide",
                &[("id", commit), ("verdict", "approve"), ("comment", "bench")],
            )
            .await;
        assert_eq!(decided.status(), 200, "decide");
        eventually("the run deploys the endpoint", || async {
            let detail = adapter
                .describe_execution(&ExecutionRef::Name(commit.into()))
                .await
                .ok()?;
            match detail.summary.status {
                ExecutionStatus::Running => None,
                ExecutionStatus::Succeeded => Some(()),
                other => panic!("the run ended {other:?}: {:?}", detail.cause),
            }
        })
        .await;

        println!("\n/lineage/{commit} (aws mode, one approved run deployed):");
        let path = format!("/lineage/{commit}");
        report(
            "first view",
            Some(LINEAGE_BUDGET),
            &view(moto, &app, &viewer, &path).await,
        );
        report(
            "the next view",
            Some(LINEAGE_BUDGET),
            &view(moto, &app, &viewer, &path).await,
        );
        // Another instance of the same deployment (same tables), which has read nothing of
        // the run yet (the deciding server read the transform job for its evidence).
        let other = spawn_instance(moto, &pool, &arn, &sessions, &audit).await;
        let other_viewer = other.signed_in_client("vic", PASSWORD).await;
        report(
            "first view, another server",
            Some(LINEAGE_BUDGET),
            &view(moto, &other, &other_viewer, &path).await,
        );

        // 49 more endpoints on the commit's model, each with a config of its own.
        let sagemaker = aws_sdk_sagemaker::Client::new(&sdk);
        for i in 1..ENDPOINTS {
            let name = format!("bench-endpoint-{i:02}");
            sagemaker
                .create_endpoint_config()
                .endpoint_config_name(&name)
                .production_variants(
                    aws_sdk_sagemaker::types::ProductionVariant::builder()
                        .variant_name("AllTraffic")
                        .model_name(commit)
                        .initial_instance_count(1)
                        .instance_type(
                            aws_sdk_sagemaker::types::ProductionVariantInstanceType::MlT2Medium,
                        )
                        .initial_variant_weight(1.0)
                        .build(),
                )
                .send()
                .await
                .expect("create endpoint config");
            sagemaker
                .create_endpoint()
                .endpoint_name(&name)
                .endpoint_config_name(&name)
                .send()
                .await
                .expect("create endpoint");
        }
        let listed = adapter.endpoints().await.expect("endpoints").len();
        println!("\n/endpoints with {listed} endpoints:");
        report(
            "first view",
            Some(ENDPOINTS_FIRST_BUDGET),
            &view(moto, &app, &viewer, "/endpoints").await,
        );
        report(
            "a view within the cache window",
            Some(ENDPOINTS_CACHED_BUDGET),
            &view(moto, &app, &viewer, "/endpoints").await,
        );
        report(
            "/lineage (the list)",
            None,
            &view(moto, &app, &viewer, "/lineage").await,
        );
    });
}
