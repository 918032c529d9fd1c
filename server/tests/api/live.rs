//! Live updates: `/events` streams execution, approval and decision events to signed-in
//! pages, and a reconnect with `Last-Event-ID` (or a first connection with its page's
//! `?since=` position) gets what it missed (or `resync`).

use std::time::{Duration, Instant};

use app::models::identity::Role;

use crate::helpers::{new_client, spawn, Spawn, TestApp};

/// One server-sent event.
#[derive(Debug, Clone)]
struct Sse {
    id: String,
    kind: String,
    data: String,
}

/// Reads events from an open stream until `done` says so or a minute passes.
async fn read_until(
    response: &mut reqwest::Response,
    buffer: &mut String,
    mut done: impl FnMut(&[Sse]) -> bool,
) -> Vec<Sse> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut events = Vec::new();
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut event = Sse {
                id: String::new(),
                kind: "message".into(),
                data: String::new(),
            };
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    event.id = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("event:") {
                    event.kind = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    event.data.push_str(v.trim());
                }
            }
            if !event.id.is_empty() {
                events.push(event);
            }
        }
        if done(&events) {
            return events;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no such events within a minute: {events:?}"
        );
        match tokio::time::timeout(left, response.chunk()).await {
            Ok(Ok(Some(chunk))) => buffer.push_str(&String::from_utf8_lossy(&chunk)),
            other => panic!("the stream ended: {other:?}; {events:?}"),
        }
    }
}

async fn open(app: &TestApp, client: &reqwest::Client, last: Option<&str>) -> reqwest::Response {
    let mut request = client.get(app.url("/events"));
    if let Some(last) = last {
        request = request.header("last-event-id", last);
    }
    let response = request.send().await.expect("events");
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    response
}

#[tokio::test]
async fn pages_hear_of_a_new_run_and_a_reconnect_resumes_where_it_left() {
    let app = spawn(Spawn {
        args: vec!["--live-poll-ms".into(), "200".into()],
        ..Spawn::default()
    })
    .await;
    assert_eq!(
        new_client()
            .get(app.url("/events"))
            .send()
            .await
            .unwrap()
            .status(),
        401,
        "anonymous: no stream"
    );
    let password = app.add_user("vera", &[Role::Viewer]).await;
    let vera = app.signed_in_client("vera", &password).await;

    let otto_password = app.add_user("otto", &[Role::Operator]).await;
    let otto = app.signed_in_client("otto", &otto_password).await;

    let mut stream = open(&app, &vera, None).await;
    // The watcher's first look is its baseline; start the run after it.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let started = app
        .call_form(
            &otto,
            "start_execution",
            &[
                ("name", "live-run"),
                ("commit_id", "abcdef12-1764086645"),
                ("image_uri", "localhost/iris:live"),
            ],
        )
        .await;
    assert_eq!(started.status(), 200);
    let mut buffer = String::new();
    let seen = read_until(&mut stream, &mut buffer, |events| {
        events
            .iter()
            .any(|e| e.kind == "approval" || e.data.contains("FAILED"))
    })
    .await;
    if seen.iter().any(|e| e.data.contains("FAILED")) {
        let detail = app
            .call_form(&vera, "get_execution", &[("id", "live-run")])
            .await
            .text()
            .await
            .unwrap_or_default();
        panic!("the run failed instead of waiting for a decision: {detail}");
    }
    assert_eq!(
        seen[0].kind, "resync",
        "watching starts by telling listeners to look again: {seen:?}"
    );
    let approval = seen.iter().find(|e| e.kind == "approval").unwrap();
    assert!(
        approval.data.contains("\"execution\":\"live-run\""),
        "{approval:?}"
    );
    // The only run this test started waits: the navigation's count comes with the news.
    assert!(approval.data.contains("\"pending\":1"), "{approval:?}");
    assert!(
        seen.iter().any(|e| e.kind == "execution"),
        "state changes came first: {seen:?}"
    );
    drop(stream);

    // Reconnecting after the first event replays everything after it, in order.
    let first = seen[0].id.clone();
    let mut again = open(&app, &vera, Some(&first)).await;
    let mut buffer = String::new();
    let replayed = read_until(&mut again, &mut buffer, |events| {
        events.len() >= seen.len() - 1
    })
    .await;
    let expected: Vec<&str> = seen[1..].iter().map(|e| e.id.as_str()).collect();
    let got: Vec<&str> = replayed[..expected.len()]
        .iter()
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(got, expected);

    // An id this process never gave (an earlier process's): fetch everything again.
    let mut stale = open(&app, &vera, Some("1-1")).await;
    let mut buffer = String::new();
    let resync = read_until(&mut stale, &mut buffer, |events| !events.is_empty()).await;
    assert_eq!(resync[0].kind, "resync");
}

/// A page carries the live position it was drawn at, and a listener that connects late from
/// that position (`?since=`) still hears the news published in between.
#[tokio::test]
async fn a_listener_follows_from_the_position_its_page_was_drawn_at() {
    let app = spawn(Spawn {
        args: vec!["--live-poll-ms".into(), "200".into()],
        ..Spawn::default()
    })
    .await;
    let password = app.add_user("vera", &[Role::Viewer]).await;
    let vera = app.signed_in_client("vera", &password).await;
    let otto_password = app.add_user("otto", &[Role::Operator]).await;
    let otto = app.signed_in_client("otto", &otto_password).await;

    // The watcher looks only while someone listens: one listener keeps it looking.
    let mut watching = open(&app, &vera, None).await;
    let mut buffer = String::new();
    read_until(&mut watching, &mut buffer, |events| {
        events.iter().any(|e| e.kind == "resync")
    })
    .await;
    let page = app
        .get_with(&vera, "/executions")
        .await
        .text()
        .await
        .expect("page");
    let since = page
        .split(r#"data-live-since=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page carries its live position")
        .to_string();

    let started = app
        .call_form(
            &otto,
            "start_execution",
            &[
                ("name", "late-run"),
                ("commit_id", "abcdef12-1764086645"),
                ("image_uri", "localhost/iris:late"),
            ],
        )
        .await;
    assert_eq!(started.status(), 200);
    read_until(&mut watching, &mut buffer, |events| {
        events.iter().any(|e| e.data.contains("late-run"))
    })
    .await;

    // Only now does the page's own listener connect: it hears what it missed.
    let mut late = vera
        .get(app.url(&format!("/events?since={since}")))
        .send()
        .await
        .expect("events");
    assert_eq!(late.status(), 200);
    let mut buffer = String::new();
    let heard = read_until(&mut late, &mut buffer, |events| {
        events.iter().any(|e| e.data.contains("late-run"))
    })
    .await;
    assert!(
        heard.iter().all(|e| e.kind != "resync"),
        "resumed, not told to start over: {heard:?}"
    );
}
