//! Server time of the Executions pages with 1,000 executions in the store (local mode).
//!
//! `cargo bench -p server --bench server -- pages` builds a data folder with 1,000 executions of the
//! pipeline's state machine (one with a 200-event history), starts the real server on it,
//! signs in and times `GET /executions` and `GET /executions/<the long one>` over loopback,
//! sequentially, after a warm-up. Latency is measured by the client, so it includes
//! loopback HTTP, the session check and the whole server-side render.
//!
//! In a real browser too, when `GATEHOUSE_MEASURE_PAGE` names `measure_page.cjs` (see its
//! README; playwright-core from `$BENCH_NODE_MODULES`): `/executions?per=100` signed in, 100
//! rows visible, with every request, byte and the JS heap of a first visit. The page then needs
//! its bundle: `GATEHOUSE_SITE_ROOT` (the site `cargo leptos build --release` wrote, e.g.
//! `target/site`). With `GATEHOUSE_BENCH_KEEP_DATA=DIR` the data folder is kept there for
//! `scripts/page-weights.sh --data DIR`.

use std::time::{Duration, Instant};

use crate::percentile;

use engine::{Engine, EngineConfig};
use server::cli::database_path;
use server::pipeline::local::LOCAL_PIPELINE_NAME;

const EXECUTIONS: usize = 1_000;
const ROUNDS: usize = 400;
const WARM_UP: usize = 40;

/// A loop of Pass and Choice states: 4 history events per round, so `n` = 49 gives ~200.
pub(crate) const LOOP_DEFINITION: &str = r#"{
  "StartAt": "Count",
  "States": {
    "Count": {"Type": "Pass", "Parameters": {"i.$": "States.MathAdd($.i, 1)", "n.$": "$.n", "fail.$": "$.fail"}, "Next": "More?"},
    "More?": {"Type": "Choice", "Choices": [
      {"Variable": "$.i", "NumericLessThanPath": "$.n", "Next": "Count"},
      {"Variable": "$.fail", "BooleanEquals": true, "Next": "Broke"}
    ], "Default": "Done"},
    "Done": {"Type": "Succeed"},
    "Broke": {"Type": "Fail", "Error": "Bench.Failure", "Cause": "asked to fail"}
  }
}"#;

pub(crate) async fn time_page(
    client: &reqwest::Client,
    url: &str,
) -> (Duration, Duration, Duration, usize) {
    for _ in 0..WARM_UP {
        let response = client.get(url).send().await.expect("page");
        assert_eq!(response.status(), 200, "{url}");
        response.bytes().await.expect("body");
    }
    let mut times = Vec::with_capacity(ROUNDS);
    let mut size = 0;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let response = client.get(url).send().await.expect("page");
        let body = response.bytes().await.expect("body");
        times.push(started.elapsed());
        size = body.len();
    }
    times.sort();
    (
        percentile(&times, 0.5),
        percentile(&times, 0.99),
        times[times.len() - 1],
        size,
    )
}

