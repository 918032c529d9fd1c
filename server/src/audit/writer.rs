//! Group commit: appends from many requests wait in one queue, and one task writes whatever
//! has gathered as a single durable batch. Every request still gets its answer only after its
//! record is durable, but a burst costs one sync per batch instead of one per record, and one
//! writer per process means the chain is never raced inside the process.

use std::sync::Arc;

use app::audit::AuditError;
use app::models::audit::{AuditEntry, AuditRecord};
use tokio::sync::{mpsc, oneshot};

/// A store that can append a batch after its head, all or nothing.
#[async_trait::async_trait]
pub trait ChainStore: Send + Sync + 'static {
    /// Most entries one batch may carry.
    fn max_batch(&self) -> usize;
    /// Links `entries` after the head and stores them durably, in order.
    async fn append_batch(&self, entries: Vec<AuditEntry>) -> Result<Vec<AuditRecord>, AuditError>;
}

struct Pending {
    entry: AuditEntry,
    answer: oneshot::Sender<Result<AuditRecord, AuditError>>,
}

/// The queue in front of one store's writer task.
#[derive(Debug, Clone)]
pub struct Writer {
    queue: mpsc::Sender<Pending>,
}

/// Appends waiting at most; beyond it callers wait for room (back-pressure, not loss).
const QUEUE: usize = 4096;

impl Writer {
    /// Starts the writer task on the current Tokio runtime.
    pub fn spawn<S: ChainStore>(store: Arc<S>) -> Writer {
        let (queue, mut incoming) = mpsc::channel::<Pending>(QUEUE);
        tokio::spawn(async move {
            let max = store.max_batch().max(1);
            while let Some(first) = incoming.recv().await {
                let mut batch = vec![first];
                while batch.len() < max {
                    match incoming.try_recv() {
                        Ok(next) => batch.push(next),
                        Err(_) => break,
                    }
                }
                let entries = batch.iter().map(|p| p.entry.clone()).collect();
                match store.append_batch(entries).await {
                    Ok(records) if records.len() == batch.len() => {
                        for (pending, record) in batch.into_iter().zip(records) {
                            let _ = pending.answer.send(Ok(record));
                        }
                    }
                    Ok(records) => {
                        let error = AuditError::Unavailable(format!(
                            "the store appended {} records for a batch of {}",
                            records.len(),
                            batch.len()
                        ));
                        for pending in batch {
                            let _ = pending.answer.send(Err(error.clone()));
                        }
                    }
                    Err(error) => {
                        for pending in batch {
                            let _ = pending.answer.send(Err(error.clone()));
                        }
                    }
                }
            }
        });
        Writer { queue }
    }

    /// Appends one entry; answers once it is durable.
    pub async fn append(&self, entry: AuditEntry) -> Result<AuditRecord, AuditError> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Pending { entry, answer })
            .await
            .map_err(|_| AuditError::Unavailable("the audit writer has stopped".into()))?;
        answered
            .await
            .map_err(|_| AuditError::Unavailable("the audit writer has stopped".into()))?
    }
}
