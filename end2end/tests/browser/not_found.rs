use end2end::browser::Browser;
use end2end::server::GatehouseServer;

#[tokio::test]
async fn an_unknown_path_gets_a_proper_404_page() {
    let server = GatehouseServer::start().await;

    let client = server.signed_in_client().await;
    let response = client
        .get(server.url("/nonexistent"))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), 404);
    let html = response.text().await.expect("body");
    assert!(html.contains("Page not found"), "{html}");

    let browser = Browser::start().await;
    browser
        .client
        .goto(&server.url("/nonexistent"))
        .await
        .expect("open");
    // Anonymous: to the sign-in page first, and back after it.
    browser
        .submit_sign_in("admin", &server.admin_password)
        .await;
    let heading = browser.text_of(r#"[data-testid="not-found"] h1"#).await;
    assert_eq!(heading, "Page not found");
    let title = browser.client.title().await.expect("title");
    assert_eq!(title, "Not found · Gatehouse");
    // The browser reports the 404 in its console. Seeing it here also proves the console
    // capture works, so the other tests' "no console errors" checks are not vacuous.
    let errors = browser.console_errors().await;
    assert!(
        errors.iter().any(|error| error.contains("404")),
        "expected the 404 in the console, got {errors:#?}"
    );
    browser.close().await;
}
