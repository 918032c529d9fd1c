//! The public face of the engine: the Step Functions API (state machines, executions,
//! history, task tokens) over the interpreter, plus access to the local SageMaker.

pub use crate::api::*;
use crate::asl::definition::{DefinitionError, StateMachine};
use crate::asl::substitutions::substitute;
use crate::clock::{epoch_millis, Clock, TokioClock};
use crate::integrations::builtins::register_builtins;
pub use crate::integrations::builtins::{APPROVAL_NOTIFIER, ENDPOINT_NOTIFIER};
use crate::integrations::lambda::{LambdaHandler, LambdaRegistry};
use crate::integrations::Services;
use crate::runtime::history;
use crate::runtime::tokens::TokenHub;
use crate::runtime::{io, Env, Limits};
use crate::sagemaker::LocalSageMaker;
use crate::store::{Closing, ExecutionRow, Store};
use base64::Engine as _;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

const REGION: &str = "local";
const ACCOUNT: &str = "000000000000";

#[derive(Clone)]
pub struct EngineConfig {
    /// The SQLite file; `None` keeps everything in memory (tests, one-shot runs).
    pub database: Option<PathBuf>,
    /// Where `s3://bucket/key` objects live.
    pub data_dir: PathBuf,
    /// The dashboard's base URL, for links in notifications.
    pub dashboard_url: String,
    pub limits: Limits,
    pub clock: Arc<dyn Clock>,
    /// How long a local endpoint stays Creating/Updating before it settles (on `clock`).
    pub endpoint_delay: std::time::Duration,
    /// Local Lambda functions known before any execution resumes: an execution that was
    /// running when the previous process stopped may call one as soon as `open` resumes it,
    /// before a function registered afterwards exists.
    pub functions: Vec<(String, LambdaHandler)>,
}

impl EngineConfig {
    pub fn new(database: Option<PathBuf>, data_dir: PathBuf) -> Self {
        EngineConfig {
            database,
            data_dir,
            dashboard_url: "http://127.0.0.1:3000".into(),
            limits: Limits::default(),
            clock: Arc::new(TokioClock::new()),
            endpoint_delay: crate::sagemaker::DEFAULT_ENDPOINT_DELAY,
            functions: Vec::new(),
        }
    }

    /// Registers a local Lambda function under `name` before executions resume.
    pub fn with_function(mut self, name: &str, handler: LambdaHandler) -> Self {
        self.functions.push((name.to_string(), handler));
        self
    }
}

struct Inner {
    env: Arc<Env>,
    sagemaker: Arc<LocalSageMaker>,
    lambdas: Arc<LambdaRegistry>,
    running: Mutex<HashMap<String, JoinHandle<()>>>,
    /// Executions among `running` that are parked (see `runtime::parking`).
    parked: Arc<AtomicUsize>,
    machines: Mutex<HashMap<String, Arc<StateMachine>>>,
    closed: watch::Sender<u64>,
    /// An exclusive lock on `<database>.lock` while this engine owns the file: a second
    /// engine would resume (and run) the same executions. The OS drops it with the process.
    owner_lock: Mutex<Option<std::fs::File>>,
    /// Where executions run: the runtime `open` was called in, whichever thread starts
    /// them later. A server gives the engine a runtime of its own, so state transitions
    /// (each a SQLite write) never occupy the threads that answer its requests.
    runtime: tokio::runtime::Handle,
}

/// The embedded Step Functions. Cheap to clone.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn check_name(kind: &str, name: &str) -> Result<(), EngineError> {
    let ok = !name.is_empty()
        && name.chars().count() <= 80
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(c));
    if ok {
        Ok(())
    } else {
        Err(EngineError::InvalidName(format!("'{name}' is not a valid {kind} name (1-80 characters, no spaces or <>{{}}[]?*\"#%\\^|~`$&,;:/)")))
    }
}

fn describe(row: ExecutionRow) -> ExecutionDescription {
    ExecutionDescription {
        execution_arn: row.arn,
        state_machine_arn: row.state_machine_arn,
        name: row.name,
        status: ExecutionStatus::parse(&row.status),
        start_date: from_ms(row.start_ms),
        stop_date: row.stop_ms.map(from_ms),
        input: row.input,
        output: row.output,
        error: row.error,
        cause: row.cause,
    }
}

fn summarize(d: ExecutionDescription) -> ExecutionSummary {
    ExecutionSummary {
        execution_arn: d.execution_arn,
        state_machine_arn: d.state_machine_arn,
        name: d.name,
        status: d.status,
        start_date: d.start_date,
        stop_date: d.stop_date,
    }
}

