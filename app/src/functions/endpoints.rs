//! The Endpoints pages' server functions: reading endpoints (viewer), rolling one back to an
//! earlier config and deleting one (operator, both audited, refusals included).

use leptos::prelude::*;

use crate::errors::AppError;
use crate::models::endpoints::{EndpointList, EndpointView};

/// Every endpoint with its status and the commit it serves (viewer).
#[server(endpoint = "list_endpoints")]
pub async fn list_endpoints() -> Result<EndpointList, AppError> {
    crate::functions::access::require(crate::models::identity::Role::Viewer)?;
    let context = crate::state::server_context()?;
    server::list(&context)
        .await
        .map_err(crate::functions::access::answer)
}

/// One endpoint: its config, variants, failure reason and the configs it can go back to
/// (viewer).
#[server(endpoint = "get_endpoint")]
pub async fn get_endpoint(name: String) -> Result<EndpointView, AppError> {
    crate::functions::access::require(crate::models::identity::Role::Viewer)?;
    let context = crate::state::server_context()?;
    server::view(&context, name.trim())
        .await
        .map_err(crate::functions::access::answer)
}

/// Points the endpoint back at an earlier config (operator). The reason is required; the
/// audit record keeps the config before and after.
#[server(endpoint = "rollback_endpoint")]
pub async fn rollback_endpoint(
    name: String,
    config: String,
    reason: String,
) -> Result<(), AppError> {
    use crate::functions::audit_trail::{record, require_audited};
    let target = crate::models::pipeline::shorten(name.trim(), 80);
    let operator = require_audited(
        crate::models::identity::Role::Operator,
        server::ROLLBACK,
        &target,
    )
    .await?;
    let pipeline = crate::state::server_context()?.pipeline;
    let (before, result) =
        server::roll_back(pipeline.as_ref(), name.trim(), config.trim(), &reason).await;
    let details = serde_json::json!({
        "from": before,
        "to": crate::models::pipeline::shorten(config.trim(), 80),
        "reason": crate::models::pipeline::shorten(reason.trim(), 1000),
        "error": result.as_ref().err().map(|e| e.to_string()),
    });
    record(
        Some(&operator),
        server::ROLLBACK,
        &target,
        server::outcome_of(&result),
        details,
    )
    .await?;
    result.map_err(crate::functions::access::answer)?;
    crate::functions::form_post::answer_form(
        crate::models::navigation::outcome::ROLLED_BACK,
        config.trim(),
    );
    Ok(())
}

/// Deletes the endpoint (operator), confirmed by typing its name.
#[server(endpoint = "delete_endpoint")]
pub async fn delete_endpoint(name: String, typed_name: String) -> Result<(), AppError> {
    use crate::functions::audit_trail::{record, require_audited};
    let target = crate::models::pipeline::shorten(name.trim(), 80);
    let operator = require_audited(
        crate::models::identity::Role::Operator,
        server::DELETE,
        &target,
    )
    .await?;
    let pipeline = crate::state::server_context()?.pipeline;
    let (before, result) = server::delete(pipeline.as_ref(), name.trim(), &typed_name).await;
    let details = serde_json::json!({
        "config": before,
        "error": result.as_ref().err().map(|e| e.to_string()),
    });
    record(
        Some(&operator),
        server::DELETE,
        &target,
        server::outcome_of(&result),
        details,
    )
    .await?;
    result.map_err(crate::functions::access::answer)?;
    crate::functions::form_post::answer_form_at(
        "/endpoints",
        crate::models::navigation::outcome::DELETED,
        name.trim(),
    );
    Ok(())
}

#[cfg(feature = "ssr")]
mod server {
    use crate::control_plane::{ControlPlane, PipelineError};
    use crate::errors::AppError;
    use crate::models::audit::{AuditOutcome, AuditQuery};
    use std::collections::HashMap;

