//! The compatible inference API under load, in local mode: single-row calls through
//! `POST /v1/invokeSagemakerAPI` with a bearer token, the audit log on (every call appends
//! a durable record), from 1 and from 32 concurrent clients; and a 1,000-row CSV call.
//!
//! `cargo bench -p server --bench server -- invoke` starts the real server on an empty data
//! folder with the rate limit lifted, trains, approves and deploys one commit to the
//! pipeline's endpoint, takes a token from `POST /auth/token`, then times calls over loopback
//! (client-measured: HTTP, token check, audit append, the model). `GET /healthz` from 32
//! clients is the floor: what the HTTP stack alone answers on these cores.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::lineage::deploy_commits;
use crate::percentile;

const ENDPOINT: &str = "iris-serving";
const SEQUENTIAL: usize = 2_000;
const CONCURRENT_CLIENTS: usize = 32;
const CONCURRENT_CALLS: usize = 20_000;
const BIG_CALLS: usize = 20;

fn invoke_url(address: &SocketAddr) -> String {
    format!("http://{address}/v1/invokeSagemakerAPI?sagemaker_endpoint={ENDPOINT}")
}

async fn invoke_once(client: &reqwest::Client, url: &str, token: &str, body: &str) -> Duration {
    let started = Instant::now();
    let response = client
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("invoke");
    let status = response.status();
    let text = response.text().await.expect("answer");
    assert_eq!(status, 200, "{text}");
    started.elapsed()
}

fn report(label: &str, mut samples: Vec<Duration>, wall: Duration) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<44} {:>6} calls {:>8.0} req/s  p50 {:>6.2} ms  p99 {:>6.2} ms",
        samples.len(),
        samples.len() as f64 / wall.as_secs_f64(),
        ms(percentile(&samples, 0.50)),
        ms(percentile(&samples, 0.99)),
    );
}

/// `calls` requests from `clients` tasks sharing one connection pool, each task one call at
/// a time.
async fn concurrently<F, Fut>(clients: usize, calls: usize, call: F) -> (Vec<Duration>, Duration)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Duration> + Send,
{
    let call = Arc::new(call);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let call = Arc::clone(&call);
        tasks.spawn(async move {
            let mut samples = Vec::with_capacity(calls / clients);
            for _ in 0..calls / clients {
                samples.push(call().await);
            }
            samples
        });
    }
    let mut samples = Vec::with_capacity(calls);
    while let Some(done) = tasks.join_next().await {
        samples.extend(done.expect("client task"));
    }
    (samples, started.elapsed())
}

#[tokio::main]
pub async fn run() {
    let scratch =
        std::env::temp_dir().join(format!("gatehouse-bench-invoke-{}", std::process::id()));
    let started = crate::start_local(
        &scratch.join("data"),
        &scratch.join("site"),
        &[
            "--invoke-per-minute",
            "10000000",
            "--invoke-burst",
            "10000000",
        ],
    )
    .await;
    let (address, client) = (started.address, started.client.clone());
    let setup = Instant::now();
    deploy_commits(
        &client,
        &address,
        &["1a2b3c4d-12-04-2026-10-00-00".to_string()],
    )
    .await;
    println!(
        "setup: one commit trained, approved and deployed in {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    let token = started.token().await;
    let url = invoke_url(&address);
    let row = r#"{"data": "5.9,3,5.1,1.8"}"#;
    let api = reqwest::Client::new();

    for _ in 0..200 {
        invoke_once(&api, &url, &token, row).await;
    }
    let wall = Instant::now();
    let mut samples = Vec::with_capacity(SEQUENTIAL);
    for _ in 0..SEQUENTIAL {
        samples.push(invoke_once(&api, &url, &token, row).await);
    }
    report("one row, 1 client", samples, wall.elapsed());

    let shared = Arc::new((api.clone(), url.clone(), token.clone()));
    let (samples, wall) = concurrently(CONCURRENT_CLIENTS, CONCURRENT_CALLS, move || {
        let shared = Arc::clone(&shared);
        async move { invoke_once(&shared.0, &shared.1, &shared.2, row).await }
    })
    .await;
    report("one row, 32 clients", samples, wall);

    let health = format!("http://{address}/healthz");
    let floor_client = api.clone();
    let (samples, wall) = concurrently(CONCURRENT_CLIENTS, CONCURRENT_CALLS, move || {
        let (client, url) = (floor_client.clone(), health.clone());
        async move {
            let started = Instant::now();
            let response = client.get(&url).send().await.expect("healthz");
            assert_eq!(response.status(), 200);
            response.bytes().await.expect("body");
            started.elapsed()
        }
    })
    .await;
    report("GET /healthz, 32 clients (the floor)", samples, wall);

    let rows: Vec<&str> = ["5.1,3.5,1.4,0.2", "6.2,2.9,4.3,1.3", "5.9,3,5.1,1.8"]
        .into_iter()
        .cycle()
        .take(1000)
        .collect();
    let big = serde_json::json!({ "data": rows.join("\n") }).to_string();
    let wall = Instant::now();
    let mut samples = Vec::with_capacity(BIG_CALLS);
    for _ in 0..BIG_CALLS {
        samples.push(invoke_once(&api, &url, &token, &big).await);
    }
    report("1,000 rows in one call, 1 client", samples, wall.elapsed());
    let _ = std::fs::remove_dir_all(&scratch);
}
