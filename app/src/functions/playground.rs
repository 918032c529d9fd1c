//! The playground's server side: what the form offers (viewer), and trying a request, which
//! goes the inference API's one path (role, rate limit, managed endpoints, audit).

use leptos::prelude::*;

use crate::errors::AppError;
use crate::models::playground::PlaygroundSetup;

/// The endpoints to try and the chosen one's features (viewer).
#[server(endpoint = "get_playground")]
pub async fn get_playground(endpoint: Option<String>) -> Result<PlaygroundSetup, AppError> {
    crate::functions::access::require(crate::models::identity::Role::Viewer)?;
    let context = crate::state::server_context()?;
    server::setup(&context, endpoint.as_deref().map(str::trim))
        .await
        .map_err(crate::functions::access::answer)
}

#[cfg(feature = "ssr")]
pub mod server {
    use crate::errors::AppError;
    use crate::functions::inference::{invocable, invoke, millis};
    use crate::functions::lineage::server::commit_tags;
    use crate::models::commit_tags::ResourceKind;
    use crate::models::evidence::csv_text::first_fields;
    use crate::models::identity::Identity;
    use crate::models::inference::{InvocableEndpoint, InvokeError};
    use crate::models::playground::{
        feature_hints, snippets, split_labels, FeatureHint, PlaygroundAnswer, PlaygroundSetup,
        RowAnswer,
    };
    use crate::state::{RequestOrigin, ServerContext};

    fn as_app_error(error: InvokeError) -> AppError {
        match error {
            InvokeError::NotSignedIn => AppError::NotSignedIn,
            InvokeError::Forbidden(m) => AppError::NotAllowed(m),
            InvokeError::Invalid(m) | InvokeError::TooLarge(m) => AppError::InvalidInput(m),
            InvokeError::NotFound(m) => AppError::NotFound(m),
            other => AppError::Upstream(other.message()),
        }
    }

    /// The endpoint asked for when the caller may invoke it, else the pipeline's.
    fn choose(endpoints: &[InvocableEndpoint], asked: Option<&str>) -> Option<String> {
        asked
            .and_then(|a| endpoints.iter().find(|e| e.name == a))
            .or_else(|| endpoints.iter().find(|e| e.pipeline_endpoint))
            .or_else(|| endpoints.first())
            .map(|e| e.name.clone())
    }

    /// The features of the commit an endpoint serves, from that commit's test data (the
    /// input of its batch transform). Empty when any of it cannot be read: the form then
    /// takes pasted rows only.
    async fn features_of(
        context: &ServerContext,
        endpoint: &InvocableEndpoint,
    ) -> Vec<FeatureHint> {
        let pipeline = context.pipeline.as_ref();
        let Some(commit) = &endpoint.commit else {
            return Vec::new();
        };
        let tags = commit_tags(pipeline, &[ResourceKind::TransformJob], Some(&commit.id)).await;
        let Some(job) = tags.name_for(ResourceKind::TransformJob, &commit.id) else {
            return Vec::new();
        };
        let Ok(job) = pipeline.transform_job(&job).await else {
            return Vec::new();
        };
        let Some(input) = job.input_uri else {
            return Vec::new();
        };
        let Some(first) = pipeline
            .list_objects(&input)
            .await
            .ok()
            .and_then(|objects| objects.into_iter().next())
        else {
            return Vec::new();
        };
        // Within the evidence's bound: test data larger than that gives no hints.
        match pipeline
            .read_object(&first.uri, crate::evidence::OBJECT_LIMIT)
            .await
        {
            Ok(text) => feature_hints(&text),
            Err(_) => Vec::new(),
        }
    }

    pub async fn setup(
        context: &ServerContext,
        asked: Option<&str>,
    ) -> Result<PlaygroundSetup, AppError> {
        let endpoints = invocable(context).await.map_err(as_app_error)?;
        let chosen = choose(&endpoints, asked);
        let features = match endpoints.iter().find(|e| Some(&e.name) == chosen.as_ref()) {
            Some(endpoint) => features_of(context, endpoint).await,
            None => Vec::new(),
        };
        Ok(PlaygroundSetup {
            endpoints,
            chosen,
            features,
        })
    }