    use crate::functions::approvals::server::audited_decisions;
    use crate::functions::lineage::server::config_tags;
    use crate::models::commit_tags::ResourceKind;
    use crate::models::endpoints::{
        check_reason, check_resource_name, check_typed_name, credit_deployments, EndpointChange,
        EndpointList, EndpointRow, EndpointView, RollbackChoice,
    };
    use crate::models::pipeline::{Commit, Verdict};
    use crate::state::ServerContext;

    pub const ROLLBACK: &str = "endpoint.rollback";
    pub const DELETE: &str = "endpoint.delete";

    /// What the person asked wrongly is a refusal; what the backend failed at, a failure.
    pub fn outcome_of<T>(result: &Result<T, AppError>) -> AuditOutcome {
        match result {
            Ok(_) => AuditOutcome::Success,
            Err(
                AppError::InvalidInput(_)
                | AppError::NotFound(_)
                | AppError::Conflict(_)
                | AppError::NotAllowed(_),
            ) => AuditOutcome::Refused,
            Err(_) => AuditOutcome::Failure,
        }
    }

    /// The port's "not found" for an endpoint, in the words of the page.
    fn not_found_as_missing(error: PipelineError, name: &str) -> AppError {
        match error {
            PipelineError::NotFound(_) => {
                AppError::NotFound(format!("There is no endpoint named {name}."))
            }
            other => other.into(),
        }
    }

    async fn existing(
        pipeline: &dyn ControlPlane,
        name: &str,
    ) -> Result<crate::models::pipeline::Endpoint, AppError> {
        pipeline
            .endpoint(name)
            .await
            .map_err(|e| not_found_as_missing(e, name))
    }

    fn invalid(error: crate::models::pipeline::InputError) -> AppError {
        AppError::InvalidInput(error.0)
    }

