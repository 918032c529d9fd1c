//! InvokeEndpoint: the endpoint's current production variants answer — one chosen at
//! random in proportion to the variants' weights, as SageMaker routes traffic, or the one
//! a `TargetVariant` names — and the answer says which variant it was.

use super::classifier::{parse_features, DataError};
use super::description::Description;
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
    /// InvokeEndpoint with `text/csv`: one row of features per CSV record in, one label per
    /// record out (quoted when it needs to be), no line end after the last.
    pub fn invoke_endpoint(&self, name: &str, body: &str) -> Result<String, SageMakerError> {
        self.invoke(name, body, None).map(|answer| {
            super::csv_text::column(&answer.labels)
                .trim_end_matches('\n')
                .to_string()
        })
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
        let status = endpoint
            .field("EndpointStatus")
            .as_str()
            .unwrap_or_default();
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
        let variants = endpoint
            .field("ProductionVariants")
            .as_array()
            .cloned()
            .unwrap_or_default();
        let chosen = match target_variant {
            Some(target) => variants
                .iter()
                .find(|v| v.field("VariantName") == target)
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
        let model_name = chosen
            .field("ModelName")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let model = self.load_model(&model_name)?;
        let rows = request_rows(body).map_err(|e| model_error(e.to_string()))?;
        let labels = model
            .predict(&rows)
            .map_err(|e| model_error(e.to_string()))?;
        Ok(Invocation {
            labels,
            variant_name: chosen
                .field("VariantName")
                .as_str()
                .unwrap_or_default()
                .to_string(),
            model_name,
        })
    }
}

/// The feature rows of an InvokeEndpoint body (`text/csv`: RFC 4180, no header, blank lines
/// skipped), or the first value that is not a number, with its line.
pub fn request_rows(body: &str) -> Result<Vec<Vec<f64>>, DataError> {
    super::csv_text::records(body)
        .into_iter()
        .map(|record| {
            parse_features(
                record.fields.iter().map(String::as_str),
                "request",
                record.line,
            )
        })
        .collect()
}

/// The variant a uniform draw `u` in [0, 1) falls on when the variants share [0, 1) in
/// proportion to their `CurrentWeight`.
fn pick_by_weight(variants: &[Value], u: f64) -> Option<&Value> {
    let weight = |v: &Value| v.field("CurrentWeight").as_f64().unwrap_or(0.0).max(0.0);
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

    /// RFC 4180: a quoted number is a number (rule 5), CRLF ends a record (rule 1).
    #[test]
    fn request_rows_are_csv_records() {
        assert_eq!(
            request_rows("4.5,\"1.3\", 0.3 ,0.3\r\n\r\n5.9,3,5.1,1.8\r\n").unwrap(),
            vec![vec![4.5, 1.3, 0.3, 0.3], vec![5.9, 3.0, 5.1, 1.8]]
        );
        assert_eq!(
            request_rows("1,2\n1,\"2,5\"\n").unwrap_err().to_string(),
            "request line 2: the feature '2,5' is not a number"
        );
        assert!(request_rows("").unwrap().is_empty());
    }

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
