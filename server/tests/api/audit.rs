//! The audit log, local mode: what is recorded, who may read it, the page and its exports,
//! `gatehouse audit verify`, and a kill -9 in the middle of a burst of audited actions.

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use app::models::identity::Role;

use crate::helpers::{new_client, page_text, spawn, spawn_app, Scratch, Spawn, TestApp};

fn gatehouse() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
}

/// `gatehouse audit verify` on a data folder: (exit code, stdout, stderr).
fn verify(data_dir: &std::path::Path) -> (i32, String, String) {
    let out = gatehouse()
        .arg("--data-dir")
        .arg(data_dir)
        .args(["--log-filter", "warn", "audit", "verify"])
        .output()
        .expect("gatehouse audit verify runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Edits one record as a person with the file would: drops the append-only trigger first.
fn edit_by_hand(data_dir: &std::path::Path, seq: u64) {
    let connection =
        rusqlite::Connection::open(server::cli::database_path(data_dir)).expect("open by hand");
    connection
        .execute_batch("DROP TRIGGER IF EXISTS audit_log_append_only_update;")
        .expect("drop trigger");
    let changed = connection
        .execute(
            "UPDATE audit_log SET actor = 'nobody' WHERE seq = ?1",
            [seq as i64],
        )
        .expect("update");
    assert_eq!(changed, 1, "record {seq} exists");
}

#[tokio::test]
async fn sign_ins_starts_and_refusals_are_recorded_and_only_admins_read_them() {
    let app = spawn_app().await;
    let password = app.add_user("vera", &[Role::Viewer]).await;
    let stranger = new_client();
    app.sign_in_with(&stranger, "vera", "not her password at all", "/me")
        .await;
    let viewer = app.signed_in_client("vera", &password).await;
    let forged = app
        .call_form(
            &viewer,
            "start_execution",
            &[
                ("name", "forged-run"),
                ("commit_id", "deadbeef-1764086645"),
                ("image_uri", "localhost/iris:forged"),
            ],
        )
        .await;
    assert_eq!(forged.status(), 403, "a viewer cannot start a run");
    let admin = app.signed_in_client("admin", &app.admin_password).await;

    let page = page_text(app.get_with(&admin, "/audit?actor=vera").await).await;
    for expected in [
        "auth.sign_in",
        "execution.start",
        "forged-run",
        "refused",
        "failure",
    ] {
        assert!(page.contains(expected), "audit page lacks {expected}");
    }
    assert!(!page.contains("admin</td>"), "the filter keeps to vera");
    assert!(
        page.contains("export.csv?actor=vera"),
        "the export link keeps the filter"
    );

    let csv = app.get_with(&admin, "/audit/export.csv?actor=vera").await;
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = csv.text().await.expect("csv");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], server::audit::export::CSV_COLUMNS.join(","));
    assert_eq!(
        rows.len(),
        4,
        "failed sign-in, sign-in, refused start:\n{csv}"
    );
    assert!(rows[1].contains("execution.start") && rows[1].contains(",refused,"));
    assert!(rows[3].contains("auth.sign_in") && rows[3].contains(",failure,"));

    let json: serde_json::Value = app
        .get_with(&admin, "/audit/export.json?actor=vera&outcome=refused")
        .await
        .json()
        .await
        .expect("json export");
    let records = json.as_array().expect("array");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["action"], "execution.start");
    assert_eq!(records[0]["roles"], serde_json::json!(["viewer"]));
    assert_eq!(records[0]["hash"].as_str().map(str::len), Some(64));
    assert!(records[0]["details"]
        .as_str()
        .unwrap()
        .contains("needs the operator role"));

    // Only admins read the log; a bad filter says what is wrong.
    assert_eq!(app.get_with(&viewer, "/audit").await.status(), 403);
    assert_eq!(
        app.get_with(&viewer, "/audit/export.csv").await.status(),
        403
    );
    assert_eq!(
        app.get_with(&new_client(), "/audit/export.json")
            .await
            .status(),
        401
    );
    let bad = app
        .get_with(&admin, "/audit/export.csv?outcome=maybe")
        .await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("not an outcome"));
    let bad_page = app.get_with(&admin, "/audit?from=yesterday").await;
    assert_eq!(bad_page.status(), 400);
    assert!(page_text(bad_page).await.contains("YYYY-MM-DD"));
}

#[tokio::test]
async fn audit_verify_passes_then_names_a_record_edited_by_hand() {
    let app = spawn_app().await;
    for _ in 0..3 {
        app.signed_in_client("admin", &app.admin_password).await;
    }
    let (code, stdout, stderr) = verify(&app.data_dir);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("intact: 3 records"), "{stdout}");

    edit_by_hand(&app.data_dir, 2);
    let (code, stdout, stderr) = verify(&app.data_dir);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stderr.contains("at record 2"), "{stderr}");
    assert!(stderr.contains("was changed"), "{stderr}");
}

/// The release of a server process started by the test: killed on drop.
struct Running {
    child: Child,
    address: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the real binary on a data folder; returns it and the first admin's password when
/// this was the first start.
/// Starts the binary on `scratch`'s data folder; returns it and the first admin's password
/// when it printed one (waited for on a first start; looked for briefly otherwise).
fn start_binary(scratch: &Scratch, first_start: bool) -> (Running, Option<String>) {
    let mut child = gatehouse()
        .args([
            "--bind",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--demo-run",
            "false",
        ])
        .arg("--data-dir")
        .arg(scratch.path().join("data"))
        .arg("--site-root")
        .arg(scratch.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gatehouse starts");
    let stderr = child.stderr.take().expect("stderr");
    let stdout = child.stdout.take().expect("stdout");
    // The password is printed on stderr before the server listens, but the two pipes are
    // read on their own threads, in no set order: the password comes through a channel.
    let (found, password) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(p) = line.trim().strip_prefix("password: ") {
                let _ = found.send(p.to_string());
            }
        }
    });
    let address = crate::helpers::announced_address(stdout)
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("the server says where it listens");
    let patience = if first_start { 60 } else { 2 };
    let password = password
        .recv_timeout(std::time::Duration::from_secs(patience))
        .ok();
    (Running { child, address }, password)
}

