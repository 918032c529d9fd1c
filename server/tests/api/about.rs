use crate::helpers::{page_text, spawn_app};

#[tokio::test]
async fn about_page_is_server_rendered_with_mode_version_commit_and_uptime() {
    let app = spawn_app().await;
    let response = app.get("/about").await;
    assert_eq!(response.status(), 200);
    let html = response.text().await.expect("html");
    assert!(
        html.contains(r#"data-testid="about-mode">local<"#),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            r#"data-testid="about-version">{}<"#,
            env!("CARGO_PKG_VERSION")
        )),
        "{html}"
    );
    assert!(html.contains(r#"data-testid="about-uptime">"#), "{html}");
    assert!(html.contains("<title>About · Gatehouse</title>"), "{html}");
}

#[tokio::test]
async fn about_page_shows_the_commit_the_binary_was_built_from() {
    let app = spawn_app().await;
    let html = page_text(app.get("/about").await).await;
    let expected = git_head_short();
    assert!(
        html.contains(&format!("<code>{expected}</code>")),
        "expected commit {expected} in {html}"
    );
}

#[tokio::test]
async fn the_about_server_function_answers_json() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/about"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let about: serde_json::Value = response.json().await.expect("json");
    assert_eq!(about["mode"], "local");
    assert_eq!(about["version"], env!("CARGO_PKG_VERSION"));
    assert!(about["uptime_seconds"].as_u64().is_some(), "{about}");
}

/// What the build script should have recorded: git's short HEAD, or `unknown` outside git.
fn git_head_short() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|commit| commit.trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}
