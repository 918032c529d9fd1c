//! The inference API against the real server in local mode: the sample's request shape with
//! a bearer token, who may call it, the rate limit, the audit record of every call, and bad
//! input — each a 4xx with a sentence, after which a good request still answers.

use std::time::{Duration, Instant};

use app::models::identity::Role;
use reqwest::StatusCode;

use crate::approvals::{audit_records, decide, ended, pending_demo, spawn_with};
use crate::helpers::TestApp;

/// The endpoint local mode's pipeline deploys to.
const ENDPOINT: &str = "iris-serving";
const INVOKE: &str = "/v1/invokeSagemakerAPI?sagemaker_endpoint=";

/// The demo run approved and deployed: the pipeline's endpoint serves its model.
async fn deployed(app: &TestApp) {
    let password = app.add_user("olga", &[Role::Approver]).await;
    let olga = app.signed_in_client("olga", &password).await;
    let run = pending_demo(app, &olga).await;
    let (status, body) = decide(app, &olga, &run, "approve", "ship it").await;
    assert_eq!(status, 200, "{body}");
    let view = ended(app, &olga, &run).await;
    assert_eq!(view["detail"]["summary"]["status"], "SUCCEEDED", "{view}");
}

/// POSTs `body` as the sample's callers do (curl `--data-raw` with a JSON content type).
async fn post(
    app: &TestApp,
    token: Option<&str>,
    endpoint: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    let mut request = app
        .client
        .post(app.url(&format!("{INVOKE}{endpoint}")))
        .header("content-type", "application/json")
        .body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("invoke")
}

async fn json(response: reqwest::Response) -> (StatusCode, serde_json::Value) {
    let status = response.status();
    (status, response.json().await.expect("json answer"))
}

