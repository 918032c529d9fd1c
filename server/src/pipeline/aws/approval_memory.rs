//! What the AWS adapter remembers of running executions' approvals between calls, so the
//! badge and the live watcher do not read every running execution's history each time (see
//! the adapter's cost notes): an open approval and when it was read, or that an execution
//! was not waiting; and when an approval was decided or stopped through this adapter, so a
//! read that raced the decision cannot bring it back.

use std::time::Instant;

use super::cache::Cache;
use super::history::{Approval, OpenApproval};
use super::{NOT_WAITING_TTL, OPEN_APPROVAL_MAX_AGE};

pub(super) struct ApprovalMemory {
    open: Cache<String, (OpenApproval, Instant)>,
    not_waiting: Cache<String, ()>,
    forgotten: Cache<String, Instant>,
}

/// What the memory holds of one execution.
pub(super) enum Recalled {
    /// Waiting for a decision, as read at that instant.
    Open(OpenApproval, Instant),
    /// Not waiting when last read (lately).
    NotWaiting,
    /// Nothing: its history must be read.
    Unknown,
}

impl ApprovalMemory {
    pub(super) fn new() -> Self {
        ApprovalMemory {
            open: Cache::new(4096, Some(OPEN_APPROVAL_MAX_AGE)),
            not_waiting: Cache::new(4096, Some(NOT_WAITING_TTL)),
            forgotten: Cache::new(4096, Some(OPEN_APPROVAL_MAX_AGE)),
        }
    }

    pub(super) fn recall(&self, arn: &str) -> Recalled {
        let arn = arn.to_string();
        if let Some((approval, read_at)) = self.open.get(&arn) {
            Recalled::Open(approval, read_at)
        } else if self.not_waiting.get(&arn).is_some() {
            Recalled::NotWaiting
        } else {
            Recalled::Unknown
        }
    }

    /// Forgets what was read of an execution's approval: it was decided or stopped.
    pub(super) fn forget(&self, arn: &str) {
        let arn = arn.to_string();
        self.open.remove(&arn);
        self.not_waiting.remove(&arn);
        self.forgotten.insert(arn, Instant::now());
    }

    /// Remembers what a history read begun at `read_from` found, unless the approval was
    /// decided or stopped since: a read that raced a decision must not bring it back.
    pub(super) fn remember(&self, arn: &str, read_from: Instant, approval: &Approval) {
        let arn = arn.to_string();
        if self.forgotten.get(&arn).is_some_and(|at| at >= read_from) {
            return;
        }
        match approval {
            Approval::Open(open) => self.open.insert(arn, (open.clone(), read_from)),
            Approval::Closed(_) | Approval::NotWaiting => self.not_waiting.insert(arn, ()),
        }
    }
}
