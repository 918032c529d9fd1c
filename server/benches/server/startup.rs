//! What starting the aws-mode server costs, as a Lambda cold start or a new container pays
//! it: from process start to the first 200 on `/readyz`, the memory it holds once idle, and
//! the release binary's size as Lambda's limits count it (stripped; zipped).
//!
//! `cargo bench -p server --bench server -- startup` (moto from scripts/bootstrap.sh; the
//! site from `cargo leptos build --release`, since readiness checks the assets are there).
//! The binary is the package's own `gatehouse`, which cargo builds with the bench's features
//! (aws on). It runs as deployed: JSON logs, a Cognito pool, the session, audit and
//! coordination tables and the state machine, all on moto; the tables are created by a first
//! start that is not measured, as a stack creates them before any instance starts.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cognito::Pool;
use crate::moto::{unique_name, MotoServer};
use crate::percentile;

const STARTS: usize = 10;
/// How long an instance idles before its memory is read.
const IDLE: Duration = Duration::from_secs(3);

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One start: the process, its address, and how long until `/readyz` answered 200.
async fn start(binary: &Path, args: &[String], moto: &MotoServer) -> (Running, String, Duration) {
    let began = Instant::now();
    let mut child = Command::new(binary)
        .args(args)
        .env("AWS_ENDPOINT_URL", moto.endpoint_url())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let address = crate::helpers::announced_address(child.stdout.take().expect("stdout"));
    let running = Running(child);
    let address = address
        .recv_timeout(Duration::from_secs(60))
        .expect("the server says where it listens");
    let client = reqwest::Client::new();
    let url = format!("http://{address}/readyz");
    loop {
        if let Ok(answer) = client.get(&url).send().await {
            if answer.status() == 200 {
                return (running, address, began.elapsed());
            }
        }
        assert!(
            began.elapsed() < Duration::from_secs(60),
            "not ready within a minute"
        );
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The process's resident memory, from /proc.
fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .expect("VmRSS")
}

/// The binary's size as built, stripped, and stripped then zipped (what a zip package holds).
fn sizes(binary: &Path) -> (u64, u64, u64) {
    let folder = std::env::temp_dir().join(format!("gatehouse-size-{}", std::process::id()));
    std::fs::create_dir_all(&folder).expect("scratch folder");
    let stripped = folder.join("gatehouse");
    let status = Command::new("strip")
        .arg("--strip-all")
        .arg("-o")
        .arg(&stripped)
        .arg(binary)
        .status()
        .expect("strip (binutils) runs");
    assert!(status.success(), "strip failed");
    let zipped = folder.join("gatehouse.zip");
    let status = Command::new("zip")
        .args(["-q", "-9", "-j"])
        .arg(&zipped)
        .arg(&stripped)
        .status()
        .expect("zip runs");
    assert!(status.success(), "zip failed");
    let size = |path: &Path| std::fs::metadata(path).expect("size").len();
    let found = (size(binary), size(&stripped), size(&zipped));
    let _ = std::fs::remove_dir_all(folder);
    found
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

pub fn run() {
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_gatehouse"));
    // The workspace of the running bench (cargo sets the variable when it runs one), not the
    // one the binary was compiled from: a shared target folder serves several clones.
    let package = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    let site = package.join("../target/site");
    assert!(
        site.join("pkg").is_dir(),
        "no site at {}: build it first with `cargo leptos build --release`",
        site.display()
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let moto = MotoServer::shared();
        let arn = moto.deploy_pipeline(&unique_name("bench-startup")).await;
        let pool = Pool::new().await;
        let data_dir =
            std::env::temp_dir().join(format!("gatehouse-startup-{}", std::process::id()));
        let settings = [
            ("--mode", "aws".to_string()),
            ("--bind", "127.0.0.1:0".into()),
            ("--log-format", "json".into()),
            ("--data-dir", data_dir.display().to_string()),
            ("--site-root", site.display().to_string()),
            ("--state-machine-arn", arn.clone()),
            ("--cognito-user-pool-id", pool.pool_id.clone()),
            ("--cognito-client-id", pool.public.client_id.clone()),
            (
                "--cognito-jwks-url",
                format!("{}/{}/.well-known/jwks.json", pool.endpoint, pool.pool_id),
            ),
            ("--session-table", unique_name("sessions")),
            ("--audit-table", unique_name("audit")),
            ("--coordination-table", unique_name("coordination")),
        ];
        let args: Vec<String> = settings
            .iter()
            .flat_map(|(flag, value)| [flag.to_string(), value.clone()])
            .collect();
        // The stack makes the tables before any instance starts: so does an unmeasured start.
        let mut creating = args.clone();
        creating.extend(
            [
                "--create-session-table",
                "--create-audit-table",
                "--create-coordination-table",
            ]
            .map(String::from),
        );
        drop(start(&binary, &creating, moto).await);

        let mut times = Vec::new();
        let mut memory = Vec::new();
        for _ in 0..STARTS {
            let (running, _address, ready) = start(&binary, &args, moto).await;
            times.push(ready);
            tokio::time::sleep(IDLE).await;
            memory.push(resident_kib(running.0.id()));
        }
        drop(args);
        times.sort();
        memory.sort_unstable();
        println!(
            "start to first 200 on /readyz ({STARTS} starts): p50 {:.1} ms, max {:.1} ms",
            percentile(&times, 0.5).as_secs_f64() * 1000.0,
            times.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        );
        println!(
            "resident memory after {} s idle: median {:.1} MiB, max {:.1} MiB",
            IDLE.as_secs(),
            memory[memory.len() / 2] as f64 / 1024.0,
            memory.last().copied().unwrap_or_default() as f64 / 1024.0,
        );
        let (built, stripped, zipped) = sizes(&binary);
        println!(
            "binary: {:.1} MiB as built, {:.1} MiB stripped, {:.1} MiB stripped and zipped \
             (Lambda: 250 MB unzipped, 50 MB zipped upload)",
            mib(built),
            mib(stripped),
            mib(zipped),
        );
        let _ = std::fs::remove_dir_all(data_dir);
    });
}
