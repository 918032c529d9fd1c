//! A deployment that another one overtakes: the run whose update finished stops polling as
//! soon as SageMaker reports a newer deployment in progress, in both seed definitions.

use crate::common::*;
use engine::{Engine, EngineConfig, ExecutionStatus};
use std::time::Duration;

/// Longer than the default so that an update started when one settles is still in progress
/// at the overtaken run's first poll, five seconds after its own update began.
const ENDPOINT_DELAY: Duration = Duration::from_secs(4);

/// Commit B's update settles (4 s) and at that moment an operator updates the endpoint back
/// to commit A's config. SageMaker now says `Updating`, with A's config pending, so B's run
/// can no longer be the one serving: at its first poll (5 s) it ends `EndpointSuperseded`,
/// naming both configs, while the endpoint is still Updating — it does not wait for the
/// other deployment to settle, nor poll on for the thirty minutes of its deadline.
#[tokio::test(start_paused = true)]
async fn a_run_whose_deployment_is_overtaken_ends_at_its_next_poll() {
    for definition in DEFINITIONS {
        let root = tempfile::tempdir().unwrap();
        let mut config = EngineConfig::new(
            Some(root.path().join("engine.sqlite")),
            data_dir_with_iris(root.path()),
        );
        config.endpoint_delay = ENDPOINT_DELAY;
        let engine = Engine::open(config).await.unwrap();
        let sm = engine.sagemaker();
        let machine = engine
            .create_state_machine("mlops", &read(definition), &local_substitutions())
            .unwrap();

        let first = "aaaa1111-01-01-2026-10-00-00";
        let arn = approve_commit(&engine, &machine, first, || {}).await;
        let done = engine.wait_for_execution(&arn).await.unwrap();
        assert_eq!(
            done.status,
            ExecutionStatus::Succeeded,
            "{definition}: {done:?}"
        );

        let second = "bbbb2222-01-01-2026-11-00-00";
        let overtaken = approve_commit(&engine, &machine, second, || {}).await;
        while sm.describe_endpoint(SERVING).unwrap()["EndpointStatus"] != "Updating" {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let settled = sm.wait_for_endpoint(SERVING).await.unwrap();
        assert_eq!(settled["EndpointConfigName"], second, "{definition}");
        sm.update_endpoint(SERVING, first).unwrap();

        let done = engine.wait_for_execution(&overtaken).await.unwrap();
        assert_eq!(
            done.status,
            ExecutionStatus::Failed,
            "{definition}: {done:?}"
        );
        assert_eq!(
            done.error.as_deref(),
            Some("EndpointSuperseded"),
            "{definition}"
        );
        let cause = done.cause.unwrap_or_default();
        assert!(
            cause.contains(&format!(
                "is deploying endpoint config {first} now, after endpoint config {second}"
            )),
            "{definition}: {cause}"
        );
        let endpoint = sm.describe_endpoint(SERVING).unwrap();
        assert_eq!(
            endpoint["EndpointStatus"], "Updating",
            "{definition}: the run ended while the newer deployment was still in progress"
        );
        assert_eq!(
            endpoint["PendingDeploymentSummary"]["EndpointConfigName"], first,
            "{definition}"
        );
        let settled = sm.wait_for_endpoint(SERVING).await.unwrap();
        assert_eq!(settled["EndpointConfigName"], first, "{definition}");
    }
}
