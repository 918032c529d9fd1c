//! `spawn_app()`: the real server on port 0 in this process, with a cookie-keeping client.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Once;

use app::models::about::Mode;
use server::config::{Config, LogFormat};
use server::startup::Application;

/// Quiet unless `TEST_LOG` is set, so a failing test's output is not buried in request logs.
fn init_tracing_once() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        let filter = std::env::var("TEST_LOG").unwrap_or_default();
        if !filter.is_empty() {
            let filter = if filter == "1" || filter == "true" {
                "info"
            } else {
                &filter
            };
            // Another test binary may have installed one already; either way we log.
            let _ = server::telemetry::init(LogFormat::Human, filter, std::io::stdout);
        }
    });
}

pub struct TestApp {
    pub address: SocketAddr,
    pub client: reqwest::Client,
    /// Removed when the test ends.
    _scratch: Scratch,
    pub site_root: PathBuf,
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
}

/// Options for a test server; `Default` is local mode with an empty site root.
#[derive(Default)]
pub struct Spawn {
    pub mode: Option<Mode>,
    /// Create the bundle files a browser downloads, as `cargo leptos build` would.
    pub with_site_assets: bool,
}

pub async fn spawn_app() -> TestApp {
    spawn(Spawn::default()).await
}

pub async fn spawn(options: Spawn) -> TestApp {
    init_tracing_once();
    let scratch = Scratch::new();
    let site_root = scratch.path().join("site");
    std::fs::create_dir_all(site_root.join("pkg")).expect("site root");
    if options.with_site_assets {
        for file in ["gatehouse.js", "gatehouse.wasm", "gatehouse.css"] {
            std::fs::write(site_root.join("pkg").join(file), b"test bundle").expect("asset");
        }
    }
    let config = Config {
        bind: "127.0.0.1:0".parse().expect("loopback address"),
        mode: options.mode.unwrap_or(Mode::Local),
        data_dir: scratch.path().join("data"),
        site_root: site_root.clone(),
        log_format: LogFormat::Human,
        log_filter: "info".into(),
    };
    let application = Application::build(config).await.expect("server builds");
    let address = application.local_addr().expect("bound address");
    tokio::spawn(application.run_until(std::future::pending()));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    TestApp {
        address,
        client,
        _scratch: scratch,
        site_root,
    }
}

/// A private temporary folder, removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Self {
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