#[tokio::test]
async fn the_samples_request_works_with_a_token_and_only_with_one() {
    let app = spawn_with(&[]).await;
    deployed(&app).await;
    let password = app.add_user("vic", &[Role::Viewer]).await;
    let token = app.access_token("vic", &password).await;

    // The article's two requests, byte for byte, and their answers.
    let (status, answer) = json(
        post(
            &app,
            Some(&token),
            ENDPOINT,
            "{ \"data\": \"4.5,1.3,0.3,0.3\"\n}",
        )
        .await,
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer, serde_json::json!({"result": "setosa"}));
    let response = post(
        &app,
        Some(&token),
        ENDPOINT,
        "{\n\"data\": \"5.9,3,5.1,1.8\"\n}",
    )
    .await;
    assert_eq!(
        response.headers()["x-amzn-invoked-production-variant"],
        "AllTraffic"
    );
    let (status, answer) = json(response).await;
    assert_eq!(status, 200);
    assert_eq!(answer, serde_json::json!({"result": "virginica"}));
    // Several rows, one per line: one label per line.
    let (status, answer) = json(
        post(
            &app,
            Some(&token),
            ENDPOINT,
            r#"{"data": "4.5,1.3,0.3,0.3\n5.9,3,5.1,1.8"}"#,
        )
        .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["result"], "setosa\nvirginica");

    // Without a token, or with a bad one: 401, and nothing about the endpoint.
    let response = post(&app, None, ENDPOINT, r#"{"data": "4.5,1.3,0.3,0.3"}"#).await;
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    let (status, answer) = json(response).await;
    assert_eq!(status, 401);
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"),
        "{answer}"
    );
    let refused = post(
        &app,
        Some("not-a-token"),
        ENDPOINT,
        r#"{"data": "4.5,1.3,0.3,0.3"}"#,
    )
    .await;
    assert_eq!(refused.status(), 401);
    // GET /v1/endpoints: the pipeline's endpoint, its status and the commit it serves.
    let response = app
        .client
        .get(app.url("/v1/endpoints"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("endpoints");
    let (status, listed) = json(response).await;
    assert_eq!(status, 200, "{listed}");
    let first = &listed["endpoints"][0];
    assert_eq!(first["name"], ENDPOINT, "{listed}");
    assert_eq!(first["status"], "InService", "{listed}");
    assert_eq!(first["pipeline_endpoint"], true, "{listed}");
    assert_eq!(first["commit"]["id"], first["config"], "{listed}");
    let anonymous = app
        .client
        .get(app.url("/v1/endpoints"))
        .send()
        .await
        .expect("endpoints");
    assert_eq!(anonymous.status(), 401);

    // One record per call that reached the API, none with the rows sent.
    let records = audit_records(&app, "endpoint.invoke", ENDPOINT);
    let outcomes: Vec<(&str, &str)> = records
        .iter()
        .map(|(actor, outcome, _)| (actor.as_str(), outcome.as_str()))
        .collect();
    assert_eq!(
        outcomes,
        [
            ("vic", "success"),
            ("vic", "success"),
            ("vic", "success"),
            ("-", "refused")
        ],
        "{records:?}"
    );
    for (_, _, details) in &records {
        for sent in ["4.5", "5.9", "1.3,0.3"] {
            assert!(!details.contains(sent), "{details}");
        }
    }
    let details: serde_json::Value = serde_json::from_str(&records[2].2).expect("details");
    assert_eq!(details["rows"], 2, "{details}");
    assert_eq!(details["variant"], "AllTraffic", "{details}");
    assert!(details["latency_ms"].as_f64().is_some(), "{details}");
}

#[tokio::test]
async fn bad_input_is_a_clear_4xx_and_the_next_good_request_answers() {
    let app = spawn_with(&[]).await;
    deployed(&app).await;
    let password = app.add_user("vic", &[Role::Viewer]).await;
    let token = app.access_token("vic", &password).await;
    let seven_megabytes = format!(
        r#"{{"data": "{}"}}"#,
        "5.1,3.5,1.4,0.2\\n".repeat(7 * 1024 * 1024 / 17)
    );

    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        (
            "malformed CSV",
            ENDPOINT,
            r#"{"data": "5.1,\"3.5"}"#.into(),
            400,
            "not a CSV row",
        ),
        (
            "uneven rows",
            ENDPOINT,
            r#"{"data": "5.1,3.5,1.4,0.2\n5.1,3.5"}"#.into(),
            400,
            "Row 2 has 2 values",
        ),
        (
            "wrong number of features",
            ENDPOINT,
            r#"{"data": "5.1,3.5,1.4"}"#.into(),
            424,
            "The model answered 400",
        ),
        (
            "values that are not numbers",
            ENDPOINT,
            r#"{"data": "5.1,3.5,wide,0.2"}"#.into(),
            424,
            "not a number",
        ),
        ("an empty body", ENDPOINT, String::new(), 400, "no body"),
        (
            "empty data",
            ENDPOINT,
            r#"{"data": ""}"#.into(),
            400,
            "nothing to send",
        ),
        (
            "data that is not text",
            ENDPOINT,
            r#"{"data": [5.1, 3.5]}"#.into(),
            400,
            "must be a string",
        ),
        (
            "garbage JSON",
            ENDPOINT,
            "{data: 5.1".into(),
            400,
            "not the JSON",
        ),
        ("7 MB", ENDPOINT, seven_megabytes, 413, "6 MB"),
        (
            "an unknown endpoint",
            "no-such-endpoint",
            r#"{"data": "5.1,3.5,1.4,0.2"}"#.into(),
            404,
            "no pipeline endpoint named no-such-endpoint",
        ),
        (
            "a malformed endpoint name",
            "bad_name!",
            r#"{"data": "5.1,3.5,1.4,0.2"}"#.into(),
            400,
            "endpoint",
        ),
    ];
    for (what, endpoint, body, expected, words) in cases {
        let (status, answer) = json(post(&app, Some(&token), endpoint, body).await).await;
        assert_eq!(status.as_u16(), expected, "{what}: {answer}");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(words), "{what}: {message}");
        assert!(
            message.ends_with('.') || message.ends_with(')'),
            "{what}: a sentence: {message}"
        );
        let (status, answer) =
            json(post(&app, Some(&token), ENDPOINT, r#"{"data": "5.9,3,5.1,1.8"}"#).await).await;
        assert_eq!(status, 200, "after {what}: {answer}");
        assert_eq!(answer["result"], "virginica");
    }
    // Nothing quoted back from the model's refusal of a value reaches the audit log.
    let records = audit_records(&app, "endpoint.invoke", ENDPOINT);
    assert!(
        records.iter().all(|(_, _, d)| !d.contains("wide")),
        "{records:?}"
    );
}

#[tokio::test]
async fn the_role_is_a_setting_and_the_rate_limit_answers_429_with_retry_after() {
    let app = spawn_with(&[
        "--invoke-role",
        "approver",
        "--invoke-per-minute",
        "6",
        "--invoke-burst",
        "2",
    ])
    .await;
    deployed(&app).await;
    let password = app.add_user("vic", &[Role::Approver]).await;
    let token = app.access_token("vic", &password).await;
    let password = app.add_user("val", &[Role::Approver]).await;
    let other = app.access_token("val", &password).await;
    let row = r#"{"data": "4.5,1.3,0.3,0.3"}"#;
    // Invoking needs the approver role here: a viewer may not.
    let password = app.add_user("vera", &[Role::Viewer]).await;
    let viewer = app.access_token("vera", &password).await;
    let (status, answer) = json(post(&app, Some(&viewer), ENDPOINT, row).await).await;
    assert_eq!(status, 403, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .unwrap()
            .contains("approver role"),
        "{answer}"
    );
    for _ in 0..2 {
        assert_eq!(post(&app, Some(&token), ENDPOINT, row).await.status(), 200);
    }
    let started = Instant::now();
    let response = post(&app, Some(&token), ENDPOINT, row).await;
    assert_eq!(response.status(), 429);
    // Six a minute: the next call is due in (at most) ten seconds.
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry), "Retry-After {retry}");
    let (_, answer) = json(response).await;
    assert!(
        answer["message"].as_str().unwrap().contains("6 a minute"),
        "{answer}"
    );
    // Another user has an allowance of their own.
    assert_eq!(post(&app, Some(&other), ENDPOINT, row).await.status(), 200);
    // Once the wait is over, a call goes through again.
    tokio::time::sleep(Duration::from_secs(retry).saturating_sub(started.elapsed())).await;
    assert_eq!(post(&app, Some(&token), ENDPOINT, row).await.status(), 200);
    let refused: usize = audit_records(&app, "endpoint.invoke", ENDPOINT)
        .iter()
        .filter(|(actor, outcome, _)| actor == "vic" && outcome == "refused")
        .count();
    assert_eq!(refused, 1);
}

