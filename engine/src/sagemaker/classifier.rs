//! The model the local "SageMaker" trains: a CART decision tree (smartcore) over numeric
//! features, with the class names kept beside it. Rows follow the sample container's
//! contract: no header, label in the first column, CSV as RFC 4180 quotes it.

use serde::{Deserialize, Serialize};
use smartcore::linalg::basic::matrix::DenseMatrix;
use smartcore::tree::decision_tree_classifier::{
    DecisionTreeClassifier, DecisionTreeClassifierParameters,
};

type Tree = DecisionTreeClassifier<f64, u32, DenseMatrix<f64>, Vec<u32>>;

pub const ARTIFACT_FORMAT: &str = "gatehouse-decision-tree/1";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DataError {
    #[error("{0}")]
    Invalid(String),
    #[error("the model could not be trained: {0}")]
    Training(String),
    #[error("prediction failed: {0}")]
    Prediction(String),
}

/// A labelled example.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub label: String,
    pub features: Vec<f64>,
}

/// Parses labelled CSV text (label first, no header; RFC 4180 quoting). `source` names the
/// file in errors.
pub fn parse_labelled_csv(text: &str, source: &str) -> Result<Vec<Example>, DataError> {
    let mut out = Vec::new();
    for record in super::csv_text::records(text) {
        let mut fields = record.fields.iter().map(String::as_str);
        let label = fields.next().unwrap_or_default().to_string();
        if label.is_empty() {
            return Err(DataError::Invalid(format!(
                "{source} line {}: the label (first column) is empty",
                record.line
            )));
        }
        let features = parse_features(fields, source, record.line)?;
        if features.is_empty() {
            return Err(DataError::Invalid(format!(
                "{source} line {}: a row needs a label and at least one feature",
                record.line
            )));
        }
        out.push(Example { label, features });
    }
    Ok(out)
}

/// Parses unlabelled feature values.
pub fn parse_features<'a>(
    fields: impl Iterator<Item = &'a str>,
    source: &str,
    line: usize,
) -> Result<Vec<f64>, DataError> {
    fields
        .map(|f| {
            f.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    DataError::Invalid(format!(
                        "{source} line {line}: the feature '{f}' is not a number"
                    ))
                })
        })
        .collect()
}

#[derive(Debug, Serialize, Deserialize)]
pub struct TrainedModel {
    pub format: String,
    pub classes: Vec<String>,
    pub feature_count: usize,
    pub training_rows: usize,
    pub training_accuracy: f64,
    tree: Tree,
}

impl TrainedModel {
    pub fn train(examples: &[Example]) -> Result<TrainedModel, DataError> {
        let Some(first) = examples.first() else {
            return Err(DataError::Invalid("the training data has no rows".into()));
        };
        let feature_count = first.features.len();
        if let Some((i, bad)) = examples
            .iter()
            .enumerate()
            .find(|(_, e)| e.features.len() != feature_count)
        {
            return Err(DataError::Invalid(format!(
                "row {} has {} features where the first row has {feature_count}",
                i + 1,
                bad.features.len()
            )));
        }
        let mut classes: Vec<String> = examples.iter().map(|e| e.label.clone()).collect();
        classes.sort();
        classes.dedup();
        if classes.len() < 2 {
            return Err(DataError::Invalid(format!(
                "the training data needs at least two different labels, found only '{}'",
                classes.join("")
            )));
        }
        let y: Vec<u32> = examples
            .iter()
            .map(|e| classes.iter().position(|c| *c == e.label).unwrap_or(0) as u32)
            .collect();
        let rows: Vec<Vec<f64>> = examples.iter().map(|e| e.features.clone()).collect();
        let x = DenseMatrix::from_2d_vec(&rows).map_err(|e| DataError::Training(e.to_string()))?;
        let parameters = DecisionTreeClassifierParameters {
            seed: Some(42),
            ..Default::default()
        };
        let tree = Tree::fit(&x, &y, parameters).map_err(|e| DataError::Training(e.to_string()))?;
        let mut model = TrainedModel {
            format: ARTIFACT_FORMAT.into(),
            classes,
            feature_count,
            training_rows: examples.len(),
            training_accuracy: 0.0,
            tree,
        };
        let predicted = model.predict(&rows)?;
        let correct = predicted
            .iter()
            .zip(examples)
            .filter(|(p, e)| **p == e.label)
            .count();
        model.training_accuracy = correct as f64 / examples.len() as f64;
        Ok(model)
    }