fn encode_cursor(n: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("gh:{n}"))
}

fn decode_cursor(token: &str) -> Result<i64, EngineError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("gh:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| EngineError::InvalidToken("the pagination token is not valid".into()))
}

mod decisions;
mod tasks;

impl Engine {
    /// Opens (or creates) the store, registers the built-in functions and resumes every
    /// execution and job that was running when the previous process stopped. Must run
    /// inside a tokio runtime.
    pub async fn open(config: EngineConfig) -> Result<Engine, EngineError> {
        let owner_lock = match &config.database {
            Some(path) => Some(lock_database(path)?),
            None => None,
        };
        let store = Arc::new(match &config.database {
            Some(path) => Store::open(path)?,
            None => Store::open_in_memory()?,
        });
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            EngineError::Io(format!("cannot create {}: {e}", config.data_dir.display()))
        })?;
        let sagemaker = Arc::new(
            LocalSageMaker::new(store.clone(), config.data_dir.clone(), config.clock.clone())
                .with_endpoint_delay(config.endpoint_delay),
        );
        let lambdas = Arc::new(LambdaRegistry::default());
        register_builtins(&lambdas, &store, &config.clock, &config.dashboard_url);
        for (name, handler) in &config.functions {
            lambdas.register(name, handler.clone());
        }
        let env = Arc::new(Env {
            store,
            clock: config.clock.clone(),
            services: Services {
                sagemaker: sagemaker.clone(),
                lambdas: lambdas.clone(),
            },
            tokens: TokenHub::default(),
            limits: config.limits.clone(),
        });
        let engine = Engine {
            inner: Arc::new(Inner {
                env,
                sagemaker,
                lambdas,
                running: Mutex::new(HashMap::new()),
                parked: Arc::new(AtomicUsize::new(0)),
                machines: Mutex::new(HashMap::new()),
                closed: watch::channel(0).0,
                owner_lock: Mutex::new(owner_lock),
                runtime: tokio::runtime::Handle::current(),
            }),
        };
        engine
            .inner
            .sagemaker
            .resume_unfinished_jobs()
            .map_err(|e| EngineError::Io(e.to_string()))?;
        for row in engine.inner.env.store.running_executions()? {
            engine.spawn(row)?;
        }
        Ok(engine)
    }

    pub fn sagemaker(&self) -> &Arc<LocalSageMaker> {
        &self.inner.sagemaker
    }

    /// Registers a local Lambda function under `name`. An execution resumed by `open` may
    /// already have called it: functions resumed executions need go in
    /// [`EngineConfig::with_function`].
    pub fn register_function(&self, name: &str, handler: LambdaHandler) {
        self.inner.lambdas.register(name, handler);
    }

    pub fn function_names(&self) -> Vec<String> {
        self.inner.lambdas.names()
    }

    // --- state machines -------------------------------------------------------------

    /// CreateStateMachine (or update, if the name exists): validates the definition after
    /// resolving `${Name}` substitutions. Returns the state machine ARN.
    pub fn create_state_machine(
        &self,
        name: &str,
        definition: &str,
        substitutions: &BTreeMap<String, String>,
    ) -> Result<String, EngineError> {
        check_name("state machine", name)?;
        let mut value: Value = serde_json::from_str(definition).map_err(|e| DefinitionError {
            issues: vec![crate::asl::definition::Issue {
                location: "(definition)".into(),
                message: format!("not valid JSON: {e}"),
            }],
        })?;
        substitute(&mut value, substitutions);
        let machine = Arc::new(StateMachine::parse(&value)?);
        let arn = format!("arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}");
        self.inner.env.store.put_state_machine(
            &arn,
            name,
            &value.to_string(),
            epoch_millis(self.inner.env.clock.now()),
        )?;
        self.inner
            .machines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(arn.clone(), machine);
        Ok(arn)
    }

    /// Local mode's pipeline in one call: installs the iris sample data (unless present)
    /// and creates (or updates) the state machine `name` from mlops.asl.json with the
    /// local substitutions. Returns its ARN.
    pub fn deploy_local_pipeline(&self, name: &str) -> Result<String, EngineError> {
        crate::pipeline::install_sample_data(self.inner.sagemaker.data_dir())
            .map_err(|e| EngineError::Io(format!("cannot install the sample data: {e}")))?;
        let substitutions = crate::pipeline::local_substitutions()
            .map_err(|e| EngineError::Io(format!("bad local substitutions: {e}")))?;
        self.create_state_machine(name, crate::pipeline::MLOPS_DEFINITION, &substitutions)
    }

    /// (arn, name) of every state machine.
    pub fn list_state_machines(&self) -> Result<Vec<(String, String)>, EngineError> {
        Ok(self
            .inner
            .env
            .store
            .state_machines()?
            .into_iter()
            .map(|(a, n, _)| (a, n))
            .collect())
    }

    /// The stored (substituted) definition.
    pub fn state_machine_definition(&self, arn: &str) -> Result<String, EngineError> {
        self.inner
            .env
            .store
            .state_machine_definition(arn)?
            .ok_or_else(|| EngineError::StateMachineDoesNotExist(arn.to_string()))
    }

    fn machine(&self, arn: &str) -> Result<Arc<StateMachine>, EngineError> {
        if let Some(m) = self
            .inner
            .machines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(arn)
        {
            return Ok(m.clone());
        }
        let text = self.state_machine_definition(arn)?;
        let machine = Arc::new(StateMachine::parse_str(&text)?);
        self.inner
            .machines
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(arn.to_string(), machine.clone());
        Ok(machine)
    }

    // --- executions -----------------------------------------------------------------

    /// StartExecution. A name already used with the same input while that execution runs
    /// returns it again (StartExecution is idempotent for Standard workflows); otherwise a
    /// used name is `ExecutionAlreadyExists`.
    pub fn start_execution(
        &self,
        state_machine_arn: &str,
        name: Option<&str>,
        input: Option<&str>,
    ) -> Result<StartedExecution, EngineError> {
        self.machine(state_machine_arn)?;
        let machine_name = state_machine_arn
            .rsplit(':')
            .next()
            .unwrap_or_default()
            .to_string();
        let name = name
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        check_name("execution", &name)?;
        let input_text = input.unwrap_or("{}");
        let input: Value = serde_json::from_str(input_text).map_err(|e| {
            EngineError::InvalidExecutionInput(format!("the input is not JSON: {e}"))
        })?;
        io::check_size(
            &input,
            self.inner.env.limits.max_payload_bytes,
            "execution input",
        )
        .map_err(|e| EngineError::InvalidExecutionInput(e.cause))?;
        let arn = format!("arn:aws:states:{REGION}:{ACCOUNT}:execution:{machine_name}:{name}");
        let now = self.inner.env.clock.now();
        let row = ExecutionRow {
            seq: 0,
            arn: arn.clone(),
            state_machine_arn: state_machine_arn.to_string(),
            name: name.clone(),
            status: "RUNNING".into(),
            input: input.to_string(),
            output: None,
            error: None,
            cause: None,
            start_ms: epoch_millis(now),
            stop_ms: None,
        };
        let started = history::event(
            "ExecutionStarted",
            now,
            0,
            Some(
                json!({"input": row.input, "inputDetails": {"truncated": false}, "roleArn": role_arn(), "stateMachineArn": state_machine_arn}),
            ),
        );
        match self.inner.env.store.insert_execution(&row, &started)? {
            Ok(()) => {
                let stored = self
                    .inner
                    .env
                    .store
                    .execution(&arn)?
                    .ok_or_else(|| EngineError::ExecutionDoesNotExist(arn.clone()))?;
                self.spawn(stored)?;
                Ok(StartedExecution {
                    execution_arn: arn,
                    start_date: from_ms(row.start_ms),
                })
            }
            Err(existing)
                if existing.status == "RUNNING"
                    && serde_json::from_str::<Value>(&existing.input).ok() == Some(input) =>
            {
                Ok(StartedExecution {
                    execution_arn: existing.arn,
                    start_date: from_ms(existing.start_ms),
                })
            }
            Err(existing) => Err(EngineError::ExecutionAlreadyExists(format!(
                "Execution Already Exists: '{}'",
                existing.arn
            ))),
        }
    }

    pub fn describe_execution(
        &self,
        execution_arn: &str,
    ) -> Result<ExecutionDescription, EngineError> {
        self.inner
            .env
            .store
            .execution(execution_arn)?
            .map(describe)
            .ok_or_else(|| EngineError::ExecutionDoesNotExist(execution_arn.to_string()))
    }

    /// ListExecutions, newest first.
    pub fn list_executions(
        &self,
        request: &ListExecutionsRequest,
    ) -> Result<ExecutionList, EngineError> {
        let limit = request.max_results.unwrap_or(100).clamp(1, 1000);
        let before = request
            .next_token
            .as_deref()
            .map(decode_cursor)
            .transpose()?;
        let rows = self.inner.env.store.list_executions(
            request.state_machine_arn.as_deref(),
            request.status_filter.as_ref().map(ExecutionStatus::as_str),
            before,
            limit + 1,
        )?;
        let more = rows.len() > limit;
        let rows: Vec<ExecutionRow> = rows.into_iter().take(limit).collect();
        let next_token = if more {
            rows.last().map(|r| encode_cursor(r.seq))
        } else {
            None
        };
        Ok(ExecutionList {
            executions: rows.into_iter().map(|r| summarize(describe(r))).collect(),
            next_token,
        })
    }

    /// How many executions ListExecutions would list with these filters (Step Functions has
    /// no such call; a list page uses it to read only the rows it shows).
    pub fn count_executions(
        &self,
        state_machine_arn: Option<&str>,
        status_filter: Option<&ExecutionStatus>,
    ) -> Result<usize, EngineError> {
        Ok(self.inner.env.store.count_executions(
            state_machine_arn,
            status_filter.map(ExecutionStatus::as_str),
        )?)
    }

    /// StopExecution: aborts a running execution (`ExecutionAborted`); its open task
    /// tokens stop accepting decisions.
    pub async fn stop_execution(
        &self,
        execution_arn: &str,
        error: Option<&str>,
        cause: Option<&str>,
    ) -> Result<OffsetDateTime, EngineError> {
        let row = self
            .inner
            .env
            .store
            .execution(execution_arn)?
            .ok_or_else(|| EngineError::ExecutionDoesNotExist(execution_arn.to_string()))?;
        if row.status != "RUNNING" {
            return Ok(from_ms(row.stop_ms.unwrap_or(row.start_ms)));
        }
        let handle = self
            .inner
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(execution_arn);
        if let Some(handle) = handle {
            handle.abort();
            let _ = handle.await;
        }
        let now = self.inner.env.clock.now();
        let last = self.inner.env.store.event_count(execution_arn)?;
        let closing = Closing {
            status: "ABORTED",
            output: None,
            error,
            cause,
            stop_ms: epoch_millis(now),
            event_key: "end",
            event: history::event(
                "ExecutionAborted",
                now,
                last,
                Some(history::error_details(
                    error.unwrap_or_default(),
                    cause.unwrap_or_default(),
                )),
            ),
        };
        self.inner
            .env
            .store
            .close_execution(execution_arn, &closing)?;
        self.inner.closed.send_modify(|n| *n += 1);
        Ok(now)
    }

    /// GetExecutionHistory.
    pub fn get_execution_history(
        &self,
        execution_arn: &str,
        request: &HistoryRequest,
    ) -> Result<HistoryPage, EngineError> {
        self.describe_execution(execution_arn)?;
        let limit = request.max_results.unwrap_or(1000).clamp(1, 1000);
        let cursor = request
            .next_token
            .as_deref()
            .map(decode_cursor)
            .transpose()?;
        let mut events =
            self.inner
                .env
                .store
                .events(execution_arn, cursor, request.reverse_order, limit + 1)?;
        let more = events.len() > limit;
        events.truncate(limit);
        let next_token = if more {
            events
                .last()
                .and_then(|e| e["id"].as_i64())
                .map(encode_cursor)
        } else {
            None
        };
        Ok(HistoryPage { events, next_token })
    }

    // --- task tokens ----------------------------------------------------------------

    /// Notifications recorded by the built-in functions, oldest first.
    pub fn notifications(&self) -> Result<Vec<Notification>, EngineError> {
        Ok(self
            .inner
            .env
            .store
            .notifications()?
            .into_iter()
            .map(|(id, kind, execution_arn, body, created)| Notification {
                id,
                kind,
                execution_arn,
                body,
                created: from_ms(created),
            })
            .collect())
    }
}

fn lock_database(database: &std::path::Path) -> Result<std::fs::File, EngineError> {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&name)
        .map_err(|e| EngineError::Io(format!("cannot open {}: {e}", name.to_string_lossy())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(EngineError::Io(format!(
            "{} is in use by another engine (one engine per database file)",
            database.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(EngineError::Io(format!(
            "cannot lock {}: {e}",
            name.to_string_lossy()
        ))),
    }
}

fn role_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/gatehouse-local")
}
