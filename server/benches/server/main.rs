//! Gatehouse's benchmarks, one program for all of them: each bench builds and links the whole
//! server, so one binary instead of one per bench saves a release build's worth of linking
//! and code generation in every test run (the test command builds benches to lint them).
//!
//! `cargo bench -p server --bench server` runs every bench; name some to run only those:
//! `cargo bench -p server --bench server -- pages decisions list_page`.
//!
//! - `pages`: server time of the Executions pages with 1,000 executions (local mode).
//! - `decisions`: decision round trip and audit append throughput (local mode).
//! - `lineage`: server time of the lineage and endpoint pages with ten deployed commits
//!   (local mode).
//! - `list_page`: AWS API calls per executions-list page against moto with 1,000 executions
//!   (aws mode; needs the server's `aws` feature and moto from scripts/bootstrap.sh).
//! - `invoke`: the compatible inference API's throughput and latency, 1 and 32 clients, and a
//!   1,000-row call (local mode).
//! - `aws_pages`: AWS API calls of a commit's lineage page and of the endpoints page with 50
//!   endpoints, against moto (aws mode, as `list_page`).
//! - `startup`: the aws-mode binary's start to first ready answer, idle memory and size
//!   (aws mode against moto; needs the built site).
//! - `load`: 200 browsing clients with live streams and 20 decisions a second for 60 s over
//!   1,000 executions, 50 waiting (local mode); `GATEHOUSE_LOAD_SECONDS=600` soaks.

#[cfg(feature = "aws")]
mod aws_pages;
mod decisions;
mod invoke;
mod lineage;
#[cfg(feature = "aws")]
mod list_page;
mod load;
mod pages;
#[cfg(feature = "aws")]
mod startup;

#[cfg(feature = "aws")]
#[allow(dead_code)]
#[path = "../../tests/api/moto.rs"]
mod moto;

#[cfg(feature = "aws")]
#[allow(dead_code, unused_imports)]
#[path = "../../tests/api/cognito.rs"]
mod cognito;

#[cfg(feature = "aws")]
#[allow(dead_code)]
#[path = "../../tests/api/helpers.rs"]
mod helpers;

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use server::config::Config;
use server::startup::Application;

const BENCHES: [&str; 8] = [
    "pages",
    "decisions",
    "lineage",
    "invoke",
    "list_page",
    "aws_pages",
    "startup",
    "load",
];

/// The value below which a share `p` of the sorted samples fall (nearest rank).
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// A local-mode server (no demo run) on a loopback port over `data_dir`, and a client signed
/// in as its first admin: the server's address, the client and the sign-in's answer (whose
/// `Set-Cookie` carries the session).
pub async fn start_signed_in(
    data_dir: &Path,
    site_root: &Path,
) -> (SocketAddr, reqwest::Client, reqwest::Response) {
    let started = start_local(data_dir, site_root, &[]).await;
    (started.address, started.client, started.signed_in)
}

/// A local-mode server and its first admin, signed in.
pub struct Started {
    pub address: SocketAddr,
    /// Signed in as the admin (a session cookie).
    pub client: reqwest::Client,
    pub signed_in: reqwest::Response,
    admin: (String, String),
}

impl Started {
    /// A bearer access token for the admin, from `POST /auth/token`.
    pub async fn token(&self) -> String {
        let response = reqwest::Client::new()
            .post(format!("http://{}/auth/token", self.address))
            .json(&serde_json::json!({"username": self.admin.0, "password": self.admin.1}))
            .send()
            .await
            .expect("token");
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.expect("json");
        body["access_token"].as_str().expect("token").to_string()
    }
}

/// [`start_signed_in`] with more settings.
pub async fn start_local(data_dir: &Path, site_root: &Path, extra: &[&str]) -> Started {
    let data_dir = data_dir.display().to_string();
    let site_root = site_root.display().to_string();
    let mut args = vec![
        "gatehouse",
        "--bind",
        "127.0.0.1:0",
        "--data-dir",
        &data_dir,
        "--site-root",
        &site_root,
        "--demo-run",
        "false",
    ];
    args.extend_from_slice(extra);
    let config = Config::try_parse_from(args).expect("settings");
    let mut application = Application::build(config).await.expect("server");
    let admin = application.take_initial_admin().expect("first start");
    let address = application.local_addr().expect("address");
    tokio::spawn(application.run_until(std::future::pending()));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let signed_in = client
        .post(format!("http://{address}/auth/signin"))
        .form(&[
            ("username", admin.username.as_str()),
            ("password", admin.password.expose().as_str()),
            ("next", "/me"),
        ])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), 303);
    Started {
        address,
        client,
        signed_in,
        admin: (admin.username.clone(), admin.password.expose().to_string()),
    }
}

fn run(bench: &str) {
    println!("\n=== {bench}");
    match bench {
        "pages" => pages::run(),
        "decisions" => decisions::run(),
        "lineage" => lineage::run(),
        "invoke" => invoke::run(),
        "load" => load::run(),
        #[cfg(feature = "aws")]
        "list_page" => list_page::run(),
        #[cfg(feature = "aws")]
        "aws_pages" => aws_pages::run(),
        #[cfg(feature = "aws")]
        "startup" => startup::run(),
        #[cfg(not(feature = "aws"))]
        "list_page" | "aws_pages" | "startup" => {
            println!("skipped: this build has no aws feature (AWS adapters)")
        }
        _ => unreachable!("names are checked before any bench runs"),
    }
}

fn main() -> ExitCode {
    // cargo passes `--bench` (and libtest's options) to every bench program; names are the
    // arguments that are not options.
    let asked: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if let Some(unknown) = asked.iter().find(|a| !BENCHES.contains(&a.as_str())) {
        eprintln!(
            "There is no bench named {unknown}; the benches are {}.",
            BENCHES.join(", ")
        );
        return ExitCode::from(2);
    }
    for bench in BENCHES {
        if asked.is_empty() || asked.iter().any(|a| a == bench) {
            run(bench);
        }
    }
    ExitCode::SUCCESS
}
