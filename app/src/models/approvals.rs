//! Approvals: what the approval page shows (the evidence itself is `models::evidence`), the
//! policy that governs a decision, and what a decision request answers.

use serde::{Deserialize, Serialize};

use crate::models::evidence::Evidence;
use crate::models::pipeline::{Endpoint, ExecutionSummary, PendingApproval, Timestamp, Verdict};

/// What a decision needs, from the server's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    /// Distinct approvers whose approval sends the decision (any rejection rejects).
    pub quorum: u32,
    /// The commit's author (the execution input's `author`) may not approve it.
    pub no_self_approval: bool,
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        Self {
            quorum: 1,
            no_self_approval: true,
        }
    }
}

/// A decision that was sent, as the execution's history records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedDecision {
    pub verdict: Verdict,
    pub by: String,
    pub comment: String,
    /// As the decision JSON carries it (RFC 3339).
    pub at: String,
}

impl RecordedDecision {
    /// Reads `{"decision","by","comment","at"}`; `None` for anything else.
    #[cfg(feature = "ssr")]
    pub fn from_json(text: &str) -> Option<RecordedDecision> {
        let value: serde_json::Value = serde_json::from_str(text).ok()?;
        let field = |name: &str| value.get(name).and_then(serde_json::Value::as_str);
        let verdict = match field("decision")? {
            "approved" => Verdict::Approved,
            "rejected" => Verdict::Rejected,
            _ => return None,
        };
        Some(RecordedDecision {
            verdict,
            by: field("by")?.to_string(),
            comment: field("comment").unwrap_or_default().to_string(),
            at: field("at").unwrap_or_default().to_string(),
        })
    }

    /// "already decided by X at T (approved)": what a late decision is told.
    pub fn already(&self) -> String {
        format!(
            "Already decided by {} at {}: {}.",
            self.by,
            self.at.replace('T', " ").trim_end_matches('Z'),
            verdict_word(self.verdict)
        )
    }
}

pub fn verdict_word(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Approved => "approved",
        Verdict::Rejected => "rejected",
    }
}

/// One approver's approval counted towards a quorum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vote {
    pub by: String,
    pub at: Timestamp,
    pub comment: String,
}

/// Everything the approval page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalView {
    pub execution: ExecutionSummary,
    /// The open approval, while the execution waits for one.
    pub pending: Option<PendingApproval>,
    /// The decision, once one was sent.
    pub decided: Option<RecordedDecision>,
    /// The commit's author, when the pipeline named one.
    pub author: Option<String>,
    /// This run's model on the test data, or why it cannot be shown.
    pub evidence: Result<Evidence, String>,
    /// The endpoint serving now and its model's figures on the same test data.
    pub serving: Option<(String, Result<Evidence, String>)>,
    pub policy: ApprovalPolicy,
    /// Approvals counted so far towards the quorum.
    pub votes: Vec<Vote>,
    /// Why the caller may not decide (not an approver, author, already voted), if so.
    pub cannot_decide: Option<String>,
    /// The endpoint this run deployed to (created or updated), once it has.
    pub endpoint: Option<Endpoint>,
    /// The server's clock when it answered.
    pub now: Timestamp,
}

/// The pending approvals, newest execution first, and the server's clock when it read them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalList {
    pub approvals: Vec<PendingApproval>,
    pub now: Timestamp,
}

/// What a decision request achieved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DecideAnswer {
    /// The decision was sent: the execution goes on (or ends, for a rejection).
    Decided { verdict: Verdict },
    /// The approval was counted; the decision waits for more approvers.
    Counted { approvals: u32, needed: u32 },
}

/// Longest comment a decision may carry.
pub const COMMENT_LIMIT: usize = 2000;

/// A decision's comment, trimmed, or why it cannot be used. A rejection needs one.
pub fn check_comment(verdict: Verdict, comment: &str) -> Result<String, String> {
    let comment = comment.trim();
    if comment.chars().count() > COMMENT_LIMIT {
        return Err(format!(
            "The comment is too long: keep it under {COMMENT_LIMIT} characters."
        ));
    }
    if comment
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err("The comment contains control characters; remove them and try again.".into());
    }
    if verdict == Verdict::Rejected && comment.is_empty() {
        return Err("Say why you reject: a rejection needs a comment.".into());
    }
    Ok(comment.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_checked() {
        assert!(check_comment(Verdict::Rejected, "  ")
            .unwrap_err()
            .contains("needs a comment"));
        assert_eq!(check_comment(Verdict::Approved, " ok \n").unwrap(), "ok");
        assert!(check_comment(Verdict::Approved, "a\u{0}b")
            .unwrap_err()
            .contains("control characters"));
        assert!(check_comment(Verdict::Approved, &"x".repeat(1_000_000))
            .unwrap_err()
            .contains("too long"));
        assert_eq!(
            check_comment(Verdict::Approved, "<script>alert(1)</script>").unwrap(),
            "<script>alert(1)</script>",
            "markup is text: the page escapes it"
        );
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn recorded_decisions_read_the_decision_json() {
        let d = RecordedDecision::from_json(
            r#"{"decision":"rejected","by":"ana","comment":"no","at":"2026-12-01T10:00:00.000Z"}"#,
        )
        .unwrap();
        assert_eq!(d.verdict, Verdict::Rejected);
        assert_eq!(
            d.already(),
            "Already decided by ana at 2026-12-01 10:00:00.000: rejected."
        );
        assert!(RecordedDecision::from_json(r#"{"decision":"maybe","by":"x"}"#).is_none());
    }
}
