//! The secrets a test handled — the task token the workflow engine (or Step Functions) issued,
//! session cookies, access, ID and refresh tokens, passwords — and the check that none of them
//! shows anywhere Gatehouse writes: page and API bodies, the server's log, the live-event
//! stream, the audit log and the notifier's messages. Each secret is looked for as it is and in
//! the encodings a careless write would give it, so a token base64-encoded into a log line or
//! percent-encoded into a link is caught too.
//!
//! The values come from where they were issued (the engine's store, moto's Step Functions
//! history, the `Set-Cookie` header, the token endpoint, the session store), never from what
//! Gatehouse itself calls a token: a check that reused the redaction's own rule could not find
//! what that rule misses.

use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;

use crate::helpers::{session_cookie, TestApp};

/// A value that must never be written out, and what it is (for the failure message).
#[derive(Debug, Clone)]
pub struct Secret {
    pub what: String,
    pub value: String,
}

impl Secret {
    pub fn new(what: impl Into<String>, value: impl Into<String>) -> Secret {
        let secret = Secret {
            what: what.into(),
            value: value.into(),
        };
        // A short value would be found by chance in any page; every secret here is long.
        assert!(
            secret.value.len() >= 8,
            "{} is too short to look for: {:?}",
            secret.what,
            secret.value
        );
        secret
    }
}

/// `value` percent-encoded as RFC 3986 section 2.1 defines it: every byte but the unreserved
/// characters (ALPHA, DIGIT, `-`, `.`, `_`, `~`, section 2.3) as `%` and two hex digits.
pub fn percent_encoded(value: &str, upper: bool) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else if upper {
                format!("%{b:02X}")
            } else {
                format!("%{b:02x}")
            }
        })
        .collect()
}

/// Every form of `value` looked for: as is; base64 in the standard and the URL-safe alphabet,
/// with and without padding (RFC 4648 sections 4 and 5); percent-encoded with upper- and
/// lower-case hex digits; and form-encoded (`application/x-www-form-urlencoded`, as the
/// WHATWG URL standard serialises it: space as `+`).
pub fn forms(value: &str) -> Vec<(&'static str, String)> {
    let form_encoded = serde_urlencoded::to_string([("", value)])
        .expect("form encoding")
        .trim_start_matches('=')
        .to_string();
    vec![
        ("as is", value.to_string()),
        ("base64", STANDARD.encode(value)),
        ("base64 without padding", STANDARD_NO_PAD.encode(value)),
        ("URL-safe base64", URL_SAFE.encode(value)),
        (
            "URL-safe base64 without padding",
            URL_SAFE_NO_PAD.encode(value),
        ),
        ("percent-encoded", percent_encoded(value, true)),
        (
            "percent-encoded, lower-case hex",
            percent_encoded(value, false),
        ),
        ("form-encoded", form_encoded),
    ]
}

/// Everything a test saw Gatehouse write, place by place.
#[derive(Default)]
pub struct Seen {
    places: Vec<(String, String)>,
}

impl Seen {
    pub fn add(&mut self, place: impl Into<String>, text: impl Into<String>) {
        self.places.push((place.into(), text.into()));
    }

    /// A response's body, recorded under its method and path; answers the body.
    pub async fn body(&mut self, place: &str, response: reqwest::Response) -> String {
        let body = response.text().await.expect("response body");
        self.add(place, body.clone());
        body
    }

    /// A page's body, recorded as sent; answers it without Leptos' hydration markers, as
    /// [`crate::helpers::page_text`] does.
    pub async fn page(&mut self, place: &str, response: reqwest::Response) -> String {
        self.body(place, response).await.replace("<!>", "")
    }

    /// Fails naming the secret, the form and the place when any secret shows anywhere.
    pub fn assert_free_of(&self, secrets: &[Secret]) {
        assert!(!self.places.is_empty(), "nothing was recorded to look in");
        for secret in secrets {
            for (form, needle) in forms(&secret.value) {
                for (place, text) in &self.places {
                    if let Some(at) = text.find(&needle) {
                        let start = text.floor_char_boundary(at.saturating_sub(80));
                        let end = text.ceil_char_boundary((at + needle.len() + 80).min(text.len()));
                        panic!(
                            "{} ({form}) shows in {place}: …{}…",
                            secret.what,
                            &text[start..end]
                        );
                    }
                }
            }
        }
    }
}

