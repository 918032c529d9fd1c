//! The lineage pages' server functions: commits and what the pipeline made of them, and
//! where each served (viewer).

use leptos::prelude::*;

use crate::errors::AppError;
use crate::models::lineage::{CommitLineage, LineageList};

/// Commits newest first, or those whose ID begins with `prefix` (viewer).
#[server(endpoint = "list_lineage")]
pub async fn list_lineage(prefix: Option<String>) -> Result<LineageList, AppError> {
    crate::functions::access::require(crate::models::identity::Role::Viewer)?;
    let context = crate::state::server_context()?;
    server::list(&context, prefix.as_deref())
        .await
        .map_err(crate::functions::access::answer)
}

/// One commit's chain: runs, training job, model, transform and its accuracy, decision,
/// endpoint config and every deployment of it (viewer).
#[server(endpoint = "get_lineage")]
pub async fn get_lineage(commit: String) -> Result<CommitLineage, AppError> {
    crate::functions::access::require(crate::models::identity::Role::Viewer)?;
    let context = crate::state::server_context()?;
    server::chain(&context, commit.trim())
        .await
        .map_err(crate::functions::access::answer)
}

#[cfg(feature = "ssr")]
pub(crate) mod server {
    use std::collections::HashMap;

    use futures_util::stream::{self, StreamExt};

    use crate::control_plane::{ControlPlane, PipelineError};
    use crate::errors::AppError;
    use crate::evidence::evidence_for;
    use crate::functions::approvals::server::{audited_decisions, recorded_decision};
    use crate::models::approvals::RecordedDecision;
    use crate::models::commit_tags::{CommitTags, ResourceKind};
    use crate::models::lineage::{
        check_commit_prefix, group_by_commit, matches_prefix, pipeline_endpoint, CommitLineage,
        Deployment, LineageList, LineageRow, Serving, LINEAGE_PAGE,
    };
    use crate::models::pipeline::{
        check_commit_id, ExecutionQuery, ExecutionRef, ExecutionStatus, ExecutionSummary,
    };
    use crate::state::ServerContext;

    /// Runs read for the lineage: the newest this many (one page of ListExecutions on AWS).
    const RUNS_READ: usize = 1000;
    /// Transform outputs read at once for the list's accuracies.
    const EVIDENCE_AT_ONCE: usize = 4;

    async fn runs(pipeline: &dyn ControlPlane) -> Result<Vec<ExecutionSummary>, AppError> {
        let page = pipeline
            .list_executions(&ExecutionQuery {
                status: None,
                max_results: RUNS_READ,
                next_token: None,
            })
            .await?;
        Ok(page.executions)
    }

    /// The `gatehouse:commit` tags lineage reads before names. When the backend cannot list
    /// them (a missing permission, say) lineage follows names alone — the seed's pipeline
    /// names everything after its commit — and the log says why.
    pub async fn commit_tags(
        pipeline: &dyn ControlPlane,
        kinds: &[ResourceKind],
        commit: Option<&str>,
    ) -> CommitTags {
        match pipeline.commit_tags(kinds, commit).await {
            Ok(tags) => tags,
            Err(error) => {
                tracing::warn!(%error, "the commit tags could not be read; lineage follows names");
                CommitTags::default()
            }
        }
    }

    /// Every endpoint config's commit tag.
    pub async fn config_tags(pipeline: &dyn ControlPlane) -> CommitTags {
        commit_tags(pipeline, &[ResourceKind::EndpointConfig], None).await
    }

    /// The endpoint the pipeline deploys to, from its definition.
    async fn deploy_target(pipeline: &dyn ControlPlane) -> Result<Option<String>, AppError> {
        Ok(pipeline_endpoint(&pipeline.definition().await?))
    }

    /// What the accuracy of a transform job is, when it completed and can be read.
    async fn accuracy(context: &ServerContext, transform_job: &str) -> Option<f64> {
        evidence_for(context.pipeline.as_ref(), &context.evidence, transform_job)
            .await
            .ok()
            .and_then(|e| e.accuracy())
    }

