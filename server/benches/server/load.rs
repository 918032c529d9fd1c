//! Local mode under load: many people browsing while approvers decide.
//!
//! `cargo bench -p server --bench server -- load` builds a data folder with 1,000 executions
//! (950 finished runs of a Pass/Choice loop, so setting up does not train 950 models, and 50
//! real pipeline runs that trained a model, batch-transformed the test data and wait for a
//! decision), starts the real server on it and then, for 60 seconds on loopback:
//!
//! - 200 simulated browsing clients, each holding `GET /events` (the live stream) open and
//!   going round the Executions list, an execution's page and an approval page, one page a
//!   second (a person reading, not a crawler: 200 pages/s offered in all);
//! - one approver deciding 20 runs a second (approve and reject in turn), each decision on a
//!   run that is waiting; every decided run is replaced by a new run, so about 50 keep
//!   waiting (each new run trains and transforms before it waits).
//!
//! It reports each page kind's latency (p50, p99, max; measured by the client, so loopback
//! HTTP, the session check and the whole render), errors (any answer that is not 200, any
//! broken connection), the decisions' latency, the events the streams delivered, and checks
//! the audit log: every decision recorded exactly once, and the chain verifies.
//!
//! `GATEHOUSE_LOAD_CLIENTS=10` sets another number of browsing clients (to run it under a heap
//! profiler, which slows every allocation, with the decisions still coming).
//!
//! `GATEHOUSE_LOAD_SECONDS=600` makes it a soak run: every minute it prints the process's
//! resident memory (and what the allocator says is in use, the pages that sits on and what it
//! holds in memory), its open file descriptors, the size of the SQLite write-ahead logs and the
//! executions running.
//! The server runs in the bench's process, so memory and descriptors include the 200 clients
//! (their share is constant once they are connected).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use engine::{Engine, EngineConfig};
use server::cli::database_path;
use server::pipeline::local::LOCAL_PIPELINE_NAME;

use crate::decisions::{call, start_runs};
use crate::pages::LOOP_DEFINITION;
use crate::percentile;

const FINISHED: usize = 950;
const WAITING: usize = 50;
const CLIENTS: usize = 200;

