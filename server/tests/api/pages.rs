use crate::helpers::spawn_app;

#[tokio::test]
async fn an_unknown_path_gets_a_404_page_inside_the_app_shell() {
    let app = spawn_app().await;
    let response = app.get("/nonexistent").await;
    assert_eq!(response.status(), 404);
    let html = response.text().await.expect("html");
    assert!(html.contains(r#"data-testid="not-found""#), "{html}");
    assert!(html.contains("<code>/nonexistent</code>"), "{html}");
    assert!(
        html.contains(r#"aria-label="Sections""#),
        "navigation present: {html}"
    );
}

#[tokio::test]
async fn every_section_of_the_navigation_opens_a_page() {
    let app = spawn_app().await;
    let home = app.get("/about").await.text().await.expect("html");
    for (path, label) in [
        ("/executions", "Executions"),
        ("/approvals", "Approvals"),
        ("/lineage", "Lineage"),
        ("/endpoints", "Endpoints"),
        ("/playground", "Playground"),
        ("/audit", "Audit"),
    ] {
        assert!(
            home.contains(&format!(r#"href="{path}""#)),
            "nav links {path}"
        );
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let html = response.text().await.expect("html");
        assert!(
            html.contains(&format!("<h1>{label}</h1>")),
            "{path}: {html}"
        );
        assert!(
            html.contains("This page is not built yet."),
            "{path}: {html}"
        );
    }
}

#[tokio::test]
async fn the_root_redirects_to_executions() {
    let app = spawn_app().await;
    let response = app.get("/").await;
    assert!(response.status().is_redirection(), "{}", response.status());
    assert_eq!(response.headers()["location"], "/executions");
}
