//! Model lineage: what the pipeline made of a commit (runs, training job, model, transform,
//! decision, endpoint config) and where that commit served, and the reverse — which commit an
//! endpoint serves.

use serde::{Deserialize, Serialize};

use super::approvals::RecordedDecision;
use super::commit::Commit;
use super::pipeline::{
    EndpointConfig, ExecutionSummary, InputError, Model, Timestamp, TrainingJob, TransformJob,
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

/// Where a commit serves now: an endpoint on its config, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Serving {
    pub endpoint: String,
    pub since: Option<Timestamp>,
}

/// One commit on `/lineage`: its runs and how far the newest got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageRow {
    pub commit: Commit,
    /// Newest first.
    pub runs: Vec<ExecutionSummary>,
    /// The batch transform's predictions against the test data's labels.
    pub accuracy: Option<f64>,
    /// The newest decision on one of its runs.
    pub decision: Option<RecordedDecision>,
    pub serving: Vec<Serving>,
}

/// `/lineage`: commits newest first, optionally those whose ID begins with a prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineageList {
    pub prefix: Option<String>,
    pub rows: Vec<LineageRow>,
    /// Matching commits not shown (the page shows the newest [`LINEAGE_PAGE`]).
    pub more: usize,
}

/// Commits `/lineage` shows at once; a prefix narrows the rest down.
pub const LINEAGE_PAGE: usize = 25;

/// Everything `/lineage/<commit>` shows: what the pipeline made of the commit, each `None`
/// where no run got that far (or the resource has since been deleted). The pipeline names
/// every resource after the commit ID, so a commit has one of each however often it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommitLineage {
    pub commit: Commit,
    /// Newest first.
    pub runs: Vec<ExecutionSummary>,
    pub training_job: Option<TrainingJob>,
    pub model: Option<Model>,
    pub transform_job: Option<TransformJob>,
    pub accuracy: Option<f64>,
    /// The decision on the newest run that has one, and that run's name.
    pub decision: Option<(String, RecordedDecision)>,
    pub endpoint_config: Option<EndpointConfig>,
    /// Every time an endpoint was asked to serve this commit's config, newest first.
    pub deployments: Vec<Deployment>,
}

impl CommitLineage {
    /// The endpoints serving this commit now.
    pub fn serving(&self) -> impl Iterator<Item = &Deployment> {
        self.deployments.iter().filter(|d| d.serving_now())
    }
}

/// The runs grouped by the commit they built, newest commit first (by its build time when
/// the commit ID carries one, else by its newest run), each commit's runs newest first. Runs
/// whose name is no commit ID are left out: nothing ties them to a commit.
pub fn group_by_commit(runs: Vec<ExecutionSummary>) -> Vec<(Commit, Vec<ExecutionSummary>)> {
    let mut groups: Vec<(Commit, Vec<ExecutionSummary>)> = Vec::new();
    for run in runs {
        let Some(commit) = run.commit.clone() else {
            continue;
        };
        match groups.iter_mut().find(|(c, _)| c.id == commit.id) {
            Some((_, group)) => group.push(run),
            None => groups.push((commit, vec![run])),
        }
    }
    for (_, group) in &mut groups {
        group.sort_by_key(|r| std::cmp::Reverse(r.started));
    }
    let newest = |(commit, group): &(Commit, Vec<ExecutionSummary>)| {
        commit.built_at.or(group.first().map(|r| r.started))
    };
    groups.sort_by_key(|g| std::cmp::Reverse(newest(g)));
    groups
}

/// The endpoint the pipeline deploys to: the `EndpointName` of its CreateEndpoint state (the
/// definition's `${EndpointName}`, substituted). `None` for a definition that deploys nowhere
/// by that integration (the article's own creates an endpoint per commit: its name is a
/// path, not text).
pub fn pipeline_endpoint(definition: &serde_json::Value) -> Option<String> {
    fn search(states: &serde_json::Value) -> Option<String> {
        states.as_object()?.values().find_map(|state| {
            let resource = state["Resource"].as_str().unwrap_or_default();
            if resource.starts_with("arn:aws:states:::sagemaker:createEndpoint")
                && !resource.contains("createEndpointConfig")
            {
                if let Some(name) = state["Parameters"]["EndpointName"].as_str() {
                    return Some(name.to_string());
                }
            }
            state["Branches"]
                .as_array()
                .and_then(|branches| branches.iter().find_map(|b| search(&b["States"])))
        })
    }
    search(&definition["States"])
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

    fn run(name: &str, started: i64) -> ExecutionSummary {
        ExecutionSummary {
            arn: format!("arn:aws:states:eu-west-1:1:execution:p:{name}"),
            name: name.into(),
            status: crate::models::pipeline::ExecutionStatus::Succeeded,
            started: Timestamp(started),
            stopped: None,
            commit: Commit::parse(name),
            current_state: None,
        }
    }

    #[test]
    fn runs_group_by_commit_newest_build_first() {
        // Built 10:00 and 11:00 on 3 Dec 2026, in CodeBuild's month-first form.
        let older = "aaaaaaaa-12-03-2026-10-00-00";
        let newer = "bbbbbbbb-12-03-2026-11-00-00";
        let groups = group_by_commit(vec![
            run(older, 5),
            run("not-a-commit", 9),
            run(newer, 3),
            run(older, 7),
        ]);
        let ids: Vec<&str> = groups.iter().map(|(c, _)| c.id.as_str()).collect();
        assert_eq!(ids, [newer, older]);
        let starts: Vec<i64> = groups[1].1.iter().map(|r| r.started.0).collect();
        assert_eq!(starts, [7, 5]);
    }

    #[test]
    fn the_pipeline_endpoint_is_read_from_the_definition() {
        let ours: serde_json::Value =
            serde_json::from_str(include_str!("../../../infra/statemachine/mlops.asl.json"))
                .unwrap();
        // Unsubstituted, the file names the definition substitution.
        assert_eq!(pipeline_endpoint(&ours).as_deref(), Some("${EndpointName}"));
        let article: serde_json::Value =
            serde_json::from_str(include_str!("../../../infra/statemachine/article.asl.json"))
                .unwrap();
        assert_eq!(pipeline_endpoint(&article), None);
    }
}