    /// The changes Gatehouse made to endpoints, newest first, from the audit log.
    async fn changes(context: &ServerContext) -> Result<Vec<(String, EndpointChange)>, AppError> {
        let records = context
            .audit
            .search(&AuditQuery {
                action: Some("endpoint.".into()),
                outcome: Some(AuditOutcome::Success),
                limit: 500,
                ..AuditQuery::default()
            })
            .await?;
        Ok(records
            .into_iter()
            .map(|r| {
                let details: serde_json::Value =
                    serde_json::from_str(&r.entry.details).unwrap_or_default();
                let change = EndpointChange {
                    by: r.entry.actor.clone(),
                    at: r.at,
                    action: r.entry.action.trim_start_matches("endpoint.").to_string(),
                    to_config: details
                        .get("to")
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_string),
                };
                (r.entry.target, change)
            })
            .collect())
    }

    pub async fn list(context: &ServerContext) -> Result<EndpointList, AppError> {
        let (endpoints, changes, tags) = tokio::join!(
            context.pipeline.endpoints(),
            changes(context),
            config_tags(context.pipeline.as_ref()),
        );
        let (mut endpoints, changes) = (endpoints?, changes?);
        endpoints.sort_by(|a, b| a.name.cmp(&b.name));
        let rows = endpoints
            .into_iter()
            .map(|endpoint| EndpointRow {
                commit: endpoint
                    .config_name
                    .as_deref()
                    .and_then(|c| tags.commit_of(ResourceKind::EndpointConfig, c)),
                last_change: changes
                    .iter()
                    .find(|(target, _)| *target == endpoint.name)
                    .map(|(_, c)| c.clone()),
                endpoint,
            })
            .collect();
        Ok(EndpointList { rows })
    }

    pub async fn view(context: &ServerContext, name: &str) -> Result<EndpointView, AppError> {
        check_resource_name("endpoint", name).map_err(invalid)?;
        let pipeline = context.pipeline.as_ref();
        let (endpoint, configs, changes, history, decisions, tags) = tokio::join!(
            pipeline.endpoint(name),
            pipeline.endpoint_configs(),
            changes(context),
            pipeline.endpoint_deployments(name),
            audited_decisions(context),
            config_tags(pipeline),
        );
        let endpoint = endpoint.map_err(|e| not_found_as_missing(e, name))?;
        let (mut configs, changes, history, decisions) = (configs?, changes?, history?, decisions?);
        // Who approved each commit's run.
        let approvers: HashMap<String, String> = decisions
            .into_iter()
            .filter(|(_, (d, _))| d.verdict == Verdict::Approved)
            .filter_map(|(run, (d, _))| Commit::parse(&run).map(|c| (c.id, d.by)))
            .collect();
        let ours: Vec<EndpointChange> = changes
            .iter()
            .filter(|(target, _)| target == name)
            .map(|(_, c)| c.clone())
            .collect();
        let history = credit_deployments(history, &ours, &approvers, &tags);
        configs.sort_by_key(|c| std::cmp::Reverse(c.created));
        let current = endpoint.config_name.clone();
        let config = configs
            .iter()
            .find(|c| Some(&c.name) == current.as_ref())
            .cloned();
        let choices = configs
            .into_iter()
            .filter(|c| Some(&c.name) != current.as_ref())
            .map(|c| RollbackChoice {
                commit: tags.commit_of(ResourceKind::EndpointConfig, &c.name),
                config_name: c.name,
                created: c.created,
            })
            .collect();
        Ok(EndpointView {
            commit: current
                .as_deref()
                .and_then(|c| tags.commit_of(ResourceKind::EndpointConfig, c)),
            config,
            choices,
            last_change: ours.into_iter().next(),
            history,
            endpoint,
        })
    }

    /// Checks the request, then asks SageMaker to update. Answers the config the endpoint
    /// served before (for the audit record, when it was read) and the outcome.
    pub async fn roll_back(
        pipeline: &dyn ControlPlane,
        name: &str,
        config: &str,
        reason: &str,
    ) -> (Option<String>, Result<(), AppError>) {
        if let Err(e) = check_resource_name("endpoint", name)
            .and_then(|_| check_resource_name("endpoint config", config))
            .and_then(|_| check_reason(reason).map(|_| ()))
        {
            return (None, Err(invalid(e)));
        }
        let endpoint = match existing(pipeline, name).await {
            Ok(e) => e,
            Err(e) => return (None, Err(e)),
        };
        let before = endpoint.config_name.clone();
        if endpoint.status != "InService" {
            return (
                before,
                Err(AppError::Conflict(format!(
                    "Endpoint {name} is {} now; a rollback can start once it is InService.",
                    endpoint.status
                ))),
            );
        }
        if before.as_deref() == Some(config) {
            return (
                before,
                Err(AppError::Conflict(format!(
                    "Endpoint {name} already serves {config}; nothing to roll back."
                ))),
            );
        }
        match pipeline.endpoint_config(config).await {
            Ok(_) => {}
            Err(PipelineError::NotFound(_)) => {
                return (
                    before,
                    Err(AppError::Conflict(format!(
                        "There is no endpoint config {config} (it may have been deleted), so \
                         {name} cannot go back to it."
                    ))),
                )
            }
            Err(e) => return (before, Err(e.into())),
        }
        let result = pipeline
            .update_endpoint(name, config)
            .await
            .map_err(AppError::from);
        (before, result)
    }

    pub async fn delete(
        pipeline: &dyn ControlPlane,
        name: &str,
        typed: &str,
    ) -> (Option<String>, Result<(), AppError>) {
        if let Err(e) =
            check_resource_name("endpoint", name).and_then(|_| check_typed_name(name, typed))
        {
            return (None, Err(invalid(e)));
        }
        let endpoint = match existing(pipeline, name).await {
            Ok(e) => e,
            Err(e) => return (None, Err(e)),
        };
        let result = pipeline.delete_endpoint(name).await.map_err(AppError::from);
        (endpoint.config_name, result)
    }
}
