//! The newest approved commit deploys: on local mode's real pipeline, approving a run stops
//! the older approved runs still waiting to update the endpoint, never a newer one nor a
//! deployment under way, and audits each stop.

use std::time::{Duration, Instant};

use app::models::identity::Role;

use crate::approvals::{audit_records, decide, pending_demo, spawn_with};
use crate::helpers::TestApp;

/// The state where an approved run updates the endpoint (and, refused while another
/// deployment is in progress, retries).
const UPDATE: &str = "Sagemaker Update Endpoint";

async fn execution(app: &TestApp, client: &reqwest::Client, name: &str) -> serde_json::Value {
    let response = app
        .call_form(client, "get_execution", &[("id", name)])
        .await;
    assert_eq!(response.status(), 200);
    let view: serde_json::Value = response.json().await.expect("json");
    view["detail"].clone()
}

/// Waits until the run is in `state`; returns its detail.
async fn reaches(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    state: &str,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let detail = execution(app, client, name).await;
        if detail["summary"]["current_state"] == state {
            return detail;
        }
        assert!(
            Instant::now() < deadline,
            "{name} never reached {state}: {detail}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn approve(app: &TestApp, client: &reqwest::Client, name: &str) {
    let (status, body) = decide(app, client, name, "approve", "ship it").await;
    assert_eq!(status, 200, "{body}");
}

async fn start(app: &TestApp, client: &reqwest::Client, name: &str) {
    let response = app
        .call_form(
            client,
            "start_execution",
            &[
                ("name", name),
                ("commit_id", name),
                (
                    "image_uri",
                    &format!("localhost/gatehouse/iris-demo:{}", &name[..8]),
                ),
            ],
        )
        .await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn approving_a_run_stops_the_older_approved_runs_waiting_to_deploy_and_nothing_else() {
    // Deployments take two minutes, as on SageMaker, so runs queue behind the first one.
    let app = spawn_with(&["--local-deploy-seconds", "120"]).await;
    let password = app
        .add_user("olga", &[Role::Operator, Role::Approver])
        .await;
    let olga = app.signed_in_client("olga", &password).await;
    // The demo run deploys first: the endpoint is being created for two minutes.
    let demo = pending_demo(&app, &olga).await;
    approve(&app, &olga, &demo).await;
    reaches(&app, &olga, &demo, "Wait For Endpoint").await;

    let runs = [
        "aa000001-2026-12-05-09-00-00",
        "bb000002-2026-12-05-09-10-00",
        "cc000003-2026-12-05-09-20-00",
    ];
    for run in runs {
        start(&app, &olga, run).await;
        // Distinct start times: which run is older is what the rule reads.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let [oldest, middle, newest] = runs;
    for run in runs {
        reaches(&app, &olga, run, "Send Approve/Reject Email Request").await;
    }

    // The middle run is approved and queues: its update is refused while the endpoint is
    // being created, and it waits to try again.
    approve(&app, &olga, middle).await;
    reaches(&app, &olga, middle, UPDATE).await;

    // Approving an older run stops nothing: the middle run is newer, and the demo run's
    // deployment is under way.
    approve(&app, &olga, oldest).await;
    reaches(&app, &olga, oldest, UPDATE).await;
    assert_eq!(
        execution(&app, &olga, middle).await["summary"]["status"],
        "RUNNING"
    );
    assert!(audit_records(&app, "execution.supersede", middle).is_empty());

    // Approving the newest run stops both older ones, and only them.
    approve(&app, &olga, newest).await;
    for older in [oldest, middle] {
        let detail = execution(&app, &olga, older).await;
        assert_eq!(detail["summary"]["status"], "ABORTED", "{detail}");
        let cause = detail["cause"].as_str().unwrap_or_default();
        assert!(
            cause.contains("Superseded") && cause.contains(newest) && cause.contains("olga"),
            "{detail}"
        );
        let records = audit_records(&app, "execution.supersede", older);
        assert_eq!(records.len(), 1, "{records:?}");
        let (actor, outcome, details) = &records[0];
        assert_eq!(actor, "olga");
        assert_eq!(outcome, "success");
        let details: serde_json::Value = serde_json::from_str(details).expect("details");
        assert_eq!(details["superseded_by"], newest, "{details}");
        assert_eq!(details["state"], UPDATE, "{details}");
    }
    for untouched in [demo.as_str(), newest] {
        let detail = execution(&app, &olga, untouched).await;
        assert_eq!(detail["summary"]["status"], "RUNNING", "{detail}");
        assert!(audit_records(&app, "execution.supersede", untouched).is_empty());
    }
}
