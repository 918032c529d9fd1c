//! Model lineage: what the pipeline made of a commit (runs, training job, model, transform,
//! decision, endpoint config) and where that commit served, and the reverse — which commit an
//! endpoint serves.

use serde::{Deserialize, Serialize};

use super::approvals::RecordedDecision;
use super::pipeline::{
    Commit, EndpointConfig, ExecutionSummary, InputError, Model, Timestamp, TrainingJob,
    TransformJob,
};

/// One endpoint config an endpoint was asked to serve, and what came of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deployment {
    pub endpoint: String,
    pub config_name: String,
    /// When CreateEndpoint or UpdateEndpoint asked for the config.
    pub requested_at: Option<Timestamp>,
    /// When it began to serve; `None` if it never did (still deploying, or it failed).
    pub served_from: Option<Timestamp>,
    /// When another config, or the endpoint's deletion, replaced it; `None` while serving.
    pub served_until: Option<Timestamp>,
    /// Why it failed to serve (SageMaker then kept the previous config).
    pub failure_reason: Option<String>,
}

impl Deployment {
    pub fn serving_now(&self) -> bool {
        self.served_from.is_some() && self.served_until.is_none()
    }
}

/// A prefix of a commit ID to search by: what a person pastes from `git log` or a tag.
/// Hex digits and dashes (the commit ID is `<sha>-<build time>`), 64 characters at most.
pub fn check_commit_prefix(text: &str) -> Result<String, InputError> {
    let prefix = text.trim();
    let fits = !prefix.is_empty()
        && prefix.len() <= 64
        && prefix.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        && prefix.as_bytes()[0].is_ascii_hexdigit();
    if fits {
        Ok(prefix.to_ascii_lowercase())
    } else {
        Err(InputError(
            "Search by the beginning of a commit: its SHA's hex digits (and the build time's \
             digits and dashes after them), 64 characters at most."
                .into(),
        ))
    }
}

/// Whether a run's commit ID begins with the (lower-case) prefix.
pub fn matches_prefix(commit_id: &str, prefix: &str) -> bool {
    commit_id
        .get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix))
}

/// One run of the pipeline for a commit and what it made, each `None` where the run did not
/// get that far (or the resource has since been deleted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunLineage {
    pub execution: ExecutionSummary,
    pub training_job: Option<TrainingJob>,
    pub model: Option<Model>,
    pub transform_job: Option<TransformJob>,
    /// The batch transform's predictions against the test data's labels.
    pub accuracy: Option<f64>,
    pub decision: Option<RecordedDecision>,
    pub endpoint_config: Option<EndpointConfig>,
}

/// Everything `/lineage/<commit>` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitLineage {
    pub commit: Commit,
    /// Newest first.
    pub runs: Vec<RunLineage>,
    /// Every time an endpoint was asked to serve one of this commit's configs, newest first.
    pub deployments: Vec<Deployment>,
}

impl CommitLineage {
    /// The endpoints serving this commit now.
    pub fn serving(&self) -> impl Iterator<Item = &Deployment> {
        self.deployments.iter().filter(|d| d.serving_now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_prefixes_are_hex_and_dashes_and_read_in_lower_case() {
        assert_eq!(check_commit_prefix(" 3F2A ").unwrap(), "3f2a");
        assert_eq!(
            check_commit_prefix("3f2a9c1e-12-03").unwrap(),
            "3f2a9c1e-12-03"
        );
        for bad in ["", "   ", "-3f", "3f2a;drop", "zz", &"a".repeat(65)] {
            assert!(check_commit_prefix(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_prefix_matches_the_beginning_of_a_commit_id_only() {
        let id = "3f2a9c1e-12-03-2026-10-00-00";
        assert!(matches_prefix(id, "3f2a"));
        assert!(matches_prefix(id, "3F2A9C1E-12"));
        assert!(!matches_prefix(id, "f2a9"));
        assert!(!matches_prefix("3f2a", "3f2a9"));
    }

    #[test]
    fn only_a_deployment_that_began_and_has_not_ended_serves_now() {
        let at = |ms| Some(Timestamp(ms));
        let deployment = |from, until| Deployment {
            endpoint: "gatehouse".into(),
            config_name: "c".into(),
            requested_at: at(1),
            served_from: from,
            served_until: until,
            failure_reason: None,
        };
        assert!(deployment(at(2), None).serving_now());
        assert!(!deployment(at(2), at(3)).serving_now());
        assert!(!deployment(None, None).serving_now());
    }
}