#[tokio::test]
async fn kill_9_during_a_burst_keeps_every_answered_action_and_the_chain() {
    const BURST: usize = 1000;
    const KILL_AFTER: usize = 300;
    let scratch = Scratch::new();
    let data_dir = scratch.path().join("data");
    let (mut server, password) = start_binary(&scratch, true);
    let password = password.expect("first start prints the admin password");
    let url = format!("http://{}/auth/token", server.address);

    // A thousand audited actions (token requests), 16 at a time; the server is killed once
    // KILL_AFTER of them have been answered.
    let answered = Arc::new(Mutex::new(Vec::<String>::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let client = new_client();
    let mut burst = tokio::task::JoinSet::new();
    let next = Arc::new(AtomicUsize::new(0));
    for _ in 0..16 {
        let (client, url, password) = (client.clone(), url.clone(), password.clone());
        let (answered, count, next) =
            (Arc::clone(&answered), Arc::clone(&count), Arc::clone(&next));
        burst.spawn(async move {
            while next.fetch_add(1, Ordering::SeqCst) < BURST {
                let body = serde_json::json!({"username": "admin", "password": password});
                let Ok(response) = client.post(&url).json(&body).send().await else {
                    return; // the server is gone
                };
                if response.status() == 200 {
                    let id = response.headers()["x-request-id"]
                        .to_str()
                        .expect("request id")
                        .to_string();
                    answered.lock().unwrap().push(id);
                    count.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
    }
    while count.load(Ordering::SeqCst) < KILL_AFTER {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    // SIGKILL: no shutdown, no flush.
    server.child.kill().expect("kill -9");
    let _ = server.child.wait();
    while burst.join_next().await.is_some() {}
    let answered = answered.lock().unwrap().clone();
    assert!(answered.len() >= KILL_AFTER);

    let (code, stdout, stderr) = verify(&data_dir);
    assert_eq!(code, 0, "the chain survives the kill: {stdout}{stderr}");
    let stored: HashSet<String> = {
        let connection =
            rusqlite::Connection::open(server::cli::database_path(&data_dir)).expect("open");
        let mut statement = connection
            .prepare("SELECT request_id FROM audit_log WHERE action = 'auth.token_issued'")
            .expect("query");
        statement
            .query_map([], |row| row.get(0))
            .expect("rows")
            .map(|r| r.expect("row"))
            .collect()
    };
    let lost: Vec<&String> = answered.iter().filter(|id| !stored.contains(*id)).collect();
    assert!(
        lost.is_empty(),
        "{} of {} answered actions are not in the log",
        lost.len(),
        answered.len()
    );

    // The server starts again on the same folder and the chain goes on.
    let (restarted, again) = start_binary(&scratch, false);
    assert!(again.is_none(), "no second first-admin");
    let response = new_client()
        .post(format!("http://{}/auth/token", restarted.address))
        .json(&serde_json::json!({"username": "admin", "password": password}))
        .send()
        .await
        .expect("token after restart");
    assert_eq!(response.status(), 200);
    drop(restarted);
    let (code, stdout, stderr) = verify(&data_dir);
    assert_eq!(code, 0, "{stdout}{stderr}");

    // One record changed by hand: verify fails and names it.
    edit_by_hand(&data_dir, 42);
    let (code, _, stderr) = verify(&data_dir);
    assert_eq!(code, 1);
    assert!(stderr.contains("at record 42"), "{stderr}");
}

/// The address audit records and the throttle use: the connection's unless a setting says a
/// proxy stands in front; then the one that proxy appended to `X-Forwarded-For`, never the
/// entries a client wrote itself.
#[tokio::test]
async fn the_client_address_comes_from_a_trusted_proxy_only_when_configured() {
    let source_of_failed_sign_in = |app: &TestApp| {
        let connection =
            rusqlite::Connection::open(server::cli::database_path(&app.data_dir)).expect("open");
        connection
            .query_row(
                "SELECT source_ip FROM audit_log WHERE action = 'auth.sign_in' \
                 AND outcome = 'failure' ORDER BY seq DESC LIMIT 1",
                [],
                |row| row.get::<_, String>(0),
            )
            .expect("a failed sign-in record")
    };
    let forged_then_seen = "198.51.100.1, 203.0.113.7";
    let sign_in = |app: &TestApp| {
        let url = app.url("/auth/token");
        async move {
            let answer = new_client()
                .post(url)
                .header("x-forwarded-for", forged_then_seen)
                .json(&serde_json::json!({ "username": "nobody", "password": "wrong" }))
                .send()
                .await
                .expect("token request");
            assert_eq!(answer.status(), 401);
        }
    };

    let direct = spawn_app().await;
    sign_in(&direct).await;
    assert_eq!(source_of_failed_sign_in(&direct), "127.0.0.1");

    let behind_a_proxy = spawn(Spawn {
        args: vec!["--trusted-proxies".into(), "1".into()],
        ..Spawn::default()
    })
    .await;
    sign_in(&behind_a_proxy).await;
    assert_eq!(source_of_failed_sign_in(&behind_a_proxy), "203.0.113.7");
}
