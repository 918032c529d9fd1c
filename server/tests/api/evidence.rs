//! Approval evidence on the real binary: a run whose predictions are 50 MB gets its page fast,
//! with a sentence naming the object and the bound, without the server reading the object; a
//! model that outputs scores gets "not a classifier" instead of a confusion matrix.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use app::models::identity::Role;
use server::db::Database;
use server::users::LocalUsers;

use crate::helpers::{announced_address, new_client, Scratch};

/// The transform output the acceptance test writes: 50 MB, six times the bound.
const HUGE_OUTPUT: usize = 50_000_000;
/// How long the approval page may take with that output in place.
const PAGE_BOUND: Duration = Duration::from_secs(2);
/// How much the server's peak memory may grow while it answers: half the object. Reading the
/// object whole would add at least its 50 MB (more as one string per row).
const MEMORY_GROWTH_BOUND: u64 = (HUGE_OUTPUT / 2) as u64;

/// The gatehouse binary in local mode with the first-start demo run, killed on drop.
struct Server {
    child: Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(data_dir: &Path, site_root: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
            .args([
                "--bind",
                "127.0.0.1:0",
                "--mode",
                "local",
                "--demo-run",
                "true",
            ])
            .args(["--log-format", "json"])
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--site-root")
            .arg(site_root)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("gatehouse starts");
        let address = announced_address(child.stdout.take().expect("stdout"))
            .recv_timeout(Duration::from_secs(120))
            .expect("the server says where it listens");
        Server { child, address }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// A line of `/proc/<pid>/status`, in bytes (`VmRSS`, `VmHWM`).
    fn memory(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server's /proc status");
        let kb: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix(&format!("{field}:")))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{field} in {status}"));
        kb * 1024
    }

    /// Sets the server's peak resident size (`VmHWM`) back to what it uses now (Linux's
    /// `clear_refs` with 5, proc(5)), so a peak reached while it answers is the only one seen.
    fn reset_peak_memory(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5")
            .expect("the peak resident size can be reset (/proc/<pid>/clear_refs)");
    }
}

/// Every file under `dir` whose name ends with `suffix`.
fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).expect("folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_ending(&path, suffix));
        } else if path.to_string_lossy().ends_with(suffix) {
            found.push(path);
        }
    }
    found
}

/// The run waiting for approval, once the demo has trained and transformed.
async fn pending_run(server: &Server, client: &reqwest::Client) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let list: serde_json::Value = client
            .post(server.url("/api/list_approvals"))
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("")
            .send()
            .await
            .expect("list_approvals")
            .json()
            .await
            .expect("json");
        if let Some(name) = list["approvals"][0]["execution"]["name"].as_str() {
            return name.to_string();
        }
        assert!(Instant::now() < deadline, "the demo run never waited");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn page(server: &Server, client: &reqwest::Client, path: &str) -> (Duration, String) {
    let started = Instant::now();
    let response = client.get(server.url(path)).send().await.expect("page");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("html").replace("<!>", "");
    (started.elapsed(), text)
}

/// The acceptance test of bounded evidence. The server runs as a child process so that its
/// memory is its own: the test binary runs other tests in parallel, and their allocations
/// would be counted with an in-process server's. The peak resident size (`VmHWM`) is reset
/// just before the page is asked for and read just after, so a transient read of the object
/// (read whole, then dropped) would show even though the resident size falls back after it.
/// The page is asked for once before, with the demo's own small predictions: what the first
/// rendering of a page allocates once (templates, caches) is not counted against the bound.
#[tokio::test]
async fn a_fifty_megabyte_transform_output_is_named_not_read() {
    let scratch = Scratch::new();
    let data_dir = scratch.path().join("data");
    let site_root = scratch.path().join("site");
    std::fs::create_dir_all(site_root.join("pkg")).expect("site root");
    let server = Server::start(&data_dir, &site_root);
    let password = "a long enough password";
    LocalUsers::new(Database::open(&server::cli::database_path(&data_dir)).expect("database"))
        .add("ana", password, BTreeSet::from([Role::Approver]))
        .await
        .expect("user added");
    let client = new_client();
    let signed_in = client
        .post(server.url("/auth/signin"))
        .form(&[("username", "ana"), ("password", password), ("next", "/me")])
        .send()
        .await
        .expect("sign in");
    assert_eq!(signed_in.status(), 303);
    let name = pending_run(&server, &client).await;
    let path = format!("/approvals/{name}");

    let (_, first) = page(&server, &client, &path).await;
    assert!(
        first.contains(r#"data-testid="confusion-matrix""#),
        "{first}"
    );

    let outputs = files_ending(&data_dir, ".csv.out");
    assert_eq!(outputs.len(), 1, "{outputs:?}");
    let output = &outputs[0];
    // Local mode keeps its "S3" under <data dir>/objects, a folder per bucket.
    let uri = format!(
        "s3://{}",
        output
            .strip_prefix(data_dir.join("objects"))
            .expect("under the objects folder")
            .display()
    );
    {
        // Written in place, a row at a time: a model that scores every row.
        let mut file = std::io::BufWriter::new(std::fs::File::create(output).expect("output"));
        let row = b"0.123456789\n";
        for _ in 0..HUGE_OUTPUT / row.len() {
            file.write_all(row).expect("row");
        }
        file.write_all(&vec![b'\n'; HUGE_OUTPUT % row.len()])
            .expect("padding");
        file.flush().expect("flush");
    }
    assert_eq!(
        std::fs::metadata(output).expect("size").len(),
        HUGE_OUTPUT as u64
    );

    let before = server.memory("VmRSS");
    server.reset_peak_memory();
    let (took, shown) = page(&server, &client, &path).await;
    let peak = server.memory("VmHWM");
    assert!(
        took < PAGE_BOUND,
        "the page took {took:?}, over {PAGE_BOUND:?}"
    );
    let sentence = format!(
        "The predictions {uri} are 50 MB, over the 8 MB Gatehouse reads for evidence; the rows \
         of test.csv are not compared."
    );
    assert!(shown.contains(&sentence), "{sentence}\n{shown}");
    assert!(
        !shown.contains(r#"data-testid="confusion-matrix""#),
        "{shown}"
    );
    assert!(
        peak.saturating_sub(before) < MEMORY_GROWTH_BOUND,
        "the server's peak resident size grew by {} bytes answering (from {before} to {peak})",
        peak.saturating_sub(before)
    );

    // The figures, for `--nocapture`: what the README quotes.
    eprintln!(
        "50 MB transform output: page in {took:?}, peak resident size grew by {} KiB",
        peak.saturating_sub(before) / 1024
    );

    // Scores within the bound: read, and shown as not a classifier. The listing changed, so
    // the evidence is computed again rather than taken from the cache.
    let rows = files_ending(&data_dir, "test.csv")
        .first()
        .map(|test| {
            let text = std::fs::read_to_string(test).expect("test data");
            text.lines().filter(|l| !l.trim().is_empty()).count()
        })
        .expect("the test data");
    let scores: String = (0..rows).map(|i| format!("0.{:02}\n", i + 1)).collect();
    std::fs::write(output, scores).expect("scores");
    let (_, shown) = page(&server, &client, &path).await;
    let expected = format!(
        "Not a classifier: {rows} distinct outputs, all of them numbers and not all whole \
         (scores or regression values), so there is no confusion matrix."
    );
    assert!(shown.contains(&expected), "{expected}\n{shown}");
    assert!(shown.contains("Accuracy <strong>–</strong>"), "{shown}");
}
