//! The Gatehouse server under test: the release binary cargo-leptos built, started as a child
//! process on a free port with its own data folder, stopped when dropped.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::util::{free_port, wait_until, workspace_root, Scratch};

pub struct GatehouseServer {
    child: Child,
    binary: PathBuf,
    pub base_url: String,
    /// The password of the `admin` the server created on its first start (printed once on
    /// its terminal, read from there).
    pub admin_password: String,
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
        let mut child = Command::new(&binary)
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
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", binary.display()));
        let admin_password = read_admin_password(&mut child);
        let server = Self {
            child,
            binary: binary.clone(),
            base_url: format!("http://127.0.0.1:{port}"),
            admin_password,
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

    /// Adds a local user with `roles` through the binary's own `users add` command (as an
    /// admin at the server's terminal would) and returns the generated password.
    pub fn add_user(&self, username: &str, roles: &[&str]) -> String {
        let mut command = Command::new(&self.binary);
        command
            .arg("--data-dir")
            .arg(self._data.path())
            .args(["users", "add", username]);
        for role in roles {
            command.args(["--role", role]);
        }
        let output = command.output().expect("run `gatehouse users add`");
        assert!(
            output.status.success(),
            "users add failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .find_map(|line| line.strip_prefix("password: ").map(str::to_string))
            .expect("a generated password")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// An HTTP client (cookies kept, redirects not followed) signed in as `admin`.
    pub async fn signed_in_client(&self) -> reqwest::Client {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        let response = client
            .post(self.url("/auth/signin"))
            .form(&[
                ("username", "admin"),
                ("password", self.admin_password.as_str()),
                ("next", "/me"),
            ])
            .send()
            .await
            .expect("sign in");
        assert_eq!(response.headers()["location"], "/me", "signed in");
        client
    }
}

/// Reads the server's stderr until the first-start password line, then keeps forwarding the
/// rest to ours on a thread (so a panic message is still seen).
fn read_admin_password(child: &mut Child) -> String {
    let stderr = child.stderr.take().expect("stderr is piped");
    let (found, password) = mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            match line.trim().strip_prefix("password: ") {
                Some(value) if !sent => {
                    let _ = found.send(value.to_string());
                    sent = true;
                }
                _ => eprintln!("{line}"),
            }
        }
    });
    password
        .recv_timeout(Duration::from_secs(30))
        .expect("the server prints the first admin's password on its first start")
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
