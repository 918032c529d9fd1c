use std::time::Duration;

use end2end::browser::Browser;
use end2end::server::GatehouseServer;
use end2end::util::wait_until;
use fantoccini::Locator;

/// The About page's facts are in the HTML the server sends, before any script has run.
#[tokio::test]
async fn about_html_is_complete_before_any_script_runs() {
    let server = GatehouseServer::start().await;
    let html = reqwest::get(server.url("/about"))
        .await
        .expect("GET /about")
        .text()
        .await
        .expect("body");
    for needle in [
        r#"data-testid="about-mode">local<"#,
        r#"data-testid="about-version">"#,
        r#"data-testid="about-commit"><code>"#,
        r#"data-testid="about-uptime">"#,
        r#"aria-label="Sections""#,
    ] {
        assert!(html.contains(needle), "server HTML lacks {needle}:\n{html}");
    }
    // Rendered disabled: the switch can only work once the app has hydrated.
    assert!(
        theme_button_is_disabled(&html),
        "the theme switch must be disabled before hydration:\n{html}"
    );
}

/// After hydration the switch changes the theme, a reload keeps the choice, and the page
/// logs no console errors along the way.
#[tokio::test]
async fn theme_switch_works_after_hydration_and_survives_a_reload() {
    let server = GatehouseServer::start().await;
    let browser = Browser::start().await;
    let client = &browser.client;

    client
        .goto(&server.url("/about"))
        .await
        .expect("open /about");
    wait_for_hydration(&browser).await;
    let mode = browser.text_of(r#"[data-testid="about-mode"]"#).await;
    assert_eq!(mode, "local");

    // Headless Chromium prefers light, and nothing is remembered yet.
    assert_eq!(theme_attribute(&browser).await, None);
    toggle(&browser).await;
    assert_eq!(theme_attribute(&browser).await.as_deref(), Some("dark"));
    assert_eq!(shown_background(&browser).await, "rgb(17, 21, 28)");

    client.refresh().await.expect("reload");
    // Before and after hydration alike the remembered theme is applied.
    assert_eq!(theme_attribute(&browser).await.as_deref(), Some("dark"));
    wait_for_hydration(&browser).await;
    assert_eq!(theme_attribute(&browser).await.as_deref(), Some("dark"));
    let label = toggle_button(&browser).await.text().await.expect("label");
    assert!(
        label.contains("Light"),
        "the switch offers the other theme: {label}"
    );

    toggle(&browser).await;
    assert_eq!(theme_attribute(&browser).await.as_deref(), Some("light"));
    assert_eq!(shown_background(&browser).await, "rgb(247, 248, 250)");

    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    browser.close().await;
}

/// Links navigate inside the hydrated app (no full page load).
#[tokio::test]
async fn navigation_after_hydration_stays_in_the_app() {
    let server = GatehouseServer::start().await;
    let browser = Browser::start().await;
    let client = &browser.client;

    client
        .goto(&server.url("/signin?next=/about"))
        .await
        .expect("open the sign-in page");
    browser
        .submit_sign_in("admin", &server.admin_password)
        .await;
    wait_for_hydration(&browser).await;
    assert_eq!(client.current_url().await.expect("url").path(), "/about");
    // A marker that a full page load would wipe out.
    browser
        .eval("window.__stillTheSamePage = true; return null;")
        .await;
    client
        .find(Locator::Css(r#"nav a[href="/playground"]"#))
        .await
        .expect("Playground link")
        .click()
        .await
        .expect("click");
    wait_until("the Playground page", Duration::from_secs(10), || async {
        browser
            .eval("return document.querySelector('h1')?.textContent ?? null;")
            .await
            == "Playground"
    })
    .await;
    assert_eq!(
        browser
            .eval("return window.__stillTheSamePage === true;")
            .await,
        true
    );
    // Nothing deployed yet: the page says there is no endpoint to try.
    let notice = browser.text_of(r#"[data-testid="no-endpoints"]"#).await;
    assert!(
        notice.contains("No pipeline endpoint to try yet"),
        "{notice}"
    );
    let current = browser.text_of(r#"nav a[aria-current="page"]"#).await;
    assert_eq!(current, "Playground");

    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    browser.close().await;
}

fn theme_button_is_disabled(html: &str) -> bool {
    html.split("<button")
        .filter(|tag| tag.contains(r#"data-testid="theme-toggle""#))
        .any(|tag| {
            tag.split('>')
                .next()
                .is_some_and(|attributes| attributes.contains("disabled"))
        })
}

async fn toggle_button(browser: &Browser) -> fantoccini::elements::Element {
    browser
        .client
        .find(Locator::Css(r#"[data-testid="theme-toggle"]"#))
        .await
        .expect("theme switch present")
}

/// The switch is enabled by its island once it has woken.
async fn wait_for_hydration(browser: &Browser) {
    browser.wait_for_islands().await;
}

async fn toggle(browser: &Browser) {
    toggle_button(browser)
        .await
        .click()
        .await
        .expect("click the theme switch");
}

async fn theme_attribute(browser: &Browser) -> Option<String> {
    browser
        .eval("return document.documentElement.getAttribute('data-theme');")
        .await
        .as_str()
        .map(str::to_string)
}

async fn shown_background(browser: &Browser) -> String {
    browser
        .eval("return getComputedStyle(document.body).backgroundColor;")
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}
