//! SageMaker for the AWS adapter: training and transform jobs, models, endpoint configs and
//! endpoints, and invoking an endpoint (the SageMaker runtime).
//!
//! Costs: endpoint configs never change once created and are cached (bounded), and so are
//! training and transform jobs once they have ended. One endpoint is described each time it
//! is asked for (its status moves). Listing them is one ListEndpoints per 100 plus one DescribeEndpoint for each
//! endpoint whose status or LastModifiedTime differs from when it was last described: any
//! change SageMaker makes to an endpoint (an update, new weights, a failure) moves one of
//! them, so a description read under the same summary is still the endpoint's, whichever
//! server read it. A view of 50 endpoints costs 51 calls the first time and one after.

use app::control_plane::PipelineError;
use app::models::inference::Invocation;
use app::models::pipeline::{
    Endpoint, EndpointConfig, Model, ProductionVariant, TrainingJob, TransformJob, VariantNow,
};
use tokio::task::JoinSet;

use super::cache::Cache;
use super::errors::{sdk_error, Service};
use super::history::timestamp;

pub(super) struct SageMaker {
    pub(super) client: aws_sdk_sagemaker::Client,
    pub(super) runtime: aws_sdk_sagemakerruntime::Client,
    pub(super) endpoint_configs: Cache<String, EndpointConfig>,
    /// Training and transform jobs that have ended (Completed, Failed, Stopped): they change
    /// no more.
    pub(super) ended_training_jobs: Cache<String, TrainingJob>,
    pub(super) ended_transform_jobs: Cache<String, TransformJob>,
    /// Endpoint descriptions by the summary ListEndpoints gave when they were read.
    pub(super) endpoint_descriptions: Cache<EndpointSummaryKey, Endpoint>,
}

/// A job's status once it can change no more.
fn ended(status: &str) -> bool {
    matches!(status, "Completed" | "Failed" | "Stopped")
}

/// What ListEndpoints says of an endpoint that any change to it moves: name, status and
/// LastModifiedTime.
pub(super) type EndpointSummaryKey = (String, String, Option<i64>);

fn summary_key(endpoint: &Endpoint) -> EndpointSummaryKey {
    (
        endpoint.name.clone(),
        endpoint.status.clone(),
        endpoint.modified.map(|t| t.0),
    )
}

impl SageMaker {
    pub async fn training_job(&self, name: &str) -> Result<TrainingJob, PipelineError> {
        if let Some(job) = self.ended_training_jobs.get(&name.to_string()) {
            return Ok(job);
        }
        let job = self.describe_training_job(name).await?;
        if ended(&job.status) {
            self.ended_training_jobs
                .insert(name.to_string(), job.clone());
        }
        Ok(job)
    }

    async fn describe_training_job(&self, name: &str) -> Result<TrainingJob, PipelineError> {
        let job = self
            .client
            .describe_training_job()
            .training_job_name(name)
            .send()
            .await
            .map_err(|e| {
                sdk_error(
                    Service::SageMaker,
                    "DescribeTrainingJob",
                    || format!("There is no training job {name}."),
                    e,
                )
            })?;
        Ok(TrainingJob {
            name: job.training_job_name().unwrap_or(name).to_string(),
            status: job
                .training_job_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            created: job.creation_time().map(timestamp),
            ended: job.training_end_time().map(timestamp),
            image: job
                .algorithm_specification()
                .and_then(|a| a.training_image())
                .map(str::to_string),
            model_artifacts: job
                .model_artifacts()
                .and_then(|m| m.s3_model_artifacts())
                .map(str::to_string),
            failure_reason: job.failure_reason().map(str::to_string),
            hyperparameters: sorted_by_name(job.hyper_parameters()),
        })
    }

