//! Endpoint configs and endpoints, with SageMaker's lifecycle:
//!
//! - CreateEndpoint answers at once with the endpoint `Creating`; after the endpoint
//!   delay it is `InService`, or `Failed` with a `FailureReason` when a model cannot load.
//! - UpdateEndpoint is refused unless the endpoint is `InService`. The endpoint is then
//!   `Updating` (the old config keeps serving, the new one shows in
//!   `PendingDeploymentSummary`); after the delay it is `InService` on the new config —
//!   or, when a model of the new config cannot load, back `InService` on the previous
//!   config with a `FailureReason`, as SageMaker rolls a failed update back.
//!
//! The delay runs on the engine's clock. A process that stops while an endpoint is
//! Creating or Updating settles it when it starts again. Invocation is in
//! [`super::invocation`], the deployment history in [`super::deployments`].

use super::description::{request_object, Description};
use super::{required, LocalSageMaker, SageMakerError, ENDPOINT, ENDPOINT_CONFIG, MODEL};
use crate::clock::after;
use crate::sagemaker::check_name;
use serde_json::{json, Value};
use std::sync::Arc;
use time::OffsetDateTime;

pub(super) fn from_ms(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn weight_of(variant: &Value) -> Result<f64, SageMakerError> {
    match variant.get("InitialVariantWeight") {
        None | Some(Value::Null) => Ok(1.0),
        Some(w) => w.as_f64().filter(|w| *w >= 0.0 && w.is_finite()).ok_or_else(|| {
            SageMakerError::validation(format!(
                "1 validation error detected: Value '{w}' at 'productionVariants.member.initialVariantWeight' failed to satisfy constraint: Member must have value greater than or equal to 0"
            ))
        }),
    }
}

fn variant_name(variant: &Value) -> String {
    variant
        .get("VariantName")
        .and_then(Value::as_str)
        .unwrap_or("AllTraffic")
        .to_string()
}

impl LocalSageMaker {
    // --- endpoint configs -----------------------------------------------------------

    pub fn create_endpoint_config(&self, request: &Value) -> Result<Value, SageMakerError> {
        self.create_endpoint_config_inner(request, false)
    }

    pub(super) fn create_endpoint_config_inner(
        &self,
        request: &Value,
        resuming: bool,
    ) -> Result<Value, SageMakerError> {
        let name = required(request, "EndpointConfigName")?;
        check_name("endpointConfigName", name)?;
        let variants = request
            .get("ProductionVariants")
            .and_then(Value::as_array)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| {
                SageMakerError::validation("ProductionVariants must list at least one variant")
            })?;
        let mut names = Vec::new();
        let mut total_weight = 0.0;
        for v in variants {
            let model = required(v, "ModelName")?;
            self.describe_model(model).map_err(|_| {
                SageMakerError::validation(format!(
                    "Could not find model \"{}\".",
                    self.arn(MODEL, model)
                ))
            })?;
            total_weight += weight_of(v)?;
            let variant = variant_name(v);
            if names.contains(&variant) {
                return Err(SageMakerError::validation(format!(
                    "The variant name '{variant}' appears more than once in ProductionVariants."
                )));
            }
            names.push(variant);
        }
        if total_weight <= 0.0 {
            return Err(SageMakerError::validation(
                "The sum of the production variants' InitialVariantWeight must be greater than 0.",
            ));
        }
        let arn = self.arn(ENDPOINT_CONFIG, name);
        let mut config = request_object(request)?;
        config.set("EndpointConfigArn", json!(arn));
        config.set("CreationTime", json!(self.now_ms()));
        self.insert(
            ENDPOINT_CONFIG,
            name,
            &config,
            "endpoint configuration",
            resuming,
        )?;
        Ok(json!({"EndpointConfigArn": arn}))
    }

    fn config_not_found(&self, name: &str) -> SageMakerError {
        SageMakerError::validation(format!(
            "Could not find endpoint configuration \"{}\".",
            self.arn(ENDPOINT_CONFIG, name)
        ))
    }

    /// DescribeEndpointConfig; a missing one is SageMaker's ValidationException
    /// "Could not find endpoint configuration ...".
    pub fn describe_endpoint_config(&self, name: &str) -> Result<Value, SageMakerError> {
        self.store
            .resource(ENDPOINT_CONFIG, name)?
            .ok_or_else(|| self.config_not_found(name))
    }

    pub fn list_endpoint_configs(&self) -> Result<Vec<Value>, SageMakerError> {
        Ok(self.store.resources(ENDPOINT_CONFIG)?)
    }

    /// DeleteEndpointConfig. Refused while an endpoint serves the config or is being
    /// created or updated with it: Gatehouse keeps every config that can serve so an
    /// endpoint can always be rolled back to it. (SageMaker itself would delete it and
    /// leave the endpoint running.)
    pub fn delete_endpoint_config(&self, name: &str) -> Result<(), SageMakerError> {
        let _guard = self.endpoint_lock.lock().unwrap_or_else(|p| p.into_inner());
        self.describe_endpoint_config(name)?;
        for endpoint in self.store.resources(ENDPOINT)? {
            let serving = endpoint.field("EndpointConfigName") == name;
            let pending = endpoint
                .pointer("/PendingDeploymentSummary/EndpointConfigName")
                .is_some_and(|c| c == name);
            if serving || pending {
                return Err(SageMakerError::in_use(format!(
                    "Cannot delete endpoint configuration \"{}\": endpoint \"{}\" {} it. Update the endpoint to another configuration or delete the endpoint first.",
                    self.arn(ENDPOINT_CONFIG, name),
                    endpoint.field("EndpointName").as_str().unwrap_or_default(),
                    if serving { "uses" } else { "is being updated to" }
                )));
            }
        }
        self.store.delete_resource(ENDPOINT_CONFIG, name)?;
        self.drop_tags(ENDPOINT_CONFIG, name)?;
        self.notify();
        Ok(())
    }

    /// The production variants of a config as a deployed endpoint shows them, each
    /// model read from its artifact (so a broken artifact fails the deployment).
    fn deploy_variants(&self, config_name: &str) -> Result<Vec<Value>, SageMakerError> {
        let config = self.describe_endpoint_config(config_name)?;
        let mut out = Vec::new();
        for v in config
            .field("ProductionVariants")
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            let model = v
                .field("ModelName")
                .as_str()
                .unwrap_or_default()
                .to_string();
            self.deploy_model(&model).map_err(|e| {
                SageMakerError::validation(format!(
                    "The model of production variant '{}' could not be loaded: {}",
                    variant_name(&v),
                    e.message
                ))
            })?;
            let weight = weight_of(&v)?;
            let count = v.get("InitialInstanceCount").cloned().unwrap_or(json!(1));
            out.push(json!({
                "VariantName": variant_name(&v),
                "ModelName": model,
                "CurrentWeight": weight,
                "DesiredWeight": weight,
                "CurrentInstanceCount": count,
                "DesiredInstanceCount": count,
            }));
        }
        Ok(out)
    }

    // --- endpoints ------------------------------------------------------------------

    fn endpoint_not_found(&self, name: &str) -> SageMakerError {
        SageMakerError::validation(format!(
            "Could not find endpoint \"{}\".",
            self.arn(ENDPOINT, name)
        ))
    }

    /// CreateEndpoint: the endpoint is `Creating` until it settles in the background.
    pub fn create_endpoint(self: &Arc<Self>, request: &Value) -> Result<Value, SageMakerError> {
        self.create_endpoint_inner(request, false)
    }

    pub(super) fn create_endpoint_inner(
        self: &Arc<Self>,
        request: &Value,
        resuming: bool,
    ) -> Result<Value, SageMakerError> {
        let name = required(request, "EndpointName")?;
        check_name("endpointName", name)?;
        let config_name = required(request, "EndpointConfigName")?;
        self.describe_endpoint_config(config_name)?;
        let arn = self.arn(ENDPOINT, name);
        let now = self.now_ms();
        let mut endpoint = json!({
            "EndpointName": name,
            "EndpointArn": arn,
            "EndpointConfigName": config_name,
            "EndpointStatus": "Creating",
            "CreationTime": now,
            "LastModifiedTime": now,
        });
        if let Some(tags) = request.get("Tags") {
            endpoint.set("Tags", tags.clone());
        }
        let created = {
            let _guard = self.endpoint_lock.lock().unwrap_or_else(|p| p.into_inner());
            let created = self.insert(ENDPOINT, name, &endpoint, "endpoint", resuming)?;
            if created {
                self.record_requested(name, config_name, now)?;
            }
            created
        };
        if created {
            self.spawn_settle(name);
        }
        Ok(json!({"EndpointArn": arn}))
    }

    /// DescribeEndpoint; a missing one is SageMaker's ValidationException
    /// "Could not find endpoint ...".
    pub fn describe_endpoint(&self, name: &str) -> Result<Value, SageMakerError> {
        self.store
            .resource(ENDPOINT, name)?
            .ok_or_else(|| self.endpoint_not_found(name))
    }

    pub fn list_endpoints(&self) -> Result<Vec<Value>, SageMakerError> {
        Ok(self.store.resources(ENDPOINT)?)
    }

    /// Waits until the endpoint is neither Creating nor Updating; returns its description.
    pub async fn wait_for_endpoint(&self, name: &str) -> Result<Value, SageMakerError> {
        let mut changes = self.changes.subscribe();
        loop {
            let endpoint = self.describe_endpoint(name)?;
            if !matches!(
                endpoint.field("EndpointStatus").as_str(),
                Some("Creating") | Some("Updating")
            ) {
                return Ok(endpoint);
            }
            if changes.changed().await.is_err() {
                return Ok(endpoint);
            }
        }
    }

    /// UpdateEndpoint: deploys another endpoint config (a roll back is an update to an
    /// earlier config). The endpoint is `Updating` and keeps serving its current config
    /// until the update settles.
    pub fn update_endpoint(
        self: &Arc<Self>,
        name: &str,
        config_name: &str,
    ) -> Result<Value, SageMakerError> {
        self.update_endpoint_inner(name, config_name, false)
    }

    pub(super) fn update_endpoint_inner(
        self: &Arc<Self>,
        name: &str,
        config_name: &str,
        resuming: bool,
    ) -> Result<Value, SageMakerError> {
        {
            let _guard = self.endpoint_lock.lock().unwrap_or_else(|p| p.into_inner());
            let mut endpoint = self.describe_endpoint(name)?;
            let status = endpoint
                .field("EndpointStatus")
                .as_str()
                .unwrap_or_default();
            let pending = endpoint
                .pointer("/PendingDeploymentSummary/EndpointConfigName")
                .and_then(Value::as_str);
            if resuming
                && (pending == Some(config_name)
                    || (status == "InService"
                        && endpoint.field("EndpointConfigName") == config_name))
            {
                // This call was made before a restart.
                return Ok(json!({"EndpointArn": endpoint.field("EndpointArn")}));
            }
            match status {
                "InService" => {}
                "Failed" => {
                    return Err(SageMakerError::validation(format!(
                        "Cannot update failed endpoint \"{}\". Delete it and create it again.",
                        self.arn(ENDPOINT, name)
                    )))
                }
                _ => {
                    return Err(SageMakerError::validation(format!(
                        "Cannot update in-progress endpoint \"{}\".",
                        self.arn(ENDPOINT, name)
                    )))
                }
            }
            self.describe_endpoint_config(config_name)?;
            let now = self.now_ms();
            endpoint.set("EndpointStatus", json!("Updating"));
            endpoint.set(
                "PendingDeploymentSummary",
                json!({"EndpointConfigName": config_name, "StartTime": now}),
            );
            endpoint.set("LastModifiedTime", json!(now));
            if let Some(map) = endpoint.as_object_mut() {
                map.remove("FailureReason");
            }
            self.save(ENDPOINT, name, &endpoint)?;
            self.record_requested(name, config_name, now)?;
        }
        self.spawn_settle(name);
        let endpoint = self.describe_endpoint(name)?;
        Ok(json!({"EndpointArn": endpoint.field("EndpointArn")}))
    }

    /// DeleteEndpoint. Refused while the endpoint is Creating or Updating, as SageMaker
    /// refuses it; afterwards the endpoint no longer answers and Describe does not find it.
    pub fn delete_endpoint(&self, name: &str) -> Result<(), SageMakerError> {
        self.delete_endpoint_inner(name, false)
    }

    pub(super) fn delete_endpoint_inner(
        &self,
        name: &str,
        resuming: bool,
    ) -> Result<(), SageMakerError> {
        let _guard = self.endpoint_lock.lock().unwrap_or_else(|p| p.into_inner());
        let endpoint = match self.store.resource(ENDPOINT, name)? {
            Some(e) => e,
            None if resuming => return Ok(()),
            None => return Err(self.endpoint_not_found(name)),
        };
        if matches!(
            endpoint.field("EndpointStatus").as_str(),
            Some("Creating") | Some("Updating")
        ) {
            return Err(SageMakerError::validation(format!(
                "Cannot delete in-progress endpoint \"{}\".",
                self.arn(ENDPOINT, name)
            )));
        }
        self.store.delete_resource(ENDPOINT, name)?;
        self.drop_tags(ENDPOINT, name)?;
        self.update_deployments(name, |deployments| {
            let now = self.now_ms();
            for d in deployments.iter_mut() {
                if d.field("ServedFrom").is_i64() && d.field("ServedUntil").is_null() {
                    d.set("ServedUntil", json!(now));
                }
            }
        })?;
        self.notify();
        Ok(())
    }

    // --- settling a deployment ------------------------------------------------------

    /// Settles, in the background, the operation the endpoint is in (Creating or
    /// Updating) once the endpoint delay has passed since it began.
    fn spawn_settle(self: &Arc<Self>, name: &str) {
        let Ok(Some(endpoint)) = self.store.resource(ENDPOINT, name) else {
            return;
        };
        let Some(started) = endpoint.field("LastModifiedTime").as_i64() else {
            return;
        };
        let this = self.clone();
        let name = name.to_string();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    let due = after(from_ms(started), this.endpoint_delay);
                    this.clock.sleep_until(due).await;
                    this.settle(&name, started);
                });
            }
            // Outside a runtime there is nothing to wait on: settle now.
            Err(_) => this.settle(&name, started),
        }
    }

    /// Ends the Creating/Updating operation that began at `started`. Waiters are woken
    /// whatever happens, so one that watches a settled endpoint re-reads it.
    fn settle(&self, name: &str, started: i64) {
        if !self.is_stopped() {
            self.settle_operation(name, started);
        }
        self.notify();
    }

    fn settle_operation(&self, name: &str, started: i64) {
        let _guard = self.endpoint_lock.lock().unwrap_or_else(|p| p.into_inner());
        let Ok(Some(mut endpoint)) = self.store.resource(ENDPOINT, name) else {
            return;
        };
        if endpoint.field("LastModifiedTime").as_i64() != Some(started) {
            return;
        }
        let now = self.now_ms();
        let (target, updating) = match endpoint.field("EndpointStatus").as_str() {
            Some("Creating") => (endpoint.field("EndpointConfigName").clone(), false),
            Some("Updating") => (
                endpoint
                    .pointer("/PendingDeploymentSummary/EndpointConfigName")
                    .cloned()
                    .unwrap_or(Value::Null),
                true,
            ),
            _ => return,
        };
        let target = target.as_str().unwrap_or_default().to_string();
        let outcome = self.deploy_variants(&target);
        match &outcome {
            Ok(variants) => {
                endpoint.set("EndpointConfigName", json!(target));
                endpoint.set("ProductionVariants", json!(variants));
                endpoint.set("EndpointStatus", json!("InService"));
            }
            Err(e) if updating => {
                // SageMaker rolls a failed update back: the previous config keeps serving.
                endpoint.set("EndpointStatus", json!("InService"));
                let reason = format!(
                    "Failed to update endpoint to endpoint configuration \"{target}\"; the endpoint was rolled back to \"{}\". {}",
                    endpoint.field("EndpointConfigName").as_str().unwrap_or_default(),
                    e.message
                );
                endpoint.set("FailureReason", json!(reason));
            }
            Err(e) => {
                endpoint.set("EndpointStatus", json!("Failed"));
                endpoint.set("FailureReason", json!(e.message));
            }
        }
        if let Some(map) = endpoint.as_object_mut() {
            map.remove("PendingDeploymentSummary");
        }
        endpoint.set("LastModifiedTime", json!(now));
        // If this write fails the endpoint stays in its operation and settles after a restart.
        if self.save(ENDPOINT, name, &endpoint).is_err() {
            return;
        }
        let _ = self.update_deployments(name, |deployments| {
            let Some(i) = deployments.iter().rposition(|d| {
                d.field("EndpointConfigName") == target.as_str()
                    && d.field("ServedFrom").is_null()
                    && d.field("FailureReason").is_null()
            }) else {
                return;
            };
            match &outcome {
                Ok(_) => {
                    for (j, d) in deployments.iter_mut().enumerate() {
                        if j != i
                            && d.field("ServedFrom").is_i64()
                            && d.field("ServedUntil").is_null()
                        {
                            d.set("ServedUntil", json!(now));
                        }
                    }
                    if let Some(d) = deployments.get_mut(i) {
                        d.set("ServedFrom", json!(now));
                    }
                }
                Err(e) => {
                    if let Some(d) = deployments.get_mut(i) {
                        d.set("FailureReason", json!(e.message));
                    }
                }
            }
        });
    }

    /// Settles (in the background) every endpoint a stopped process left Creating or
    /// Updating. Returns how many.
    pub(super) fn resume_unsettled_endpoints(self: &Arc<Self>) -> Result<usize, SageMakerError> {
        let mut resumed = 0;
        for endpoint in self.store.resources(ENDPOINT)? {
            if matches!(
                endpoint.field("EndpointStatus").as_str(),
                Some("Creating") | Some("Updating")
            ) {
                if let Some(name) = endpoint.field("EndpointName").as_str() {
                    self.spawn_settle(name);
                    resumed += 1;
                }
            }
        }
        Ok(resumed)
    }
}
