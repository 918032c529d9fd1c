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

/// The records of CSV text (RFC 4180 through the `csv` crate: quoted fields, doubled quotes,
/// CRLF or LF; blank lines skipped), each field as text (invalid UTF-8 replaced).
#[cfg(feature = "ssr")]
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut record = csv::ByteRecord::new();
    let mut out = Vec::new();
    // Reading from memory has no I/O to fail, and the reader takes any bytes as records.
    while reader.read_byte_record(&mut record).unwrap_or(false) {
        out.push(
            record
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect(),
        );
    }
    out
}

/// One CSV record, quoted where RFC 4180 needs it, without a line end.
#[cfg(feature = "ssr")]
fn csv_line(fields: &[String]) -> String {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    // Writing into memory cannot fail.
    let _ = writer.write_record(fields);
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes)
        .trim_end_matches('\n')
        .to_string()
}

/// The features of labelled test data (label first, as the pipeline's test split is): a
/// hint per column after the label, with its range. Rows that are not all numbers after the
/// label (a header row, which test data may carry for a person's sake) are skipped.
#[cfg(feature = "ssr")]
pub fn feature_hints(test_data: &str) -> Vec<FeatureHint> {
    let mut ranges: Vec<(f64, f64)> = Vec::new();
    for record in csv_records(test_data) {
        let values: Option<Vec<f64>> = record
            .iter()
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
/// more carries its label first (as the test data does), which is taken off and kept. The
/// rows are read as CSV records, so a quoted label may hold a comma; a row without a label is
/// sent as it was typed, so the invocation's own check still sees a broken quote in it.
#[cfg(feature = "ssr")]
pub fn split_labels(rows: &str, features: usize) -> (String, Vec<Option<String>>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(rows.as_bytes());
    let mut record = csv::ByteRecord::new();
    let mut sent = Vec::new();
    let mut labels = Vec::new();
    // Reading from memory has no I/O to fail, and the reader takes any bytes as records.
    while reader.read_byte_record(&mut record).unwrap_or(false) {
        let start = record.position().map_or(0, |p| p.byte()) as usize;
        let end = reader.position().byte() as usize;
        let typed = rows
            .get(start..end)
            .unwrap_or_default()
            // The reader ends a record at CR and takes the LF of a CRLF with the next one:
            // neither belongs to what was typed on the row.
            .trim_matches(['\r', '\n']);
        let fields: Vec<String> = record
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect();
        match fields.split_first() {
            Some((label, values)) if features > 0 && values.len() == features => {
                labels.push(Some(label.trim().to_string()));
                sent.push(csv_line(values));
            }
            _ => {
                labels.push(None);
                sent.push(typed.to_string());
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

    #[cfg(feature = "ssr")]
    #[test]
    fn hints_are_the_ranges_of_the_columns_after_the_label() {
        let hints = feature_hints(&format!("label,a,b,c,d\n{TEST_DATA}"));
        assert_eq!(hints.len(), 4);
        assert_eq!(hints[0].name, "feature 1");
        assert_eq!((hints[0].min, hints[0].max), (5.1, 6.3));
        assert_eq!((hints[2].min, hints[2].max), (1.4, 6.0));
        assert!(feature_hints("").is_empty());
    }

    /// Expected values by hand from RFC 4180 section 2: a quoted field may hold a comma
    /// (rule 6) and a quote doubled (rule 7), quoted numbers are numbers, CRLF ends records.
    #[cfg(feature = "ssr")]
    #[test]
    fn quoted_labels_and_crlf_are_read_as_rfc_4180_says() {
        let rows = "\"Iris, setosa\",\"5.1\",3.5,1.4,0.2\r\n\"say \"\"hi\"\"\",6.3,3.3,6.0,2.5\r\n";
        let (sent, labels) = split_labels(rows, 4);
        assert_eq!(sent, "5.1,3.5,1.4,0.2\n6.3,3.3,6.0,2.5");
        assert_eq!(
            labels,
            vec![
                Some("Iris, setosa".to_string()),
                Some("say \"hi\"".to_string())
            ]
        );
        // A row without a label goes as it was typed, a broken quote included, for the
        // invocation's check to refuse.
        let (sent, labels) = split_labels("\"1,5\",2\r\n5.1,\"3.5\r\n", 3);
        assert_eq!(sent, "\"1,5\",2\n5.1,\"3.5");
        assert_eq!(labels, vec![None, None]);
        let hints = feature_hints("label,a,b\r\n\"x, y\",\"1.5\",2\r\nz,0.5,4\r\n");
        assert_eq!(hints.len(), 2);
        assert_eq!((hints[0].min, hints[0].max), (0.5, 1.5));
        assert_eq!((hints[1].min, hints[1].max), (2.0, 4.0));
    }

    #[cfg(feature = "ssr")]
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
