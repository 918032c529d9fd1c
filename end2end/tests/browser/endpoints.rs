use std::time::Duration;

use end2end::browser::Browser;
use end2end::server::GatehouseServer;
use end2end::util::wait_until;
use fantoccini::Locator;
use serde_json::Value;

/// The endpoint local mode's pipeline deploys every approved commit to.
const ENDPOINT: &str = "iris-serving";

/// Posts to a server function as an API client; answers the JSON.
async fn call(
    server: &GatehouseServer,
    client: &reqwest::Client,
    function: &str,
    fields: &[(&str, &str)],
) -> Value {
    let response = client
        .post(server.url(&format!("/api/{function}")))
        .header("accept", "application/json")
        .form(fields)
        .send()
        .await
        .expect("server function");
    assert_eq!(response.status(), 200, "{function}");
    response.json().await.unwrap_or(Value::Null)
}

/// Waits for `name`'s approval, approves it, and waits until the run has deployed.
async fn approve_and_deploy(server: &GatehouseServer, admin: &reqwest::Client, name: &str) {
    wait_until(
        &format!("{name} to wait for approval"),
        Duration::from_secs(120),
        || async {
            call(server, admin, "list_approvals", &[]).await["approvals"]
                .as_array()
                .is_some_and(|list| list.iter().any(|a| a["execution"]["name"] == name))
        },
    )
    .await;
    call(
        server,
        admin,
        "decide",
        &[("id", name), ("verdict", "approve"), ("comment", "ok")],
    )
    .await;
    wait_until(
        &format!("{name} to deploy"),
        Duration::from_secs(120),
        || async {
            call(server, admin, "get_execution", &[("id", name)]).await["detail"]["summary"]
                ["status"]
                == "SUCCEEDED"
        },
    )
    .await;
}

/// Two approved commits are deployed to one endpoint; an operator rolls it back to the first
/// from its page and watches it go Updating, then InService on the first commit, without a
/// reload; the audit log shows the rollback with its reason.
#[tokio::test]
async fn an_operator_rolls_the_endpoint_back_and_watches_it_update_live() {
    let server = GatehouseServer::start().await;
    let admin = server.signed_in_client().await;
    // The demo run, once it waits for its approval.
    let demo = loop {
        let list = call(&server, &admin, "list_approvals", &[]).await;
        if let Some(name) = list["approvals"][0]["execution"]["name"].as_str() {
            break name.to_string();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    approve_and_deploy(&server, &admin, &demo).await;
    let second = "1a2b3c4d-12-01-2026-09-30-00";
    call(
        &server,
        &admin,
        "start_execution",
        &[
            ("name", second),
            ("commit_id", second),
            ("image_uri", "localhost/gatehouse/iris-demo:1a2b3c4d"),
        ],
    )
    .await;
    approve_and_deploy(&server, &admin, second).await;

    let browser = Browser::start().await;
    let client = &browser.client;
    client
        .goto(&server.url(&format!("/endpoints/{ENDPOINT}")))
        .await
        .expect("open the endpoint");
    browser
        .submit_sign_in("admin", &server.admin_password)
        .await;
    browser.wait_for_islands().await;
    assert_eq!(
        browser.text_of(r#"[data-testid="endpoint-status"]"#).await,
        "InService"
    );
    let serves = browser.text_of(r#"[data-testid="endpoint-serves"]"#).await;
    assert!(serves.contains("commit 1a2b3c4d"), "{serves}");

    // A mark that only survives if the page is never loaded afresh.
    browser
        .eval("window.__stillTheSamePage = true; return null;")
        .await;
    client
        .find(Locator::Css(r#"[data-testid="rollback-choices"] summary"#))
        .await
        .expect("the earlier commit")
        .click()
        .await
        .expect("open the confirmation");
    let form = client
        .form(Locator::Css(r#"[data-testid="rollback-form"]"#))
        .await
        .expect("the rollback form");
    form.set_by_name("reason", "the second model misreads setosa")
        .await
        .expect("reason");
    client
        .find(Locator::Css(
            r#"[data-testid="rollback-form"] button[type="submit"]"#,
        ))
        .await
        .expect("roll back button")
        .click()
        .await
        .expect("roll back");
    // The local SageMaker takes 2 s to update: the page, following the endpoint live, shows
    // Updating (noted whenever it is seen), then InService on the first commit.
    let seen_updating = std::cell::Cell::new(false);
    let status = || async {
        let status = browser
            .eval("return document.querySelector('[data-testid=\"endpoint-status\"]')?.textContent ?? null;")
            .await;
        if status == "Updating" {
            seen_updating.set(true);
        }
        status
    };
    wait_until("the rollback's answer", Duration::from_secs(15), || async {
        status().await;
        browser
            .eval("return document.querySelector('[data-testid=\"rollback-result\"]') !== null;")
            .await
            == true
    })
    .await;
    wait_until("InService on the first commit, without a reload", Duration::from_secs(30), || async {
        status().await == "InService"
            && browser
                .eval("return document.querySelector('[data-testid=\"endpoint-serves\"]').textContent;")
                .await
                .as_str()
                .is_some_and(|s| s.contains("commit c0ffee00"))
    })
    .await;
    assert!(
        seen_updating.get(),
        "the page showed the endpoint Updating first"
    );
    assert_eq!(
        browser
            .eval("return window.__stillTheSamePage === true;")
            .await,
        true,
        "the page was never reloaded"
    );

    // The audit log names the rollback and its reason.
    client
        .goto(&server.url("/audit?action=endpoint.rollback"))
        .await
        .expect("open the audit log");
    let audit = browser.eval("return document.body.textContent;").await;
    let audit = audit.as_str().unwrap_or_default();
    assert!(audit.contains(ENDPOINT), "{audit}");
    assert!(
        audit.contains("the second model misreads setosa"),
        "{audit}"
    );
    assert_eq!(browser.console_errors().await, Vec::<String>::new());
    browser.close().await;
}
