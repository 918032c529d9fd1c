//! `spawn_app()`: the real server on port 0 in this process, with a cookie-keeping client.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once, OnceLock};

use app::models::about::Mode;
use app::models::identity::Role;
use clap::Parser;
use server::config::{Config, LogFormat};
use server::db::Database;
use server::startup::Application;
use server::users::LocalUsers;

/// What the server logs, kept for the whole test binary: every test's servers run in this
/// process and log through one subscriber, installed by the product's own `telemetry::init`.
/// Tests look in it for what must never be logged ([`captured_logs`]). The filter is the
/// server's default (`info`) with everything of Gatehouse's own crates down to `trace`, so a
/// secret logged at a level a deployment might turn on is found too. With `TEST_LOG` set the
/// lines are also printed, so a failing test's output can show them; quiet otherwise, so it is
/// not buried in request logs.
const CAPTURE_FILTER: &str = "info,server=trace,app=trace,engine=trace,gatehouse=trace";

fn log_buffer() -> &'static Mutex<Vec<u8>> {
    static BUFFER: OnceLock<Mutex<Vec<u8>>> = OnceLock::new();
    BUFFER.get_or_init(|| Mutex::new(Vec::new()))
}

/// Every line every test server logged so far in this test binary.
pub fn captured_logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap_or_else(|p| p.into_inner())).into_owned()
}

/// Writes a log line into the buffer, and to standard output when `TEST_LOG` is set.
struct CaptureWriter {
    echo: bool,
}

impl std::io::Write for CaptureWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        log_buffer()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(bytes);
        if self.echo {
            std::io::stdout().write_all(bytes)?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn init_tracing_once() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let echo = !std::env::var("TEST_LOG").unwrap_or_default().is_empty();
        server::telemetry::init(LogFormat::Human, CAPTURE_FILTER, move || CaptureWriter {
            echo,
        })
        .expect("the test binary installs the only subscriber");
    });
}

pub struct TestApp {
    pub address: SocketAddr,
    /// A browser-like client: keeps cookies, does not follow redirects (tests look at them).
    pub client: reqwest::Client,
    pub data_dir: PathBuf,
    pub site_root: PathBuf,
    /// The password of the `admin` the server created on its first start.
    pub admin_password: String,
    /// Removed when the test ends.
    _scratch: Scratch,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request reaches the test server")
    }

    /// `GET path` with `client` (its cookies).
    pub async fn get_with(&self, client: &reqwest::Client, path: &str) -> reqwest::Response {
        client
            .get(self.url(path))
            .send()
            .await
            .expect("request reaches the test server")
    }

    /// Another browser: its own cookie jar.
    pub fn new_client(&self) -> reqwest::Client {
        new_client()
    }

    /// Adds a local user straight in the database (as `gatehouse users add` does) and
    /// returns their password.
    pub async fn add_user(&self, username: &str, roles: &[Role]) -> String {
        let password = format!("pw-{username}-long-enough");
        self.users()
            .add(
                username,
                &password,
                roles.iter().copied().collect::<BTreeSet<_>>(),
            )
            .await
            .expect("add user");
        password
    }

    pub fn users(&self) -> LocalUsers {
        let db = Database::open(&server::cli::database_path(&self.data_dir)).expect("database");
        LocalUsers::new(db)
    }

    /// Posts the sign-in form with `client`, as a browser would.
    pub async fn sign_in_with(
        &self,
        client: &reqwest::Client,
        username: &str,
        password: &str,
        next: &str,
    ) -> reqwest::Response {
        client
            .post(self.url("/auth/signin"))
            .form(&[
                ("username", username),
                ("password", password),
                ("next", next),
            ])
            .send()
            .await
            .expect("sign-in request")
    }

    /// Signs `client` in and checks it worked.
    pub async fn signed_in_client(&self, username: &str, password: &str) -> reqwest::Client {
        let client = self.new_client();
        let response = self.sign_in_with(&client, username, password, "/me").await;
        assert_eq!(response.status(), 303, "sign-in redirects");
        assert_eq!(response.headers()["location"], "/me", "sign-in succeeded");
        client
    }

    /// A bearer access token from the token endpoint.
    pub async fn access_token(&self, username: &str, password: &str) -> String {
        let response = self
            .new_client()
            .post(self.url("/auth/token"))
            .json(&serde_json::json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("token request");
        assert_eq!(response.status(), 200, "token endpoint");
        let body: serde_json::Value = response.json().await.expect("json");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_string()
    }

    /// Calls a server function (POST, empty form body) with `client`.
    pub async fn call(&self, client: &reqwest::Client, function: &str) -> reqwest::Response {
        client
            .post(self.url(&format!("/api/{function}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body("")
            .send()
            .await
            .expect("server function request")
    }

    /// Calls a server function with form fields, as an HTML form or an API client would.
    pub async fn call_form(
        &self,
        client: &reqwest::Client,
        function: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        client
            .post(self.url(&format!("/api/{function}")))
            .header("accept", "application/json")
            .form(fields)
            .send()
            .await
            .expect("server function request")
    }

    /// Who `client`'s session is signed in as (`current_user`), if anyone.
    pub async fn signed_in_as(&self, client: &reqwest::Client) -> Option<String> {
        let response = self.call(client, "current_user").await;
        assert_eq!(response.status(), 200, "current_user answers");
        let me: serde_json::Value = response.json().await.expect("json");
        me["username"].as_str().map(str::to_string)
    }

    /// Calls a server function sending exactly `cookie` (`name=value`) and nothing else, as
    /// someone replaying or planting a session id would.
    pub async fn call_with_cookie(&self, cookie: &str, function: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.url(&format!("/api/{function}")))
            .header("cookie", cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body("")
            .send()
            .await
            .expect("server function request")
    }

    /// Calls a server function with a bearer token and no cookies.
    pub async fn call_with_token(&self, token: &str, function: &str) -> reqwest::Response {
        self.new_client()
            .post(self.url(&format!("/api/{function}")))
            .bearer_auth(token)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body("")
            .send()
            .await
            .expect("server function request")
    }
}

/// The session cookie a response sets (the whole `Set-Cookie` value), if any.
pub fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("gatehouse_session="))
        .map(str::to_string)
}

/// `name=value` of a `Set-Cookie` value, as a browser sends it back.
pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_string()
}