    pub async fn list(
        context: &ServerContext,
        prefix: Option<&str>,
    ) -> Result<LineageList, AppError> {
        let prefix = match prefix.map(str::trim).filter(|p| !p.is_empty()) {
            Some(text) => Some(check_commit_prefix(text).map_err(|e| AppError::InvalidInput(e.0))?),
            None => None,
        };
        let pipeline = context.pipeline.as_ref();
        let (runs, decisions, endpoints, tags) = tokio::join!(
            runs(pipeline),
            audited_decisions(context),
            pipeline.endpoints(),
            commit_tags(
                pipeline,
                &[ResourceKind::EndpointConfig, ResourceKind::TransformJob],
                None
            ),
        );
        let (runs, decisions, endpoints) = (runs?, decisions?, endpoints?);
        let mut groups = group_by_commit(runs);
        if let Some(prefix) = &prefix {
            groups.retain(|(commit, _)| matches_prefix(&commit.id, prefix));
        }
        let more = groups.len().saturating_sub(LINEAGE_PAGE);
        groups.truncate(LINEAGE_PAGE);

        // Where each shown commit serves, and since when (the serving deployment's start).
        let mut serving: HashMap<String, Vec<Serving>> = HashMap::new();
        for endpoint in &endpoints {
            let Some(config) = &endpoint.config_name else {
                continue;
            };
            let Some(commit) = tags.commit_of(ResourceKind::EndpointConfig, config) else {
                continue;
            };
            if !groups.iter().any(|(c, _)| c.id == commit.id) {
                continue;
            }
            let since = pipeline
                .endpoint_deployments(&endpoint.name)
                .await
                .ok()
                .and_then(|history| {
                    history
                        .into_iter()
                        .rev()
                        .find(|d| d.serving_now() && &d.config_name == config)
                })
                .and_then(|d| d.served_from)
                .or(endpoint.modified);
            serving.entry(commit.id).or_default().push(Serving {
                endpoint: endpoint.name.clone(),
                since,
            });
        }

        // The accuracy recorded with a decision made through Gatehouse; read afresh for the
        // commits without one.
        let recorded = |runs: &[ExecutionSummary]| {
            runs.iter()
                .find_map(|r| decisions.get(&r.name).and_then(|(_, accuracy)| *accuracy))
        };
        let mut accuracies: HashMap<String, Option<f64>> = groups
            .iter()
            .filter_map(|(commit, runs)| Some((commit.id.clone(), Some(recorded(runs)?))))
            .collect();
        let unrecorded: Vec<String> = groups
            .iter()
            .map(|(commit, _)| commit.id.clone())
            .filter(|id| !accuracies.contains_key(id))
            .collect();
        let read: Vec<(String, Option<f64>)> = stream::iter(unrecorded)
            .map(|id: String| {
                let transform = tags.name_for(ResourceKind::TransformJob, &id);
                async move {
                    let figure = match transform {
                        Some(job) => accuracy(context, &job).await,
                        None => None,
                    };
                    (id, figure)
                }
            })
            .buffer_unordered(EVIDENCE_AT_ONCE)
            .collect()
            .await;
        accuracies.extend(read);

        let rows = groups
            .into_iter()
            .map(|(commit, runs)| LineageRow {
                accuracy: accuracies.get(&commit.id).copied().flatten(),
                decision: runs
                    .iter()
                    .find_map(|r| decisions.get(&r.name).map(|(d, _)| d.clone())),
                serving: serving.remove(&commit.id).unwrap_or_default(),
                commit,
                runs,
            })
            .collect();
        Ok(LineageList { prefix, rows, more })
    }

    /// A resource of the commit, described when it has one; `NotFound` when it has none.
    async fn described<T>(
        describe: Option<impl std::future::Future<Output = Result<T, PipelineError>>>,
    ) -> Result<T, PipelineError> {
        match describe {
            Some(describe) => describe.await,
            None => Err(PipelineError::NotFound(String::new())),
        }
    }

