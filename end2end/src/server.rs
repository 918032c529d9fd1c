//! The Gatehouse server under test: the release binary cargo-leptos built, started as a child
//! process on a free port with its own data folder, stopped when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::util::{free_port, wait_until, workspace_root, Scratch};

pub struct GatehouseServer {
    child: Child,
    pub base_url: String,
    _data: Scratch,
}

impl GatehouseServer {
    /// Starts the server and waits until `/readyz` says ready.
    ///
    /// The binary is `$GATEHOUSE_BIN`, else `<target dir>/release/gatehouse`; the site (the
    /// wasm/js/css bundle) is `$GATEHOUSE_SITE_ROOT`, else `<workspace>/target/site`. Both come
    /// from `cargo leptos build --release`, which the test command runs first.
    pub async fn start() -> Self {
        let binary = std::env::var_os("GATEHOUSE_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| target_dir().join("release/gatehouse"));
        assert!(
            binary.exists(),
            "no server binary at {} — build it first with `cargo leptos build --release` \
             (scripts/test.sh does)",
            binary.display()
        );
        let site_root = std::env::var_os("GATEHOUSE_SITE_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|| workspace_root().join("target/site"));
        let data = Scratch::new("server");
        let port = free_port();
        let verbose = std::env::var_os("TEST_LOG").is_some();
        let child = Command::new(&binary)
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(data.path())
            .arg("--site-root")
            .arg(&site_root)
            .arg("--mode")
            .arg("local")
            .stdout(if verbose {
                Stdio::inherit()
            } else {
                Stdio::null()
            })
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
        let server = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            _data: data,
        };
        let ready_url = format!("{}/readyz", server.base_url);
        let client = reqwest::Client::new();
        wait_until("the server to be ready", Duration::from_secs(30), || {
            let client = client.clone();
            let ready_url = ready_url.clone();
            async move {
                client
                    .get(&ready_url)
                    .send()
                    .await
                    .is_ok_and(|response| response.status().is_success())
            }
        })
        .await;
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

impl Drop for GatehouseServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}
