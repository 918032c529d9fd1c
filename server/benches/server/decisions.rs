//! Local mode: the decision round trip and audit append throughput.
//!
//! `cargo bench -p server --bench server -- decisions`:
//! 1. Audit appends with durable writes (the SQLite file in WAL mode, `synchronous=FULL`):
//!    records per second appended one at a time (each waits for its commit) and by 64
//!    concurrent writers (group commit: one transaction per gathered batch).
//! 2. Decision round trip: the real server with the real pipeline; `RUNS` runs train and wait
//!    for approval, then an approver approves each in turn. Timed from sending
//!    `POST /api/decide` to its answer, which comes after the engine has taken the decision
//!    (`SendTaskSuccess` committed, the run resumes) and the audit record is durable.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::percentile;

use app::audit::AuditLog;
use app::models::audit::{AuditEntry, AuditOutcome};
use server::audit::sqlite::SqliteAuditLog;
use server::db::Database;

const APPENDS: usize = 2_000;
const CONCURRENT_APPENDS: usize = 20_000;
const WRITERS: usize = 64;
const RUNS: usize = 100;

fn entry(i: usize) -> AuditEntry {
    AuditEntry {
        actor: format!("user{}", i % 17),
        roles: vec!["approver".into()],
        action: "approval.decide".into(),
        target: format!("c0ffee00-{i}"),
        outcome: AuditOutcome::Success,
        request_id: format!("req-{i}"),
        source_ip: "127.0.0.1".into(),
        details: r#"{"verdict":"approve","comment":"looks right"}"#.into(),
    }
}

async fn audit_throughput(scratch: &std::path::Path) {
    let db = Database::open(&scratch.join("audit-bench.sqlite")).expect("database");
    let log = Arc::new(SqliteAuditLog::new(db));
    let started = Instant::now();
    for i in 0..APPENDS {
        log.append(entry(i)).await.expect("append");
    }
    let one = started.elapsed();
    println!(
        "audit append, one at a time (durable): {APPENDS} records in {:.2} s = {:.0} records/s ({:.2} ms each)",
        one.as_secs_f64(),
        APPENDS as f64 / one.as_secs_f64(),
        one.as_secs_f64() * 1e3 / APPENDS as f64
    );
    let started = Instant::now();
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let log = Arc::clone(&log);
        writers.spawn(async move {
            for i in (w..CONCURRENT_APPENDS).step_by(WRITERS) {
                log.append(entry(i)).await.expect("append");
            }
        });
    }
    while let Some(done) = writers.join_next().await {
        done.expect("writer");
    }
    let many = started.elapsed();
    println!(
        "audit append, {WRITERS} concurrent writers (durable, group commit): {CONCURRENT_APPENDS} records in {:.2} s = {:.0} records/s",
        many.as_secs_f64(),
        CONCURRENT_APPENDS as f64 / many.as_secs_f64()
    );
    let verified = server::audit::chain::verify(log.as_ref())
        .await
        .expect("the chain verifies");
    println!("chain verified: {verified} records");
}

/// Starts one run of the pipeline per commit ID, each named by its commit ID.
pub(crate) async fn start_runs(
    client: &reqwest::Client,
    address: &std::net::SocketAddr,
    commits: &[String],
) {
    for commit in commits {
        let (status, body) = call(
            client,
            address,
            "start_execution",
            &[
                ("name", commit),
                ("commit_id", commit),
                ("image_uri", "localhost/iris:bench"),
            ],
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
}

pub(crate) async fn call(
    client: &reqwest::Client,
    address: &std::net::SocketAddr,
    function: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let response = client
        .post(format!("http://{address}/api/{function}"))
        .header("accept", "application/json")
        .form(fields)
        .send()
        .await
        .expect("server function");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

async fn decision_round_trip(scratch: &std::path::Path) {
    let (address, client, _) =
        crate::start_signed_in(&scratch.join("data"), &scratch.join("site")).await;

    let setup = Instant::now();
    let names: Vec<String> = (0..RUNS)
        .map(|k| format!("{:08x}-2026-12-01-10-00-00", 0x5eed_0000_u32 + k as u32))
        .collect();
    start_runs(&client, &address, &names).await;
    loop {
        let (status, body) = call(&client, &address, "list_approvals", &[]).await;
        assert_eq!(status, 200, "{body}");
        let list: serde_json::Value = serde_json::from_str(&body).expect("json");
        if list["approvals"].as_array().map(Vec::len) == Some(RUNS) {
            break;
        }
        assert!(
            setup.elapsed() < Duration::from_secs(600),
            "runs never all waited"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "setup: {RUNS} runs trained and waiting for approval in {:.1} s",
        setup.elapsed().as_secs_f64()
    );
    let mut times = Vec::with_capacity(RUNS);
    for name in &names {
        let started = Instant::now();
        let (status, body) = call(
            &client,
            &address,
            "decide",
            &[("id", name), ("verdict", "approve"), ("comment", "bench")],
        )
        .await;
        times.push(started.elapsed());
        assert_eq!(status, 200, "{body}");
    }
    times.sort();
    println!(
        "decision round trip ({RUNS} approvals, from {RUNS} pending down to 1): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3,
        times[times.len() - 1].as_secs_f64() * 1e3
    );
}

#[tokio::main]
pub async fn run() {
    let scratch = std::env::temp_dir().join(format!("gatehouse-decisions-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch");
    audit_throughput(&scratch).await;
    decision_round_trip(&scratch).await;
    let _ = std::fs::remove_dir_all(&scratch);
}
