//! InvokeEndpoint: the endpoint's current production variants answer — one chosen at
//! random in proportion to the variants' weights, as SageMaker routes traffic, or the one
//! a `TargetVariant` names — and the answer says which variant it was.

use super::classifier::parse_features;
use super::{model_error, ErrorCode, LocalSageMaker, SageMakerError, ENDPOINT};
use serde_json::Value;

/// The answer of one InvokeEndpoint call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// One label per input row.
    pub labels: Vec<String>,
    /// The production variant that answered (SageMaker's `InvokedProductionVariant`).
    pub variant_name: String,
    /// The model behind that variant.
    pub model_name: String,
}

impl LocalSageMaker {
    /// InvokeEndpoint with `text/csv`: one row of features per line in, one label per
    /// line out.
    pub fn invoke_endpoint(&self, name: &str, body: &str) -> Result<String, SageMakerError> {
        self.invoke(name, body, None)
            .map(|answer| answer.labels.join("\n"))
    }

    /// InvokeEndpoint, saying which production variant answered. Without a
    /// `target_variant` the variant is chosen at random in proportion to the variants'
    /// weights, as SageMaker routes traffic.
    pub fn invoke(
        &self,
        name: &str,
        body: &str,
        target_variant: Option<&str>,
    ) -> Result<Invocation, SageMakerError> {
        let endpoint = self.store.resource(ENDPOINT, name)?.ok_or_else(|| {
            SageMakerError::validation(format!(
                "Endpoint {name} of account {} not found.",
                self.account
            ))
        })?;
        let status = endpoint["EndpointStatus"].as_str().unwrap_or_default();
        if status == "Creating" {
            return Err(SageMakerError {
                code: ErrorCode::ModelNotReady,
                message: format!(
                    "Endpoint {name} is still Creating: its model is being deployed. Try again \
                     once it is InService."
                ),
            });
        }
        if !matches!(status, "InService" | "Updating") {
            return Err(SageMakerError::validation(format!(
                "Endpoint {name} is not in service: its status is {status}."
            )));
        }
        let variants = endpoint["ProductionVariants"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let chosen = match target_variant {
            Some(target) => variants
                .iter()
                .find(|v| v["VariantName"] == target)
                .ok_or_else(|| {
                    SageMakerError::validation(format!(
                        "The TargetVariant '{target}' is not a production variant of endpoint {name}."
                    ))
                })?,
            None => pick_by_weight(&variants, rand::random::<f64>()).ok_or_else(|| {
                SageMakerError::validation(format!(
                    "Endpoint {name} has no production variant with a weight above 0."
                ))
            })?,
        };
        let model_name = chosen["ModelName"].as_str().unwrap_or_default().to_string();
        let model = self.load_model(&model_name)?;
        let mut rows = Vec::new();
        for (i, line) in body
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            rows.push(
                parse_features(line.split(',').map(str::trim), "request", i + 1)
                    .map_err(|e| model_error(e.to_string()))?,
            );
        }
        let labels = model
            .predict(&rows)
            .map_err(|e| model_error(e.to_string()))?;
        Ok(Invocation {
            labels,
            variant_name: chosen["VariantName"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            model_name,
        })
    }
}

/// The variant a uniform draw `u` in [0, 1) falls on when the variants share [0, 1) in
/// proportion to their `CurrentWeight`.
fn pick_by_weight(variants: &[Value], u: f64) -> Option<&Value> {
    let weight = |v: &Value| v["CurrentWeight"].as_f64().unwrap_or(0.0).max(0.0);
    let total: f64 = variants.iter().map(weight).sum();
    if total <= 0.0 {
        return None;
    }
    let mut point = u * total;
    let mut last = None;
    for v in variants.iter().filter(|v| weight(v) > 0.0) {
        if point < weight(v) {
            return Some(v);
        }
        point -= weight(v);
        last = Some(v);
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn draws_fall_on_variants_in_proportion_to_weight() {
        let variants = vec![
            json!({"VariantName": "a", "CurrentWeight": 3.0}),
            json!({"VariantName": "off", "CurrentWeight": 0.0}),
            json!({"VariantName": "b", "CurrentWeight": 1.0}),
        ];
        let name = |u: f64| pick_by_weight(&variants, u).unwrap()["VariantName"].clone();
        assert_eq!(name(0.0), "a");
        assert_eq!(name(0.74), "a");
        assert_eq!(name(0.76), "b");
        assert_eq!(name(0.999_999), "b");
        assert!(pick_by_weight(&[json!({"VariantName": "z", "CurrentWeight": 0})], 0.5).is_none());
    }
}
