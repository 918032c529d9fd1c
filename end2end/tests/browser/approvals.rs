use std::time::Duration;

use end2end::browser::Browser;
use end2end::server::GatehouseServer;
use end2end::util::wait_until;
use fantoccini::Locator;

/// An approver opens the demo run's approval, sees the evidence
/// (accuracy, the confusion matrix drawn), approves with a comment, and — without a reload —
/// watches the run reach an endpoint in service; the audit page shows the decision by them.
/// A viewer sees no decide forms, and a decision forged by a viewer is refused and audited.
#[tokio::test]
async fn an_approver_decides_with_evidence_and_the_run_reaches_its_endpoint_live() {
    let server = GatehouseServer::start().await;
    let approver_password = server.add_user("ana", &["approver"]);
    let viewer_password = server.add_user("vera", &["viewer"]);
    let browser = Browser::start().await;
    let client = &browser.client;

    // A viewer first: the approval is there to look at, with no decide forms.
    client
        .goto(&server.url("/approvals"))
        .await
        .expect("open /approvals");
    browser.submit_sign_in("vera", &viewer_password).await;
    // The demo run may still be training: the list fills in by itself when it waits.
    wait_until("the demo run's approval", Duration::from_secs(120), || async {
        browser
            .eval("return document.querySelectorAll('[data-testid=\"approvals-table\"] tbody tr').length;")
            .await
            == 1
    })
    .await;
    let demo = browser
        .eval("return document.querySelector('[data-testid=\"approvals-table\"] tbody tr').getAttribute('data-execution');")
        .await
        .as_str()
        .expect("the run's name")
        .to_string();
    client
        .goto(&server.url(&format!("/approvals/{demo}")))
        .await
        .expect("open the approval");
    wait_until(
        "the viewer's approval page",
        Duration::from_secs(15),
        || async {
            browser
                .eval("return document.querySelector('[data-testid=\"cannot-decide\"]') !== null;")
                .await
                .as_bool()
                .unwrap_or(false)
        },
    )
    .await;
    assert!(
        browser
            .eval("return document.querySelector('[data-testid=\"decide-forms\"]') === null;")
            .await
            .as_bool()
            .unwrap_or(false),
        "a viewer has no decide forms"
    );
    // A decision forged by the viewer, straight at the server function.
    let vera = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let signed = vera
        .post(server.url("/auth/signin"))
        .form(&[
            ("username", "vera"),
            ("password", viewer_password.as_str()),
            ("next", "/me"),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed.headers()["location"], "/me");
    let forged = vera
        .post(server.url("/api/decide"))
        .header("accept", "application/json")
        .form(&[
            ("id", demo.as_str()),
            ("verdict", "approve"),
            ("comment", ""),
        ])
        .send()
        .await
        .expect("forged decide");
    assert_eq!(forged.status(), 403);

    // The approver.
    client
        .delete_all_cookies()
        .await
        .expect("forget the session");
    client
        .goto(&server.url("/approvals"))
        .await
        .expect("open /approvals");
    browser.submit_sign_in("ana", &approver_password).await;
    wait_until("the approvals list", Duration::from_secs(15), || async {
        browser
            .eval("return document.querySelectorAll('[data-testid=\"approvals-table\"] tbody tr').length;")
            .await
            == 1
    })
    .await;
    let badge = browser.text_of(r#"[data-testid="approvals-badge"]"#).await;
    assert_eq!(badge, "1", "the nav counts the pending approval");
    client
        .find(Locator::Css(r#"[data-testid="approvals-table"] tbody a"#))
        .await
        .expect("link to the approval")
        .click()
        .await
        .expect("click");
    wait_until("the evidence", Duration::from_secs(15), || async {
        browser
            .eval("return document.querySelectorAll('[data-testid=\"confusion-matrix\"] rect').length;")
            .await
            == 9
    })
    .await;
    let accuracy = browser.text_of(r#"[data-testid="accuracy"]"#).await;
    assert!(accuracy.starts_with("Accuracy "), "{accuracy}");
    assert!(accuracy.contains('%'), "{accuracy}");

    let form = client
        .form(Locator::Css(r#"[data-testid="approve-form"]"#))
        .await
        .expect("the approve form");
    form.set_by_name("comment", "Accuracy is fine for iris.")
        .await
        .expect("comment");
    client
        .find(Locator::Css(
            r#"[data-testid="approve-form"] button[type="submit"]"#,
        ))
        .await
        .expect("approve button")
        .click()
        .await
        .expect("approve");
    wait_until(
        "the endpoint in service, without a reload",
        Duration::from_secs(60),
        || async {
            browser
                .eval("return document.querySelector('[data-testid=\"endpoint-status\"]')?.textContent ?? null;")
                .await
                == "InService"
        },
    )
    .await;
    assert_eq!(
        browser
            .eval("return document.querySelector('[data-testid=\"decision-result\"]')?.textContent ?? null;")
            .await,
        "Decision sent: approved."
    );
    assert_eq!(browser.console_errors().await, Vec::<String>::new());

    // The audit page, as the admin.
    client
        .delete_all_cookies()
        .await
        .expect("forget the session");
    client
        .goto(&server.url("/audit?action=approval."))
        .await
        .expect("open /audit");
    browser
        .submit_sign_in("admin", &server.admin_password)
        .await;
    wait_until("the audit table", Duration::from_secs(15), || async {
        browser
            .eval("return document.querySelector('[data-testid=\"audit-table\"]') !== null;")
            .await
            .as_bool()
            .unwrap_or(false)
    })
    .await;
    let rows = browser
        .text_of(r#"[data-testid="audit-table"] tbody"#)
        .await;
    assert!(rows.contains("ana"), "{rows}");
    assert!(rows.contains("approval.decide"), "{rows}");
    assert!(rows.contains("success"), "{rows}");

    // The filter form, sent by the islands in place. Its fields are named `action` and
    // `target`, which shadow the form's own `action` and `target` properties in the DOM.
    browser.wait_for_islands().await;
    browser
        .eval("window.__stillTheSamePage = true; return null;")
        .await;
    let action = client
        .find(Locator::Css(
            r#"[data-testid="audit-filters"] input[name="action"]"#,
        ))
        .await
        .expect("the action filter");
    action.clear().await.expect("clear the action filter");
    action
        .send_keys("auth.sign_in")
        .await
        .expect("type the action filter");
    client
        .find(Locator::Css(
            r#"[data-testid="audit-filters"] button[type="submit"]"#,
        ))
        .await
        .expect("the filter button")
        .click()
        .await
        .expect("filter");
    wait_until(
        "the sign-ins, filtered",
        Duration::from_secs(15),
        || async {
            let url = client.current_url().await.expect("url");
            url.query()
                .unwrap_or_default()
                .contains("action=auth.sign_in")
                && !browser
                    .text_of(r#"[data-testid="audit-table"] tbody"#)
                    .await
                    .contains("approval.decide")
        },
    )
    .await;
    let rows = browser
        .text_of(r#"[data-testid="audit-table"] tbody"#)
        .await;
    assert!(rows.contains("auth.sign_in"), "{rows}");
    assert_eq!(
        browser
            .eval("return window.__stillTheSamePage === true;")
            .await,
        true,
        "the filter was shown in place, without a full page load"
    );
    assert_eq!(browser.console_errors().await, Vec::<String>::new());

    // The viewer's forged decision is in the log, refused.
    let admin = server.signed_in_client().await;
    let audit: serde_json::Value = admin
        .get(server.url("/audit/export.json?actor=vera&action=approval.decide"))
        .send()
        .await
        .expect("export")
        .json()
        .await
        .expect("json");
    assert_eq!(audit[0]["outcome"], "refused", "{audit}");
    browser.close().await;
}
