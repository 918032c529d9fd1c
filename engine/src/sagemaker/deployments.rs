//! The deployment history of endpoints: every endpoint config an endpoint was asked to
//! serve, and when it served. This is Gatehouse's own record — SageMaker has no API that
//! lists the configs an endpoint served — so in `aws` mode Gatehouse must rebuild it
//! otherwise (from the executions that deployed, the endpoint's tags, and CloudTrail's
//! CreateEndpoint/UpdateEndpoint events with the endpoint's status afterwards).

use super::endpoints::from_ms;
use super::{LocalSageMaker, SageMakerError};
use serde_json::{json, Value};
use time::OffsetDateTime;

const DEPLOYMENTS: &str = "endpoint-deployments";

/// One endpoint config an endpoint was asked to serve, and what came of it.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointDeployment {
    pub endpoint_config_name: String,
    /// When CreateEndpoint or UpdateEndpoint asked for this config.
    pub requested_at: OffsetDateTime,
    /// When it began to serve; `None` if it never did (still deploying, or failed).
    pub served_from: Option<OffsetDateTime>,
    /// When another config (or the endpoint's deletion) replaced it; `None` while serving.
    pub served_until: Option<OffsetDateTime>,
    /// Why the deployment failed (the endpoint then kept serving the previous config, or
    /// is `Failed` if there was none).
    pub failure_reason: Option<String>,
}

impl LocalSageMaker {
    pub(super) fn record_requested(
        &self,
        name: &str,
        config: &str,
        at: i64,
    ) -> Result<(), SageMakerError> {
        self.update_deployments(name, |deployments| {
            deployments.push(json!({"EndpointConfigName": config, "RequestedAt": at}));
        })
    }

    pub(super) fn update_deployments(
        &self,
        name: &str,
        change: impl FnOnce(&mut Vec<Value>),
    ) -> Result<(), SageMakerError> {
        let stored = self.store.resource(DEPLOYMENTS, name)?;
        let exists = stored.is_some();
        let mut deployments = stored
            .and_then(|v| v.get("Deployments").and_then(Value::as_array).cloned())
            .unwrap_or_default();
        change(&mut deployments);
        let body = json!({"Deployments": deployments});
        if exists {
            self.store.update_resource(DEPLOYMENTS, name, &body)?;
        } else {
            self.store
                .insert_resource(DEPLOYMENTS, name, &body, self.now_ms())?;
        }
        Ok(())
    }

    /// Every endpoint config the endpoint `name` was asked to serve, oldest first, with
    /// when it served. Kept after the endpoint is deleted (its last entry then has
    /// `served_until`); empty for a name that never had an endpoint.
    ///
    /// This is Gatehouse's record, not a SageMaker API: in `aws` mode the history must be
    /// rebuilt from the pipeline's executions, the endpoint's tags and CloudTrail.
    pub fn endpoint_deployments(
        &self,
        name: &str,
    ) -> Result<Vec<EndpointDeployment>, SageMakerError> {
        let stored = self.store.resource(DEPLOYMENTS, name)?;
        let time = |v: &Value| v.as_i64().map(from_ms);
        Ok(stored
            .and_then(|v| v.get("Deployments").and_then(Value::as_array).cloned())
            .unwrap_or_default()
            .iter()
            .map(|d| EndpointDeployment {
                endpoint_config_name: d["EndpointConfigName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                requested_at: time(&d["RequestedAt"]).unwrap_or(OffsetDateTime::UNIX_EPOCH),
                served_from: time(&d["ServedFrom"]),
                served_until: time(&d["ServedUntil"]),
                failure_reason: d["FailureReason"].as_str().map(str::to_string),
            })
            .collect())
    }
}
