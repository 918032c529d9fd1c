//! An execution that has nothing to do for a while lets go of its memory.
//!
//! A running execution is a task holding its state data, its context and the state it is in.
//! Most of a pipeline run's life is waiting, and some waits are long: a task retried after
//! `IntervalSeconds` that grow by `BackoffRate` (approved runs retrying `UpdateEndpoint` while
//! another deployment holds the endpoint wait up to minutes between attempts), or a `Wait`
//! state. With many runs approved close together, hundreds of them sat in such waits, each
//! holding tens of kilobytes, and the server's memory grew with them.
//!
//! When an execution's top-level state is about to wait at least [`PARK_AFTER`], it parks
//! instead: its task hands the wake-up time to the engine and is dropped, and a small timer
//! starts the execution again at that time. Everything the execution did is in the store
//! before it waits (each finished step, each attempt's outcome, the deadline itself), the
//! same record that resumes executions after a restart; so the new task replays the finished
//! steps from the journal, finds the deadline passed and carries on. Waits inside a
//! `Parallel` branch or a `Map` iteration do not park: the other branches are working, and
//! parking would interrupt them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::oneshot;

use super::ExecutionRun;

/// The shortest wait that parks: shorter ones are cheaper to sleep through than to replay.
pub(crate) const PARK_AFTER: Duration = Duration::from_secs(10);

/// How a running execution tells its task that it parks, and until when.
pub(crate) struct Parking {
    signal: Mutex<Option<oneshot::Sender<OffsetDateTime>>>,
}

impl Parking {
    /// A parking signal and the receiver the execution's task listens on.
    pub(crate) fn new() -> (Parking, oneshot::Receiver<OffsetDateTime>) {
        let (sender, receiver) = oneshot::channel();
        (
            Parking {
                signal: Mutex::new(Some(sender)),
            },
            receiver,
        )
    }
}

/// Counts a parked execution for as long as it lives: until its wake-up, or until its timer
/// is dropped because the execution was stopped or the engine shut down.
pub(crate) struct ParkedCount(Arc<AtomicUsize>);

impl ParkedCount {
    pub(crate) fn enter(count: &Arc<AtomicUsize>) -> ParkedCount {
        count.fetch_add(1, Ordering::Relaxed);
        ParkedCount(Arc::clone(count))
    }
}

impl Drop for ParkedCount {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A step key in the execution's own scope, not in a branch or an iteration: the top scope's
/// steps are `/1`, `/2`, … and a branch's keys go on below its state's key.
fn is_top_level(key: &str) -> bool {
    key.strip_prefix('/')
        .is_some_and(|step| !step.is_empty() && step.bytes().all(|b| b.is_ascii_digit()))
}

impl ExecutionRun {
    /// Waits until `deadline` (already journaled under the step `key`): parks when the wait is
    /// long and in the top-level scope (this future then never finishes; the engine drops it
    /// and starts the execution again at `deadline`), sleeps otherwise.
    pub(crate) async fn wait_until(&self, key: &str, deadline: OffsetDateTime) {
        let now = self.env.clock.now();
        if is_top_level(key) && deadline - now >= PARK_AFTER {
            let signal = self
                .parking
                .signal
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if signal.is_some_and(|signal| signal.send(deadline).is_ok()) {
                std::future::pending::<()>().await;
            }
        }
        self.env.clock.sleep_until(deadline).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_executions_own_steps_are_top_level() {
        assert!(is_top_level("/1"));
        assert!(is_top_level("/42"));
        // A branch of a Parallel state's attempt, an iteration of a Map state.
        assert!(!is_top_level("/3/a0/b1/2"));
        assert!(!is_top_level("/3/a0/i7/1"));
        assert!(!is_top_level("/"));
        assert!(!is_top_level(""));
    }
}
