use app::models::identity::Role;

use crate::helpers::{page_text, spawn_app};

#[tokio::test]
async fn an_unknown_path_gets_a_404_page_inside_the_app_shell() {
    let app = spawn_app().await;
    let client = app.signed_in_client("admin", &app.admin_password).await;
    let response = app.get_with(&client, "/nonexistent").await;
    assert_eq!(response.status(), 404);
    let html = page_text(response).await;
    assert!(html.contains(r#"data-testid="not-found""#), "{html}");
    assert!(html.contains("<code>/nonexistent</code>"), "{html}");
    assert!(
        html.contains(r#"aria-label="Sections""#),
        "navigation present: {html}"
    );
}

#[tokio::test]
async fn an_admin_can_open_every_section_of_the_navigation() {
    let app = spawn_app().await;
    let client = app.signed_in_client("admin", &app.admin_password).await;
    let about = client.get(app.url("/about")).send().await.expect("about");
    let home = about.text().await.expect("html");
    for (path, label) in [
        ("/executions", "Executions"),
        ("/approvals", "Approvals"),
        ("/lineage", "Lineage"),
        ("/endpoints", "Endpoints"),
        ("/playground", "Playground"),
        ("/audit", "Audit log"),
    ] {
        assert!(
            home.contains(&format!(r#"href="{path}""#)),
            "nav links {path}"
        );
        let response = client.get(app.url(path)).send().await.expect("page");
        assert_eq!(response.status(), 200, "{path}");
        let html = page_text(response).await;
        assert!(
            html.contains(&format!("<h1>{label}</h1>")),
            "{path}: {html}"
        );
        assert!(!html.contains("not built yet"), "{path}: {html}");
    }
}

#[tokio::test]
async fn the_navigation_shows_a_viewer_only_what_a_viewer_may_open() {
    let app = spawn_app().await;
    let password = app.add_user("vera", &[Role::Viewer]).await;
    let client = app.signed_in_client("vera", &password).await;
    let html = app
        .get_with(&client, "/executions")
        .await
        .text()
        .await
        .expect("html");
    for shown in [
        "/executions",
        "/approvals",
        "/lineage",
        "/endpoints",
        "/playground",
        "/about",
    ] {
        assert!(
            html.contains(&format!(r#"href="{shown}""#)),
            "{shown}: {html}"
        );
    }
    // The audit log is for admins only: a viewer's navigation does not offer it.
    assert!(!html.contains(r#"href="/audit""#), "{html}");
    assert!(html.contains(r#"data-testid="nav-user">vera<"#), "{html}");
}

#[tokio::test]
async fn the_root_redirects_to_executions() {
    let app = spawn_app().await;
    let client = app.signed_in_client("admin", &app.admin_password).await;
    let response = client.get(app.url("/")).send().await.expect("request");
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(response.headers()["location"], "/executions");
}

/// Every page says which scripts may run: its own bundle, WebAssembly, and each inline script
/// the page holds by its SHA-256 (computed here from the HTML, independently of the server);
/// nothing from elsewhere, no other inline script. Strict-Transport-Security only where the
/// cookies are Secure (the site is reached over HTTPS).
#[tokio::test]
async fn pages_carry_a_content_security_policy_that_names_each_inline_script() {
    use base64::Engine;

    let app = spawn_app().await;
    let client = app.signed_in_client("admin", &app.admin_password).await;
    for path in [
        "/signin",
        "/executions",
        "/approvals",
        "/audit",
        "/playground",
        "/nowhere",
    ] {
        let response = app.get_with(&client, path).await;
        let headers = response.headers().clone();
        let policy = headers
            .get("content-security-policy")
            .unwrap_or_else(|| panic!("{path}: no policy"))
            .to_str()
            .expect("ascii")
            .to_string();
        assert!(
            !headers.contains_key("strict-transport-security"),
            "{path}: plain HTTP"
        );
        let script_src = policy
            .split(';')
            .map(str::trim)
            .find_map(|directive| directive.strip_prefix("script-src "))
            .unwrap_or_else(|| panic!("{path}: no script-src in {policy}"));
        assert!(!script_src.contains("'unsafe-inline'"), "{policy}");
        assert!(!script_src.contains("'unsafe-eval'"), "{policy}");
        let html = page_text(response).await;
        let inline: Vec<&str> = html
            .split("<script")
            .skip(1)
            .filter_map(|rest| {
                let (attributes, body) = rest.split_once('>')?;
                (!attributes.contains("src=")).then(|| body.split_once("</script>").map(|b| b.0))?
            })
            .collect();
        assert!(!inline.is_empty(), "{path}: the islands' loader is inline");
        for body in inline {
            let sum = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body.as_bytes());
            let hash = base64::engine::general_purpose::STANDARD.encode(sum.as_ref());
            assert!(
                script_src.contains(&format!("'sha256-{hash}'")),
                "{path}: an inline script the policy does not name: {body}"
            );
        }
    }

    let secure = crate::helpers::spawn(crate::helpers::Spawn {
        args: vec!["--cookie-secure".into(), "always".into()],
        ..crate::helpers::Spawn::default()
    })
    .await;
    let response = secure.get("/signin").await;
    assert_eq!(
        response.headers()["strict-transport-security"],
        "max-age=31536000"
    );
}

/// Reading a page waits for no one else's write. Another connection holds the database's
/// write lock (as a long durable write or a running execution's transaction would), and a
/// failed sign-in's count is waiting for it inside the server; meanwhile a signed-in reader
/// opens the pages. Each answers well inside the writers' busy timeout (5 s for the server's
/// writes, 10 s for the engine's), so none queued behind the waiting write.
#[tokio::test]
async fn pages_answer_while_a_write_waits_for_the_database() {
    use std::time::{Duration, Instant};

    let app = spawn_app().await;
    let client = app.signed_in_client("admin", &app.admin_password).await;
    let database = server::cli::database_path(&app.data_dir);
    let (locked_tx, locked) = std::sync::mpsc::channel();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let connection = rusqlite::Connection::open(&database).expect("open the database");
        connection
            .execute_batch(
                "BEGIN IMMEDIATE;
                 INSERT INTO signin_failures (key, count, last_ms) VALUES ('held', 1, 0);",
            )
            .expect("take the write lock");
        locked_tx.send(()).expect("tell the test");
        let _ = released.recv_timeout(Duration::from_secs(60));
        connection.execute_batch("ROLLBACK;").expect("let go");
    });
    locked.recv().expect("the lock is held");
    // A wrong password is counted: a write that now waits for the lock.
    let stranger = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let wrong = stranger
        .post(app.url("/auth/signin"))
        .form(&[
            ("username", "admin"),
            ("password", "not the password"),
            ("next", "/"),
        ])
        .send();
    let waiting_write = tokio::spawn(wrong);
    tokio::time::sleep(Duration::from_millis(300)).await;
    for path in ["/executions", "/approvals", "/lineage", "/endpoints", "/me"] {
        let started = Instant::now();
        let response = client.get(app.url(path)).send().await.expect("page");
        let took = started.elapsed();
        assert_eq!(response.status(), 200, "{path}");
        assert!(
            took < Duration::from_secs(2),
            "{path} took {took:?}: it waited for a write that was not its own"
        );
    }
    assert!(
        !waiting_write.is_finished(),
        "the failed sign-in's count was still waiting for the lock while the pages answered"
    );
    release.send(()).expect("release");
    holder.join().expect("the holder ends");
    let answered = waiting_write
        .await
        .expect("sign-in task")
        .expect("sign-in answer");
    assert!(answered.status().is_redirection() || answered.status().is_client_error());
}