/// Posts the playground's form for the pipeline's endpoint; the page it answers (200).
async fn try_in_playground(
    app: &TestApp,
    client: &reqwest::Client,
    fields: &[(&str, &str)],
) -> String {
    let mut form = vec![("endpoint", ENDPOINT)];
    form.extend_from_slice(fields);
    let answer = client
        .post(app.url("/playground"))
        .form(&form)
        .send()
        .await
        .expect("try");
    assert_eq!(answer.status(), 200);
    answer.text().await.expect("html")
}

/// The playground: the form posts to the page, which answers with the labels, marks a row
/// whose own label differs, names the commit and the variant, and gives a curl command that,
/// run as it is shown, answers the same label.
#[tokio::test]
async fn the_playground_answers_a_row_and_pasted_rows_and_its_curl_command_agrees() {
    let app = spawn_with(&[]).await;
    deployed(&app).await;
    let password = app.add_user("vic", &[Role::Viewer]).await;
    let vic = app.signed_in_client("vic", &password).await;

    // The form: one field per feature, with the test data's ranges as hints.
    let page = crate::helpers::page_text(app.get_with(&vic, "/playground").await).await;
    assert_eq!(
        page.matches(r#"data-testid="feature-field""#).count(),
        4,
        "{page}"
    );
    // The first feature's hint is the range of that column in the demo's test split.
    let test_data = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/data/iris/test.csv"),
    )
    .expect("the demo's test data");
    let column: Vec<f64> = test_data
        .lines()
        .filter_map(|l| l.split(',').nth(1)?.trim().parse().ok())
        .collect();
    let (min, max) = column
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    assert!(
        page.contains(&format!(r#"placeholder="{min} – {max}""#)),
        "{min} – {max}: {page}"
    );

    // One row typed into the fields.
    let page = try_in_playground(
        &app,
        &vic,
        &[
            ("feature_1", "5.9"),
            ("feature_2", "3"),
            ("feature_3", "5.1"),
            ("feature_4", "1.8"),
            ("rows", ""),
        ],
    )
    .await;
    assert!(
        page.contains(r#"data-testid="answer-label">virginica<"#),
        "{page}"
    );
    assert!(
        page.contains(r#"data-testid="answer-variant">AllTraffic<"#),
        "{page}"
    );
    assert!(page.contains(r#"data-testid="answer-latency">"#), "{page}");
    assert!(
        page.contains(r#"href="/lineage/"#),
        "the serving commit: {page}"
    );

    // Pasted rows with their label first: the one whose label differs is marked. The
    // browser sends the feature fields too, empty: they tell how many values a row has
    // before its label.
    let page = try_in_playground(
        &app,
        &vic,
        &[
            ("feature_1", ""),
            ("feature_2", ""),
            ("feature_3", ""),
            ("feature_4", ""),
            ("rows", "setosa,4.5,1.3,0.3,0.3\nsetosa,5.9,3,5.1,1.8\n"),
        ],
    )
    .await;
    assert_eq!(
        page.matches(r#"data-testid="answer-row""#).count(),
        2,
        "{page}"
    );
    assert_eq!(page.matches(r#"class="differs""#).count(), 1, "{page}");
    assert!(page.contains("1 differ from their label"), "{page}");

    // The curl command, run as shown with a token, answers what the page did.
    let curl = page
        .split(r#"data-testid="copy-curl"><code>"#)
        .nth(1)
        .and_then(|rest| rest.split("</code>").next())
        .expect("curl command");
    let curl = curl
        .replace("<!>", "")
        .replace("&amp;", "&")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">");
    let token = app.access_token("vic", &password).await;
    let output = tokio::process::Command::new("sh")
        .arg("-c")
        .arg(&curl)
        .env("GATEHOUSE_TOKEN", token)
        .output()
        .await
        .expect("sh runs curl");
    let answered: serde_json::Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{curl}\n{output:?}"));
    assert_eq!(answered["result"], "setosa\nvirginica", "{curl}");

    // A bad row is a sentence on the page, not an error page.
    let page = try_in_playground(&app, &vic, &[("rows", "5.1,\"3.5")]).await;
    assert!(
        page.contains(r#"data-testid="try-error""#) && page.contains("not a CSV row"),
        "{page}"
    );
}