    /// A resource that may not exist (the run did not get that far, or it was deleted).
    fn optional<T>(result: Result<T, PipelineError>) -> Result<Option<T>, AppError> {
        match result {
            Ok(value) => Ok(Some(value)),
            Err(PipelineError::NotFound(_)) => Ok(None),
            Err(other) => Err(other.into()),
        }
    }

    /// The decision on the newest run that has one: the audit log first, and a run's history
    /// only when the audit log has none and the run got past its approval (decided in the
    /// Step Functions console, say).
    /// With the accuracy recorded with it, when it was made through Gatehouse.
    async fn decision_of(
        context: &ServerContext,
        runs: &[ExecutionSummary],
    ) -> Result<Option<(String, RecordedDecision, Option<f64>)>, AppError> {
        let audited = audited_decisions(context).await?;
        if let Some(found) = runs.iter().find_map(|r| {
            audited
                .get(&r.name)
                .map(|(d, accuracy)| (r.name.clone(), d.clone(), *accuracy))
        }) {
            return Ok(Some(found));
        }
        for run in runs.iter().filter(|r| r.status != ExecutionStatus::Running) {
            let reference = ExecutionRef::Arn(run.arn.clone());
            if let Some(decision) = recorded_decision(context.pipeline.as_ref(), &reference).await?
            {
                return Ok(Some((run.name.clone(), decision, None)));
            }
        }
        Ok(None)
    }

    pub async fn chain(context: &ServerContext, commit: &str) -> Result<CommitLineage, AppError> {
        check_commit_id(commit).map_err(|e| AppError::InvalidInput(e.0))?;
        let pipeline = context.pipeline.as_ref();
        let tags = commit_tags(pipeline, &ResourceKind::ALL, Some(commit)).await;
        let [training, model, transform, config] =
            ResourceKind::ALL.map(|kind| tags.name_for(kind, commit));
        let (runs, training_job, model, transform_job, endpoint_config, target) = tokio::join!(
            runs(pipeline),
            described(training.as_deref().map(|n| pipeline.training_job(n))),
            described(model.as_deref().map(|n| pipeline.model(n))),
            described(transform.as_deref().map(|n| pipeline.transform_job(n))),
            described(config.as_deref().map(|n| pipeline.endpoint_config(n))),
            deploy_target(pipeline),
        );
        let runs: Vec<ExecutionSummary> = runs?
            .into_iter()
            .filter(|r| r.commit.as_ref().is_some_and(|c| c.id == commit))
            .collect();
        let (training_job, model, transform_job, endpoint_config) = (
            optional(training_job)?,
            optional(model)?,
            optional(transform_job)?,
            optional(endpoint_config)?,
        );
        if runs.is_empty() && training_job.is_none() && endpoint_config.is_none() {
            return Err(AppError::NotFound(format!(
                "No run of the pipeline built commit {commit}."
            )));
        }
        let decision = decision_of(context, &runs).await?;
        let recorded = decision.as_ref().and_then(|(_, _, accuracy)| *accuracy);
        let accuracy = match &transform_job {
            Some(_) if recorded.is_some() => recorded,
            Some(job) if job.status == "Completed" => accuracy(context, &job.name).await,
            _ => None,
        };
        let decision = decision.map(|(run, d, _)| (run, d));
        let mut deployments: Vec<Deployment> = match target? {
            Some(endpoint) => pipeline
                .endpoint_deployments(&endpoint)
                .await?
                .into_iter()
                .filter(|d| tags.belongs_to(ResourceKind::EndpointConfig, &d.config_name, commit))
                .collect(),
            None => Vec::new(),
        };
        deployments.reverse();
        let commit = runs
            .first()
            .and_then(|r| r.commit.clone())
            .or_else(|| crate::models::pipeline::Commit::parse(commit))
            .unwrap_or_else(|| crate::models::pipeline::Commit {
                id: commit.to_string(),
                short_sha: commit.chars().take(8).collect(),
                built_at: None,
            });
        Ok(CommitLineage {
            commit,
            runs,
            training_job,
            model,
            transform_job,
            accuracy,
            decision,
            endpoint_config,
            deployments,
        })
    }
}