    /// What the form sent.
    #[derive(Debug, Clone, Default, serde::Deserialize)]
    pub struct Tried {
        pub endpoint: String,
        /// Pasted CSV rows; when empty, the feature fields make the one row.
        #[serde(default)]
        pub rows: String,
        #[serde(flatten)]
        pub fields: std::collections::BTreeMap<String, String>,
    }

    impl Tried {
        /// How many features the form offered: it draws a field per feature of the serving
        /// commit's test data, and sends each, filled or not. Pasted rows with one value more
        /// than that carry their own label first.
        fn feature_count(&self) -> usize {
            self.fields
                .keys()
                .filter(|k| {
                    k.strip_prefix("feature_")
                        .is_some_and(|n| n.parse::<usize>().is_ok())
                })
                .count()
        }

        /// The rows typed: pasted, or the feature fields `feature_1`, `feature_2`, … in order.
        fn typed(&self) -> String {
            if !self.rows.trim().is_empty() {
                return self.rows.clone();
            }
            let mut values: Vec<(usize, &str)> = self
                .fields
                .iter()
                .filter_map(|(k, v)| Some((k.strip_prefix("feature_")?.parse().ok()?, v.trim())))
                .collect();
            values.sort();
            values
                .into_iter()
                .map(|(_, v)| v)
                .collect::<Vec<_>>()
                .join(",")
        }
    }

    /// Sends what the form held and says what came of it; every failure is a sentence on
    /// the page, not an error page.
    pub async fn answer(
        context: &ServerContext,
        caller: Option<&Identity>,
        origin: &RequestOrigin,
        site: &str,
        tried: &Tried,
    ) -> PlaygroundAnswer {
        let endpoint = tried.endpoint.trim().to_string();
        let typed = tried.typed();
        let (csv, expected) = split_labels(&typed, tried.feature_count());
        let result = invoke(context, caller, origin, &endpoint, &csv).await;
        let mut answer = PlaygroundAnswer {
            snippets: snippets(site, &endpoint, &csv),
            endpoint: endpoint.clone(),
            rows: Vec::new(),
            latency_ms: 0.0,
            variant: None,
            model: None,
            commit: None,
            error: None,
            sent: typed,
        };
        match result {
            Ok(answered) => {
                answer.latency_ms = millis(answered.latency);
                // The answer is `text/csv`: one record per row, the label first.
                answer.rows = first_fields(&answered.invocation.body)
                    .into_iter()
                    .zip(expected.into_iter().chain(std::iter::repeat(None)))
                    .map(|(label, expected)| RowAnswer { label, expected })
                    .collect();
                answer.variant = answered.invocation.variant.clone();
                let (model, commit) = behind(context, &endpoint, answer.variant.as_deref()).await;
                answer.model = model;
                answer.commit = commit;
            }
            Err(error) => answer.error = Some(error.message()),
        }
        answer
    }

    /// The model behind the variant that answered, and the commit of the config serving.
    async fn behind(
        context: &ServerContext,
        endpoint: &str,
        variant: Option<&str>,
    ) -> (Option<String>, Option<crate::models::pipeline::Commit>) {
        let pipeline = context.pipeline.as_ref();
        let Ok(described) = pipeline.endpoint(endpoint).await else {
            return (None, None);
        };
        let Some(config_name) = described.config_name else {
            return (None, None);
        };
        let tags = crate::functions::lineage::server::config_tags(pipeline).await;
        let commit = tags.commit_of(ResourceKind::EndpointConfig, &config_name);
        let model = match pipeline.endpoint_config(&config_name).await {
            Ok(config) => config
                .variants
                .iter()
                .find(|v| Some(v.variant.as_str()) == variant)
                .or(config.variants.first())
                .map(|v| v.model_name.clone()),
            Err(_) => None,
        };
        (model, commit)
    }
}
