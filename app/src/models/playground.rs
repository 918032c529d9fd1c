//! What the playground shows: the endpoints to try, a field per feature with the test data's
//! ranges as hints, and an answer — a label per row, rows whose label column disagrees
//! marked, the latency, the variant and the commit and model behind it, and the same request
//! for curl, Python and Rust.

use serde::{Deserialize, Serialize};

use super::commit::Commit;
use super::inference::InvocableEndpoint;

/// One feature's field: its name and the range the test data covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureHint {
    pub name: String,
    pub min: f64,
    pub max: f64,
}

/// The page before anything is sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaygroundSetup {
    pub endpoints: Vec<InvocableEndpoint>,
    /// The endpoint the form is for: the one asked for, else the pipeline's.
    pub chosen: Option<String>,
    /// The chosen endpoint's features, from its commit's test data (empty when unknown).
    pub features: Vec<FeatureHint>,
}

/// One row's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowAnswer {
    pub label: String,
    /// The row's own label, when the pasted rows carried a label column.
    pub expected: Option<String>,
}

impl RowAnswer {
    pub fn differs(&self) -> bool {
        self.expected.as_ref().is_some_and(|e| *e != self.label)
    }
}

/// The same request for other tools.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snippets {
    pub curl: String,
    pub python: String,
    pub rust: String,
}

/// What one try answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaygroundAnswer {
    pub endpoint: String,
    pub rows: Vec<RowAnswer>,
    pub latency_ms: f64,
    pub variant: Option<String>,
    pub model: Option<String>,
    pub commit: Option<Commit>,
    /// Why nothing was answered, in a sentence.
    pub error: Option<String>,
    pub snippets: Snippets,
    /// What was typed, to fill the form again.
    pub sent: String,
}

/// The features of labelled test data (label first, as the pipeline's test split is): a
/// hint per column after the label, with its range. Rows that are not all numbers after the
/// label (a header) are skipped.
pub fn feature_hints(test_data: &str) -> Vec<FeatureHint> {
    let mut ranges: Vec<(f64, f64)> = Vec::new();
    for line in test_data.lines().filter(|l| !l.trim().is_empty()) {
        let values: Option<Vec<f64>> = line
            .split(',')
            .skip(1)
            .map(|f| f.trim().parse::<f64>().ok().filter(|v| v.is_finite()))
            .collect();
        let Some(values) = values.filter(|v| !v.is_empty()) else {
            continue;
        };
        if ranges.is_empty() {
            ranges = values.iter().map(|v| (*v, *v)).collect();
        }
        if values.len() != ranges.len() {
            continue;
        }
        for (range, value) in ranges.iter_mut().zip(values) {
            range.0 = range.0.min(value);
            range.1 = range.1.max(value);
        }
    }
    ranges
        .into_iter()
        .enumerate()
        .map(|(i, (min, max))| FeatureHint {
            name: format!("feature {}", i + 1),
            min,
            max,
        })
        .collect()
}

/// The rows to send and each row's own label: with `features` known, a row with one value
/// more carries its label first (as the test data does), which is taken off and kept.
pub fn split_labels(rows: &str, features: usize) -> (String, Vec<Option<String>>) {
    let mut sent = Vec::new();
    let mut labels = Vec::new();
    for row in rows.lines().filter(|l| !l.trim().is_empty()) {
        let row = row.trim_end_matches('\r');
        match row.split_once(',') {
            Some((label, rest)) if features > 0 && row.split(',').count() == features + 1 => {
                labels.push(Some(label.trim().to_string()));
                sent.push(rest.to_string());
            }
            _ => {
                labels.push(None);
                sent.push(row.to_string());
            }
        }
    }
    (sent.join("\n"), labels)
}

