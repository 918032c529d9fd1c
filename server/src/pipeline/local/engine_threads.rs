//! The embedded engine's own threads. Every state transition of a running execution is a
//! SQLite write; on the server's runtime those writes would hold the workers that answer
//! requests. The engine gets a runtime of its own instead, so a burst of transitions slows
//! executions, never pages.

use engine::{Engine, EngineConfig, EngineError};

/// Worker threads for executions: they mostly wait for timers, jobs and decisions.
const ENGINE_WORKERS: usize = 2;

/// The engine's runtime, shut down when the last control plane holding it is dropped.
pub(super) struct EngineThreads {
    runtime: Option<tokio::runtime::Runtime>,
}

impl EngineThreads {
    pub(super) fn start() -> Result<EngineThreads, EngineError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(ENGINE_WORKERS)
            .thread_name("engine")
            .enable_all()
            .build()
            .map_err(|e| EngineError::Io(format!("cannot start the engine's threads: {e}")))?;
        Ok(EngineThreads {
            runtime: Some(runtime),
        })
    }

    /// Opens the engine on these threads: the executions it resumes, and every one started
    /// later, run here.
    pub(super) async fn open(&self, config: EngineConfig) -> Result<Engine, EngineError> {
        let Some(runtime) = &self.runtime else {
            return Err(EngineError::Io("the engine's threads have stopped".into()));
        };
        runtime
            .spawn(Engine::open(config))
            .await
            .map_err(|e| EngineError::Io(format!("the engine did not open: {e}")))?
    }
}

impl Drop for EngineThreads {
    fn drop(&mut self) {
        // Dropping a runtime waits for its threads, which is not allowed on an async
        // worker (where the server is usually dropped); letting them go is.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