#[tokio::main]
pub async fn run() {
    let scratch = std::env::temp_dir().join(format!("gatehouse-bench-{}", std::process::id()));
    let data_dir = scratch.join("data");
    std::fs::create_dir_all(&data_dir).expect("data dir");

    // 1. The store: 1,000 executions of the pipeline's state machine (a loop definition, so
    //    setting up does not train 1,000 models), mixed outcomes, one with ~200 events.
    let setup = Instant::now();
    {
        let engine = Engine::open(EngineConfig::new(
            Some(database_path(&data_dir)),
            data_dir.join("objects"),
        ))
        .await
        .expect("engine");
        let arn = engine
            .create_state_machine(LOCAL_PIPELINE_NAME, LOOP_DEFINITION, &Default::default())
            .expect("machine");
        let long = engine
            .start_execution(
                &arn,
                Some("long-history"),
                Some(r#"{"i": 0, "n": 49, "fail": false}"#),
            )
            .expect("start");
        let mut started = vec![long.execution_arn];
        for k in 1..EXECUTIONS {
            let input = format!(r#"{{"i": 0, "n": {}, "fail": {}}}"#, 1 + k % 3, k % 7 == 0);
            let name = format!(
                "{:08x}-2026-11-{:02}-10-00-00-r{k}",
                0x1a2b_3c4d_u32.wrapping_mul(k as u32),
                1 + k % 28
            );
            started.push(
                engine
                    .start_execution(&arn, Some(&name), Some(&input))
                    .expect("start")
                    .execution_arn,
            );
        }
        for arn in &started {
            engine.wait_for_execution(arn).await.expect("finished");
        }
        // What the list costs the engine alone: one ListExecutions of all 1,000.
        let request = engine::api::ListExecutionsRequest {
            state_machine_arn: Some(arn.clone()),
            status_filter: None,
            max_results: Some(1000),
            next_token: None,
        };
        let mut times = Vec::new();
        for _ in 0..200 {
            let started = Instant::now();
            let listed = engine.list_executions(&request).expect("list");
            times.push(started.elapsed());
            assert_eq!(listed.executions.len(), EXECUTIONS);
        }
        times.sort();
        println!(
            "engine ListExecutions of {EXECUTIONS}: p50 {:.2} ms, p99 {:.2} ms",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3
        );
        engine.shutdown();
    }
    let setup = setup.elapsed();

    // 2. The real server on that folder (it redeploys the pipeline's definition; the
    //    executions stay).
    let site_root = std::env::var_os("GATEHOUSE_SITE_ROOT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| scratch.join("site"));
    let (address, client, signed_in) = crate::start_signed_in(&data_dir, &site_root).await;
    let session_cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("gatehouse_session="))
        .and_then(|value| value.split(';').next())
        .expect("a session cookie")
        .to_string();

    // 3. Time the pages.
    let list_url = format!("http://{address}/executions");
    let page = client
        .get(&list_url)
        .send()
        .await
        .expect("list")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains(&format!("{EXECUTIONS} executions")),
        "the list counts all executions"
    );
    let (p50, p99, max, size) = time_page(&client, &list_url).await;
    println!(
        "setup: {EXECUTIONS} executions in {:.1} s",
        setup.as_secs_f64()
    );
    println!(
        "GET /executions (1,000 executions, first page of 25): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {size} bytes, {ROUNDS} requests",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
    // Where the time goes: the list's server function alone (JSON), and a light page.
    let mut times = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        let response = client
            .post(format!("http://{address}/api/list_executions"))
            .header("accept", "application/json")
            .json(&serde_json::json!({ "filter": {} }))
            .send()
            .await
            .expect("api");
        assert_eq!(response.status(), 200);
        response.bytes().await.expect("body");
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "POST /api/list_executions (the table's data as JSON): p50 {:.2} ms, p99 {:.2} ms",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3
    );
    let (p50, p99, _, _) = time_page(&client, &format!("http://{address}/me")).await;
    println!(
        "GET /me (layout, session, no pipeline data): p50 {:.2} ms, p99 {:.2} ms",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3
    );
    let filtered =
        format!("http://{address}/executions?status=FAILED&commit=r1&sort=duration&page=2");
    let (p50, p99, max, size) = time_page(&client, &filtered).await;
    println!(
        "GET /executions?status=FAILED&commit=r1&sort=duration&page=2: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {size} bytes",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
    let long_list = format!("http://{address}/executions?per=100");
    let (p50, p99, max, size) = time_page(&client, &long_list).await;
    println!(
        "GET /executions?per=100 (100 rows shown): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {size} bytes",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
    let detail_url = format!("http://{address}/executions/long-history");
    let page = client
        .get(&detail_url)
        .send()
        .await
        .expect("detail")
        .text()
        .await
        .expect("html");
    let events = page
        .split("All ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or("?")
        .to_string();
    let (p50, p99, max, size) = time_page(&client, &detail_url).await;
    println!(
        "GET /executions/long-history ({events} history events): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {size} bytes",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3
    );
    if let Some(script) = std::env::var_os("GATEHOUSE_MEASURE_PAGE") {
        measure_in_browser(&script, &long_list, &session_cookie).await;
    }
    // Kept on request: `scripts/page-weights.sh --data` opens the same 1,000 executions with
    // any release server (the one before a change, say) in a real browser.
    if let Some(keep) = std::env::var_os("GATEHOUSE_BENCH_KEEP_DATA") {
        let kept = std::path::PathBuf::from(keep);
        let _ = tokio::fs::remove_dir_all(&kept).await;
        tokio::fs::rename(&data_dir, &kept)
            .await
            .expect("keep the data folder");
        println!("data folder kept at {}", kept.display());
    }
    let _ = std::fs::remove_dir_all(&scratch);
}

/// Opens `url` in headless Chromium through measure_page.cjs, signed in with `cookie`, and
/// prints its figures (rows visible, requests, wire bytes, JS heap; medians of 5 fresh runs).
async fn measure_in_browser(script: &std::ffi::OsStr, url: &str, cookie: &str) {
    let output = tokio::process::Command::new("node")
        .arg(script)
        .args(["--url", url])
        .args(["--selector", r#"table tbody tr a[href*="/executions/"]"#])
        .args(["--min-rows", "100", "--runs", "5", "--warmup", "1"])
        .args(["--chromium", "/usr/bin/chromium", "--cookie", cookie])
        .output()
        .await
        .expect("node runs measure_page.cjs");
    assert!(
        output.status.success(),
        "measure_page.cjs failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    println!("In Chromium, {url} (100 rows visible):");
    print!("{}", String::from_utf8_lossy(&output.stdout));
}
