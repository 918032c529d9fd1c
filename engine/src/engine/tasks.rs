//! The executions this process runs: one task each, parked ones as a timer, and what ends
//! them (their end, a stop, the engine shutting down).

use super::{from_ms, role_arn, Engine, EngineError, ExecutionDescription, ExecutionStatus};
use crate::runtime::parking::{ParkedCount, Parking};
use crate::runtime::ExecutionRun;
use crate::store::ExecutionRow;
use serde_json::Value;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use time::OffsetDateTime;
use tokio::task::JoinHandle;

impl Engine {
    pub(super) fn spawn(&self, row: ExecutionRow) -> Result<(), EngineError> {
        let machine = self.machine(&row.state_machine_arn)?;
        let (parking, parked) = Parking::new();
        let run = Arc::new(ExecutionRun {
            env: self.inner.env.clone(),
            arn: row.arn.clone(),
            name: row.name.clone(),
            state_machine_arn: row.state_machine_arn.clone(),
            state_machine_name: row
                .state_machine_arn
                .rsplit(':')
                .next()
                .unwrap_or_default()
                .to_string(),
            role_arn: role_arn(),
            input: serde_json::from_str(&row.input).unwrap_or(Value::Null),
            start: from_ms(row.start_ms),
            event_count: std::sync::atomic::AtomicI64::new(
                self.inner.env.store.event_count(&row.arn)?,
            ),
            parking,
        });
        let engine = self.clone();
        let arn = row.arn.clone();
        // A parked execution still times out on time.
        let timeout_at = machine
            .timeout_seconds
            .map(|t| crate::clock::after(run.start, std::time::Duration::from_secs(t)));
        let mut running = self.inner.running.lock().unwrap_or_else(|p| p.into_inner());
        let handle = self.inner.runtime.spawn(async move {
            let parked_until = tokio::select! {
                () = crate::runtime::execution::run_to_completion(&run, machine) => None,
                Ok(until) = parked => Some(until),
            };
            let arn = run.arn.clone();
            drop(run);
            match parked_until {
                Some(until) => {
                    let until = timeout_at.map_or(until, |timeout_at| until.min(timeout_at));
                    engine.park(arn, until);
                }
                None => engine.forget_task(&arn),
            }
        });
        running.insert(arn, handle);
        Ok(())
    }

    /// An execution's task ended: it is no longer running here.
    fn forget_task(&self, arn: &str) {
        self.inner
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(arn);
        self.inner.closed.send_modify(|n| *n += 1);
    }

    /// Replaces a parked execution's task (whose size is that of everything an execution can
    /// be doing) with a timer that holds only its name and wake-up time, and is its entry in
    /// `running` meanwhile, so stopping the execution or the engine ends it.
    fn park(&self, arn: String, until: OffsetDateTime) {
        let engine = self.clone();
        let key = arn.clone();
        let mut running = self.inner.running.lock().unwrap_or_else(|p| p.into_inner());
        let timer = self.inner.runtime.spawn(async move {
            let parked = ParkedCount::enter(&engine.inner.parked);
            engine.inner.env.clock.sleep_until(until).await;
            drop(parked);
            if !engine.resume_parked(&arn) {
                engine.forget_task(&arn);
            }
        });
        running.insert(key, timer);
    }

    /// Starts a parked execution again (a new task replaces this one in `running`); false
    /// when it is no longer running or cannot be read, which leaves it as a restart would
    /// find it.
    fn resume_parked(&self, arn: &str) -> bool {
        match self.inner.env.store.execution(arn) {
            Ok(Some(row)) if row.status == "RUNNING" => self.spawn(row).is_ok(),
            _ => false,
        }
    }

    /// Running executions that are parked: waiting (a retry's back-off, a `Wait` state) long
    /// enough that their task let go of their state until the wait is over.
    pub fn parked_executions(&self) -> usize {
        self.inner.parked.load(Ordering::Relaxed)
    }

    /// Waits until the execution is no longer RUNNING.
    pub async fn wait_for_execution(
        &self,
        execution_arn: &str,
    ) -> Result<ExecutionDescription, EngineError> {
        let mut closed = self.inner.closed.subscribe();
        loop {
            let d = self.describe_execution(execution_arn)?;
            if d.status != ExecutionStatus::Running {
                return Ok(d);
            }
            if closed.changed().await.is_err() {
                return Ok(d);
            }
        }
    }

    /// Stops the tasks of this process without touching stored state (what a crash does,
    /// minus the crash): everything resumes on the next `open`.
    pub fn shutdown(&self) {
        let handles: Vec<JoinHandle<()>> = self
            .inner
            .running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
            .map(|(_, h)| h)
            .collect();
        for h in handles {
            h.abort();
        }
        self.inner.sagemaker.stop();
        // Let another engine take the file over.
        self.inner
            .owner_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }
}
