//! An endpoint's deployment history, rebuilt from what AWS records.
//!
//! SageMaker keeps no such history: DescribeEndpoint knows the config serving now, the one an
//! update in progress moves to, when the endpoint was created and last modified, and why its
//! last change failed. What AWS does keep is the pipeline's runs, and a run of the pipeline
//! deploys: it creates an endpoint config named by its commit ID (the run's name), creates
//! or updates the one endpoint its definition names, and succeeds only once that endpoint is
//! InService on that config. So:
//!
//! - Every SUCCEEDED run of the pipeline is a deployment of its commit's config to the
//!   pipeline's endpoint, served from the run's stop date (its last check saw the config
//!   serving, so it served by then) until the next such run's.
//! - If the endpoint serves another config than the last run deployed (a rollback, through
//!   Gatehouse or anyone else), that config serves from the endpoint's LastModifiedTime,
//!   which closes the run's deployment. If the endpoint was created after the last run
//!   ended, it is a new endpoint of the same name: the runs' deployments ended by its
//!   CreationTime, and its config is a deployment of its own.
//! - An update in progress is a deployment requested at LastModifiedTime that serves not
//!   yet; an endpoint still Creating, or Failed, names a config that never served (Failed:
//!   with the endpoint's FailureReason).
//!
//! Times are therefore the latest AWS can vouch for — a config served by its `served_from`,
//! and was replaced by its `served_until` — not the exact moments of the switch, and
//! `requested_at` is unknown for a run's deployment (its history would tell, at one
//! more call per run).
//!
//! What is lost: a change made outside the pipeline that was itself replaced later (a
//! rollback superseded by another) leaves no trace in AWS — Gatehouse's audit log records
//! the ones made through it; a failed update (an InService endpoint with a FailureReason)
//! does not say which config failed, so the reason is put on no deployment; when the
//! endpoint is deleted, AWS forgets it and when it went, so the last deployment's end is
//! unknown (`end_unknown`); runs older than Step Functions keeps closed executions (90 days) or beyond the newest [`MAX_RUNS`] that succeeded are not counted. The config is
//! read from the run's name, as the pipeline names runs (ListExecutions does not return
//! the input): a run whose name is not a commit ID is skipped, and one named otherwise than
//! its `commitID` would be counted under its name. An endpoint the pipeline does not deploy
//! to has the one deployment DescribeEndpoint shows.

use app::models::lineage::Deployment;
use app::models::pipeline::{Endpoint, ExecutionStatus, ExecutionSummary, Timestamp};

/// The newest succeeded runs read (one ListExecutions page).
pub(super) const MAX_RUNS: usize = 1000;

/// The deployments of `endpoint`, oldest first: one per succeeded run in `runs` (the
/// pipeline's, when `endpoint` is the one it deploys to; else none), then what
/// `now` (DescribeEndpoint; `None` when there is no such endpoint) adds. See the module's
/// notes.
pub(super) fn rebuild(
    endpoint: &str,
    runs: &[ExecutionSummary],
    now: Option<&Endpoint>,
) -> Vec<Deployment> {
    let deployment = |config_name: String| Deployment {
        endpoint: endpoint.to_string(),
        config_name,
        requested_at: None,
        served_from: None,
        served_until: None,
        failure_reason: None,
        end_unknown: false,
    };
    let mut deployed: Vec<(Timestamp, String)> = runs
        .iter()
        .filter(|run| run.status == ExecutionStatus::Succeeded)
        .filter_map(|run| Some((run.stopped?, run.commit.as_ref()?.id.clone())))
        .collect();
    deployed.sort();
    let mut out: Vec<Deployment> = deployed
        .into_iter()
        .map(|(stopped, config)| Deployment {
            served_from: Some(stopped),
            ..deployment(config)
        })
        .collect();
    let next_starts: Vec<Option<Timestamp>> = out.iter().skip(1).map(|d| d.served_from).collect();
    for (d, next) in out.iter_mut().zip(next_starts) {
        d.served_until = next;
    }
    let Some(now) = now else {
        // Deleted: whatever served last stopped then, at a time AWS no longer knows.
        if let Some(last) = out.last_mut().filter(|d| d.served_until.is_none()) {
            last.end_unknown = true;
        }
        return out;
    };
    let last_from = out.last().and_then(|d| d.served_from);
    let recreated =
        matches!((now.created, last_from), (Some(created), Some(from)) if created > from);
    if recreated {
        close(out.last_mut(), now.created);
    }
    let changed = recreated || out.last().map(|d| &d.config_name) != now.config_name.as_ref();
    if let Some(config) = now.config_name.clone().filter(|_| changed) {
        let never_served = matches!(now.status.as_str(), "Creating" | "Failed");
        if never_served {
            out.push(Deployment {
                requested_at: now.created,
                failure_reason: now
                    .failure_reason
                    .clone()
                    .filter(|_| now.status == "Failed"),
                ..deployment(config)
            });
        } else {
            let since = now.modified.or(now.created);
            close(out.last_mut(), since);
            out.push(Deployment {
                served_from: since,
                ..deployment(config)
            });
        }
    }
    if now.status == "Updating" {
        if let Some(pending) = now
            .pending_config_name
            .clone()
            .filter(|p| Some(p) != now.config_name.as_ref())
        {
            out.push(Deployment {
                requested_at: now.modified,
                ..deployment(pending)
            });
        }
    }
    out
}

