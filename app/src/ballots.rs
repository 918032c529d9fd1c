//! The approval ballot box port (server only): the approvals a decision waits for when the
//! policy asks for more than one approver.
//!
//! Several Gatehouse processes may serve at once (Lambda, a load balancer), so the votes live
//! in the one store they share — the SQLite file locally, a DynamoDB table in aws mode — and a
//! vote is one conditional write: an approver's second vote is refused, and each vote that
//! lands sees every vote before it, so exactly one vote is the one that completes the quorum
//! wherever the approvers pressed the button.

use std::fmt::Debug;

use crate::errors::AppError;
use crate::models::approvals::Vote;

/// One waiting approval: the execution and the event id of the task that waits, so a later
/// approval step of the same execution starts with an empty box.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BallotKey {
    pub execution: String,
    pub scheduled_event_id: i64,
}

/// What a cast vote found in the box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cast {
    /// Whether this vote was added (false: the approver had voted already).
    pub counted: bool,
    /// Every vote in the box afterwards, oldest first.
    pub votes: Vec<Vote>,
}

/// The box could not be read or written. The message is for logs; pages say the votes are
/// unavailable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the approval votes are unavailable: {0}")]
pub struct BallotError(pub String);

impl From<BallotError> for AppError {
    fn from(error: BallotError) -> Self {
        tracing::error!(%error, "ballot box");
        AppError::Upstream(
            "The approval votes cannot be read or counted right now; nothing was decided. Try \
             again in a moment."
                .into(),
        )
    }
}

#[async_trait::async_trait]
pub trait Ballots: Send + Sync + Debug {
    /// Adds `vote` to the box unless its approver voted there already, atomically with
    /// reading what the box holds then.
    async fn cast(&self, ballot: &BallotKey, vote: Vote) -> Result<Cast, BallotError>;

    /// The votes in the box, oldest first.
    async fn votes(&self, ballot: &BallotKey) -> Result<Vec<Vote>, BallotError>;
}
