//! Sign-in, sessions, sign-out, the token endpoint and the users CLI, end to end (local mode).

use std::io::Write as _;

use app::models::identity::Role;
use clap::Parser;

use crate::helpers::{cookie_pair, page_text, session_cookie, spawn_app, Scratch};
use crate::leaks::{local_session_tokens, Secret, Seen};

fn cookie_id(set_cookie: &str) -> String {
    cookie_pair(set_cookie)
        .trim_start_matches("gatehouse_session=")
        .to_string()
}

#[tokio::test]
async fn signing_in_sets_a_hardened_session_cookie_and_goes_to_next() {
    let app = spawn_app().await;
    let client = app.new_client();
    let response = app
        .sign_in_with(&client, "admin", &app.admin_password, "/approvals?x=1")
        .await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/approvals?x=1");
    let cookie = session_cookie(&response).expect("session cookie");
    let lower = cookie.to_ascii_lowercase();
    assert!(lower.contains("httponly"), "{cookie}");
    assert!(lower.contains("samesite=lax"), "{cookie}");
    assert!(lower.contains("path=/"), "{cookie}");
    assert!(
        !lower.contains("secure"),
        "plain-http loopback: no Secure, or the browser would drop it: {cookie}"
    );

    let me = client.get(app.url("/me")).send().await.expect("me");
    assert_eq!(me.status(), 200);
    let html = me.text().await.expect("html");
    assert!(
        html.contains(r#"data-testid="me-username">admin<"#),
        "{html}"
    );
    assert!(html.contains(r#"data-testid="me-roles">admin<"#), "{html}");

    // The tokens stay in the server-side session: the ones it keeps show neither in the
    // cookie nor on the page, in any form, and neither does the password.
    let mut seen = Seen::default();
    seen.add("the Set-Cookie header", cookie.clone());
    seen.add("GET /me", html);
    let mut secrets = local_session_tokens(&app, "admin");
    secrets.push(Secret::new("the password", app.admin_password.clone()));
    seen.assert_free_of(&secrets);
}

#[tokio::test]
async fn the_cookie_is_secure_when_asked_for() {
    let app = crate::helpers::spawn(crate::helpers::Spawn {
        args: vec!["--cookie-secure".into(), "always".into()],
        ..Default::default()
    })
    .await;
    let response = app
        .sign_in_with(&app.new_client(), "admin", &app.admin_password, "/me")
        .await;
    let cookie = session_cookie(&response).expect("session cookie");
    assert!(cookie.to_ascii_lowercase().contains("secure"), "{cookie}");
}

#[tokio::test]
async fn current_user_answers_json_for_a_session_and_null_when_anonymous() {
    let app = spawn_app().await;
    let anonymous = app.call(&app.new_client(), "current_user").await;
    assert_eq!(anonymous.status(), 200);
    assert_eq!(anonymous.text().await.expect("body"), "null");

    let client = app.signed_in_client("admin", &app.admin_password).await;
    let response = app.call(&client, "current_user").await;
    assert_eq!(response.status(), 200);
    let me: serde_json::Value = response.json().await.expect("json");
    assert_eq!(me["username"], "admin");
    assert_eq!(me["roles"], serde_json::json!(["admin"]));
    assert!(
        me["subject"].as_str().is_some_and(|s| s.len() == 32),
        "{me}"
    );
}

#[tokio::test]
async fn an_anonymous_page_view_goes_to_sign_in_and_comes_back_after_it() {
    let app = spawn_app().await;
    let client = app.new_client();
    let response = app.get_with(&client, "/endpoints?sort=name").await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().expect("location");
    assert_eq!(location, "/signin?next=%2Fendpoints%3Fsort%3Dname");

    let form = client.get(app.url(location)).send().await.expect("form");
    assert_eq!(form.status(), 200);
    let html = form.text().await.expect("html");
    assert!(
        html.contains(r#"name="next" value="/endpoints?sort=name""#),
        "{html}"
    );
    let response = app
        .sign_in_with(
            &client,
            "admin",
            &app.admin_password,
            "/endpoints?sort=name",
        )
        .await;
    assert_eq!(response.headers()["location"], "/endpoints?sort=name");
    let page = app.get_with(&client, "/endpoints?sort=name").await;
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn a_wrong_password_goes_back_to_the_form_with_one_generic_message() {
    let app = spawn_app().await;
    app.add_user("ada", &[Role::Viewer]).await;
    let client = app.new_client();
    let wrong_password = app
        .sign_in_with(&client, "ada", "not her password", "/me")
        .await;
    let unknown_user = app
        .sign_in_with(&client, "nobody", "whatever123", "/me")
        .await;
    for response in [&wrong_password, &unknown_user] {
        assert_eq!(response.status(), 303);
        assert_eq!(
            response.headers()["location"],
            "/signin?error=credentials&next=%2Fme"
        );
        assert!(
            session_cookie(response).is_none(),
            "no session for a failure"
        );
    }
    let html = app
        .get_with(&client, "/signin?error=credentials&next=%2Fme")
        .await
        .text()
        .await
        .expect("html");
    assert!(html.contains("Wrong username or password."), "{html}");
}

#[tokio::test]
async fn an_empty_or_unreadable_sign_in_form_is_a_clear_refusal() {
    let app = spawn_app().await;
    let client = app.new_client();
    let empty = app.sign_in_with(&client, "", "", "/me").await;
    assert_eq!(
        empty.headers()["location"],
        "/signin?error=missing&next=%2Fme"
    );
    let not_a_form = client
        .post(app.url("/auth/signin"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(not_a_form.status(), 303);
    assert_eq!(not_a_form.headers()["location"], "/signin?error=missing");
}

#[tokio::test]
async fn sign_out_deletes_the_session_and_the_cookie() {
    let app = spawn_app().await;
    let client = app.signed_in_client("admin", &app.admin_password).await;
    let response = client
        .post(app.url("/auth/signout"))
        .send()
        .await
        .expect("sign out");
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/signin?signed_out=1");
    let cookie = session_cookie(&response).expect("cookie cleared");
    assert!(
        cookie.to_ascii_lowercase().contains("max-age=0"),
        "{cookie}"
    );
    let me = app.call(&client, "current_user").await;
    assert_eq!(me.text().await.expect("body"), "null");
}

#[tokio::test]
async fn the_token_endpoint_gives_a_bearer_token_that_the_api_accepts() {
    let app = spawn_app().await;
    let token = app.access_token("admin", &app.admin_password).await;
    let response = app.call_with_token(&token, "current_user").await;
    assert_eq!(response.status(), 200);
    let me: serde_json::Value = response.json().await.expect("json");
    assert_eq!(me["username"], "admin");

    let jwks: serde_json::Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .expect("jwks");
    let header = token.split('.').next().expect("header");
    let header: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, header)
            .expect("base64"),
    )
    .expect("header json");
    assert_eq!(header["alg"], "RS256");
    assert_eq!(jwks["keys"][0]["kid"], header["kid"]);
    assert!(
        jwks["keys"][0].get("d").is_none(),
        "no private part published"
    );
}

#[tokio::test]
async fn the_token_endpoint_refuses_bad_input_with_json_messages() {
    let app = spawn_app().await;
    let client = app.new_client();
    let not_json = client
        .post(app.url("/auth/token"))
        .body("username=admin")
        .send()
        .await
        .expect("request");
    assert_eq!(not_json.status(), 400);
    let body: serde_json::Value = not_json.json().await.expect("json");
    assert!(
        body["error"].as_str().is_some_and(|m| m.contains("JSON")),
        "{body}"
    );

    let wrong = client
        .post(app.url("/auth/token"))
        .json(&serde_json::json!({"username": "admin", "password": "wrong password"}))
        .send()
        .await
        .expect("request");
    assert_eq!(wrong.status(), 401);
    let body: serde_json::Value = wrong.json().await.expect("json");
    assert_eq!(body["error"], "Wrong username or password.");
}

#[tokio::test]
async fn an_admin_sees_the_user_list_and_local_users_can_be_managed() {
    let app = spawn_app().await;
    app.add_user("vera", &[Role::Viewer]).await;
    let client = app.signed_in_client("admin", &app.admin_password).await;
    let response = app.call(&client, "list_users").await;
    assert_eq!(response.status(), 200);
    let list: serde_json::Value = response.json().await.expect("json");
    assert_eq!(
        list,
        serde_json::json!({"Local": [
            {"username": "admin", "roles": ["admin"]},
            {"username": "vera", "roles": ["viewer"]}
        ]})
    );
    let page = app.get_with(&client, "/admin/users").await;
    assert_eq!(page.status(), 200);
    let html = page_text(page).await;
    assert!(html.contains("<td>vera</td><td>viewer</td>"), "{html}");
}

#[tokio::test]
async fn the_first_administrator_is_created_once() {
    let scratch = Scratch::new();
    let settings = |port: &str| {
        server::config::Config::try_parse_from([
            "gatehouse",
            "--bind",
            port,
            "--data-dir",
            &scratch.path().display().to_string(),
            "--site-root",
            &scratch.path().display().to_string(),
            // A running demo run would keep the first engine (and its database lock) alive
            // after `drop(first)`, as it would keep a real process alive.
            "--demo-run",
            "false",
        ])
        .expect("settings")
    };
    let mut first = server::startup::Application::build(settings("127.0.0.1:0"))
        .await
        .expect("first start");
    let admin = first
        .take_initial_admin()
        .expect("an admin on the first start");
    assert_eq!(admin.username, "admin");
    assert_eq!(admin.password.expose().len(), 24);
    assert_eq!(format!("{:?}", admin.password), "[redacted]");
    drop(first);
    let mut second = server::startup::Application::build(settings("127.0.0.1:0"))
        .await
        .expect("second start");
    assert!(second.take_initial_admin().is_none(), "shown once only");
}

#[tokio::test]
async fn the_users_command_manages_local_users() {
    let scratch = Scratch::new();
    let data_dir = scratch.path().display().to_string();
    let run = |args: &[&str], input: &str| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args(["--data-dir", &data_dir, "users"])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("gatehouse runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write");
        child.wait_with_output().expect("exit")
    };
    let added = run(
        &["add", "ada", "--role", "approver", "--password-stdin"],
        "a long enough password\n",
    );
    assert!(added.status.success(), "{added:?}");
    assert_eq!(
        String::from_utf8_lossy(&added.stdout),
        "added ada (approver)\n"
    );
    let bad_role = run(&["add", "bob", "--role", "root"], "");
    assert!(!bad_role.status.success());
    assert!(
        String::from_utf8_lossy(&bad_role.stderr).contains("unknown role `root`"),
        "{bad_role:?}"
    );
    let duplicate = run(&["add", "ada", "--role", "viewer"], "");
    assert!(!duplicate.status.success());
    assert!(
        String::from_utf8_lossy(&duplicate.stderr).contains("user `ada` already exists"),
        "{duplicate:?}"
    );
    let listed = run(&["list"], "");
    assert_eq!(String::from_utf8_lossy(&listed.stdout), "ada\tapprover\n");
}

/// The real binary in a child process, its logs on stdout as JSON, driven over HTTP: what
/// a log collector would receive must hold the sign-in events and no secret.
#[tokio::test]
async fn sign_in_events_are_logged_without_passwords_or_tokens() {
    use std::io::{BufRead, BufReader, Read};

    let scratch = Scratch::new();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args([
            "--bind",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--log-filter",
            "debug",
        ])
        .arg("--data-dir")
        .arg(scratch.path())
        .arg("--site-root")
        .arg(scratch.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("gatehouse starts");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut password = None;
    let mut line = String::new();
    while password.is_none() && stderr.read_line(&mut line).expect("stderr") > 0 {
        password = line.trim().strip_prefix("password: ").map(str::to_string);
        line.clear();
    }
    let password = password.expect("the first start prints the admin password");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut logs = String::new();
    let address = loop {
        line.clear();
        assert!(
            stdout.read_line(&mut line).expect("stdout") > 0,
            "no address in {logs}"
        );
        logs.push_str(&line);
        if let Some(rest) = line.split("listening on http://").nth(1) {
            break rest.split('"').next().expect("address").to_string();
        }
    };
    let url = |path: &str| format!("http://{address}{path}");
    let client = crate::helpers::new_client();
    let form = |password: &str| {
        client
            .post(url("/auth/signin"))
            .form(&[
                ("username", "admin"),
                ("password", password),
                ("next", "/me"),
            ])
            .send()
    };
    form("hunter2-the-wrong-one").await.expect("wrong");
    let signed_in = form(&password).await.expect("right");
    let cookie = session_cookie(&signed_in).expect("a session cookie");
    let answer: serde_json::Value = client
        .post(url("/auth/token"))
        .json(&serde_json::json!({"username": "admin", "password": password}))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    client.get(url("/me")).send().await.expect("me");
    client
        .post(url("/auth/signout"))
        .send()
        .await
        .expect("sign out");
    child.kill().expect("stop");
    stdout.read_to_string(&mut logs).expect("rest of the logs");
    let _ = child.wait();

    let events: Vec<serde_json::Value> = logs
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .filter(|event: &serde_json::Value| event["target"] == "audit")
        .collect();
    let has = |action: &str, outcome: &str| {
        events.iter().any(|event| {
            event["action"] == action && event["outcome"] == outcome && event["actor"] == "admin"
        })
    };
    assert!(has("sign_in", "failure"), "{logs}");
    assert!(has("sign_in", "success"), "{logs}");
    assert!(has("token_issued", "success"), "{logs}");
    assert!(has("sign_out", "success"), "{logs}");
    let mut secrets = vec![
        Secret::new("the wrong password", "hunter2-the-wrong-one"),
        Secret::new("the password", password),
        Secret::new("the session cookie", cookie_id(&cookie)),
    ];
    for field in ["access_token", "id_token", "refresh_token"] {
        if let Some(value) = answer[field].as_str() {
            secrets.push(Secret::new(format!("the token endpoint's {field}"), value));
        }
    }
    assert!(
        secrets.len() >= 5,
        "the token endpoint answered tokens: {answer}"
    );
    let mut seen = Seen::default();
    seen.add("the server's log (debug, JSON)", logs);
    seen.assert_free_of(&secrets);
}

#[tokio::test]
async fn every_sign_in_gets_a_new_session_id() {
    let app = spawn_app().await;
    let client = app.new_client();
    let first = app
        .sign_in_with(&client, "admin", &app.admin_password, "/me")
        .await;
    let second = app
        .sign_in_with(&client, "admin", &app.admin_password, "/me")
        .await;
    let first = cookie_id(&session_cookie(&first).expect("first cookie"));
    let second = cookie_id(&session_cookie(&second).expect("second cookie"));
    assert!(!first.is_empty());
    assert_ne!(first, second);
}

/// The hashes of the live local refresh tokens.
async fn refresh_token_hashes(app: &crate::helpers::TestApp) -> Vec<String> {
    let db = server::db::Database::open(&server::cli::database_path(&app.data_dir)).expect("db");
    db.call(|connection| {
        let mut statement = connection
            .prepare("SELECT token_hash FROM local_refresh_tokens ORDER BY token_hash")?;
        let hashes = statement
            .query_map([], |row| row.get(0))?
            .collect::<Result<Vec<String>, _>>()?;
        Ok(hashes)
    })
    .await
    .expect("query")
}

#[tokio::test]
async fn sessions_refresh_their_tokens_before_they_expire_and_end_when_refresh_fails() {
    // Tokens live an hour; refreshing 2 h before expiry means on every request.
    let app = crate::helpers::spawn(crate::helpers::Spawn {
        args: vec!["--token-refresh-seconds".into(), "7200".into()],
        ..Default::default()
    })
    .await;
    let client = app.signed_in_client("admin", &app.admin_password).await;
    let after_sign_in = refresh_token_hashes(&app).await;
    assert_eq!(after_sign_in.len(), 1);
    for _ in 0..2 {
        let me: serde_json::Value = app
            .call(&client, "current_user")
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(me["username"], "admin", "still signed in after a refresh");
    }
    let after_refreshes = refresh_token_hashes(&app).await;
    assert_eq!(after_refreshes.len(), 1, "each refresh token is used once");
    assert_ne!(
        after_refreshes, after_sign_in,
        "the refresh token was rotated"
    );

    // A refresh token that no longer works ends the session.
    let db = server::db::Database::open(&server::cli::database_path(&app.data_dir)).expect("db");
    db.call(|connection| Ok(connection.execute("DELETE FROM local_refresh_tokens", [])?))
        .await
        .expect("delete");
    assert_eq!(app.signed_in_as(&client).await, None);
}

/// Runs `sql` on the server's database (to age sessions without waiting hours).
async fn execute(app: &crate::helpers::TestApp, sql: &'static str) -> usize {
    let db = server::db::Database::open(&server::cli::database_path(&app.data_dir)).expect("db");
    db.call(move |connection| Ok(connection.execute(sql, [])?))
        .await
        .expect("sql")
}

#[tokio::test]
async fn a_session_ends_at_its_maximum_age_however_busy() {
    let app = spawn_app().await;
    let client = app.signed_in_client("admin", &app.admin_password).await;
    assert_eq!(app.signed_in_as(&client).await.as_deref(), Some("admin"));
    // Signed in 13 hours ago (the default maximum is 12).
    let aged = execute(
        &app,
        "UPDATE server_sessions SET record = json_set(record,
           '$.data.\"gatehouse.signed_in\".signed_in_at', unixepoch() - 13 * 3600)",
    )
    .await;
    assert_eq!(aged, 1);
    assert_eq!(app.signed_in_as(&client).await, None);
    let db = server::db::Database::open(&server::cli::database_path(&app.data_dir)).expect("db");
    let left: i64 = db
        .call(|connection| {
            Ok(connection
                .query_row("SELECT COUNT(*) FROM server_sessions", [], |row| row.get(0))?)
        })
        .await
        .expect("count");
    assert_eq!(left, 0, "the ended session was deleted");
}

#[tokio::test]
async fn a_session_left_idle_past_its_expiry_is_gone() {
    let app = spawn_app().await;
    let client = app.signed_in_client("admin", &app.admin_password).await;
    // The idle expiry passed a minute ago.
    execute(
        &app,
        "UPDATE server_sessions SET expires_unix = unixepoch() - 60",
    )
    .await;
    assert_eq!(app.signed_in_as(&client).await, None);
}
