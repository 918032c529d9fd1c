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
    /// It stopped serving at a time the backend did not keep (its endpoint was deleted, and
    /// AWS forgets a deleted endpoint): `served_until` is then unknown, not open.
    pub end_unknown: bool,
}

impl Deployment {
    pub fn serving_now(&self) -> bool {
        self.served_from.is_some() && self.served_until.is_none() && !self.end_unknown
    }
}

/// A prefix of a commit ID to search by: what a person pastes from `git log` or a tag.
/// Hex digits and dashes (the commit ID is `<sha>-<build time>`), 64 characters at most.
pub fn check_commit_prefix(text: &str) -> Result<String, InputError> {
    let prefix = text.trim();
    let fits = !prefix.is_empty()
        && prefix.len() <= 64
        && prefix.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        && prefix.bytes().next().is_some_and(|b| b.is_ascii_hexdigit());
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

/// The endpoint the pipeline deploys to (the definition's `${EndpointName}`, substituted): the `EndpointName` of its states that create or
/// update an endpoint (`sagemaker:createEndpoint`, `sagemaker:updateEndpoint`, or their
/// `aws-sdk:` forms), in any branch. `None` when the definition names none, names it only
/// through a path (`EndpointName.$`), or names more than one.
#[cfg(feature = "ssr")]
pub fn pipeline_endpoint(definition: &str) -> Option<String> {
    let definition: serde_json::Value = serde_json::from_str(definition).ok()?;
    let mut names = std::collections::BTreeSet::new();
    endpoint_names(&definition, &mut names);
    let mut names = names.into_iter();
    match (names.next(), names.next()) {
        (Some(name), None) => Some(name),
        _ => None,
    }
}

#[cfg(feature = "ssr")]
fn endpoint_names(value: &serde_json::Value, names: &mut std::collections::BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            let deploys = map
                .get("Resource")
                .and_then(serde_json::Value::as_str)
                .is_some_and(deploys_an_endpoint);
            if deploys {
                if let Some(name) = map
                    .get("Parameters")
                    .and_then(|p| p.get("EndpointName"))
                    .and_then(serde_json::Value::as_str)
                {
                    names.insert(name.to_string());
                }
            }
            map.values().for_each(|v| endpoint_names(v, names));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| endpoint_names(v, names)),
        _ => {}
    }
}

/// `arn:<partition>:states:::sagemaker:createEndpoint` and the like.
#[cfg(feature = "ssr")]
fn deploys_an_endpoint(resource: &str) -> bool {
    resource
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(":states:::"))
        .is_some_and(|(_, integration)| {
            let call = integration.strip_prefix("aws-sdk:").unwrap_or(integration);
            matches!(
                call,
                "sagemaker:createEndpoint" | "sagemaker:updateEndpoint"
            )
        })
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
            let refused = check_commit_prefix(bad).expect_err(bad);
            assert!(
                refused.0.starts_with("Search by the beginning of a commit"),
                "{bad:?}: {refused:?}"
            );
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
            end_unknown: false,
        };
        assert!(deployment(at(2), None).serving_now());
        assert!(!deployment(at(2), at(3)).serving_now());
        assert!(!deployment(None, None).serving_now());
        let deleted = Deployment {
            end_unknown: true,
            ..deployment(at(2), None)
        };
        assert!(!deleted.serving_now());
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

    const CREATE: &str = "arn:aws:states:::sagemaker:createEndpoint";
    const UPDATE: &str = "arn:aws:states:::sagemaker:updateEndpoint";

    fn definition(states: serde_json::Value) -> String {
        serde_json::json!({"StartAt": "A", "States": states}).to_string()
    }

    #[test]
    fn the_pipeline_deploys_to_the_endpoint_its_create_and_update_states_name() {
        let pipeline = include_str!("../../../infra/statemachine/mlops.asl.json")
            .replace("${EndpointName}", "gatehouse-iris");
        assert_eq!(
            pipeline_endpoint(&pipeline).as_deref(),
            Some("gatehouse-iris")
        );

        let nested = definition(serde_json::json!({
            "A": {"Type": "Parallel", "Branches": [{"StartAt": "B", "States": {
                "B": {"Type": "Task", "Resource": "arn:aws-cn:states:::sagemaker:updateEndpoint",
                      "Parameters": {"EndpointName": "e", "EndpointConfigName.$": "$.c"}}
            }}]}
        }));
        assert_eq!(pipeline_endpoint(&nested).as_deref(), Some("e"));
    }

    #[test]
    fn no_endpoint_is_the_pipelines_unless_the_definition_names_exactly_one() {
        let task = |resource: &str, parameters: serde_json::Value| serde_json::json!({"Type": "Task", "Resource": resource, "Parameters": parameters});
        let name = |n: &str| serde_json::json!({"EndpointName": n});
        for states in [
            // An endpoint config's name is not an endpoint's.
            serde_json::json!({"A": task(
                "arn:aws:states:::sagemaker:createEndpointConfig",
                serde_json::json!({"EndpointConfigName": "c", "EndpointName": "x"})
            )}),
            // Describing an endpoint deploys nothing.
            serde_json::json!({"A": task(
                "arn:aws:states:::aws-sdk:sagemaker:describeEndpoint", name("e")
            )}),
            // Known only at run time.
            serde_json::json!({"A": task(CREATE, serde_json::json!({"EndpointName.$": "$.e"}))}),
            // Two endpoints: which is "the" one is not for the adapter to guess.
            serde_json::json!({"A": task(CREATE, name("e")), "B": task(UPDATE, name("f"))}),
        ] {
            assert_eq!(
                pipeline_endpoint(&definition(states.clone())),
                None,
                "{states}"
            );
        }
        assert_eq!(pipeline_endpoint("not json"), None);
        let both = definition(
            serde_json::json!({"A": task(CREATE, name("e")), "B": task(UPDATE, name("e"))}),
        );
        assert_eq!(pipeline_endpoint(&both).as_deref(), Some("e"));
    }

    #[test]
    fn the_articles_definition_deploys_to_no_one_endpoint() {
        // It creates an endpoint per commit, named through a path.
        let article = include_str!("../../../infra/statemachine/article.asl.json");
        assert_eq!(pipeline_endpoint(article), None);
    }
}
