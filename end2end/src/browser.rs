//! Headless Chromium through Debian's chromedriver, with the browser console readable.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::util::{free_port, wait_until, Scratch};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A chromedriver process and one browser session on it; both end when dropped.
pub struct Browser {
    pub client: Client,
    _driver: Chromedriver,
    _profile: Scratch,
}

/// The chromedriver child process, killed when dropped (also when a test panics).
struct Chromedriver(Child);

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether pages may run scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scripts {
    On,
    /// Chromium's own content setting: no page script runs, as for a reader who turned
    /// JavaScript off. WebDriver's element commands still work.
    Off,
}

impl Browser {
    pub async fn start() -> Self {
        Self::start_with(Scripts::On).await
    }

    pub async fn start_with(scripts: Scripts) -> Self {
        for tool in [CHROMEDRIVER, CHROMIUM] {
            assert!(
                std::path::Path::new(tool).exists(),
                "{tool} is missing: install Debian's chromium and chromium-driver \
                 (scripts/bootstrap.sh does)"
            );
        }
        let port = free_port();
        let driver = Chromedriver(
            Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("chromedriver starts"),
        );
        let driver_url = format!("http://127.0.0.1:{port}");
        let status_url = format!("{driver_url}/status");
        let http = reqwest::Client::new();
        wait_until("chromedriver", Duration::from_secs(20), || {
            let http = http.clone();
            let status_url = status_url.clone();
            async move { http.get(&status_url).send().await.is_ok() }
        })
        .await;

        let profile = Scratch::new("chromium-profile");
        let capabilities = chromium_capabilities(&profile, scripts);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver_url)
            .await
            .expect("a chromium session starts");
        Self {
            client,
            _driver: driver,
            _profile: profile,
        }
    }

    /// Console messages the page logged at level SEVERE (errors) since the last call.
    pub async fn console_errors(&self) -> Vec<String> {
        let entries = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .expect("chromedriver returns the browser log");
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The text of the first element matching the CSS `selector`.
    pub async fn text_of(&self, selector: &str) -> String {
        self.client
            .find(fantoccini::Locator::Css(selector))
            .await
            .unwrap_or_else(|error| panic!("no element `{selector}`: {error}"))
            .text()
            .await
            .unwrap_or_else(|error| panic!("no text in `{selector}`: {error}"))
    }

    /// Runs `script` in the page and returns its value.
    pub async fn eval(&self, script: &str) -> Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|error| panic!("script `{script}` failed: {error}"))
    }

    /// What the page put on the clipboard, read as a page would read it: the session is first
    /// granted the clipboard-read permission (WebDriver's Permissions extension), which a
    /// reader would grant when asked.
    pub async fn clipboard_text(&self) -> String {
        self.client
            .issue_cmd(GrantPermission("clipboard-read"))
            .await
            .expect("chromedriver grants the clipboard permission");
        let text = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 navigator.clipboard.readText().then(done, e => done('clipboard refused: ' + e));",
                vec![],
            )
            .await
            .expect("the clipboard is read");
        text.as_str().unwrap_or_default().to_string()
    }

    /// Waits until the page's islands are awake. The theme switch is the last island on every
    /// page and is enabled by its island, so its being enabled means all are.
    pub async fn wait_for_islands(&self) {
        wait_until("the islands to wake", Duration::from_secs(20), || async {
            self.eval(
                "const b = document.querySelector('[data-testid=\"theme-toggle\"]');\
                 return b !== null && !b.disabled;",
            )
            .await
                == true
        })
        .await;
    }

    /// Fills the sign-in form on the current page, submits it and waits for the page the
    /// server answers with (whichever it is: signed in, or the form again with its error).
    pub async fn submit_sign_in(&self, username: &str, password: &str) {
        // A mark on the page being left: gone once the answer's page has replaced it. (A
        // submit can return before the browser has loaded the next page.)
        self.eval("window.__beforeSignIn = true; return null;")
            .await;
        let form = self
            .client
            .form(Locator::Css("form[action=\"/auth/signin\"]"))
            .await
            .expect("the sign-in form");
        form.set_by_name("username", username)
            .await
            .expect("username field");
        form.set_by_name("password", password)
            .await
            .expect("password field");
        form.submit().await.expect("submit");
        wait_until(
            "the page after sign-in",
            Duration::from_secs(20),
            || async {
                self.client
                    .execute(
                        "return window.__beforeSignIn === undefined \
                     && document.readyState !== 'loading';",
                        vec![],
                    )
                    .await
                    // Asked while the next page is loading: ask again.
                    .is_ok_and(|answer| answer == true)
            },
        )
        .await;
    }

    /// Ends the browser session cleanly; chromedriver and the profile go when `self` drops.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

fn chromium_capabilities(profile: &Scratch, scripts: Scripts) -> Capabilities {
    // The flags keep Chromium from reaching for the network (this machine has none) and let it
    // run as root in a container.
    let mut options = json!({
        "binary": CHROMIUM,
        "args": [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
            format!("--user-data-dir={}", profile.path().display()),
        ],
    });
    if scripts == Scripts::Off {
        // 2 = block, for every site.
        options["prefs"] = json!({ "profile.managed_default_content_settings.javascript": 2 });
    }
    let mut capabilities = Capabilities::new();
    capabilities.insert("goog:chromeOptions".into(), options);
    capabilities.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
    capabilities
}

/// WebDriver's "Set Permission" extension command (W3C Permissions, which chromedriver
/// implements): grants the named permission to the session's pages.
#[derive(Debug)]
struct GrantPermission(&'static str);

impl WebDriverCompatibleCommand for GrantPermission {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/permissions",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "descriptor": { "name": self.0 }, "state": "granted" });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// chromedriver's log endpoint (not part of W3C WebDriver, but kept by chromedriver for
/// exactly this): the page's console messages.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}
