use crate::helpers::{spawn, spawn_app, Spawn};

#[tokio::test]
async fn healthz_answers_alive() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "alive");
}

#[tokio::test]
async fn readyz_is_503_and_names_the_missing_bundle_when_the_site_is_not_built() {
    let app = spawn_app().await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "not ready");
    let failing: Vec<&str> = body["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|check| check["ok"] == false)
        .map(|check| check["name"].as_str().expect("name"))
        .collect();
    assert_eq!(failing, ["site_assets_present"]);
    let problem = body["checks"][1]["problem"].as_str().expect("problem text");
    assert!(problem.contains("gatehouse.wasm"), "{problem}");
}

#[tokio::test]
async fn readyz_is_200_when_data_dir_is_writable_and_the_bundle_is_present() {
    let app = spawn(Spawn {
        with_site_assets: true,
        ..Spawn::default()
    })
    .await;
    let response = app.get("/readyz").await;
    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["status"], "ready");
}

#[tokio::test]
async fn readyz_turns_503_when_the_bundle_disappears() {
    let app = spawn(Spawn {
        with_site_assets: true,
        ..Spawn::default()
    })
    .await;
    assert_eq!(app.get("/readyz").await.status(), 200);
    std::fs::remove_file(app.site_root.join("pkg/gatehouse.js")).expect("remove");
    assert_eq!(app.get("/readyz").await.status(), 503);
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_security_headers() {
    let app = spawn_app().await;
    let response = app.get("/healthz").await;
    let headers = response.headers();
    let request_id = headers
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .expect("x-request-id");
    assert_eq!(request_id.len(), 36, "a UUID: {request_id}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
}
