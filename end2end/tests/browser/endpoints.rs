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

/// A viewer finds a commit by its prefix on the lineage page and follows its chain to the
/// endpoint serving it, where there is no control to change it; a rollback forged from the
/// viewer's page is refused.
async fn a_viewer_follows_the_lineage_to_the_endpoint(server: &GatehouseServer, commit: &str) {
    let password = server.add_user("vic", &["viewer"]);
    let browser = Browser::start().await;
    let client = &browser.client;
    client
        .goto(&server.url("/lineage"))
        .await
        .expect("open the lineage");
    browser.submit_sign_in("vic", &password).await;
    let form = client
        .form(Locator::Css(r#"form[role="search"]"#))
        .await
        .expect("the commit search");
    form.set_by_name("commit", &commit[..4])
        .await
        .expect("prefix");
    form.submit().await.expect("search");
    wait_until("one commit found", Duration::from_secs(15), || async {
        browser
            .eval("return document.querySelectorAll('[data-testid=\"lineage-row\"]').length;")
            .await
            == 1
    })
    .await;
    client
        .find(Locator::Css(r#"[data-testid="commit-link"]"#))
        .await
        .expect("the commit")
        .click()
        .await
        .expect("open the commit");
    wait_until("the commit's chain", Duration::from_secs(15), || async {
        browser
            .eval("return document.querySelector('[data-testid=\"commit-id\"]')?.textContent ?? null;")
            .await
            == commit
    })
    .await;
    assert_eq!(
        browser
            .eval("return document.querySelector('[data-testid=\"lineage-picture\"]') !== null;")
            .await,
        true
    );
    client
        .find(Locator::Css(
            r#"[data-testid="commit-deployment"] a[href^="/endpoints/"]"#,
        ))
        .await
        .expect("the endpoint serving it")
        .click()
        .await
        .expect("open the endpoint");
    wait_until("the endpoint's page", Duration::from_secs(15), || async {
        browser
            .eval("return document.querySelector('[data-testid=\"endpoint-serves\"]')?.textContent ?? '';")
            .await
            .as_str()
            .is_some_and(|s| s.contains(&commit[..8]))
    })
    .await;
    let controls = browser
        .eval("return document.querySelectorAll('[data-testid=\"rollback-form\"], [data-testid=\"delete-form\"]').length;")
        .await;
    assert_eq!(controls, 0, "a viewer sees no rollback or delete");
    // The same request an operator's form sends, forged from the viewer's page.
    let status = client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch('/api/rollback_endpoint', {method: 'POST',
                 headers: {'content-type': 'application/x-www-form-urlencoded', 'accept': 'application/json'},
                 body: new URLSearchParams({name: arguments[0], config: 'anything', reason: 'forged'})})
               .then(r => done(r.status), () => done(0));",
            vec![Value::from(ENDPOINT)],
        )
        .await
        .expect("forged request");
    assert_eq!(status, 403, "a viewer's rollback is forbidden");
    browser.close().await;
}

/// Fills the playground's form, sends it, and waits until the answer has `rows` rows.
async fn send_to_the_playground(browser: &Browser, fields: &[(&str, &str)], rows: u64) {
    let client = &browser.client;
    let form = client
        .form(Locator::Css(r#"[data-testid="try-form"]"#))
        .await
        .expect("the form");
    for (name, value) in fields {
        form.set_by_name(name, value).await.expect("a field");
    }
    client
        .find(Locator::Css(r#"[data-testid="try"]"#))
        .await
        .expect("send")
        .click()
        .await
        .expect("send the form");
    wait_until(
        &format!("{rows} labels or an error"),
        Duration::from_secs(30),
        || async {
            browser
                .eval(
                    "return document.querySelectorAll('[data-testid=\"answer-row\"]').length \
                     + 1000 * document.querySelectorAll('[data-testid=\"try-error\"]').length;",
                )
                .await
                .as_u64()
                .is_some_and(|shown| shown == rows || shown >= 1000)
        },
    )
    .await;
    let error = browser
        .eval(
            "const e = document.querySelector('[data-testid=\"try-error\"]');\
             return e === null ? null : e.textContent;",
        )
        .await;
    assert!(error.is_null(), "the playground answered an error: {error}");
}

/// A viewer opens the playground, gets a label for a row typed into the form and for pasted
/// CSV rows (the one whose own label differs marked), sees the latency and the serving
/// commit, and the curl command shown, run as it is with the viewer's token, answers the
/// same labels.
async fn a_viewer_tries_the_playground(server: &GatehouseServer, serving: &str) {
    let password = server.add_user("pia", &["viewer"]);
    let browser = Browser::start().await;
    let client = &browser.client;
    client
        .goto(&server.url("/playground"))
        .await
        .expect("open the playground");
    browser.submit_sign_in("pia", &password).await;
    browser.wait_for_islands().await;
    let fields = browser
        .eval("return document.querySelectorAll('[data-testid=\"feature-field\"]').length;")
        .await;
    assert_eq!(fields, 4, "a field per feature");
    send_to_the_playground(
        &browser,
        &[
            ("feature_1", "5.9"),
            ("feature_2", "3"),
            ("feature_3", "5.1"),
            ("feature_4", "1.8"),
        ],
        1,
    )
    .await;
    assert_eq!(
        browser.text_of(r#"[data-testid="answer-label"]"#).await,
        "virginica"
    );
    let latency = browser.text_of(r#"[data-testid="answer-latency"]"#).await;
    assert!(latency.ends_with(" ms"), "{latency}");
    assert_eq!(
        browser.text_of(r#"[data-testid="answer-commit"]"#).await,
        serving[..8]
    );
    send_to_the_playground(
        &browser,
        &[("rows", "setosa,4.5,1.3,0.3,0.3\nsetosa,5.9,3,5.1,1.8")],
        2,
    )
    .await;
    let marked = browser
        .eval("return document.querySelectorAll('[data-testid=\"answer-row\"].differs').length;")
        .await;
    assert_eq!(marked, 1, "the row whose label differs");

    // The curl command as the Copy button puts it on the clipboard, run with a token of the
    // viewer's.
    let shown = browser.text_of(r#"[data-testid="copy-curl"]"#).await;
    client
        .find(Locator::Css(r#"[data-testid="copy-curl-button"]"#))
        .await
        .expect("the curl snippet's Copy button")
        .click()
        .await
        .expect("press Copy");
    wait_until(
        "the button to say Copied",
        Duration::from_secs(10),
        || async { browser.text_of(r#"[data-testid="copy-curl-button"]"#).await == "Copied" },
    )
    .await;
    let curl = browser.clipboard_text().await;
    assert_eq!(
        curl.trim(),
        shown.trim(),
        "what was copied is what is shown"
    );
    let token: Value = reqwest::Client::new()
        .post(server.url("/auth/token"))
        .json(&serde_json::json!({"username": "pia", "password": password}))
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg(&curl)
        .env(
            "GATEHOUSE_TOKEN",
            token["access_token"].as_str().expect("token"),
        )
        .output()
        .expect("sh runs curl");
    let answered: Value =
        serde_json::from_slice(&output.stdout).unwrap_or_else(|_| panic!("{curl}\n{output:?}"));
    assert_eq!(answered["result"], "setosa\nvirginica", "{curl}");
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    browser.close().await;
}

/// Two approved commits are deployed to one endpoint; a viewer follows the newer one's
/// lineage to it; an operator rolls it back to the first from its page and watches it go
/// Updating, then InService on the first commit, without a reload; the lineage then shows
/// the first commit serving; the audit log shows the rollback with its reason, and the
/// viewer's refused one.
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
    a_viewer_follows_the_lineage_to_the_endpoint(&server, second).await;
    a_viewer_tries_the_playground(&server, second).await;

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

    // The lineage now has the first commit serving, and the second not.
    client
        .goto(&server.url("/lineage"))
        .await
        .expect("open the lineage");
    let serving = browser
        .eval(
            "return [...document.querySelectorAll('[data-testid=\"lineage-row\"]')]
               .filter(row => row.querySelector('[data-testid=\"serving\"]'))
               .map(row => row.querySelector('[data-testid=\"commit-link\"]').textContent);",
        )
        .await;
    assert_eq!(
        serving,
        serde_json::json!(["c0ffee00"]),
        "serving after the rollback"
    );

    // The audit log names the rollback and its reason, and the viewer's refused one.
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
    client
        .goto(&server.url("/audit?action=endpoint.rollback&actor=vic&outcome=refused"))
        .await
        .expect("open the audit log");
    let refused = browser
        .eval("return document.querySelectorAll('[data-testid=\"audit-table\"] tbody tr').length;")
        .await;
    assert_eq!(refused, 1, "the viewer's forged rollback is recorded");
    assert_eq!(browser.console_errors().await, Vec::<String>::new());
    browser.close().await;
}
