//! Approvals in local mode: the pending list and the evidence, deciding, 100 racing decisions,
//! the quorum, and every kind of bad input — each decision request audited once.

use std::time::{Duration, Instant};

use app::models::identity::Role;

use crate::helpers::{captured_logs, page_text, spawn, Spawn, TestApp};
use crate::leaks::{
    audit_views, local_notifications, local_session_tokens, local_task_tokens, sha256_hex,
    signed_in, LiveStream, Secret, Seen,
};

/// The engine's task tokens as secrets to look for.
pub(crate) fn task_token_secrets(tokens: &[String]) -> Vec<Secret> {
    tokens
        .iter()
        .map(|token| Secret::new("the task token", token.as_str()))
        .collect()
}

pub(crate) async fn spawn_with(args: &[&str]) -> TestApp {
    spawn(Spawn {
        demo_run: true,
        args: args.iter().map(|a| a.to_string()).collect(),
        ..Spawn::default()
    })
    .await
}

/// Waits until the demo run waits for approval; returns its name.
pub(crate) async fn pending_demo(app: &TestApp, client: &reqwest::Client) -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let response = client
            .post(app.url("/api/list_approvals"))
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("")
            .send()
            .await
            .expect("list_approvals");
        assert_eq!(response.status(), 200);
        let body = response.text().await.expect("body");
        let list: serde_json::Value = serde_json::from_str(&body).expect("json");
        if let Some(name) = list["approvals"][0]["execution"]["name"].as_str() {
            // The answer carries none of the task tokens the engine issued for the run.
            let mut seen = Seen::default();
            seen.add("POST /api/list_approvals", body.clone());
            let tokens = local_task_tokens(app, name);
            seen.assert_free_of(&task_token_secrets(&tokens));
            return name.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "the demo run never waited for approval"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub(crate) async fn decide(
    app: &TestApp,
    client: &reqwest::Client,
    id: &str,
    verdict: &str,
    comment: &str,
) -> (u16, String) {
    let response = app
        .call_form(
            client,
            "decide",
            &[("id", id), ("verdict", verdict), ("comment", comment)],
        )
        .await;
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// 100 decisions on one execution at once, spread over `clients`, one in three a rejection
/// (on either adapter): every answer's status and body.
pub(crate) async fn race(
    app: &TestApp,
    clients: &[reqwest::Client],
    name: &str,
) -> Vec<(u16, String)> {
    race_over(&[app], clients, name).await
}

/// [`race`] with the decisions spread over several instances of one deployment too.
pub(crate) async fn race_over(
    instances: &[&TestApp],
    clients: &[reqwest::Client],
    name: &str,
) -> Vec<(u16, String)> {
    let mut race = tokio::task::JoinSet::new();
    for i in 0..100 {
        let client = clients[i % clients.len()].clone();
        let url = instances[i % instances.len()].url("/api/decide");
        let name = name.to_string();
        let verdict = if i % 3 == 0 { "reject" } else { "approve" };
        race.spawn(async move {
            let response = client
                .post(url)
                .header("accept", "application/json")
                .form(&[
                    ("id", name.as_str()),
                    ("verdict", verdict),
                    ("comment", "race"),
                ])
                .send()
                .await
                .expect("decide");
            let status = response.status().as_u16();
            (status, response.text().await.expect("body"))
        });
    }
    let mut answers = Vec::new();
    while let Some(done) = race.join_next().await {
        answers.push(done.expect("task"));
    }
    answers
}

/// Asserts the race had one winner and that the 99 others were told who decided; a failure
/// names the answers that were neither, first (the whole list is long).
pub(crate) fn assert_one_winner(answers: &[(u16, String)]) {
    let winners = answers.iter().filter(|(s, _)| *s == 200).count();
    let (late, other): (Vec<_>, Vec<_>) = answers
        .iter()
        .filter(|(s, _)| *s != 200)
        .partition(|(s, b)| *s == 409 && b.contains("Already decided by"));
    assert_eq!(
        (winners, late.len()),
        (1, 99),
        "answers that were neither the winner nor told who decided: {other:?}; all: {answers:?}"
    );
}

async fn execution_json(app: &TestApp, client: &reqwest::Client, name: &str) -> serde_json::Value {
    let response = app
        .call_form(client, "get_execution", &[("id", name)])
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

/// Waits until the execution has ended; returns its view.
pub(crate) async fn ended(
    app: &TestApp,
    client: &reqwest::Client,
    name: &str,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let view = execution_json(app, client, name).await;
        if view["detail"]["summary"]["status"] != "RUNNING" {
            return view;
        }
        assert!(Instant::now() < deadline, "{name} never ended");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Whether a history event closes an approval task with a decision: a `TaskSucceeded` whose
/// output, or a `TaskFailed` whose cause, is the decision JSON itself.
pub fn carries_a_decision(kind: &str, details: Option<&str>) -> bool {
    let Some(details) = details.and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
    else {
        return false;
    };
    let carried = match kind {
        "TaskSucceeded" => details["output"].as_str(),
        "TaskFailed" => details["cause"].as_str(),
        _ => None,
    };
    carried
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .is_some_and(|decision| decision.get("decision").is_some() && decision.get("by").is_some())
}

pub(crate) fn audit_records(
    app: &TestApp,
    action: &str,
    target: &str,
) -> Vec<(String, String, String)> {
    let connection =
        rusqlite::Connection::open(server::cli::database_path(&app.data_dir)).expect("open");
    let mut statement = connection
        .prepare(
            "SELECT actor, outcome, details FROM audit_log WHERE action = ?1 AND target = ?2 ORDER BY seq",
        )
        .expect("query");
    statement
        .query_map([action, target], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?))
        })
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect()
}

/// The decide forms posted by a browser: the approver lands back on the approval page, which
/// says the decision was sent; a second approver too late lands there with "Already decided
/// by …" — the page the browser is sent to says it with or without JavaScript.
#[tokio::test]
async fn a_decision_sent_by_a_browser_form_lands_on_the_page_that_says_how_it_went() {
    let app = spawn_with(&[]).await;
    let password = app.add_user("ana", &[Role::Approver]).await;
    let ana = app.signed_in_client("ana", &password).await;
    let password = app.add_user("ben", &[Role::Approver]).await;
    let ben = app.signed_in_client("ben", &password).await;
    let name = pending_demo(&app, &ana).await;
    let page = format!("/approvals/{name}");
    let send = |client: &reqwest::Client| {
        client
            .post(app.url("/api/decide"))
            .header("accept", "text/html")
            .header("referer", app.url(&page))
            .form(&[
                ("id", name.as_str()),
                ("verdict", "approve"),
                ("comment", "ok"),
            ])
            .send()
    };

    let response = send(&ana).await.expect("ana decides");
    assert_eq!(response.status(), 302);
    let to = response.headers()["location"].to_str().expect("location");
    assert_eq!(to, format!("{page}?decided=approved"));
    let shown = page_text(app.get_with(&ana, to).await).await;
    let result = shown
        .split(r#"data-testid="decision-result""#)
        .nth(1)
        .expect("the decision's answer on the page");
    assert!(
        result.starts_with(r#" class="notice success">Decision sent: approved.<"#),
        "{shown}"
    );

    let response = send(&ben).await.expect("ben decides");
    assert_eq!(response.status(), 302, "a refused form still goes back");
    let to = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(to.contains("__path=%2Fapi%2Fdecide"), "{to}");
    let path = &to[to.find("/approvals/").expect("the page")..];
    let shown = page_text(app.get_with(&ben, path).await).await;
    assert!(shown.contains(r#"data-testid="error-banner""#), "{shown}");
    assert!(shown.contains("Already decided by ana"), "{shown}");
    assert!(
        !shown.contains(r#"data-testid="decision-result""#),
        "{shown}"
    );
}

/// The approval flow in a browser, and what it must never give away: the task token the engine
/// issued, the approver's and the admin's passwords, session cookies and session tokens show
/// in no page or API answer, in no log line, in no live event, in no audit record or export
/// and in no notification, in clear or encoded. The audit log keeps the token's SHA-256.
#[tokio::test]
async fn an_approver_sees_the_evidence_approves_and_the_run_reaches_its_endpoint() {
    let app = spawn_with(&[]).await;
    let password = app.add_user("ana", &[Role::Approver]).await;
    let (ana, ana_cookie) = signed_in(&app, "ana", &password).await;
    let live = LiveStream::open(&app, &ana_cookie).await;
    let mut seen = Seen::default();
    let name = pending_demo(&app, &ana).await;

    let list = seen
        .page("GET /approvals", app.get_with(&ana, "/approvals").await)
        .await;
    assert!(list.contains(&format!("/approvals/{name}")), "{list}");
    assert!(
        list.contains(" left</time>"),
        "the countdown shows time left: {list}"
    );
    let page = app.get_with(&ana, &format!("/approvals/{name}")).await;
    assert_eq!(page.status(), 200);
    let page = seen.page("GET /approvals/<run>", page).await;
    assert!(page.contains(r#"data-testid="accuracy""#), "{page}");
    assert!(page.contains("Accuracy <strong>"), "{page}");
    assert!(page.contains(r#"data-testid="confusion-matrix""#), "{page}");
    for class in ["setosa", "versicolor", "virginica"] {
        assert!(page.contains(class), "the matrix names {class}");
    }
    assert!(page.contains(r#"data-testid="approve-form""#), "{page}");

    let (status, body) = decide(
        &app,
        &ana,
        &name,
        "approve",
        "<script>alert(1)</script> fine",
    )
    .await;
    seen.add("POST /api/decide", body.clone());
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Decided"), "{body}");
    let view = ended(&app, &ana, &name).await;
    seen.add("POST /api/get_execution", view.to_string());
    assert_eq!(view["detail"]["summary"]["status"], "SUCCEEDED", "{view}");
    let approval = seen
        .body(
            "POST /api/get_approval",
            app.call_form(&ana, "get_approval", &[("id", &name)]).await,
        )
        .await;
    let approval: serde_json::Value = serde_json::from_str(&approval).expect("json");
    assert_eq!(approval["endpoint"]["status"], "InService", "{approval}");

    // The decision shows, the comment as text; a late decision is told who won.
    let page = seen
        .page(
            "GET /approvals/<run> after the decision",
            app.get_with(&ana, &format!("/approvals/{name}")).await,
        )
        .await;
    assert!(page.contains("Approved by ana"), "{page}");
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "escaped: {page}"
    );
    assert!(!page.contains("<script>alert(1)"), "{page}");
    let (status, body) = decide(&app, &ana, &name, "reject", "too late").await;
    seen.add("POST /api/decide, too late", body.clone());
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("Already decided by ana"), "{body}");

    // The audit log names the token by its SHA-256, computed here from the engine's token.
    let tokens = local_task_tokens(&app, &name);
    let records = audit_records(&app, "approval.decide", &name);
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(
        (records[0].0.as_str(), records[0].1.as_str()),
        ("ana", "success")
    );
    let details: serde_json::Value = serde_json::from_str(&records[0].2).expect("details");
    let hash = details["token_sha256"].as_str().expect("token_sha256");
    assert!(
        tokens.iter().any(|token| sha256_hex(token) == hash),
        "{hash} is the SHA-256 of none of {} tokens",
        tokens.len()
    );
    assert_eq!(records[1].1, "refused");

    // Everywhere Gatehouse wrote during the flow, none of its secrets.
    let (admin, admin_cookie) = signed_in(&app, "admin", &app.admin_password).await;
    audit_views(&app, &admin, &mut seen).await;
    let events = live.text();
    assert!(
        events.contains(&name),
        "the stream told of the run: {events}"
    );
    seen.add("the live-event stream", events);
    let logs = captured_logs();
    assert!(
        logs.contains(&name),
        "the log captured this server's lines about the run"
    );
    seen.add("the server's log", logs);
    seen.add("the notifier's messages", local_notifications(&app));
    let mut secrets = task_token_secrets(&tokens);
    secrets.extend([
        Secret::new("ana's password", password),
        Secret::new("ana's session cookie", ana_cookie),
        Secret::new("the admin's password", app.admin_password.clone()),
        Secret::new("the admin's session cookie", admin_cookie),
    ]);
    secrets.extend(local_session_tokens(&app, "ana"));
    secrets.extend(local_session_tokens(&app, "admin"));
    seen.assert_free_of(&secrets);
}

#[tokio::test]
async fn a_hundred_racing_decisions_have_one_winner_and_a_hundred_records() {
    let app = spawn_with(&[]).await;
    let mut clients = Vec::new();
    for who in ["ana", "ben", "cai", "dee"] {
        let password = app.add_user(who, &[Role::Approver]).await;
        clients.push(app.signed_in_client(who, &password).await);
    }
    let name = pending_demo(&app, &clients[0]).await;

    let answers = race(&app, &clients, &name).await;
    assert_one_winner(&answers);
    let winners: Vec<_> = answers.iter().filter(|(s, _)| *s == 200).collect();

    let records = audit_records(&app, "approval.decide", &name);
    assert_eq!(records.len(), 100);
    assert_eq!(records.iter().filter(|r| r.1 == "success").count(), 1);

    // Exactly one path: one closing event for the approval task, and the run ends by it.
    let view = ended(&app, &clients[0], &name).await;
    let events = view["events"].as_array().expect("events");
    let closings = events
        .iter()
        .filter(|e| {
            carries_a_decision(
                e["kind"].as_str().unwrap_or_default(),
                e["details"].as_str(),
            )
        })
        .count();
    assert_eq!(closings, 1, "{events:?}");
    let status = view["detail"]["summary"]["status"]
        .as_str()
        .unwrap_or_default();
    if winners[0].1.contains("approved") {
        assert_eq!(status, "SUCCEEDED");
    } else {
        assert_eq!(status, "FAILED");
        assert_eq!(view["detail"]["error"], "rejected");
    }
}

#[tokio::test]
async fn a_quorum_of_two_waits_for_a_second_approver() {
    let app = spawn_with(&["--approval-quorum", "2"]).await;
    let ana_pw = app.add_user("ana", &[Role::Approver]).await;
    let ben_pw = app.add_user("ben", &[Role::Approver]).await;
    let ana = app.signed_in_client("ana", &ana_pw).await;
    let ben = app.signed_in_client("ben", &ben_pw).await;
    let name = pending_demo(&app, &ana).await;

    let (status, body) = decide(&app, &ana, &name, "approve", "one").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Counted"), "{body}");
    let (status, body) = decide(&app, &ana, &name, "approve", "again").await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("approved already"), "{body}");
    let page = page_text(app.get_with(&ben, &format!("/approvals/{name}")).await).await;
    assert!(page.contains("Approved so far by: ana"), "{page}");
    assert!(page.contains("2 approvers must approve"), "{page}");
    let (status, body) = decide(&app, &ben, &name, "approve", "two").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Decided"), "{body}");
    assert_eq!(
        ended(&app, &ana, &name).await["detail"]["summary"]["status"],
        "SUCCEEDED"
    );
    assert_eq!(audit_records(&app, "approval.vote", &name).len(), 1);
}

#[tokio::test]
async fn bad_decisions_get_clear_answers_and_decide_nothing() {
    let app = spawn_with(&[]).await;
    let password = app.add_user("ana", &[Role::Approver]).await;
    let ana = app.signed_in_client("ana", &password).await;
    let viewer_pw = app.add_user("vera", &[Role::Viewer]).await;
    let vera = app.signed_in_client("vera", &viewer_pw).await;
    let name = pending_demo(&app, &ana).await;

    let huge = "x".repeat(1_000_000);
    let cases: Vec<(&str, &str, &str, u16, &str)> = vec![
        (name.as_str(), "approve", huge.as_str(), 400, "too long"),
        (
            name.as_str(),
            "approve",
            "bell\u{7}",
            400,
            "control characters",
        ),
        (name.as_str(), "reject", "  ", 400, "needs a comment"),
        (name.as_str(), "maybe", "", 400, "not a decision"),
        ("no-such-run", "approve", "", 404, ""),
        ("arn:aws:states:bad", "approve", "", 400, ""),
    ];
    for (id, verdict, comment, status, words) in cases {
        let (got, body) = decide(&app, &ana, id, verdict, comment).await;
        assert_eq!(got, status, "{id} {verdict}: {body}");
        assert!(body.contains(words), "{id} {verdict}: {body}");
    }
    // A viewer's forged decision is refused and audited.
    let (got, _) = decide(&app, &vera, &name, "approve", "forged").await;
    assert_eq!(got, 403);
    let forged = audit_records(&app, "approval.decide", &name);
    assert!(
        forged.iter().any(|r| r.0 == "vera" && r.1 == "refused"),
        "{forged:?}"
    );
    // The sample's e-mail link decides nothing: it is not a Gatehouse route.
    let link = app
        .get_with(&app.new_client(), "/respond?type=success&token=anything")
        .await;
    assert!(link.status().is_redirection(), "anonymous: sign in first");
    let link = app
        .get_with(&ana, "/respond?type=success&token=anything")
        .await;
    assert_eq!(link.status(), 404);
    // A link to the approval page opens sign-in first.
    let anonymous = app
        .get_with(&app.new_client(), &format!("/approvals/{name}"))
        .await;
    assert_eq!(anonymous.status(), 303);
    assert!(anonymous.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("/signin?next="));

    // Still waiting: nothing above decided anything.
    assert_eq!(pending_demo(&app, &ana).await, name);

    // A run that has ended: started and stopped, then decided.
    let operator_pw = app.add_user("otto", &[Role::Operator]).await;
    let otto = app.signed_in_client("otto", &operator_pw).await;
    let started = app
        .call_form(
            &otto,
            "start_execution",
            &[
                ("name", "second-run"),
                ("commit_id", "abcdef12-1764086645"),
                ("image_uri", "localhost/iris:2"),
            ],
        )
        .await;
    assert_eq!(started.status(), 200);
    let stopped = app
        .call_form(
            &otto,
            "stop_execution",
            &[("id", "second-run"), ("reason", "test")],
        )
        .await;
    assert_eq!(stopped.status(), 200);
    let (got, body) = decide(&app, &ana, "second-run", "approve", "").await;
    assert_eq!(got, 409, "{body}");
    assert!(body.contains("has ended (ABORTED)"), "{body}");
}