/// The address a server binary says it listens on (its "listening on http://…" log line),
/// read from its standard output on a thread of its own, which keeps draining the pipe.
pub fn announced_address(stdout: std::process::ChildStdout) -> std::sync::mpsc::Receiver<String> {
    use std::io::BufRead;
    let (sender, address) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let (false, Some(rest)) = (sent, line.split("listening on http://").nth(1)) {
                let _ = sender.send(rest.split('"').next().unwrap_or_default().to_string());
                sent = true;
            }
        }
    });
    address
}

pub fn new_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        // A stalled server fails the test instead of hanging the suite.
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .expect("http client")
}

/// A page's HTML without Leptos' hydration markers (`<!>` after dynamic text), so tests can
/// look for `<code>x</code>` whatever the renderer inserts between.
pub async fn page_text(response: reqwest::Response) -> String {
    response.text().await.expect("html").replace("<!>", "")
}

/// Options for a test server; `Default` is local mode with an empty site root.
#[derive(Default)]
pub struct Spawn {
    pub mode: Option<Mode>,
    /// Create the bundle files a browser downloads, as `cargo leptos build` would.
    pub with_site_assets: bool,
    /// More command-line settings, as `--flag value` pairs.
    pub args: Vec<String>,
    /// aws mode: the AWS SDK configuration (moto's).
    pub aws: Option<aws_config::SdkConfig>,
    /// Local mode: start the first-start demo run (off unless a test needs it: it trains).
    pub demo_run: bool,
}

pub async fn spawn_app() -> TestApp {
    spawn(Spawn::default()).await
}

pub async fn spawn(options: Spawn) -> TestApp {
    try_spawn(options).await.expect("server builds")
}

pub async fn try_spawn(options: Spawn) -> Result<TestApp, server::startup::StartupError> {
    init_tracing_once();
    let scratch = Scratch::new();
    let site_root = scratch.path().join("site");
    let data_dir = scratch.path().join("data");
    std::fs::create_dir_all(site_root.join("pkg")).expect("site root");
    if options.with_site_assets {
        for file in ["gatehouse.js", "gatehouse.wasm", "gatehouse.css"] {
            std::fs::write(site_root.join("pkg").join(file), b"test bundle").expect("asset");
        }
    }
    let mode = match options.mode.unwrap_or(Mode::Local) {
        Mode::Local => "local",
        Mode::Aws => "aws",
    };
    let mut args: Vec<String> = vec![
        "gatehouse".into(),
        "--bind".into(),
        "127.0.0.1:0".into(),
        "--mode".into(),
        mode.into(),
        "--data-dir".into(),
        data_dir.display().to_string(),
        "--site-root".into(),
        site_root.display().to_string(),
        "--demo-run".into(),
        options.demo_run.to_string(),
    ];
    args.extend(options.args);
    let config = Config::try_parse_from(args).expect("test settings parse");
    let mut application = Application::build_with(config, options.aws).await?;
    let admin_password = application
        .take_initial_admin()
        .map(|admin| admin.password.expose().clone())
        .unwrap_or_default();
    let address = application.local_addr().expect("bound address");
    tokio::spawn(application.run_until(std::future::pending()));
    Ok(TestApp {
        address,
        client: new_client(),
        data_dir,
        site_root,
        admin_password,
        _scratch: scratch,
    })
}

/// A private temporary folder, removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new() -> Self {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let unique = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("gatehouse-test-{}-{unique}", std::process::id()));
        std::fs::create_dir_all(&path).expect("scratch folder");
        Self(path)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