    pub fn predict(&self, rows: &[Vec<f64>]) -> Result<Vec<String>, DataError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        if let Some(bad) = rows.iter().find(|r| r.len() != self.feature_count) {
            return Err(DataError::Prediction(format!(
                "a row has {} features, the model expects {}",
                bad.len(),
                self.feature_count
            )));
        }
        let x = DenseMatrix::from_2d_vec(&rows.to_vec())
            .map_err(|e| DataError::Prediction(e.to_string()))?;
        let y = self
            .tree
            .predict(&x)
            .map_err(|e| DataError::Prediction(e.to_string()))?;
        y.into_iter()
            .map(|i| {
                self.classes
                    .get(i as usize)
                    .cloned()
                    .ok_or_else(|| DataError::Prediction(format!("unknown class index {i}")))
            })
            .collect()
    }

    pub fn to_json(&self) -> Result<String, DataError> {
        serde_json::to_string(self).map_err(|e| DataError::Training(e.to_string()))
    }

    pub fn from_json(text: &str) -> Result<TrainedModel, DataError> {
        let model: TrainedModel = serde_json::from_str(text)
            .map_err(|e| DataError::Invalid(format!("not a model artifact: {e}")))?;
        if model.format != ARTIFACT_FORMAT {
            return Err(DataError::Invalid(format!(
                "unknown model format '{}'",
                model.format
            )));
        }
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iris() -> Vec<Example> {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris/iris.csv"))
                .unwrap();
        parse_labelled_csv(&text, "iris.csv").unwrap()
    }

    #[test]
    fn learns_iris_and_round_trips_through_json() {
        let examples = iris();
        assert_eq!(examples.len(), 150);
        let model = TrainedModel::train(&examples).unwrap();
        assert_eq!(model.classes, vec!["setosa", "versicolor", "virginica"]);
        assert!(
            model.training_accuracy > 0.95,
            "{}",
            model.training_accuracy
        );
        let restored = TrainedModel::from_json(&model.to_json().unwrap()).unwrap();
        let rows = vec![vec![4.5, 1.3, 0.3, 0.3], vec![5.9, 3.0, 5.1, 1.8]];
        assert_eq!(
            restored.predict(&rows).unwrap(),
            vec!["setosa", "virginica"]
        );
        assert_eq!(
            restored.predict(&[vec![1.0]]).unwrap_err(),
            DataError::Prediction("a row has 1 features, the model expects 4".into())
        );
    }

    #[test]
    fn bad_rows_are_reported_with_file_and_line() {
        let err = parse_labelled_csv("setosa,1,2\nvirginica,x,3\n", "train.csv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "train.csv line 2: the feature 'x' is not a number"
        );
        assert_eq!(
            parse_labelled_csv("setosa\n", "t.csv").unwrap_err(),
            DataError::Invalid("t.csv line 1: a row needs a label and at least one feature".into())
        );
        assert_eq!(
            TrainedModel::train(&[]).unwrap_err(),
            DataError::Invalid("the training data has no rows".into())
        );
        let one_class = parse_labelled_csv("a,1\na,2\n", "t.csv").unwrap();
        assert!(TrainedModel::train(&one_class)
            .unwrap_err()
            .to_string()
            .contains("at least two different labels"));
        // A quoted label may hold a comma (RFC 4180 rule 6); CRLF ends records (rule 1).
        let quoted =
            parse_labelled_csv("\"Iris, setosa\",1.5,2\r\n\"b\",3,4\r\n", "t.csv").unwrap();
        assert_eq!(
            quoted,
            vec![
                Example {
                    label: "Iris, setosa".into(),
                    features: vec![1.5, 2.0]
                },
                Example {
                    label: "b".into(),
                    features: vec![3.0, 4.0]
                },
            ]
        );
        let err = parse_labelled_csv("\n\na,1\n\"\",2\n", "t.csv").unwrap_err();
        assert_eq!(
            err.to_string(),
            "t.csv line 4: the label (first column) is empty"
        );
        let ragged = parse_labelled_csv("a,1,2\nb,1\n", "t.csv").unwrap();
        assert!(TrainedModel::train(&ragged)
            .unwrap_err()
            .to_string()
            .contains("row 2 has 1 features"));
    }
}
