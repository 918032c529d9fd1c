use std::time::Duration;

use end2end::browser::Browser;
use end2end::server::GatehouseServer;
use end2end::util::wait_until;
use fantoccini::Locator;

/// A protected page sends an anonymous visitor to sign in and back; the nav and the account
/// page show who they are and their roles; signing out ends it, and the page is protected
/// again.
#[tokio::test]
async fn sign_in_see_who_you_are_sign_out_and_come_back_through_sign_in() {
    let server = GatehouseServer::start().await;
    let browser = Browser::start().await;
    let client = &browser.client;

    client
        .goto(&server.url("/approvals"))
        .await
        .expect("open /approvals");
    let url = client.current_url().await.expect("url");
    assert_eq!(url.path(), "/signin");
    assert_eq!(url.query(), Some("next=%2Fapprovals"));

    browser.submit_sign_in("admin", "not the password").await;
    let error = browser.text_of(r#"[data-testid="signin-error"]"#).await;
    assert_eq!(error, "Wrong username or password.");
    browser
        .submit_sign_in("admin", &server.admin_password)
        .await;
    wait_until("the Approvals page", Duration::from_secs(10), || async {
        browser
            .eval("return document.querySelector('h1')?.textContent ?? null;")
            .await
            == "Approvals"
    })
    .await;
    assert_eq!(
        client.current_url().await.expect("url").path(),
        "/approvals"
    );
    assert_eq!(
        browser.text_of(r#"[data-testid="nav-user"]"#).await,
        "admin"
    );

    client
        .find(Locator::Css(r#"[data-testid="nav-user"]"#))
        .await
        .expect("user link")
        .click()
        .await
        .expect("click");
    wait_until("the account page", Duration::from_secs(10), || async {
        browser
            .eval("return document.querySelector('[data-testid=\"me-username\"]')?.textContent ?? null;")
            .await
            == "admin"
    })
    .await;
    assert_eq!(
        browser.text_of(r#"[data-testid="me-roles"]"#).await,
        "admin"
    );

    client
        .find(Locator::Css(r#"[data-testid="sign-out"]"#))
        .await
        .expect("sign-out button")
        .click()
        .await
        .expect("click");
    wait_until("the signed-out notice", Duration::from_secs(10), || async {
        browser
            .eval("return document.querySelector('[data-testid=\"signed-out\"]')?.textContent ?? null;")
            .await
            == "You are signed out."
    })
    .await;

    client.goto(&server.url("/me")).await.expect("open /me");
    let url = client.current_url().await.expect("url");
    assert_eq!(url.path(), "/signin", "protected again after sign-out");

    let errors: Vec<String> = browser
        .console_errors()
        .await
        .into_iter()
        // The wrong password is answered by a redirect, not an error; nothing else may fail.
        .collect();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    browser.close().await;
}
