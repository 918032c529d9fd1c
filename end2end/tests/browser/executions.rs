use std::time::Duration;

use end2end::browser::Browser;
use end2end::server::GatehouseServer;
use end2end::util::wait_until;
use fantoccini::Locator;

const APPROVAL_STATE: &str = "Send Approve/Reject Email Request";

/// Issue #5, acceptance 2: a viewer finds the first-start demo run in the list and, on its
/// page, the state graph with the approval as the current state; an operator starts a second
/// run from the form and it appears in the list.
#[tokio::test]
async fn viewer_follows_the_demo_run_to_its_approval_and_an_operator_starts_a_second_run() {
    let server = GatehouseServer::start().await;
    let viewer_password = server.add_user("vera", &["viewer"]);
    let operator_password = server.add_user("otto", &["operator"]);
    let browser = Browser::start().await;
    let client = &browser.client;

    client
        .goto(&server.url("/executions"))
        .await
        .expect("open /executions");
    browser.submit_sign_in("vera", &viewer_password).await;
    wait_until("the executions list", Duration::from_secs(15), || async {
        browser
            .eval("return document.querySelectorAll('[data-testid=\"execution-row\"]').length;")
            .await
            == 1
    })
    .await;
    let row = browser.text_of(r#"[data-testid="execution-row"]"#).await;
    assert!(row.contains("c0ffee00"), "the demo run: {row}");
    assert!(
        browser
            .eval("return document.querySelector('[data-testid=\"start-form\"]') === null;")
            .await
            .as_bool()
            .unwrap_or(false),
        "a viewer has no start form"
    );

    client
        .find(Locator::Css(r#"[data-testid="execution-row"] a"#))
        .await
        .expect("link to the run")
        .click()
        .await
        .expect("click");
    let current = format!(
        "return document.querySelector('[data-state=\"{APPROVAL_STATE}\"]')?.getAttribute('data-outcome') ?? null;"
    );
    // The run may still be training: reload until the graph shows the approval as current.
    wait_until(
        "the approval as the current state",
        Duration::from_secs(60),
        || async {
            if browser.eval(&current).await == "current" {
                return true;
            }
            client.refresh().await.expect("reload");
            false
        },
    )
    .await;
    assert!(
        browser
            .eval("return document.querySelector('[data-testid=\"state-graph\"] rect') !== null;")
            .await
            .as_bool()
            .unwrap_or(false),
        "the graph is drawn"
    );
    assert_eq!(
        browser.text_of(r#"[data-testid="current-state"]"#).await,
        APPROVAL_STATE
    );

    // The operator, in a fresh session.
    client
        .delete_all_cookies()
        .await
        .expect("sign out by forgetting the cookie");
    client
        .goto(&server.url("/executions"))
        .await
        .expect("open /executions");
    browser.submit_sign_in("otto", &operator_password).await;
    wait_until("the start form", Duration::from_secs(15), || async {
        browser
            .eval("return document.querySelector('[data-testid=\"start-form\"]') !== null;")
            .await
            .as_bool()
            .unwrap_or(false)
    })
    .await;
    client
        .find(Locator::Css(".start-form summary"))
        .await
        .expect("the start form's toggle")
        .click()
        .await
        .expect("open the form");
    let form = client
        .form(Locator::Css(r#"[data-testid="start-form"]"#))
        .await
        .expect("the start form");
    let commit = "5e6f7a8b-2026-11-25-12-00-00";
    form.set_by_name("commit_id", commit)
        .await
        .expect("commit field");
    form.set_by_name(
        "image_uri",
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/iris-model:5e6f7a8b",
    )
    .await
    .expect("image field");
    form.set_by_name("name", commit).await.expect("name field");
    // A click, not `form.submit()`: the script-driven form listens for the submit event.
    client
        .find(Locator::Css(
            r#"[data-testid="start-form"] button[type="submit"]"#,
        ))
        .await
        .expect("the start button")
        .click()
        .await
        .expect("start");
    wait_until(
        "the second run in the list",
        Duration::from_secs(15),
        || async {
            browser
                .eval("return document.querySelectorAll('[data-testid=\"execution-row\"]').length;")
                .await
                == 2
        },
    )
    .await;
    let rows = browser
        .text_of(r#"[data-testid="executions-table"] tbody"#)
        .await;
    assert!(rows.contains("5e6f7a8b"), "{rows}");
    // The list can show the new run before the form shows its answer: a live update may
    // refetch the list while the start request's answer is still on its way.
    wait_until(
        "the form's link to the started run",
        Duration::from_secs(15),
        || async {
            browser
                .eval(
                    "return document.querySelectorAll('[data-testid=\"start-result\"] a').length;",
                )
                .await
                == 1
        },
    )
    .await;
    assert_eq!(
        browser.text_of(r#"[data-testid="start-result"] a"#).await,
        commit
    );
    assert_eq!(browser.console_errors().await, Vec::<String>::new());
    browser.close().await;
}