    pub async fn model(&self, name: &str) -> Result<Model, PipelineError> {
        let model = self
            .client
            .describe_model()
            .model_name(name)
            .send()
            .await
            .map_err(|e| {
                sdk_error(
                    Service::SageMaker,
                    "DescribeModel",
                    || format!("There is no model {name}."),
                    e,
                )
            })?;
        let container = model
            .primary_container()
            .or_else(|| model.containers().first());
        Ok(Model {
            name: model.model_name().unwrap_or(name).to_string(),
            image: container.and_then(|c| c.image()).map(str::to_string),
            model_data_url: container
                .and_then(|c| c.model_data_url())
                .map(str::to_string),
            created: model.creation_time().map(timestamp),
        })
    }

    pub async fn transform_job(&self, name: &str) -> Result<TransformJob, PipelineError> {
        if let Some(job) = self.ended_transform_jobs.get(&name.to_string()) {
            return Ok(job);
        }
        let job = self.describe_transform_job(name).await?;
        if ended(&job.status) {
            self.ended_transform_jobs
                .insert(name.to_string(), job.clone());
        }
        Ok(job)
    }

    async fn describe_transform_job(&self, name: &str) -> Result<TransformJob, PipelineError> {
        let job = self
            .client
            .describe_transform_job()
            .transform_job_name(name)
            .send()
            .await
            .map_err(|e| {
                sdk_error(
                    Service::SageMaker,
                    "DescribeTransformJob",
                    || format!("There is no transform job {name}."),
                    e,
                )
            })?;
        Ok(TransformJob {
            name: job.transform_job_name().unwrap_or(name).to_string(),
            status: job
                .transform_job_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            model_name: job.model_name().map(str::to_string),
            input_uri: job
                .transform_input()
                .and_then(|i| i.data_source())
                .and_then(|d| d.s3_data_source())
                .and_then(|s| s.s3_uri())
                .map(str::to_string),
            output_path: job
                .transform_output()
                .and_then(|o| o.s3_output_path())
                .map(str::to_string),
            created: job.creation_time().map(timestamp),
            ended: job.transform_end_time().map(timestamp),
            failure_reason: job.failure_reason().map(str::to_string),
        })
    }

