//! moto, the AWS-API server the AWS adapters are tested against, on loopback.
//!
//! `MotoServer::start()` runs `testsupport/moto/launcher.py` with the venv's python
//! (`GATEHOUSE_MOTO_PYTHON`, default `/opt/gatehouse/moto/bin/python`, which
//! `scripts/bootstrap.sh` installs) and reads the port it bound. [`MotoServer::shared`] is one
//! server for the whole test binary: starting moto costs about half a second, and tests keep
//! out of each other's way by creating their own user pool or table (moto names pools
//! randomly; tables get a unique name from [`unique_name`]).
//!
//! The pipeline tests and the list-page bench (`server/benches/list_page.rs`, which includes
//! this file by path) deploy the pipeline with [`MotoServer::deploy_pipeline`] and make AWS
//! misbehave on purpose with [`MotoServer::inject_fault`] — both hooks of the launcher,
//! documented at its top.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_cognitoidentityprovider::config::{Credentials, Region};

/// How long moto may take to print its port (imports are the slow part).
const START_TIMEOUT: Duration = Duration::from_secs(30);

const DEFAULT_PYTHON: &str = "/opt/gatehouse/moto/bin/python";

pub struct MotoServer {
    child: Child,
    /// Held open: the launcher stops when it closes, so a test binary that dies without
    /// dropping us (statics are never dropped) leaves no moto behind.
    _stdin: ChildStdin,
    endpoint: String,
}

impl MotoServer {
    /// One moto for every test in this binary.
    pub fn shared() -> &'static MotoServer {
        static SHARED: OnceLock<MotoServer> = OnceLock::new();
        SHARED.get_or_init(MotoServer::start)
    }

    /// A moto of one's own; stopped when dropped.
    pub fn start() -> MotoServer {
        let python = std::env::var("GATEHOUSE_MOTO_PYTHON")
            .ok()
            .filter(|path| !path.is_empty())
            .unwrap_or_else(|| DEFAULT_PYTHON.to_string());
        // Cargo's run-time CARGO_MANIFEST_DIR, not the compiled-in one: a test binary built
        // from a clone elsewhere is reused when its sources are the same.
        let launcher = std::env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
            .join("..")
            .join("testsupport/moto/launcher.py");
        let mut child = Command::new(&python)
            .arg(&launcher)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run moto's python {python}: {e}. Run scripts/bootstrap.sh (it \
                     installs moto into /opt/gatehouse/moto) or set GATEHOUSE_MOTO_PYTHON."
                )
            });
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (port_tx, port_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let port = lines.next().and_then(Result::ok).and_then(|line| {
                line.strip_prefix("PORT ")
                    .and_then(|port| port.trim().parse::<u16>().ok())
            });
            let _ = port_tx.send(port);
            // Keep draining, so the launcher can never block on a full pipe.
            for _ in lines {}
        });
        let port = match port_rx.recv_timeout(START_TIMEOUT) {
            Ok(Some(port)) => port,
            Ok(None) | Err(mpsc::RecvTimeoutError::Disconnected) => {
                let _ = child.kill();
                let status = child.wait();
                panic!(
                    "{} ended without printing its port ({status:?}); is moto installed in \
                     {python}'s venv? Run scripts/bootstrap.sh. (Its error is above.)",
                    launcher.display()
                )
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "moto did not print its port within {}s ({python} {}); run \
                     scripts/bootstrap.sh if moto is missing",
                    START_TIMEOUT.as_secs(),
                    launcher.display()
                )
            }
        };
        MotoServer {
            child,
            _stdin: stdin,
            endpoint: format!("http://127.0.0.1:{port}"),
        }
    }

    pub fn endpoint_url(&self) -> &str {
        &self.endpoint
    }

    /// Deploys the pipeline (infra/statemachine/mlops.asl.json, with its bucket, iris data,
    /// roles and Lambda functions) as a state machine named `name`; returns its ARN.
    pub async fn deploy_pipeline(&self, name: &str) -> String {
        let answer: serde_json::Value = reqwest::Client::new()
            .post(format!("{}/_gatehouse/deploy-pipeline", self.endpoint))
            .json(&serde_json::json!({ "name": name }))
            .send()
            .await
            .expect("moto answers the deploy hook")
            .json()
            .await
            .expect("deploy answer is JSON");
        answer["stateMachineArn"]
            .as_str()
            .unwrap_or_else(|| panic!("the pipeline did not deploy: {answer}"))
            .to_string()
    }

    /// Makes the next `count` calls of the JSON-protocol `operation` (`ListExecutions`, …)
    /// whose request body contains `matching` answer `error` with HTTP `status`.
    pub async fn inject_fault(
        &self,
        operation: &str,
        error: &str,
        status: u16,
        count: u32,
        matching: &str,
    ) {
        let response = reqwest::Client::new()
            .post(format!("{}/_gatehouse/faults", self.endpoint))
            .json(&serde_json::json!({
                "operation": operation, "error": error, "status": status,
                "count": count, "match": matching,
            }))
            .send()
            .await
            .expect("moto answers the fault hook");
        assert!(response.status().is_success(), "fault hook: {response:?}");
    }

    /// The AWS calls Gatehouse's SDK clients made since the last [`MotoServer::reset_calls`],
    /// per `service:Operation` (the launcher's counting hook). It counts every client on this
    /// moto, so tests sharing it count adapters instead; the list-page benchmark has moto to
    /// itself.
    #[allow(dead_code)]
    pub async fn calls(&self) -> std::collections::BTreeMap<String, u64> {
        let answer: serde_json::Value = reqwest::Client::new()
            .get(format!("{}/_gatehouse/calls", self.endpoint))
            .send()
            .await
            .expect("moto answers the calls hook")
            .json()
            .await
            .expect("calls answer is JSON");
        serde_json::from_value(answer["calls"].clone()).expect("calls are counts")
    }

    #[allow(dead_code)]
    pub async fn reset_calls(&self) {
        let response = reqwest::Client::new()
            .delete(format!("{}/_gatehouse/calls", self.endpoint))
            .send()
            .await
            .expect("moto answers the calls hook");
        assert!(response.status().is_success(), "calls hook: {response:?}");
    }

    /// An SDK configuration for this moto: us-east-1, static test credentials.
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
            .endpoint_url(&self.endpoint)
            .timeout_config(server::startup::aws_timeouts())
            .load()
            .await
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A name no other test in this run uses (for tables and the like).
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}