/// Ends a deployment still serving at `at`. A run ends after its check saw its config
/// serving, so a change the endpoint made before the run ended still came after the
/// config served: it served by `at` too.
fn close(deployment: Option<&mut Deployment>, at: Option<Timestamp>) {
    let (Some(d), Some(at)) = (deployment, at) else {
        return;
    };
    if d.served_until.is_some() {
        return;
    }
    d.served_until = Some(at);
    if d.served_from.is_some_and(|from| from > at) {
        d.served_from = Some(at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::models::pipeline::Commit;

    fn run(commit: &str, stopped: i64) -> ExecutionSummary {
        ExecutionSummary {
            arn: format!("arn:aws:states:eu-west-1:123456789012:execution:p:{commit}"),
            name: commit.to_string(),
            status: ExecutionStatus::Succeeded,
            started: Timestamp(stopped - 100),
            stopped: Some(Timestamp(stopped)),
            commit: Commit::parse(commit),
            current_state: None,
        }
    }

    fn endpoint(config: &str, status: &str, created: i64, modified: i64) -> Endpoint {
        Endpoint {
            name: "e".into(),
            config_name: Some(config.into()),
            status: status.into(),
            pending_config_name: None,
            created: Some(Timestamp(created)),
            modified: Some(Timestamp(modified)),
            failure_reason: None,
            variants: Vec::new(),
        }
    }

    const A: &str = "aaaaaaa1-2026-11-25-10-00-00";
    const B: &str = "bbbbbbb2-2026-11-26-10-00-00";
    const C: &str = "ccccccc3-2026-11-27-10-00-00";

    /// (config, served_from, served_until) of each.
    fn served(deployments: &[Deployment]) -> Vec<(&str, Option<i64>, Option<i64>)> {
        deployments
            .iter()
            .map(|d| {
                (
                    d.config_name.as_str(),
                    d.served_from.map(|t| t.0),
                    d.served_until.map(|t| t.0),
                )
            })
            .collect()
    }

    #[test]
    fn each_succeeded_run_serves_until_the_next_oldest_first() {
        // ListExecutions answers newest first.
        let runs = [run(C, 300), run(A, 100), run(B, 200)];
        let now = endpoint(C, "InService", 50, 290);
        let deployments = rebuild("e", &runs, Some(&now));
        assert_eq!(
            served(&deployments),
            [
                (A, Some(100), Some(200)),
                (B, Some(200), Some(300)),
                (C, Some(300), None)
            ]
        );
        assert!(deployments
            .iter()
            .all(|d| d.endpoint == "e" && d.requested_at.is_none()));
    }

    #[test]
    fn runs_that_did_not_succeed_or_name_no_commit_deploy_nothing() {
        let mut failed = run(B, 200);
        failed.status = ExecutionStatus::Failed;
        let mut unnamed = run(C, 300);
        unnamed.name = "a-retry".into();
        unnamed.commit = None;
        let deployments = rebuild("e", &[run(A, 100), failed, unnamed], None);
        assert_eq!(served(&deployments), [(A, Some(100), None)]);
    }

    #[test]
    fn a_rollback_outside_the_pipeline_serves_from_the_endpoints_last_change() {
        let now = endpoint(A, "InService", 50, 400);
        assert_eq!(
            served(&rebuild("e", &[run(A, 100), run(B, 200)], Some(&now))),
            [
                (A, Some(100), Some(200)),
                (B, Some(200), Some(400)),
                (A, Some(400), None)
            ]
        );
        // Rolled back while B's run was finishing: B served by then already.
        let early = endpoint(A, "InService", 50, 150);
        assert_eq!(
            served(&rebuild("e", &[run(B, 200)], Some(&early))),
            [(B, Some(150), Some(150)), (A, Some(150), None)]
        );
    }

    #[test]
    fn a_failed_update_names_no_config_and_changes_nothing() {
        let mut now = endpoint(B, "InService", 50, 500);
        now.failure_reason = Some("Failed to download model data".into());
        let deployments = rebuild("e", &[run(A, 100), run(B, 200)], Some(&now));
        assert_eq!(
            served(&deployments),
            [(A, Some(100), Some(200)), (B, Some(200), None)]
        );
        assert!(deployments.iter().all(|d| d.failure_reason.is_none()));
    }

    #[test]
    fn an_update_in_progress_is_requested_and_not_yet_serving() {
        let mut now = endpoint(B, "Updating", 50, 500);
        now.pending_config_name = Some(C.into());
        let deployments = rebuild("e", &[run(A, 100), run(B, 200)], Some(&now));
        assert_eq!(
            served(&deployments),
            [
                (A, Some(100), Some(200)),
                (B, Some(200), None),
                (C, None, None)
            ]
        );
        assert_eq!(deployments[2].requested_at, Some(Timestamp(500)));
        assert!(deployments[1].serving_now() && !deployments[2].serving_now());
    }

    #[test]
    fn a_deleted_endpoint_keeps_its_runs_and_its_end_is_unknown() {
        assert_eq!(
            served(&rebuild("e", &[run(A, 100), run(B, 200)], None)),
            [(A, Some(100), Some(200)), (B, Some(200), None)]
        );
        let gone = rebuild("e", &[run(A, 100), run(B, 200)], None);
        assert!(!gone.iter().any(Deployment::serving_now), "{gone:?}");
        assert!(rebuild("e", &[], None).is_empty());
    }

    #[test]
    fn an_endpoint_created_after_the_last_run_is_a_new_one() {
        // Deleted and created again with B's config: the old one ended by then.
        let again = endpoint(B, "InService", 700, 760);
        assert_eq!(
            served(&rebuild("e", &[run(A, 100), run(B, 200)], Some(&again))),
            [
                (A, Some(100), Some(200)),
                (B, Some(200), Some(700)),
                (B, Some(760), None)
            ]
        );
        // Created again with a config that failed to load: it never served.
        let mut failed = endpoint(C, "Failed", 700, 760);
        failed.failure_reason = Some("Failed to download model data".into());
        let deployments = rebuild("e", &[run(B, 200)], Some(&failed));
        assert_eq!(
            served(&deployments),
            [(B, Some(200), Some(700)), (C, None, None)]
        );
        assert_eq!(deployments[1].requested_at, Some(Timestamp(700)));
        assert_eq!(
            deployments[1].failure_reason.as_deref(),
            Some("Failed to download model data")
        );
    }

    #[test]
    fn another_endpoint_has_the_one_deployment_described() {
        let now = endpoint(A, "InService", 50, 60);
        assert_eq!(
            served(&rebuild("e", &[], Some(&now))),
            [(A, Some(60), None)]
        );
        let creating = endpoint(A, "Creating", 50, 50);
        let deployments = rebuild("e", &[], Some(&creating));
        assert_eq!(served(&deployments), [(A, None, None)]);
        assert_eq!(deployments[0].requested_at, Some(Timestamp(50)));
    }
}