/// Quotes `text` for a POSIX shell.
#[cfg(feature = "ssr")]
fn shell_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The request for curl (through Gatehouse's compatible API, with a token in
/// `$GATEHOUSE_TOKEN`), Python (boto3) and Rust (aws-sdk-sagemakerruntime), both straight to
/// SageMaker.
#[cfg(feature = "ssr")]
pub fn snippets(origin: &str, endpoint: &str, csv: &str) -> Snippets {
    let url = format!("{origin}/v1/invokeSagemakerAPI?sagemaker_endpoint={endpoint}");
    let body = serde_json::json!({ "data": csv }).to_string();
    let curl = format!(
        "curl -s -X POST {} \\\n  -H \"Authorization: Bearer $GATEHOUSE_TOKEN\" \\\n  -H 'Content-Type: application/json' \\\n  --data-raw {}",
        shell_quoted(&url),
        shell_quoted(&body)
    );
    let literal = serde_json::Value::String(csv.to_string()).to_string();
    let python = format!(
        "import boto3\n\nruntime = boto3.client(\"sagemaker-runtime\")\nanswer = runtime.invoke_endpoint(\n    EndpointName=\"{endpoint}\",\n    ContentType=\"text/csv\",\n    Body={literal},\n)\nprint(answer[\"Body\"].read().decode())"
    );
    let rust = format!(
        "let config = aws_config::load_from_env().await;\nlet runtime = aws_sdk_sagemakerruntime::Client::new(&config);\nlet answer = runtime\n    .invoke_endpoint()\n    .endpoint_name(\"{endpoint}\")\n    .content_type(\"text/csv\")\n    .body(aws_sdk_sagemakerruntime::primitives::Blob::new({literal}))\n    .send()\n    .await?;\nlet labels = answer.body().map(|b| String::from_utf8_lossy(b.as_ref()).into_owned());\nprintln!(\"{{}}\", labels.unwrap_or_default());"
    );
    Snippets { curl, python, rust }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEST_DATA: &str =
        "setosa,5.1,3.5,1.4,0.2\nvirginica,6.3,3.3,6.0,2.5\nversicolor,5.7,2.8,4.1,1.3\n";

    #[test]
    fn hints_are_the_ranges_of_the_columns_after_the_label() {
        let hints = feature_hints(&format!("label,a,b,c,d\n{TEST_DATA}"));
        assert_eq!(hints.len(), 4);
        assert_eq!(hints[0].name, "feature 1");
        assert_eq!((hints[0].min, hints[0].max), (5.1, 6.3));
        assert_eq!((hints[2].min, hints[2].max), (1.4, 6.0));
        assert!(feature_hints("").is_empty());
    }

    #[test]
    fn a_label_column_is_recognised_by_one_value_more() {
        let (sent, labels) = split_labels(TEST_DATA, 4);
        assert_eq!(sent, "5.1,3.5,1.4,0.2\n6.3,3.3,6.0,2.5\n5.7,2.8,4.1,1.3");
        assert_eq!(labels[1].as_deref(), Some("virginica"));
        let (sent, labels) = split_labels("5.1,3.5,1.4,0.2\r\n", 4);
        assert_eq!(sent, "5.1,3.5,1.4,0.2");
        assert_eq!(labels, vec![None]);
        // Features unknown: rows go as they are.
        assert_eq!(split_labels(TEST_DATA, 0).0.lines().count(), 3);
        let differs = RowAnswer {
            label: "versicolor".into(),
            expected: Some("virginica".into()),
        };
        assert!(differs.differs());
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_curl_command_survives_the_shell_with_quotes_in_the_rows() {
        let snippets = snippets("http://localhost:3000", "iris-serving", "a'b,1\n2,3");
        assert!(snippets.curl.contains(
            "'http://localhost:3000/v1/invokeSagemakerAPI?sagemaker_endpoint=iris-serving'"
        ));
        assert!(
            snippets
                .curl
                .contains(r#"--data-raw '{"data":"a'\''b,1\n2,3"}'"#),
            "{}",
            snippets.curl
        );
        assert!(
            snippets.python.contains(r#"Body="a'b,1\n2,3","#),
            "{}",
            snippets.python
        );
        assert!(
            snippets.rust.contains(r#"Blob::new("a'b,1\n2,3")"#),
            "{}",
            snippets.rust
        );
    }
}
