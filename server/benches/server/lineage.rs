//! Server time of the lineage and endpoint pages in local mode, with ten commits that were
//! each trained, approved and deployed to the pipeline's endpoint one after the other.
//!
//! `cargo bench -p server --bench server -- lineage` starts the real server on an empty data
//! folder (no demo run), starts ten runs, approves each once it waits and waits until it has
//! updated the endpoint, then times `GET /lineage`, a prefix search, `GET /lineage/<commit>`,
//! `GET /endpoints` and `GET /endpoints/<name>` over loopback, sequentially, after a warm-up
//! (client-measured: loopback HTTP, the session check and the whole render).

use std::time::{Duration, Instant};

use crate::decisions::{call, start_runs};
use crate::pages::time_page;

const COMMITS: usize = 10;
/// The endpoint local mode's pipeline deploys to (`infra/statemachine/local-substitutions.json`).
const ENDPOINT: &str = "iris-serving";

async fn status_of(client: &reqwest::Client, address: &std::net::SocketAddr, name: &str) -> String {
    let (status, body) = call(client, address, "get_execution", &[("id", name)]).await;
    assert_eq!(status, 200, "{body}");
    let view: serde_json::Value = serde_json::from_str(&body).expect("json");
    view["detail"]["summary"]["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Starts a run per commit, approves each once it waits and waits until it has deployed to
/// the pipeline's endpoint, one after the other.
pub(crate) async fn deploy_commits(
    client: &reqwest::Client,
    address: &std::net::SocketAddr,
    commits: &[String],
) {
    let setup = Instant::now();
    start_runs(client, address, commits).await;
    for commit in commits {
        loop {
            let (status, body) = call(
                client,
                address,
                "decide",
                &[("id", commit), ("verdict", "approve"), ("comment", "bench")],
            )
            .await;
            if status == 200 {
                break;
            }
            assert!(
                setup.elapsed() < Duration::from_secs(600),
                "{commit}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        loop {
            match status_of(client, address, commit).await.as_str() {
                "RUNNING" => tokio::time::sleep(Duration::from_millis(200)).await,
                "SUCCEEDED" => break,
                other => panic!("{commit} ended {other}"),
            }
        }
    }
}

#[tokio::main]
pub async fn run() {
    let scratch =
        std::env::temp_dir().join(format!("gatehouse-bench-lineage-{}", std::process::id()));
    let (address, client, _) =
        crate::start_signed_in(&scratch.join("data"), &scratch.join("site")).await;

    let setup = Instant::now();
    let commits: Vec<String> = (0..COMMITS)
        .map(|k| format!("{:08x}-12-04-2026-10-{k:02}-00", 0x11ea_0000_u32 + k as u32))
        .collect();
    deploy_commits(&client, &address, &commits).await;
    println!(
        "setup: {COMMITS} commits trained, approved and deployed in {:.1} s",
        setup.elapsed().as_secs_f64()
    );

    let newest = &commits[COMMITS - 1];
    for (label, path) in [
        ("GET /lineage (10 commits)", "/lineage".to_string()),
        (
            "GET /lineage?commit=<prefix> (one match)",
            format!("/lineage?commit={}", &newest[..8]),
        ),
        (
            "GET /lineage/<commit> (serving)",
            format!("/lineage/{newest}"),
        ),
        ("GET /endpoints", "/endpoints".to_string()),
        (
            "GET /endpoints/<name> (10 deployments in its history)",
            format!("/endpoints/{ENDPOINT}"),
        ),
    ] {
        let (p50, p99, max, size) = time_page(&client, &format!("http://{address}{path}")).await;
        println!(
            "{label}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {size} bytes",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3
        );
    }
    let _ = std::fs::remove_dir_all(&scratch);
}