/// Signs a new browser in with the form and answers it with its session cookie's value, read
/// from the `Set-Cookie` header the server sent.
pub async fn signed_in(app: &TestApp, username: &str, password: &str) -> (reqwest::Client, String) {
    let client = app.new_client();
    let response = app.sign_in_with(&client, username, password, "/me").await;
    assert_eq!(response.status(), 303, "sign-in redirects");
    assert_eq!(response.headers()["location"], "/me", "sign-in succeeded");
    let cookie = session_cookie(&response).expect("a session cookie");
    let value = crate::helpers::cookie_pair(&cookie)
        .trim_start_matches("gatehouse_session=")
        .to_string();
    (client, value)
}

/// The task tokens the local engine issued for the execution `name`, read from its store.
pub fn local_task_tokens(app: &TestApp, name: &str) -> Vec<String> {
    task_tokens_in(&server::cli::database_path(&app.data_dir), name)
}

/// The task tokens an engine store (the SQLite file `database`) holds for the execution
/// `name`, read with SQL rather than through the engine, which hides them.
pub fn task_tokens_in(database: &std::path::Path, name: &str) -> Vec<String> {
    let connection = rusqlite::Connection::open(database).expect("open the engine's store");
    let mut statement = connection
        .prepare("SELECT token FROM task_tokens WHERE execution_arn LIKE '%:' || ?1")
        .expect("query");
    let tokens: Vec<String> = statement
        .query_map([name], |row| row.get(0))
        .expect("rows")
        .map(|row| row.expect("row"))
        .collect();
    assert!(!tokens.is_empty(), "the engine issued no token for {name}");
    tokens
}

/// The access, ID and refresh tokens the local session store keeps for `username`'s sessions.
pub fn local_session_tokens(app: &TestApp, username: &str) -> Vec<Secret> {
    let connection = rusqlite::Connection::open(server::cli::database_path(&app.data_dir))
        .expect("open the session store");
    let mut statement = connection
        .prepare("SELECT record FROM server_sessions")
        .expect("query");
    let records: Vec<String> = statement
        .query_map([], |row| row.get(0))
        .expect("rows")
        .map(|row| row.expect("row"))
        .collect();
    let mut secrets = Vec::new();
    for record in records {
        let record: serde_json::Value = serde_json::from_str(&record).expect("a JSON record");
        let signed_in = &record["data"]["gatehouse.signed_in"];
        if signed_in["username"] != username {
            continue;
        }
        for field in ["access_token", "id_token", "refresh_token"] {
            if let Some(value) = signed_in[field].as_str() {
                secrets.push(Secret::new(format!("{username}'s session {field}"), value));
            }
        }
    }
    assert!(!secrets.is_empty(), "no session of {username} is stored");
    secrets
}

/// The notifier's messages (the local engine's notifications), as stored.
pub fn local_notifications(app: &TestApp) -> String {
    let connection = rusqlite::Connection::open(server::cli::database_path(&app.data_dir))
        .expect("open the engine's store");
    let mut statement = connection
        .prepare("SELECT kind, body FROM notifications ORDER BY id")
        .expect("query");
    let messages: Vec<String> = statement
        .query_map([], |row| {
            Ok(format!(
                "{}: {}",
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?
            ))
        })
        .expect("rows")
        .map(|row| row.expect("row"))
        .collect();
    assert!(!messages.is_empty(), "the notifier sent nothing");
    messages.join("\n")
}

/// The task tokens Step Functions (moto) issued in the execution `execution_arn`: the
/// `Payload.token` of each `TaskScheduled` event's parameters, where the pipeline's definition
/// puts `$$.Task.Token` (infra/statemachine/mlops.asl.json), read from Step Functions itself.
pub async fn moto_task_tokens(sdk: &aws_config::SdkConfig, execution_arn: &str) -> Vec<String> {
    let sfn = aws_sdk_sfn::Client::new(sdk);
    let mut tokens = Vec::new();
    let mut next = None;
    loop {
        let page = sfn
            .get_execution_history()
            .execution_arn(execution_arn)
            .set_next_token(next)
            .send()
            .await
            .expect("the execution's history from Step Functions");
        for event in page.events() {
            if let Some(parameters) = event
                .task_scheduled_event_details()
                .map(|details| details.parameters())
            {
                let parameters: serde_json::Value =
                    serde_json::from_str(parameters).expect("parameters are JSON");
                if let Some(token) = parameters["Payload"]["token"].as_str() {
                    tokens.push(token.to_string());
                }
            }
        }
        next = page.next_token().map(str::to_string);
        if next.is_none() {
            break;
        }
    }
    assert!(!tokens.is_empty(), "Step Functions issued no task token");
    tokens
}

