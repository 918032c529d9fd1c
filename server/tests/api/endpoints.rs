//! The Endpoints pages and their forms on local mode's real pipeline: two approved commits
//! deploy to one endpoint; an operator rolls it back and deletes it; a viewer may only look;
//! bad input gets a 4xx with a sentence and changes nothing.

use std::time::{Duration, Instant};

use app::models::identity::Role;

use crate::approvals::{audit_records, decide, ended, pending_demo, spawn_with};
use crate::helpers::{page_text, TestApp};

/// The endpoint local mode's pipeline deploys to (`infra/statemachine/local-substitutions.json`).
const ENDPOINT: &str = "iris-serving";

async fn endpoint_json(app: &TestApp, client: &reqwest::Client) -> serde_json::Value {
    let response = app
        .call_form(client, "get_endpoint", &[("name", ENDPOINT)])
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

/// Waits until the endpoint has settled (neither Creating nor Updating).
async fn settled(app: &TestApp, client: &reqwest::Client) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view = endpoint_json(app, client).await;
        let status = view["endpoint"]["status"].as_str().unwrap_or_default();
        if status != "Updating" && status != "Creating" {
            return view;
        }
        assert!(
            Instant::now() < deadline,
            "the endpoint never settled: {view}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn approve(app: &TestApp, approver: &reqwest::Client, name: &str) {
    let (status, body) = decide(app, approver, name, "approve", "ship it").await;
    assert_eq!(status, 200, "{body}");
    let view = ended(app, approver, name).await;
    assert_eq!(view["detail"]["summary"]["status"], "SUCCEEDED", "{view}");
}

async fn rollback(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
    config: &str,
    reason: &str,
) -> (u16, String) {
    let response = app
        .call_form(
            client,
            "rollback_endpoint",
            &[("name", name), ("config", config), ("reason", reason)],
        )
        .await;
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

async fn delete(app: &TestApp, client: &reqwest::Client, name: &str, typed: &str) -> (u16, String) {
    let response = app
        .call_form(
            client,
            "delete_endpoint",
            &[("name", name), ("typed_name", typed)],
        )
        .await;
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

#[tokio::test]
async fn an_operator_rolls_the_endpoint_back_and_deletes_it_and_a_viewer_cannot() {
    let app = spawn_with(&[]).await;
    let password = app
        .add_user("olga", &[Role::Operator, Role::Approver])
        .await;
    let olga = app.signed_in_client("olga", &password).await;
    let password = app.add_user("vic", &[Role::Viewer]).await;
    let vic = app.signed_in_client("vic", &password).await;

    // Two commits approved one after the other: the second updates the same endpoint.
    let first = pending_demo(&app, &olga).await;
    approve(&app, &olga, &first).await;
    let second = "1a2b3c4d-12-01-2026-09-30-00";
    let started = app
        .call_form(
            &olga,
            "start_execution",
            &[
                ("name", second),
                ("commit_id", second),
                ("image_uri", "localhost/gatehouse/iris-demo:1a2b3c4d"),
            ],
        )
        .await;
    assert_eq!(started.status(), 200);
    let deadline = Instant::now() + Duration::from_secs(90);
    while pending_demo(&app, &olga).await != second {
        assert!(
            Instant::now() < deadline,
            "{second} never waited for approval"
        );
    }
    approve(&app, &olga, second).await;
    let view = settled(&app, &olga).await;
    assert_eq!(view["endpoint"]["config_name"], second, "{view}");
    assert_eq!(view["commit"]["short_sha"], "1a2b3c4d", "{view}");
    let choices: Vec<&str> = view["choices"]
        .as_array()
        .expect("choices")
        .iter()
        .filter_map(|c| c["config_name"].as_str())
        .collect();
    assert_eq!(choices, vec![first.as_str()], "{view}");

    // The list names the endpoint and its commit; a viewer sees no controls.
    let list = page_text(app.get_with(&vic, "/endpoints").await).await;
    assert!(
        list.contains(&format!(r#"href="/endpoints/{ENDPOINT}""#)),
        "{list}"
    );
    assert!(list.contains("1a2b3c4d"), "{list}");
    assert!(list.contains("AllTraffic 100%"), "{list}");
    let page = app.get_with(&vic, &format!("/endpoints/{ENDPOINT}")).await;
    assert_eq!(page.status(), 200);
    let page = page_text(page).await;
    assert!(
        page.contains(r#"data-testid="endpoint-status">InService<"#),
        "{page}"
    );
    // One variant, the second commit's model, all the traffic.
    assert!(page.contains(&format!("<code>{second}</code>")), "{page}");
    let shown: String = page.replace("<!-- -->", "");
    assert!(shown.contains("1 (100% of requests)"), "{page}");
    assert!(!page.contains("rollback-form"), "{page}");
    assert!(!page.contains("delete-form"), "{page}");
    // An operator's page offers the way back, naming the commit going out and coming in.
    let page = page_text(app.get_with(&olga, &format!("/endpoints/{ENDPOINT}")).await).await;
    assert!(page.contains(r#"data-testid="rollback-form""#), "{page}");
    assert!(page.contains("commit 1a2b3c4d"), "{page}");
    assert!(page.contains("commit c0ffee00"), "{page}");

    // A viewer's forged rollback: 403, recorded, nothing changed.
    let (status, body) = rollback(&app, &vic, ENDPOINT, &first, "I want it").await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(
        endpoint_json(&app, &olga).await["endpoint"]["config_name"],
        second
    );
    let refused = audit_records(&app, "endpoint.rollback", ENDPOINT);
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(
        (refused[0].0.as_str(), refused[0].1.as_str()),
        ("vic", "refused")
    );

    // Bad input: a sentence, the right status, nothing changed.
    for (name, config, reason, expected, words) in [
        (
            "iris_serving!",
            first.as_str(),
            "r",
            400,
            "not an endpoint name",
        ),
        (
            "no-such-endpoint",
            first.as_str(),
            "r",
            404,
            "no endpoint named",
        ),
        (ENDPOINT, first.as_str(), "  ", 400, "Say why"),
        (
            ENDPOINT,
            "never-made",
            "r",
            409,
            "no endpoint config never-made",
        ),
        (ENDPOINT, second, "r", 409, "already serves"),
    ] {
        let (status, body) = rollback(&app, &olga, name, config, reason).await;
        assert_eq!(status, expected, "{name} {config}: {body}");
        assert!(body.contains(words), "{name} {config}: {body}");
    }
    assert_eq!(
        endpoint_json(&app, &olga).await["endpoint"]["config_name"],
        second
    );

    // The rollback: Updating at once, a second change meanwhile refused, then InService on
    // the first commit's config.
    let (status, body) = rollback(&app, &olga, ENDPOINT, &first, "second model drifts").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        endpoint_json(&app, &olga).await["endpoint"]["status"],
        "Updating"
    );
    let (status, body) = rollback(&app, &olga, ENDPOINT, second, "changed my mind").await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("InService"), "{body}");
    let view = settled(&app, &olga).await;
    assert_eq!(view["endpoint"]["status"], "InService", "{view}");
    assert_eq!(view["endpoint"]["config_name"], first.as_str(), "{view}");
    assert_eq!(view["last_change"]["by"], "olga", "{view}");
    let records = audit_records(&app, "endpoint.rollback", ENDPOINT);
    let done: Vec<serde_json::Value> = records
        .iter()
        .filter(|(actor, outcome, _)| actor == "olga" && outcome == "success")
        .map(|(_, _, details)| serde_json::from_str(details).expect("details"))
        .collect();
    assert_eq!(done.len(), 1, "{records:?}");
    assert_eq!(done[0]["from"], second);
    assert_eq!(done[0]["to"], first.as_str());
    assert_eq!(done[0]["reason"], "second model drifts");

    lineage_follows_the_deployments(&app, &vic, &first, second).await;

    // Delete: the typed name must match; then it is gone.
    let (status, body) = delete(&app, &olga, ENDPOINT, "iris").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("type its name"), "{body}");
    assert_eq!(
        endpoint_json(&app, &olga).await["endpoint"]["status"],
        "InService"
    );
    let (status, body) = delete(&app, &olga, ENDPOINT, ENDPOINT).await;
    assert_eq!(status, 200, "{body}");
    let gone = app
        .call_form(&olga, "get_endpoint", &[("name", ENDPOINT)])
        .await;
    assert_eq!(gone.status(), 404);
    let page = app.get_with(&olga, &format!("/endpoints/{ENDPOINT}")).await;
    assert_eq!(page.status(), 404);
    let deletes = audit_records(&app, "endpoint.delete", ENDPOINT);
    let outcomes: Vec<&str> = deletes.iter().map(|(_, o, _)| o.as_str()).collect();
    assert_eq!(outcomes, vec!["refused", "success"], "{deletes:?}");
}

async fn lineage(app: &TestApp, client: &reqwest::Client, commit: &str) -> serde_json::Value {
    let response = app
        .call_form(client, "get_lineage", &[("commit", commit)])
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

/// After `first` was deployed, replaced by `second` and rolled back to: what a viewer reads
/// of both commits' lineage and of the endpoint's deployment history.
async fn lineage_follows_the_deployments(
    app: &TestApp,
    vic: &reqwest::Client,
    first: &str,
    second: &str,
) {
    // The chain of the first commit: every node, the decision, and the endpoint it serves
    // on again.
    let chain = lineage(app, vic, first).await;
    let runs: Vec<&str> = chain["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(runs, [first], "{chain}");
    assert_eq!(chain["training_job"]["status"], "Completed", "{chain}");
    let hyperparameters = chain["training_job"]["hyperparameters"]
        .as_array()
        .expect("hyperparameters");
    // The pipeline's definition trains with these (infra/statemachine/mlops.asl.json).
    assert!(
        hyperparameters
            .iter()
            .any(|p| p[0] == "epochs" && p[1] == "5"),
        "{chain}"
    );
    assert_eq!(chain["model"]["name"], first, "{chain}");
    assert_eq!(chain["transform_job"]["status"], "Completed", "{chain}");
    // A decision tree on iris gets most of the held-out flowers right.
    let accuracy = chain["accuracy"].as_f64().expect("accuracy");
    assert!((0.8..=1.0).contains(&accuracy), "{chain}");
    // The approver was shown that figure, and the decision's audit record keeps it.
    let decided = audit_records(app, "approval.decide", first);
    let details: serde_json::Value = serde_json::from_str(&decided[0].2).expect("details");
    assert_eq!(details["accuracy"].as_f64(), Some(accuracy), "{details}");
    assert_eq!(chain["decision"][0], first, "{chain}");
    assert_eq!(chain["decision"][1]["by"], "olga", "{chain}");
    assert_eq!(chain["decision"][1]["verdict"], "approved", "{chain}");
    assert_eq!(chain["endpoint_config"]["name"], first, "{chain}");
    // Deployed twice (approval, then the rollback), newest first: serving now, then ended.
    let deployments = chain["deployments"].as_array().expect("deployments");
    assert_eq!(deployments.len(), 2, "{chain}");
    assert!(deployments.iter().all(|d| d["endpoint"] == ENDPOINT));
    assert!(deployments[0]["served_until"].is_null(), "{chain}");
    assert!(!deployments[1]["served_until"].is_null(), "{chain}");

    // The second commit served once, between the two.
    let chain = lineage(app, vic, second).await;
    let deployments = chain["deployments"].as_array().expect("deployments");
    assert_eq!(deployments.len(), 1, "{chain}");
    assert!(!deployments[0]["served_until"].is_null(), "{chain}");

    // The list: both commits, the first serving; a prefix finds the second alone.
    let page = page_text(app.get_with(vic, "/lineage").await).await;
    assert_eq!(
        page.matches(r#"data-testid="lineage-row""#).count(),
        2,
        "{page}"
    );
    assert_eq!(
        page.matches(r#"data-testid="serving""#).count(),
        1,
        "{page}"
    );
    assert!(
        page.contains(&format!(r#"href="/lineage/{first}""#)),
        "{page}"
    );
    let page = page_text(app.get_with(vic, "/lineage?commit=1A2B").await).await;
    assert_eq!(
        page.matches(r#"data-testid="lineage-row""#).count(),
        1,
        "{page}"
    );
    assert!(
        page.contains(&format!(r#"href="/lineage/{second}""#)),
        "{page}"
    );
    // The chain's page names the endpoint serving the commit, and the endpoint's page links
    // back to the commit's lineage: one click each way.
    let page = page_text(app.get_with(vic, &format!("/lineage/{first}")).await).await;
    assert!(page.contains(r#"data-testid="lineage-picture""#), "{page}");
    assert!(
        page.contains(&format!(r#"href="/endpoints/{ENDPOINT}""#)),
        "{page}"
    );
    assert!(page.contains(r#"data-testid="serving-now""#), "{page}");
    let page = page_text(app.get_with(vic, &format!("/endpoints/{ENDPOINT}")).await).await;
    assert!(
        page.contains(&format!(r#"href="/lineage/{first}""#)),
        "{page}"
    );

    // The endpoint's history, newest first: back to the first by olga's rollback, the second
    // and the first by approval.
    let view = endpoint_json(app, vic).await;
    let history = view["history"].as_array().expect("history");
    let shown: Vec<(&str, &str)> = history
        .iter()
        .filter(|e| !e["deployment"]["served_from"].is_null())
        .map(|e| {
            (
                e["deployment"]["config_name"].as_str().unwrap_or_default(),
                e["by"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (first, "rolled back by olga"),
            (second, "approved by olga"),
            (first, "approved by olga")
        ],
        "{view}"
    );

    // Bad input: a sentence and the right status.
    for (commit, expected, words) in [
        ("not a commit!", 400, "not a commit ID"),
        (
            "deadbeef-12-01-2026-00-00-00",
            404,
            "No run of the pipeline",
        ),
    ] {
        let response = app
            .call_form(vic, "get_lineage", &[("commit", commit)])
            .await;
        assert_eq!(response.status(), expected, "{commit}");
        let body = response.text().await.expect("body");
        assert!(body.contains(words), "{commit}: {body}");
    }
    let response = app
        .call_form(vic, "list_lineage", &[("prefix", "3f2a;drop")])
        .await;
    assert_eq!(response.status(), 400);
    let body = response.text().await.expect("body");
    assert!(body.contains("beginning of a commit"), "{body}");
    let page = app
        .get_with(vic, "/lineage/deadbeef-12-01-2026-00-00-00")
        .await;
    assert_eq!(page.status(), 404);
    let page = app.get_with(vic, "/lineage?commit=zz").await;
    assert_eq!(page.status(), 400);
}