    pub async fn endpoint_configs(&self) -> Result<Vec<EndpointConfig>, PipelineError> {
        let mut names = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_endpoint_configs()
                .max_results(100)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| {
                    sdk_error(Service::SageMaker, "ListEndpointConfigs", String::new, e)
                })?;
            names.extend(
                page.endpoint_configs()
                    .iter()
                    .filter_map(|c| c.endpoint_config_name().map(str::to_string)),
            );
            match page.next_token() {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            match self.endpoint_config(&name).await {
                Ok(config) => out.push(config),
                // Deleted between the list and the describe.
                Err(PipelineError::NotFound(_)) => {}
                Err(other) => return Err(other),
            }
        }
        out.sort_by_key(|c| std::cmp::Reverse(c.created));
        Ok(out)
    }

    pub async fn endpoint_config(&self, name: &str) -> Result<EndpointConfig, PipelineError> {
        if let Some(config) = self.endpoint_configs.get(&name.to_string()) {
            return Ok(config);
        }
        let c = self
            .client
            .describe_endpoint_config()
            .endpoint_config_name(name)
            .send()
            .await
            .map_err(|e| {
                sdk_error(
                    Service::SageMaker,
                    "DescribeEndpointConfig",
                    || format!("There is no endpoint config {name}."),
                    e,
                )
            })?;
        let config = EndpointConfig {
            name: c.endpoint_config_name().unwrap_or(name).to_string(),
            variants: c
                .production_variants()
                .iter()
                .map(|v| ProductionVariant {
                    variant: v.variant_name().unwrap_or_default().to_string(),
                    model_name: v.model_name().unwrap_or_default().to_string(),
                    instance_type: v.instance_type().map(|t| t.as_str().to_string()),
                    instance_count: v.initial_instance_count(),
                    weight: v.initial_variant_weight().map(|w| w.to_string()),
                })
                .collect(),
            created: c.creation_time().map(timestamp),
        };
        // Endpoint configs cannot be changed, only deleted and recreated: a short-lived
        // stale entry after a delete is the worst this can do.
        self.endpoint_configs
            .insert(name.to_string(), config.clone());
        Ok(config)
    }

    pub async fn delete_endpoint_config(&self, name: &str) -> Result<(), PipelineError> {
        // SageMaker deletes a config an endpoint uses without a word; refuse that first.
        if let Some(user) = self.endpoints().await?.into_iter().find(|e| {
            e.config_name.as_deref() == Some(name) || e.pending_config_name.as_deref() == Some(name)
        }) {
            return Err(PipelineError::Conflict(format!(
                "Endpoint config {name} is in use by endpoint {}: update the endpoint to \
                 another config or delete the endpoint first.",
                user.name
            )));
        }
        self.client
            .delete_endpoint_config()
            .endpoint_config_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                sdk_error(
                    Service::SageMaker,
                    "DeleteEndpointConfig",
                    || format!("There is no endpoint config {name}."),
                    e,
                )
            })?;
        self.endpoint_configs.remove(&name.to_string());
        Ok(())
    }

    pub async fn endpoints(&self) -> Result<Vec<Endpoint>, PipelineError> {
        let mut out = Vec::new();
        let mut describes = JoinSet::new();
        for summary in self.endpoint_statuses().await? {
            let key = summary_key(&summary);
            if let Some(known) = self.endpoint_descriptions.get(&key) {
                out.push(known);
                continue;
            }
            let sagemaker = self.client.clone();
            describes.spawn(async move {
                describe_endpoint(&sagemaker, &key.0)
                    .await
                    .map(|endpoint| (key, endpoint))
            });
        }
        while let Some(joined) = describes.join_next().await {
            match joined {
                Ok(Ok((key, endpoint))) => {
                    // Kept under the summary it was listed with only if the description
                    // says the same: a change between the two calls is read again next time.
                    if summary_key(&endpoint) == key {
                        self.endpoint_descriptions.insert(key, endpoint.clone());
                    }
                    out.push(endpoint)
                }
                Ok(Err(PipelineError::NotFound(_))) => {}
                Ok(Err(other)) => return Err(other),
                Err(e) => {
                    tracing::error!(error = %e, "an endpoint describe panicked");
                    return Err(PipelineError::Unavailable(
                        "Reading the endpoints failed.".into(),
                    ));
                }
            }
        }
        out.sort_by(|a, b| b.created.cmp(&a.created).then(a.name.cmp(&b.name)));
        Ok(out)
    }

    /// ListEndpoints alone (one call per 100 endpoints): names, statuses and times, no
    /// config.
    pub async fn endpoint_statuses(&self) -> Result<Vec<Endpoint>, PipelineError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_endpoints()
                .max_results(100)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| sdk_error(Service::SageMaker, "ListEndpoints", String::new, e))?;
            out.extend(page.endpoints().iter().filter_map(|e| {
                Some(Endpoint {
                    name: e.endpoint_name()?.to_string(),
                    config_name: None,
                    status: e
                        .endpoint_status()
                        .map(|s| s.as_str().to_string())
                        .unwrap_or_default(),
                    pending_config_name: None,
                    created: e.creation_time().map(timestamp),
                    modified: e.last_modified_time().map(timestamp),
                    failure_reason: None,
                    variants: Vec::new(),
                })
            }));
            match page.next_token() {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        Ok(out)
    }

    pub async fn endpoint(&self, name: &str) -> Result<Endpoint, PipelineError> {
        describe_endpoint(&self.client, name).await
    }

    pub async fn update_endpoint(
        &self,
        name: &str,
        config_name: &str,
    ) -> Result<(), PipelineError> {
        self.client
            .update_endpoint()
            .endpoint_name(name)
            .endpoint_config_name(config_name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                sdk_error(
                    Service::SageMaker,
                    "UpdateEndpoint",
                    || format!("There is no endpoint {name}, or no endpoint config {config_name}."),
                    e,
                )
            })
    }

    pub async fn delete_endpoint(&self, name: &str) -> Result<(), PipelineError> {
        self.client
            .delete_endpoint()
            .endpoint_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                sdk_error(
                    Service::SageMaker,
                    "DeleteEndpoint",
                    || format!("There is no endpoint {name}."),
                    e,
                )
            })
    }

    /// InvokeEndpoint with `text/csv`. The runtime's own errors are told apart by type: the
    /// model's (`ModelError`, with the status and message the model gave) and a model not
    /// ready yet; the rest as any SageMaker error (a missing endpoint is its
    /// `ValidationError` "Endpoint X of account Y not found.").
    pub async fn invoke_endpoint(
        &self,
        name: &str,
        csv: &str,
    ) -> Result<Invocation, PipelineError> {
        use aws_sdk_sagemakerruntime::error::SdkError;
        use aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointError;

        let sent = self
            .runtime
            .invoke_endpoint()
            .endpoint_name(name)
            .content_type("text/csv")
            .accept("text/csv")
            .body(aws_smithy_types::Blob::new(csv.as_bytes().to_vec()))
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(SdkError::ServiceError(context)) => match context.err() {
                InvokeEndpointError::ModelError(e) => {
                    return Err(PipelineError::ModelError {
                        message: e
                            .original_message()
                            .or(e.message())
                            .unwrap_or("The model failed to answer.")
                            .to_string(),
                        original_status: e
                            .original_status_code()
                            .and_then(|s| u16::try_from(s).ok()),
                    })
                }
                InvokeEndpointError::ModelNotReadyException(e) => {
                    return Err(PipelineError::ModelNotReady(
                        e.message()
                            .unwrap_or("The endpoint's model is not ready yet.")
                            .to_string(),
                    ))
                }
                _ => {
                    return Err(sdk_error(
                        Service::SageMakerRuntime,
                        "InvokeEndpoint",
                        || format!("There is no endpoint {name}."),
                        SdkError::ServiceError(context),
                    ))
                }
            },
            Err(other) => {
                return Err(sdk_error(
                    Service::SageMakerRuntime,
                    "InvokeEndpoint",
                    || format!("There is no endpoint {name}."),
                    other,
                ))
            }
        };
        Ok(Invocation {
            body: out
                .body()
                .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned())
                .unwrap_or_default(),
            variant: out.invoked_production_variant().map(str::to_string),
        })
    }
}

