//! Approvals: the evidence an approver decides on, the policy that governs a decision, and
//! what a decision request answers.

use serde::{Deserialize, Serialize};

use crate::models::pipeline::{Endpoint, ExecutionSummary, PendingApproval, Timestamp, Verdict};

/// How well a model's batch-transform predictions match the test data's labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The model (and transform job) the predictions came from.
    pub model: String,
    /// Labelled rows compared.
    pub total: usize,
    pub correct: usize,
    /// The classes seen, sorted: the confusion matrix's rows and columns.
    pub classes: Vec<String>,
    /// `confusion[actual][predicted]`: how many rows of class `actual` were predicted as
    /// `predicted`.
    pub confusion: Vec<Vec<u32>>,
    pub per_class: Vec<ClassFigures>,
    /// The first rows side by side, for a person to look at.
    pub sample: Vec<(String, String)>,
    /// What did not line up (row counts, unreadable lines), in words.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassFigures {
    pub class: String,
    /// Of the rows predicted as this class, the share that were: `None` when none were.
    pub precision: Option<f64>,
    /// Of the rows of this class, the share predicted as it: `None` when there were none.
    pub recall: Option<f64>,
    /// Rows of this class in the test data.
    pub support: u32,
}

/// Rows shown side by side at most.
pub const SAMPLE_ROWS: usize = 50;

/// The label of a test-data line: its first column (the sample container's contract).
pub fn label_of(line: &str) -> Option<String> {
    let first = line.split(',').next()?.trim().trim_matches('"').trim();
    (!first.is_empty()).then(|| first.to_string())
}

impl Evidence {
    /// Compares `labels` with `predictions` row by row.
    pub fn compute(model: &str, labels: &[String], predictions: &[String]) -> Evidence {
        let mut problems = Vec::new();
        if labels.len() != predictions.len() {
            problems.push(format!(
                "The test data has {} labelled rows but the transform wrote {} predictions; \
                 only the first {} are compared.",
                labels.len(),
                predictions.len(),
                labels.len().min(predictions.len())
            ));
        }
        let pairs: Vec<(String, String)> = labels
            .iter()
            .zip(predictions)
            .map(|(l, p)| (l.trim().to_string(), p.trim().to_string()))
            .collect();
        let mut classes: Vec<String> = pairs
            .iter()
            .flat_map(|(l, p)| [l.clone(), p.clone()])
            .collect();
        classes.sort();
        classes.dedup();
        let index = |c: &str| classes.iter().position(|k| k == c).unwrap_or(0);
        let mut confusion = vec![vec![0u32; classes.len()]; classes.len()];
        for (l, p) in &pairs {
            confusion[index(l)][index(p)] += 1;
        }
        let per_class = classes
            .iter()
            .enumerate()
            .map(|(i, class)| {
                let hits = confusion[i][i];
                let predicted: u32 = confusion.iter().map(|row| row[i]).sum();
                let support: u32 = confusion[i].iter().sum();
                ClassFigures {
                    class: class.clone(),
                    precision: (predicted > 0).then(|| f64::from(hits) / f64::from(predicted)),
                    recall: (support > 0).then(|| f64::from(hits) / f64::from(support)),
                    support,
                }
            })
            .collect();
        Evidence {
            model: model.to_string(),
            total: pairs.len(),
            correct: pairs.iter().filter(|(l, p)| l == p).count(),
            classes,
            confusion,
            per_class,
            sample: pairs.into_iter().take(SAMPLE_ROWS).collect(),
            problems,
        }
    }

    /// Share of rows predicted right; `None` with nothing to compare.
    pub fn accuracy(&self) -> Option<f64> {
        (self.total > 0).then(|| self.correct as f64 / self.total as f64)
    }
}

/// `97.4 %`, or `–` for no figure.
pub fn percent(value: Option<f64>) -> String {
    match value {
        Some(v) => format!("{:.1} %", v * 100.0),
        None => "–".into(),
    }
}

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
        let verdict = match value["decision"].as_str()? {
            "approved" => Verdict::Approved,
            "rejected" => Verdict::Rejected,
            _ => return None,
        };
        Some(RecordedDecision {
            verdict,
            by: value["by"].as_str()?.to_string(),
            comment: value["comment"].as_str().unwrap_or_default().to_string(),
            at: value["at"].as_str().unwrap_or_default().to_string(),
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

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn evidence_counts_a_confusion_matrix_and_per_class_figures() {
        let labels = strings(&["setosa", "setosa", "versicolor", "virginica", "virginica"]);
        let predictions = strings(&[
            "setosa",
            "versicolor",
            "versicolor",
            "virginica",
            "versicolor",
        ]);
        let e = Evidence::compute("m", &labels, &predictions);
        assert_eq!(e.classes, strings(&["setosa", "versicolor", "virginica"]));
        assert_eq!(
            e.confusion,
            vec![vec![1, 1, 0], vec![0, 1, 0], vec![0, 1, 1]]
        );
        assert_eq!((e.correct, e.total), (3, 5));
        assert_eq!(e.accuracy(), Some(0.6));
        let versicolor = &e.per_class[1];
        assert_eq!(versicolor.precision, Some(1.0 / 3.0));
        assert_eq!(versicolor.recall, Some(1.0));
        assert_eq!(e.per_class[0].support, 2);
        assert!(e.problems.is_empty());
    }

    #[test]
    fn mismatched_lengths_are_reported_not_hidden() {
        let e = Evidence::compute("m", &strings(&["a", "b", "c"]), &strings(&["a"]));
        assert_eq!(e.total, 1);
        assert!(e.problems[0].contains("3 labelled rows"));
        let empty = Evidence::compute("m", &[], &[]);
        assert_eq!(empty.accuracy(), None);
        assert_eq!(percent(empty.accuracy()), "–");
    }

    #[test]
    fn labels_are_the_first_column() {
        assert_eq!(label_of("setosa,5.1,3.5").as_deref(), Some("setosa"));
        assert_eq!(label_of("\"2\", 1.0").as_deref(), Some("2"));
        assert_eq!(label_of(""), None);
    }

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
