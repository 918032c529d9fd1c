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