/// A training job's hyperparameters, sorted by name.
fn sorted_by_name(
    hyperparameters: Option<&std::collections::HashMap<String, String>>,
) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = hyperparameters
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    pairs.sort();
    pairs
}

async fn describe_endpoint(
    sagemaker: &aws_sdk_sagemaker::Client,
    name: &str,
) -> Result<Endpoint, PipelineError> {
    let e = sagemaker
        .describe_endpoint()
        .endpoint_name(name)
        .send()
        .await
        .map_err(|e| {
            sdk_error(
                Service::SageMaker,
                "DescribeEndpoint",
                || format!("There is no endpoint {name}."),
                e,
            )
        })?;
    Ok(Endpoint {
        name: e.endpoint_name().unwrap_or(name).to_string(),
        config_name: e.endpoint_config_name().map(str::to_string),
        status: e
            .endpoint_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        pending_config_name: e
            .pending_deployment_summary()
            .and_then(|p| p.endpoint_config_name())
            .map(str::to_string),
        created: e.creation_time().map(timestamp),
        modified: e.last_modified_time().map(timestamp),
        failure_reason: e.failure_reason().map(str::to_string),
        variants: e
            .production_variants()
            .iter()
            .map(|v| VariantNow {
                variant: v.variant_name().unwrap_or_default().to_string(),
                weight: v.current_weight().map(|w| w.to_string()),
                instances: v.current_instance_count(),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hyperparameters_are_sorted_by_name() {
        let map: std::collections::HashMap<String, String> = [
            ("window_size", "5"),
            ("epochs", "5"),
            ("mode", "batch_skipgram"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let names: Vec<String> = sorted_by_name(Some(&map))
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(names, ["epochs", "mode", "window_size"]);
        assert!(sorted_by_name(None).is_empty());
    }
}
