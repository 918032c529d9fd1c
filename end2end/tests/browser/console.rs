use std::time::Duration;

use end2end::browser::Browser;
use end2end::server::GatehouseServer;
use end2end::util::wait_until;

/// Every page, opened fresh and once its islands are awake, logs nothing at error level in
/// the browser's console: the sign-in page anonymously, every section as an admin (the
/// unbuilt ones included), the demo run's execution and approval pages.
#[tokio::test]
async fn no_page_logs_a_console_error() {
    let server = GatehouseServer::start().await;
    let browser = Browser::start().await;
    let client = &browser.client;

    client
        .goto(&server.url("/signin"))
        .await
        .expect("open /signin");
    browser.wait_for_islands().await;
    assert_eq!(
        browser.console_errors().await,
        Vec::<String>::new(),
        "/signin"
    );

    browser
        .submit_sign_in("admin", &server.admin_password)
        .await;
    wait_until("signed in", Duration::from_secs(10), || async {
        browser
            .eval("return document.querySelector('[data-testid=\"nav-user\"]') !== null;")
            .await
            == true
    })
    .await;
    let demo = browser
        .eval("return document.querySelector('[data-testid=\"execution-row\"] a')?.textContent ?? null;")
        .await
        .as_str()
        .expect("the demo run is listed")
        .to_string();
    let pages = [
        "/executions".to_string(),
        "/executions?status=RUNNING&sort=name&dir=asc&per=50".to_string(),
        format!("/executions/{demo}"),
        "/approvals".to_string(),
        format!("/approvals/{demo}"),
        "/audit".to_string(),
        "/admin/users".to_string(),
        "/me".to_string(),
        "/about".to_string(),
        "/lineage".to_string(),
        "/endpoints".to_string(),
        "/playground".to_string(),
    ];
    for page in &pages {
        client.goto(&server.url(page)).await.expect("open");
        browser.wait_for_islands().await;
        // A moment for the live connection to open (or fail, which would log).
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            browser.console_errors().await,
            Vec::<String>::new(),
            "{page}"
        );
    }
    browser.close().await;
}