fn client_count() -> usize {
    std::env::var("GATEHOUSE_LOAD_CLIENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(CLIENTS)
}
const DECISIONS_PER_SECOND: u64 = 20;
/// A browsing client's pause between pages.
const READING: Duration = Duration::from_secs(1);
/// The goal for every page at the 99th percentile.
const GOAL_P99: Duration = Duration::from_millis(100);

/// What the browsing clients and the approver saw, shared while they run.
#[derive(Default)]
struct Tally {
    /// Page kind → latencies.
    pages: Mutex<BTreeMap<&'static str, Vec<Duration>>>,
    decisions: Mutex<Vec<Duration>>,
    /// Runs decided, with the verdict sent.
    decided: Mutex<Vec<String>>,
    errors: Mutex<Vec<String>>,
    events: AtomicU64,
}

impl Tally {
    fn page(&self, kind: &'static str, took: Duration) {
        if let Ok(mut pages) = self.pages.lock() {
            pages.entry(kind).or_default().push(took);
        }
    }

    fn error(&self, what: String) {
        if let Ok(mut errors) = self.errors.lock() {
            errors.push(what);
        }
    }
}

/// Runs waiting for a decision (oldest first), shared by the approver and the browsers.
type Waiting = Arc<Mutex<Vec<String>>>;

fn commit_name(k: usize) -> String {
    // A commit-like hex ID and a date, as the pipeline names runs.
    format!("{:08x}-2026-12-04-10-00-00", 0x10ad_0000_u32 + k as u32)
}

/// 950 finished executions of the loop definition under the pipeline's name.
async fn finished_executions(data_dir: &std::path::Path) -> Vec<String> {
    let engine = Engine::open(EngineConfig::new(
        Some(database_path(data_dir)),
        data_dir.join("objects"),
    ))
    .await
    .expect("engine");
    let arn = engine
        .create_state_machine(LOCAL_PIPELINE_NAME, LOOP_DEFINITION, &Default::default())
        .expect("machine");
    let mut started = Vec::with_capacity(FINISHED);
    let mut names = Vec::with_capacity(FINISHED);
    for k in 0..FINISHED {
        let input = format!(r#"{{"i": 0, "n": {}, "fail": {}}}"#, 1 + k % 3, k % 7 == 0);
        let name = format!(
            "{:08x}-2026-11-{:02}-10-00-00-r{k}",
            0x1a2b_3c4d_u32.wrapping_mul(k as u32 + 1),
            1 + k % 28
        );
        started.push(
            engine
                .start_execution(&arn, Some(&name), Some(&input))
                .expect("start")
                .execution_arn,
        );
        names.push(name);
    }
    for arn in &started {
        engine.wait_for_execution(arn).await.expect("finished");
    }
    engine.shutdown();
    names
}

async fn pending(client: &reqwest::Client, address: &SocketAddr) -> Vec<String> {
    let (status, body) = call(client, address, "list_approvals", &[]).await;
    assert_eq!(status, 200, "{body}");
    let list: serde_json::Value = serde_json::from_str(&body).expect("json");
    list["approvals"]
        .as_array()
        .map(|approvals| {
            approvals
                .iter()
                .filter_map(|a| a["execution"]["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A client that carries the admin's session cookie (signing 200 people in would measure
/// argon2, not browsing).
fn browser(cookie: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::COOKIE,
        reqwest::header::HeaderValue::from_str(cookie).expect("cookie header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(2)
        .build()
        .expect("client")
}

async fn timed_page(
    client: &reqwest::Client,
    tally: &Tally,
    kind: &'static str,
    url: String,
) -> bool {
    let started = Instant::now();
    match client.get(&url).send().await {
        Ok(response) => {
            let status = response.status();
            let body = response.bytes().await;
            let took = started.elapsed();
            match body {
                Ok(_) if status == 200 => {
                    tally.page(kind, took);
                    true
                }
                Ok(_) => {
                    tally.error(format!("{url}: {status}"));
                    false
                }
                Err(e) => {
                    tally.error(format!("{url}: body: {e}"));
                    false
                }
            }
        }
        Err(e) => {
            tally.error(format!("{url}: {e}"));
            false
        }
    }
}

/// One person: the live stream open, and a page a second until `stop`.
async fn browse(
    k: usize,
    address: SocketAddr,
    cookie: String,
    finished: Arc<Vec<String>>,
    waiting: Waiting,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
) {
    let client = browser(&cookie);
    let stream_client = browser(&cookie);
    let stream_tally = Arc::clone(&tally);
    let stream_stop = Arc::clone(&stop);
    let stream = tokio::spawn(async move {
        let response = match stream_client
            .get(format!("http://{address}/events"))
            .send()
            .await
        {
            Ok(response) if response.status() == 200 => response,
            Ok(response) => {
                stream_tally.error(format!("/events: {}", response.status()));
                return;
            }
            Err(e) => {
                stream_tally.error(format!("/events: {e}"));
                return;
            }
        };
        let mut response = response;
        while !stream_stop.load(Ordering::Relaxed) {
            match tokio::time::timeout(Duration::from_millis(500), response.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    let events = chunk.windows(6).filter(|w| w == b"event:").count();
                    stream_tally
                        .events
                        .fetch_add(events as u64, Ordering::Relaxed);
                }
                Ok(Err(e)) => {
                    stream_tally.error(format!("/events: {e}"));
                    return;
                }
                Ok(Ok(None)) => {
                    stream_tally.error("/events: the server closed the stream".into());
                    return;
                }
                Err(_) => {}
            }
        }
    });
    // Spread the clients over the first second so they do not arrive in step.
    tokio::time::sleep(READING.mul_f64(k as f64 / client_count() as f64)).await;
    let mut turn = k;
    while !stop.load(Ordering::Relaxed) {
        let url = match turn % 3 {
            0 => ("list", format!("http://{address}/executions")),
            1 => {
                let name = &finished[turn % finished.len()];
                ("execution", format!("http://{address}/executions/{name}"))
            }
            _ => {
                let name = waiting
                    .lock()
                    .ok()
                    .and_then(|w| (!w.is_empty()).then(|| w[turn % w.len()].clone()));
                match name {
                    Some(name) => ("approval", format!("http://{address}/approvals/{name}")),
                    None => ("list", format!("http://{address}/executions")),
                }
            }
        };
        timed_page(&client, &tally, url.0, url.1).await;
        turn += 1;
        tokio::time::sleep(READING).await;
    }
    let _ = stream.await;
}

/// Decides `DECISIONS_PER_SECOND` waiting runs a second and starts a run for each.
async fn approve(
    address: SocketAddr,
    client: reqwest::Client,
    waiting: Waiting,
    tally: Arc<Tally>,
    stop: Arc<AtomicBool>,
) {
    let mut next_run = WAITING;
    let mut ticks = tokio::time::interval(Duration::from_millis(1000 / DECISIONS_PER_SECOND));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut starts = tokio::task::JoinSet::new();
    let mut refresh = Instant::now();
    let mut decided = 0usize;
    while !stop.load(Ordering::Relaxed) {
        ticks.tick().await;
        if refresh.elapsed() > Duration::from_millis(500) {
            let now = pending(&client, &address).await;
            if let Ok(mut w) = waiting.lock() {
                let done: Vec<String> = tally.decided.lock().map(|d| d.clone()).unwrap_or_default();
                *w = now.into_iter().filter(|n| !done.contains(n)).collect();
            }
            refresh = Instant::now();
        }
        let Some(name) = waiting
            .lock()
            .ok()
            .and_then(|mut w| (!w.is_empty()).then(|| w.remove(0)))
        else {
            continue;
        };
        let verdict = if decided.is_multiple_of(2) {
            "approve"
        } else {
            "reject"
        };
        let started = Instant::now();
        let (status, body) = call(
            &client,
            &address,
            "decide",
            &[("id", &name), ("verdict", verdict), ("comment", "load")],
        )
        .await;
        let took = started.elapsed();
        if status == 200 {
            if let Ok(mut d) = tally.decisions.lock() {
                d.push(took);
            }
            if let Ok(mut d) = tally.decided.lock() {
                d.push(name);
            }
            decided += 1;
        } else {
            tally.error(format!("decide {name}: {status} {body}"));
        }
        let commit = commit_name(next_run);
        next_run += 1;
        let client = client.clone();
        starts.spawn(async move { start_runs(&client, &address, &[commit]).await });
        // A finished task stays in the set, at its future's size, until it is joined: join
        // them as they end so that the soak measures the server, not this list.
        while let Some(started) = starts.try_join_next() {
            if let Err(e) = started {
                tally.error(format!("start a run: {e}"));
            }
        }
    }
    while let Some(started) = starts.join_next().await {
        if let Err(e) = started {
            tally.error(format!("start a run: {e}"));
        }
    }
}

fn process_figures(data_dir: &std::path::Path) -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|value| value.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    let rss = field("VmRSS:") / 1024.0;
    let rss_file = field("RssFile:") / 1024.0;
    let threads = field("Threads:");
    let fds = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.count())
        .unwrap_or(0);
    let wal: u64 = std::fs::read_dir(data_dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_name().to_string_lossy().ends_with("-wal"))
                .filter_map(|e| e.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    format!(
        "RSS {rss:.1} MiB (mapped from files, the program's code: {rss_file:.1}; {}), \
         {threads} threads, {fds} open file descriptors, WAL {:.1} MiB, {}",
        heap_figures(),
        wal as f64 / (1024.0 * 1024.0),
        running_executions(data_dir).unwrap_or_else(|e| format!("executions unknown ({e})"))
    )
}

/// Executions the engine is running (each a task holding its state data in memory): runs
/// waiting for a decision, training, or waiting for their turn to update the endpoint; and
/// how many were stopped (an approval of a newer run supersedes older ones still waiting).
fn running_executions(data_dir: &std::path::Path) -> rusqlite::Result<String> {
    let connection = rusqlite::Connection::open_with_flags(
        database_path(data_dir),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let count = |status: &str| {
        connection.query_row(
            "SELECT count(*) FROM executions WHERE status = ?1",
            [status],
            |row| row.get::<_, i64>(0),
        )
    };
    Ok(format!(
        "{} executions running, {} stopped",
        count("RUNNING")?,
        count("ABORTED")?
    ))
}

/// What the allocators hold. jemalloc (the Rust side): the bytes handed out and still in use,
/// the pages those sit on (the difference is fragmentation), the pages it has in memory and,
/// of those, its metadata and the freed pages it has not returned yet. glibc (SQLite and the
/// other C libraries): in use and kept free. RSS growing while what is in use stays flat is
/// an allocator keeping memory, not the server.
fn heap_figures() -> String {
    // SAFETY: reads SQLite's global memory counter; it takes no pointers.
    let sqlite_in_use = unsafe { rusqlite::ffi::sqlite3_memory_used() };
    let mib = |bytes: usize| bytes as f64 / (1024.0 * 1024.0);
    let sqlite = mib(usize::try_from(sqlite_in_use).unwrap_or(0));
    // SAFETY: mallinfo2 only reads glibc's own counters; it takes no pointers.
    let glibc = unsafe { libc::mallinfo2() };
    let glibc = format!(
        "glibc: in use {:.1} MiB, free {:.1} MiB",
        mib(glibc.uordblks + glibc.hblkhd),
        mib(glibc.fordblks)
    );
    match server::memory::allocator_figures() {
        Some(figures) => format!(
            "jemalloc: in use {:.1} MiB on pages of {:.1} MiB, resident {:.1} MiB (its \
             metadata {:.1}, freed pages not yet returned {:.1}); {glibc}; SQLite's page \
             caches and statements (glibc's) {sqlite:.1} MiB",
            mib(figures.allocated),
            mib(figures.active),
            mib(figures.resident),
            mib(figures.metadata),
            mib(figures.dirty)
        ),
        None => format!("{glibc}; SQLite's page caches and statements {sqlite:.1} MiB"),
    }
}

async fn audited_once(client: &reqwest::Client, address: &SocketAddr, decided: &[String]) {
    let response = client
        .get(format!(
            "http://{address}/audit/export.json?action=approval.decide"
        ))
        .send()
        .await
        .expect("audit export");
    assert_eq!(response.status(), 200, "audit export");
    let records: serde_json::Value = response.json().await.expect("json");
    let mut per_target: BTreeMap<String, usize> = BTreeMap::new();
    for record in records.as_array().expect("records") {
        if record["outcome"] == "success" {
            *per_target
                .entry(record["target"].as_str().unwrap_or_default().to_string())
                .or_default() += 1;
        }
    }
    let missing = decided
        .iter()
        .filter(|n| !per_target.contains_key(*n))
        .count();
    let twice = per_target.values().filter(|c| **c > 1).count();
    let extra = per_target.keys().filter(|t| !decided.contains(*t)).count();
    println!(
        "audit: {} decisions made, {} successful decision records; missing {missing}, recorded more than once {twice}, recorded but not made {extra}",
        decided.len(),
        per_target.values().sum::<usize>()
    );
}

#[tokio::main]
pub async fn run() {
    let seconds: u64 = std::env::var("GATEHOUSE_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60);
    let scratch = std::env::temp_dir().join(format!("gatehouse-load-{}", std::process::id()));
    let data_dir = scratch.join("data");
    std::fs::create_dir_all(&data_dir).expect("data dir");

    let setup = Instant::now();
    let finished = Arc::new(finished_executions(&data_dir).await);
    let started = crate::start_local(&data_dir, &scratch.join("site"), &[]).await;
    let (address, admin) = (started.address, started.client.clone());
    let cookie = started
        .signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("gatehouse_session="))
        .and_then(|value| value.split(';').next())
        .expect("a session cookie")
        .to_string();
    let runs: Vec<String> = (0..WAITING).map(commit_name).collect();
    start_runs(&admin, &address, &runs).await;
    let waiting: Waiting = Arc::new(Mutex::new(Vec::new()));
    loop {
        let now = pending(&admin, &address).await;
        if now.len() == WAITING {
            *waiting.lock().expect("waiting") = now;
            break;
        }
        assert!(
            setup.elapsed() < Duration::from_secs(900),
            "runs never all waited"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(!finished.is_empty(), "finished executions to look at");
    println!(
        "setup: {FINISHED} finished executions and {WAITING} runs waiting for a decision in {:.1} s; {}",
        setup.elapsed().as_secs_f64(),
        process_figures(&data_dir)
    );

    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = tokio::task::JoinSet::new();
    let clients_count = client_count();
    for k in 0..clients_count {
        clients.spawn(browse(
            k,
            address,
            cookie.clone(),
            Arc::clone(&finished),
            Arc::clone(&waiting),
            Arc::clone(&tally),
            Arc::clone(&stop),
        ));
    }
    let approver = tokio::spawn(approve(
        address,
        admin.clone(),
        Arc::clone(&waiting),
        Arc::clone(&tally),
        Arc::clone(&stop),
    ));
    let began = Instant::now();
    let mut minute = 0;
    while began.elapsed() < Duration::from_secs(seconds) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let elapsed = began.elapsed().as_secs();
        if seconds > 60 && elapsed / 60 > minute {
            minute = elapsed / 60;
            println!("minute {minute}: {}", process_figures(&data_dir));
        }
    }
    stop.store(true, Ordering::Relaxed);
    approver.await.expect("approver");
    while let Some(done) = clients.join_next().await {
        done.expect("client");
    }
    let ran = began.elapsed();

    println!(
        "{clients_count} clients, {DECISIONS_PER_SECOND} decisions/s asked, {:.0} s:",
        ran.as_secs_f64()
    );
    let pages = tally.pages.lock().expect("pages").clone();
    let mut over_goal = Vec::new();
    for (kind, mut times) in pages {
        times.sort();
        let p99 = percentile(&times, 0.99);
        if p99 >= GOAL_P99 {
            over_goal.push(kind);
        }
        println!(
            "  {kind:<10} {:>6} pages: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            times.len(),
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3
        );
    }
    let mut decisions = tally.decisions.lock().expect("decisions").clone();
    decisions.sort();
    if !decisions.is_empty() {
        println!(
            "  decisions  {:>6} made ({:.1}/s): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            decisions.len(),
            decisions.len() as f64 / ran.as_secs_f64(),
            percentile(&decisions, 0.5).as_secs_f64() * 1e3,
            percentile(&decisions, 0.99).as_secs_f64() * 1e3,
            decisions[decisions.len() - 1].as_secs_f64() * 1e3
        );
    }
    println!(
        "  live events delivered to the {clients_count} streams: {}",
        tally.events.load(Ordering::Relaxed)
    );
    let errors = tally.errors.lock().expect("errors").clone();
    println!("  errors: {}", errors.len());
    for e in errors.iter().take(10) {
        println!("    {e}");
    }
    println!("end: {}", process_figures(&data_dir));
    let decided = tally.decided.lock().expect("decided").clone();
    audited_once(&admin, &address, &decided).await;
    println!(
        "goal p99 < {} ms for every page: {}",
        GOAL_P99.as_millis(),
        if over_goal.is_empty() {
            "met".to_string()
        } else {
            format!("missed by {}", over_goal.join(", "))
        }
    );
    let _ = std::fs::remove_dir_all(&scratch);
}
