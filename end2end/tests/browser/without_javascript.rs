use std::time::Duration;

use end2end::browser::{Browser, Scripts};
use end2end::server::GatehouseServer;
use end2end::util::wait_until;
use fantoccini::elements::Element;
use fantoccini::{Client, Locator};

/// With JavaScript turned off in Chromium, everything that matters works through plain forms:
/// an approver signs in, opens the pending approval and approves it, and sees the answer; an
/// operator starts a run and sees it started, and a second start with the same name is
/// refused with the reason on the page. Only WebDriver's element commands are used (typing,
/// clicking, reading), never a script of the test's own.
#[tokio::test]
async fn approving_and_starting_work_through_plain_forms_with_javascript_off() {
    let server = GatehouseServer::start().await;
    let approver_password = server.add_user("ana", &["approver"]);
    let operator_password = server.add_user("otto", &["operator"]);
    let browser = Browser::start_with(Scripts::Off).await;
    let client = &browser.client;

    client
        .goto(&server.url("/approvals"))
        .await
        .expect("open /approvals");
    sign_in(client, "ana", &approver_password).await;
    // Nothing updates by itself without JavaScript: reload until the demo run waits, once a
    // second (a tighter loop slows every server of the suite, all training at once).
    wait_until(
        "the demo run's approval (reloading)",
        Duration::from_secs(120),
        || async {
            let rows = count(client, r#"[data-testid="approvals-table"] tbody tr"#).await;
            if rows == 0 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                client.refresh().await.expect("reload");
            }
            rows == 1
        },
    )
    .await;
    click(client, r#"[data-testid="approvals-table"] tbody a"#).await;
    assert_eq!(
        count(client, r#"[data-testid="confusion-matrix"] rect"#).await,
        9,
        "the evidence is on the page as the server drew it"
    );
    type_into(
        client,
        r#"[data-testid="approve-form"] textarea[name="comment"]"#,
        "Fine without scripts.",
    )
    .await;
    click(
        client,
        r#"[data-testid="approve-form"] button[type="submit"]"#,
    )
    .await;
    assert_eq!(
        text(client, r#"[data-testid="decision-result"]"#).await,
        "Decision sent: approved."
    );
    let state = text(client, r#"[data-testid="approval-state"]"#).await;
    assert!(state.starts_with("Approved by ana"), "{state}");
    assert!(
        state.contains("Fine without scripts."),
        "the comment is recorded: {state}"
    );
    // Proof that no script ran: the theme switch is enabled only by its island.
    let switch = element(client, r#"[data-testid="theme-toggle"]"#).await;
    assert!(
        !switch.is_enabled().await.expect("enabled?"),
        "no script may have run"
    );
    // Every page's top bar is whole without a script: the sections and who is signed in.
    client
        .goto(&server.url("/about"))
        .await
        .expect("open /about");
    assert_eq!(text(client, r#"[data-testid="nav-user"]"#).await, "ana");
    assert!(
        count(client, r#"nav[aria-label="Sections"] a[href="/approvals"]"#).await == 1,
        "the Approvals section is linked"
    );

    // The operator, in a fresh session.
    click(client, r#"[data-testid="sign-out"]"#).await;
    // The click returns before the browser has the answer; going elsewhere before it arrives
    // would cancel the sign-out and leave ana signed in.
    assert_eq!(
        text(client, r#"[data-testid="signed-out"]"#).await,
        "You are signed out."
    );
    client
        .goto(&server.url("/executions"))
        .await
        .expect("open /executions");
    sign_in(client, "otto", &operator_password).await;
    let commit = "9a8b7c6d-2026-11-30-09-15-00";
    start_run(client, commit).await;
    assert_eq!(
        text(client, r#"[data-testid="start-result"] a"#).await,
        commit
    );
    let rows = text(client, r#"[data-testid="executions-table"] tbody"#).await;
    assert!(rows.contains("9a8b7c6d"), "{rows}");

    // The same name again: refused, and the page says why.
    start_run(client, commit).await;
    let banner = text(client, r#"[data-testid="error-banner"]"#).await;
    assert!(
        banner.contains(commit),
        "the refusal names the run: {banner}"
    );
    assert_eq!(
        count(client, r#"[data-testid="start-result"]"#).await,
        0,
        "no success shown for a refused start"
    );
    browser.close().await;
}

async fn sign_in(client: &Client, username: &str, password: &str) {
    type_into(client, r#"input[name="username"]"#, username).await;
    type_into(client, r#"input[name="password"]"#, password).await;
    click(client, r#"[data-testid="signin-submit"]"#).await;
    // Signed in once the page it leads to names the user in the top bar.
    element(client, r#"[data-testid="nav-user"]"#).await;
}

async fn start_run(client: &Client, commit: &str) {
    click(client, ".start-form summary").await;
    let form = r#"[data-testid="start-form"]"#;
    type_into(
        client,
        &format!(r#"{form} input[name="commit_id"]"#),
        commit,
    )
    .await;
    type_into(
        client,
        &format!(r#"{form} input[name="image_uri"]"#),
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/iris-model:9a8b7c6d",
    )
    .await;
    type_into(client, &format!(r#"{form} input[name="name"]"#), commit).await;
    click(client, &format!(r#"{form} button[type="submit"]"#)).await;
}

/// How long an element may take to appear: a click on a submit button can return before the
/// browser has loaded the page the form answers with.
const APPEARS_WITHIN: Duration = Duration::from_secs(15);

/// The element `selector` names, once the page showing it has loaded.
async fn element(client: &Client, selector: &str) -> Element {
    client
        .wait()
        .at_most(APPEARS_WITHIN)
        .for_element(Locator::Css(selector))
        .await
        .unwrap_or_else(|error| panic!("no `{selector}`: {error}"))
}

async fn type_into(client: &Client, selector: &str, value: &str) {
    element(client, selector)
        .await
        .send_keys(value)
        .await
        .unwrap_or_else(|error| panic!("cannot type into `{selector}`: {error}"));
}

async fn click(client: &Client, selector: &str) {
    element(client, selector)
        .await
        .click()
        .await
        .unwrap_or_else(|error| panic!("cannot click `{selector}`: {error}"));
}

async fn text(client: &Client, selector: &str) -> String {
    element(client, selector)
        .await
        .text()
        .await
        .unwrap_or_else(|error| panic!("no text in `{selector}`: {error}"))
}

async fn count(client: &Client, selector: &str) -> usize {
    client
        .find_all(Locator::Css(selector))
        .await
        .map(|found| found.len())
        .unwrap_or(0)
}