/// SHA-256 of `text` in lower-case hex, computed here (aws-lc-rs), not by Gatehouse.
pub fn sha256_hex(text: &str) -> String {
    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, text.as_bytes())
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The live-event stream as one browser receives it, read in the background from the moment
/// it opens until it is dropped.
pub struct LiveStream {
    text: Arc<Mutex<String>>,
    reader: tokio::task::JoinHandle<()>,
}

impl LiveStream {
    /// Opens `/events` with the session cookie `cookie` (its value), on a client with no
    /// overall time limit, so the stream lasts as long as the test.
    pub async fn open(app: &TestApp, cookie: &str) -> LiveStream {
        let mut response = reqwest::Client::new()
            .get(app.url("/events"))
            .header("cookie", format!("gatehouse_session={cookie}"))
            .send()
            .await
            .expect("the live-event stream");
        assert_eq!(response.status(), 200, "the stream opens");
        let text = Arc::new(Mutex::new(String::new()));
        let sink = text.clone();
        let reader = tokio::spawn(async move {
            while let Ok(Some(chunk)) = response.chunk().await {
                sink.lock()
                    .expect("stream text")
                    .push_str(&String::from_utf8_lossy(&chunk));
            }
        });
        let stream = LiveStream { text, reader };
        // The watcher's first look is a resync (it has nothing to compare yet); changes are
        // told from the next look on. Waiting for it makes the stream hear of what the test
        // does next instead of racing the first look.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !stream.text().contains("event: resync") {
            assert!(
                std::time::Instant::now() < deadline,
                "the live stream never resynced: {}",
                stream.text()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        stream
    }

    pub fn text(&self) -> String {
        self.text.lock().expect("stream text").clone()
    }
}

impl Drop for LiveStream {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// The audit log as an admin reads it: the CSV and JSON exports and the `list_audit` API.
pub async fn audit_views(app: &TestApp, admin: &reqwest::Client, seen: &mut Seen) {
    for path in ["/audit/export.csv", "/audit/export.json", "/audit"] {
        let response = app.get_with(admin, path).await;
        assert_eq!(response.status(), 200, "{path}");
        seen.body(&format!("GET {path}"), response).await;
    }
    let response = admin
        .post(app.url("/api/list_audit"))
        .header("accept", "application/json")
        .json(&serde_json::json!({ "filter": {} }))
        .send()
        .await
        .expect("list_audit");
    assert_eq!(response.status(), 200, "list_audit");
    let body = seen.body("POST /api/list_audit", response).await;
    assert!(body.contains("\"records\""), "{body}");
}

#[test]
fn the_encodings_are_the_standard_ones() {
    // RFC 4648 section 10's test vectors, and RFC 3986's example of a percent-encoded space.
    let all = forms("foobar");
    assert!(all.contains(&("base64", "Zm9vYmFy".to_string())));
    let all = forms("fo");
    assert!(all.contains(&("base64", "Zm8=".to_string())));
    assert!(all.contains(&("base64 without padding", "Zm8".to_string())));
    // 0xfb 0xff: '+' and '/' in the standard alphabet, '-' and '_' in the URL-safe one.
    assert_eq!(STANDARD.encode([0xfb, 0xff]), "+/8=");
    assert_eq!(URL_SAFE_NO_PAD.encode([0xfb, 0xff]), "-_8");
    assert_eq!(percent_encoded("a b/c~", true), "a%20b%2Fc~");
    assert_eq!(percent_encoded("a/b", false), "a%2fb");
    assert!(forms("a b+c").contains(&("form-encoded", "a+b%2Bc".to_string())));
}

#[test]
#[should_panic(expected = "the probe (URL-safe base64 without padding) shows in a page")]
fn a_secret_is_found_in_any_of_its_forms() {
    // Its standard base64 has a '+' (cHJvYmUtMDA+MA==) where the URL-safe one has a '-'.
    let secret = "probe-00>0".to_string();
    let mut seen = Seen::default();
    seen.add(
        "a page",
        format!("<p>{}</p>", URL_SAFE_NO_PAD.encode(&secret)),
    );
    seen.assert_free_of(&[Secret::new("the probe", secret)]);
}
