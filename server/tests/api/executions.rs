//! The Executions pages and their server functions in local mode: the demo run, the list's
//! filters, the detail page's graph, starting and stopping, and every kind of bad input.

use std::time::{Duration, Instant};

use app::models::identity::Role;

use crate::approvals::task_token_secrets;
use crate::helpers::{captured_logs, spawn, Spawn, TestApp};
use crate::leaks::{local_task_tokens, Seen};

async fn spawn_with_demo() -> TestApp {
    spawn(Spawn {
        demo_run: true,
        ..Spawn::default()
    })
    .await
}

async fn viewer(app: &TestApp) -> reqwest::Client {
    let password = app.add_user("vera", &[Role::Viewer]).await;
    app.signed_in_client("vera", &password).await
}

async fn operator(app: &TestApp) -> reqwest::Client {
    let password = app.add_user("otto", &[Role::Operator]).await;
    app.signed_in_client("otto", &password).await
}

async fn html(app: &TestApp, client: &reqwest::Client, path: &str) -> (u16, String) {
    let response = app.get_with(client, path).await;
    let status = response.status().as_u16();
    (status, response.text().await.expect("html"))
}

/// Polls `path` until its HTML contains `needle` (the engine runs in the background).
async fn wait_for(app: &TestApp, client: &reqwest::Client, path: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (_, page) = html(app, client, path).await;
        if page.contains(needle) {
            return page;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never showed {needle}: {page}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn demo_name(page: &str) -> String {
    let start = page.find("/executions/c0ffee00-").expect("demo run linked") + "/executions/".len();
    page[start..].split('"').next().expect("name").to_string()
}

const APPROVAL_STATE: &str = "Send Approve/Reject Email Request";

#[tokio::test]
async fn a_viewer_sees_the_demo_run_reach_the_approval_as_the_current_state() {
    let app = spawn_with_demo().await;
    let client = viewer(&app).await;
    let (status, list) = html(&app, &client, "/executions").await;
    assert_eq!(status, 200);
    assert!(list.contains(r#"data-testid="execution-row""#), "{list}");
    assert!(list.contains("<code>c0ffee00"), "commit column: {list}");
    let name = demo_name(&list);
    let page = wait_for(
        &app,
        &client,
        &format!("/executions/{name}"),
        &format!(r#"data-state="{APPROVAL_STATE}" data-outcome="current""#),
    )
    .await;
    assert!(page.contains(r#"data-testid="state-graph""#), "{page}");
    assert!(
        page.contains(r#"data-state="SageMaker Create Training Job" data-outcome="succeeded""#),
        "{page}"
    );
    assert!(
        page.contains(r#"data-state="FailState" data-outcome="not-reached""#),
        "{page}"
    );
    assert!(
        page.contains("edge edge-catch"),
        "Catch edges drawn: {page}"
    );
    assert!(
        page.contains("&quot;commitID&quot;") || page.contains("\"commitID\""),
        "input shown: {page}"
    );
    assert!(
        page.contains("Training job"),
        "links to what it created: {page}"
    );
    assert!(
        page.contains("[task token hidden]"),
        "the token is redacted: {page}"
    );
    // Where the marker stands, the token the engine issued shows in no form: not on the
    // pages, not in the history the API answers, not in the log.
    let mut seen = Seen::default();
    seen.add("GET /executions", list.clone());
    seen.add("GET /executions/<run>", page.clone());
    let history = app
        .call_form(&client, "get_execution", &[("id", &name)])
        .await;
    assert_eq!(history.status(), 200);
    let history = seen.body("POST /api/get_execution", history).await;
    assert!(history.contains("TaskScheduled"), "{history}");
    seen.add("the server's log", captured_logs());
    seen.assert_free_of(&task_token_secrets(&local_task_tokens(&app, &name)));
    // The list names the approval as the run's current state too.
    let list = wait_for(&app, &client, "/executions", APPROVAL_STATE).await;
    assert!(list.contains("Running"), "{list}");
    // A viewer gets no start or stop form.
    assert!(!list.contains("Start a run"), "{list}");
    assert!(!page.contains("Stop this run"), "{page}");
}

#[tokio::test]
async fn operators_start_runs_and_bad_starts_get_clear_messages() {
    let app = spawn(Spawn::default()).await;
    let client = operator(&app).await;
    let image = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/iris-model:1a2b3c4d";
    let start = |name: &'static str, commit: &'static str, image: &'static str| {
        let (app, client) = (&app, &client);
        async move {
            let response = app
                .call_form(
                    client,
                    "start_execution",
                    &[("name", name), ("commit_id", commit), ("image_uri", image)],
                )
                .await;
            let status = response.status().as_u16();
            (status, response.text().await.expect("body"))
        }
    };
    let (status, body) = start(
        "1a2b3c4d-2026-11-25-10-00-00",
        "1a2b3c4d-2026-11-25-10-00-00",
        image,
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = start(
        "1a2b3c4d-2026-11-25-10-00-00",
        "1a2b3c4d-2026-11-25-10-00-00",
        image,
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("already exists"), "{body}");
    let (status, body) = start("", "1a2b3c4d", image).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("needs a name"), "{body}");
    let (status, body) = start("run-2", "1a2b3c4d", "not an image").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("is not a container image URI"), "{body}");
    let (status, body) = start("run 3", "1a2b3c4d", image).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = start("run-4", "bad_commit!", image).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("is not a commit ID"), "{body}");

    let (_, list) = html(&app, &client, "/executions").await;
    assert!(
        list.contains("/executions/1a2b3c4d-2026-11-25-10-00-00"),
        "{list}"
    );
    assert!(
        list.contains("Start a run"),
        "operators see the form: {list}"
    );
    assert!(
        list.contains("1 execution"),
        "only the good start ran: {list}"
    );
}

#[tokio::test]
async fn viewers_cannot_start_or_stop() {
    let app = spawn(Spawn::default()).await;
    let client = viewer(&app).await;
    let response = app
        .call_form(
            &client,
            "start_execution",
            &[
                ("name", "x1"),
                ("commit_id", "1a2b3c4d"),
                ("image_uri", "localhost/iris:1"),
            ],
        )
        .await;
    assert_eq!(response.status(), 403);
    let response = app
        .call_form(&client, "stop_execution", &[("id", "x1"), ("reason", "")])
        .await;
    assert_eq!(response.status(), 403);
}

#[tokio::test]
async fn operators_stop_a_running_run_once() {
    let app = spawn_with_demo().await;
    let client = operator(&app).await;
    let (_, list) = html(&app, &client, "/executions").await;
    let name = demo_name(&list);
    let page = wait_for(
        &app,
        &client,
        &format!("/executions/{name}"),
        "Stop this run",
    )
    .await;
    assert!(page.contains(r#"data-testid="stop-form""#), "{page}");
    let response = app
        .call_form(
            &client,
            "stop_execution",
            &[("id", &name), ("reason", "demo over")],
        )
        .await;
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let page = wait_for(
        &app,
        &client,
        &format!("/executions/{name}"),
        r#"data-status="ABORTED""#,
    )
    .await;
    assert!(
        page.contains("demo over"),
        "the cause names the reason: {page}"
    );
    let response = app
        .call_form(&client, "stop_execution", &[("id", &name), ("reason", "")])
        .await;
    assert_eq!(response.status(), 409);
    assert!(response
        .text()
        .await
        .expect("body")
        .contains("already ended"));
}

#[tokio::test]
async fn unknown_and_malformed_execution_ids_get_4xx_pages_and_api_answers() {
    let app = spawn(Spawn::default()).await;
    let client = viewer(&app).await;
    let (status, page) = html(&app, &client, "/executions/no-such-run").await;
    assert_eq!(status, 404, "{page}");
    assert!(
        page.contains("There is no execution no-such-run."),
        "{page}"
    );
    let (status, page) = html(
        &app,
        &client,
        "/executions/arn:aws:states:eu-west-1:1234:stateMachine:x",
    )
    .await;
    assert_eq!(status, 400, "{page}");
    assert!(
        page.contains("is not a Step Functions execution ARN"),
        "{page}"
    );
    let (status, page) = html(
        &app,
        &client,
        "/executions/arn:aws:states:eu-west-1:123456789012:execution:another-machine:run",
    )
    .await;
    assert_eq!(status, 404, "{page}");
    let response = app
        .call_form(&client, "get_execution", &[("id", "has space")])
        .await;
    assert_eq!(response.status(), 400);
    let body = response.text().await.expect("body");
    assert!(body.contains("not an execution name"), "{body}");
}

#[tokio::test]
async fn bad_filters_are_explained_and_good_ones_filter() {
    let app = spawn(Spawn::default()).await;
    let client = operator(&app).await;
    let image = "localhost/iris:1";
    for (name, commit) in [
        ("aaaa1111-run", "aaaa1111-2026-01-01-00-00-00"),
        ("bbbb2222-run", "bbbb2222-2026-01-02-00-00-00"),
    ] {
        let response = app
            .call_form(
                &client,
                "start_execution",
                &[("name", name), ("commit_id", commit), ("image_uri", image)],
            )
            .await;
        assert_eq!(response.status(), 200);
    }
    let (status, page) = html(&app, &client, "/executions?status=SLEEPING").await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("is not a status"), "{page}");
    let (status, page) = html(&app, &client, "/executions?from=yesterday").await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("is not a date like"), "{page}");
    let (status, page) = html(&app, &client, "/executions?from=2026-02-01&to=2026-01-01").await;
    assert_eq!(status, 400, "{page}");
    let (status, page) = html(&app, &client, "/executions?sort=colour").await;
    assert_eq!(status, 400, "{page}");
    let (status, page) = html(&app, &client, "/executions?per=30").await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains("30 rows per page is not offered"), "{page}");
    let (status, page) = html(&app, &client, "/executions?per=100").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(r#"<option value="100" selected"#), "{page}");
    let (status, page) = html(&app, &client, "/executions?commit=bbbb").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("bbbb2222-run") && !page.contains("aaaa1111-run"),
        "{page}"
    );
    let (_, page) = html(&app, &client, "/executions?sort=name&dir=asc").await;
    let (a, b) = (
        page.find("aaaa1111-run").expect("a"),
        page.find("bbbb2222-run").expect("b"),
    );
    assert!(a < b, "ascending by name");
    let (_, page) = html(&app, &client, "/executions?status=SUCCEEDED").await;
    assert!(page.contains("0 executions"), "{page}");
}

/// The list reads a page at a time: 27 runs started (and stopped) in a known order are 25 on
/// the first page and 2 on the second, newest first, and a page past the end shows the last.
/// The order is the test's own start order, and the same rows come back from the full read
/// the list does for an ascending sort.
#[tokio::test]
async fn the_list_pages_through_runs_newest_first() {
    let app = spawn(Spawn::default()).await;
    let client = operator(&app).await;
    let mut started = Vec::new();
    for k in 0..27 {
        let name = format!("{:08x}-page-{k:02}", 0xabc0_0000_u32 + k);
        let commit = format!("{:08x}-2026-01-01-00-00-{k:02}", 0xabc0_0000_u32 + k);
        let response = app
            .call_form(
                &client,
                "start_execution",
                &[
                    ("name", &name),
                    ("commit_id", &commit),
                    ("image_uri", "localhost/iris:1"),
                ],
            )
            .await;
        assert_eq!(response.status(), 200);
        let response = app
            .call_form(
                &client,
                "stop_execution",
                &[("id", &name), ("reason", "paging")],
            )
            .await;
        assert_eq!(response.status(), 200);
        started.push(name);
    }
    let list = |filter: serde_json::Value| {
        let (app, client) = (&app, &client);
        async move {
            let response = client
                .post(app.url("/api/list_executions"))
                .header("accept", "application/json")
                .json(&serde_json::json!({ "filter": filter }))
                .send()
                .await
                .expect("list_executions");
            assert_eq!(response.status(), 200);
            let table: serde_json::Value = response.json().await.expect("json");
            let names: Vec<String> = table["rows"]
                .as_array()
                .expect("rows")
                .iter()
                .map(|r| r["name"].as_str().expect("name").to_string())
                .collect();
            (table, names)
        }
    };
    let newest_first: Vec<String> = started.iter().rev().cloned().collect();

    let (table, first) = list(serde_json::json!({"per": 25})).await;
    assert_eq!(
        (table["matching"].as_u64(), table["pages"].as_u64()),
        (Some(27), Some(2))
    );
    assert_eq!(first, newest_first[..25]);
    let (table, second) = list(serde_json::json!({"per": 25, "page": 2})).await;
    assert_eq!(table["page"], 2);
    assert_eq!(second, newest_first[25..]);
    let (table, past) = list(serde_json::json!({"per": 25, "page": 9})).await;
    assert_eq!(table["page"], 2, "a page past the end shows the last one");
    assert_eq!(past, second);

    let (table, aborted) = list(serde_json::json!({"per": 50, "status": "ABORTED"})).await;
    assert_eq!(table["matching"], 27);
    assert_eq!(aborted, newest_first);
    let (table, none) = list(serde_json::json!({"status": "SUCCEEDED"})).await;
    assert_eq!((table["matching"].as_u64(), none.len()), (Some(0), 0));

    let (_, ascending) = list(serde_json::json!({"per": 50, "dir": "asc"})).await;
    assert_eq!(
        ascending, started,
        "the full read sorts the same runs oldest first"
    );
}

/// A browser sending the start form (with JavaScript off, or through the page loader) asks
/// for a page: it is sent back to the page it came from with the outcome in the address, and
/// that page says what happened — the started run, or the reason it did not start.
#[tokio::test]
async fn a_browser_form_is_answered_with_its_page_and_what_happened() {
    let app = spawn(Spawn::default()).await;
    let client = operator(&app).await;
    let send = |fields: &'static [(&'static str, &'static str)]| {
        let (app, client) = (&app, &client);
        async move {
            client
                .post(app.url("/api/start_execution"))
                .header("accept", "text/html,application/xhtml+xml")
                .header(
                    "referer",
                    app.url("/executions?status=RUNNING&started=older"),
                )
                .form(fields)
                .send()
                .await
                .expect("form post")
        }
    };
    let response = send(&[
        ("name", "form-run-1"),
        ("commit_id", "f0f0f0f0-2026-11-30-08-00-00"),
        ("image_uri", "localhost/iris:1"),
    ])
    .await;
    assert_eq!(response.status(), 302);
    let to = response.headers()["location"].to_str().expect("location");
    assert_eq!(to, "/executions?status=RUNNING&started=form-run-1");
    let (status, page) = html(&app, &client, to).await;
    assert_eq!(status, 200);
    let result = page
        .split(r#"data-testid="start-result""#)
        .nth(1)
        .expect("the start's answer on the page");
    assert!(
        result.contains(r#"href="/executions/form-run-1""#),
        "{page}"
    );

    let response = send(&[
        ("name", "form-run-2"),
        ("commit_id", "f0f0f0f0-2026-11-30-08-00-00"),
        ("image_uri", "not an image"),
    ])
    .await;
    assert_eq!(response.status(), 302, "a refused form still goes back");
    let to = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(to.contains("__path=%2Fapi%2Fstart_execution"), "{to}");
    let path = to.find("/executions").map(|i| &to[i..]).expect("the page");
    let (status, page) = html(&app, &client, path).await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"data-testid="error-banner""#), "{page}");
    assert!(
        page.contains("is not a container image URI"),
        "the reason, in words: {page}"
    );
    // The earlier start's answer is still in the address, but the failure is what is shown.
    assert!(!page.contains(r#"data-testid="start-result""#), "{page}");
    let (_, list) = html(&app, &client, "/executions").await;
    assert!(list.contains("form-run-1") && !list.contains("form-run-2"));
}

#[tokio::test]
async fn api_clients_list_executions_with_a_json_filter() {
    let app = spawn_with_demo().await;
    let client = viewer(&app).await;
    let call = |filter: serde_json::Value| {
        let (app, client) = (&app, &client);
        async move {
            client
                .post(app.url("/api/list_executions"))
                .header("accept", "application/json")
                .json(&serde_json::json!({ "filter": filter }))
                .send()
                .await
                .expect("list_executions")
        }
    };
    let response = call(serde_json::json!({})).await;
    assert_eq!(response.status(), 200);
    let table: serde_json::Value = response.json().await.expect("json");
    assert_eq!(table["matching"], 1, "{table}");
    assert_eq!(table["rows"][0]["status"], "RUNNING", "{table}");
    let response = call(serde_json::json!({"status": "nope"})).await;
    assert_eq!(response.status(), 400);
}
