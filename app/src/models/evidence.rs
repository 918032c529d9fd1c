//! The evidence an approver decides on: a model's batch-transform predictions beside the test
//! data's labels, tallied row by row into an accuracy, a confusion matrix and per-class
//! figures — or, when the predictions are not a small set of classes, a count of distinct
//! outputs instead of a matrix nobody could read (a model that outputs floats would make
//! every row a class of its own, and a matrix of classes × classes could exhaust memory).
//!
//! The tally keeps bounded state whatever it is fed: at most [`MAX_CLASSES`] classes and
//! their matrix, the first [`SAMPLE_ROWS`] rows (each cell shortened), and the hashes of at
//! most [`DISTINCT_LIMIT`] distinct outputs and labels.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};

use serde::{Deserialize, Serialize};

/// The most classes a confusion matrix is drawn for. A model whose predictions (or the test
/// data's labels) take more distinct values than this is not treated as a classifier: its
/// matrix would be more than 2,500 cells, unreadable on a page, and a regression model or a
/// scorer reaches it after a few dozen rows.
pub const MAX_CLASSES: usize = 50;

/// Rows shown side by side at most.
pub const SAMPLE_ROWS: usize = 50;

/// Characters of a label or prediction kept for the side-by-side rows.
const SAMPLE_TEXT: usize = 100;

/// Distinct outputs (and labels) counted at most; past it the count reads "10000 or more".
pub const DISTINCT_LIMIT: usize = 10_000;

/// How well a model's batch-transform predictions match the test data's labels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The model (and transform job) the predictions came from.
    pub model: String,
    /// Labelled rows compared.
    pub total: usize,
    /// Rows whose prediction is the label, exactly.
    pub correct: usize,
    pub figures: Figures,
    /// The first rows side by side (label, prediction), for a person to look at.
    pub sample: Vec<(String, String)>,
    /// What did not line up or was not read (row counts, objects over the bound), in words.
    pub problems: Vec<String>,
}

/// What the compared rows amount to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Figures {
    /// A classifier: the classes seen, their confusion matrix and per-class figures.
    Classes(ClassTable),
    /// Predictions that are not a small set of classes: no matrix, and why.
    NotAClassifier(NotAClassifier),
}

/// A classifier's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassTable {
    /// The classes seen, sorted: the confusion matrix's rows and columns.
    pub classes: Vec<String>,
    /// `confusion[actual][predicted]`: how many rows of class `actual` were predicted as
    /// `predicted`.
    pub confusion: Vec<Vec<u32>>,
    pub per_class: Vec<ClassFigures>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassFigures {
    pub class: String,
    /// Of the rows predicted as this class, the share that were: `None` when none were.
    pub precision: Option<f64>,
    /// Of the rows of this class, the share predicted as it: `None` when there were none.
    pub recall: Option<f64>,
    /// Rows of this class in the test data.
    pub support: u32,
}

/// Why the predictions get no confusion matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotAClassifier {
    /// Distinct predictions among the compared rows (counted up to [`DISTINCT_LIMIT`]).
    pub distinct_outputs: usize,
    /// Distinct labels among the compared rows (counted up to [`DISTINCT_LIMIT`]).
    pub distinct_labels: usize,
    /// Every prediction is a number and at least one has a fractional part: scores or
    /// regression values, not class labels, however few of them there are.
    pub fractional_numbers: bool,
}

impl NotAClassifier {
    /// The sentence the approval page shows.
    pub fn sentence(&self) -> String {
        let outputs = count_text(self.distinct_outputs);
        if self.fractional_numbers {
            format!(
                "Not a classifier: {outputs} distinct outputs, all of them numbers and not all \
                 whole (scores or regression values), so there is no confusion matrix."
            )
        } else if self.distinct_outputs > MAX_CLASSES {
            format!(
                "Not a classifier: {outputs} distinct outputs, more than the {MAX_CLASSES} \
                 classes Gatehouse draws a confusion matrix for."
            )
        } else {
            format!(
                "Not a classifier: {outputs} distinct outputs, but the test data has {} \
                 distinct labels, more than the {MAX_CLASSES} classes Gatehouse draws a \
                 confusion matrix for.",
                count_text(self.distinct_labels)
            )
        }
    }
}

fn count_text(count: usize) -> String {
    if count >= DISTINCT_LIMIT {
        format!("{DISTINCT_LIMIT} or more")
    } else {
        count.to_string()
    }
}

impl Evidence {
    /// Compares `labels` with `predictions` row by row (one file's worth).
    pub fn compute(model: &str, labels: &[String], predictions: &[String]) -> Evidence {
        let mut tally = Tally::new();
        tally.compare("the test data", labels, predictions);
        tally.finish(model)
    }

    /// Share of rows predicted right; `None` with nothing to compare, or when the outputs are
    /// not classes (an exact match of a regression value means nothing).
    pub fn accuracy(&self) -> Option<f64> {
        match self.figures {
            Figures::Classes(_) => {
                (self.total > 0).then(|| self.correct as f64 / self.total as f64)
            }
            Figures::NotAClassifier(_) => None,
        }
    }
}

/// `97.4 %`, or `–` for no figure.
pub fn percent(value: Option<f64>) -> String {
    match value {
        Some(v) => format!("{:.1} %", v * 100.0),
        None => "–".into(),
    }
}

/// Rows compared so far, in bounded memory: classes and their counts until there are more
/// than [`MAX_CLASSES`], then only the distinct counts.
#[derive(Debug)]
pub struct Tally {
    /// Class name → index in order of first sight; emptied once there are too many.
    classes: HashMap<String, usize>,
    /// (actual, predicted) class indexes → rows.
    counts: HashMap<(usize, usize), u32>,
    too_many_classes: bool,
    hasher: RandomState,
    outputs: HashSet<u64>,
    labels: HashSet<u64>,
    /// Every prediction so far parsed as a finite number …
    all_numbers: bool,
    /// … and one of them had a fractional part.
    some_fraction: bool,
    total: usize,
    correct: usize,
    unlabelled: usize,
    sample: Vec<(String, String)>,
    problems: Vec<String>,
}

impl Default for Tally {
    fn default() -> Self {
        Self::new()
    }
}

impl Tally {
    pub fn new() -> Tally {
        Tally {
            classes: HashMap::new(),
            counts: HashMap::new(),
            too_many_classes: false,
            hasher: RandomState::new(),
            outputs: HashSet::new(),
            labels: HashSet::new(),
            all_numbers: true,
            some_fraction: false,
            total: 0,
            correct: 0,
            unlabelled: 0,
            sample: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Notes something that did not line up or was not read.
    pub fn problem(&mut self, sentence: String) {
        self.problems.push(sentence);
    }

    /// Compares one file's labels with the predictions written for it, row by row. Unequal
    /// counts are said in a sentence naming `file`, and the common rows compared.
    pub fn compare<L, P>(&mut self, file: &str, labels: &[L], predictions: &[P])
    where
        L: AsRef<str>,
        P: AsRef<str>,
    {
        if labels.len() != predictions.len() {
            self.problem(format!(
                "{file} has {} labelled rows but the transform wrote {} predictions for it; \
                 only the first {} are compared.",
                labels.len(),
                predictions.len(),
                labels.len().min(predictions.len())
            ));
        }
        for (label, prediction) in labels.iter().zip(predictions) {
            self.row(label.as_ref(), prediction.as_ref());
        }
    }

    /// One labelled row and the model's prediction for it.
    pub fn row(&mut self, label: &str, prediction: &str) {
        let (label, prediction) = (label.trim(), prediction.trim());
        if label.is_empty() {
            // The model still answered for the row, so it keeps its place; there is just
            // nothing to compare its answer with.
            self.unlabelled += 1;
            return;
        }
        self.total += 1;
        if label == prediction {
            self.correct += 1;
        }
        match prediction.parse::<f64>() {
            Ok(value) if value.is_finite() => self.some_fraction |= value.fract() != 0.0,
            _ => self.all_numbers = false,
        }
        remember(&mut self.outputs, self.hasher.hash_one(prediction));
        remember(&mut self.labels, self.hasher.hash_one(label));
        if self.sample.len() < SAMPLE_ROWS {
            self.sample.push((
                shortened(label, SAMPLE_TEXT),
                shortened(prediction, SAMPLE_TEXT),
            ));
        }
        if self.too_many_classes {
            return;
        }
        match (self.class(label), self.class(prediction)) {
            (Some(actual), Some(predicted)) => {
                let cell = self.counts.entry((actual, predicted)).or_default();
                *cell = cell.saturating_add(1);
            }
            _ => {
                self.too_many_classes = true;
                self.classes = HashMap::new();
                self.counts = HashMap::new();
            }
        }
    }

    /// The class's index, a new one if there is room; `None` past [`MAX_CLASSES`].
    fn class(&mut self, name: &str) -> Option<usize> {
        if let Some(index) = self.classes.get(name) {
            return Some(*index);
        }
        if self.classes.len() >= MAX_CLASSES {
            return None;
        }
        let index = self.classes.len();
        self.classes.insert(name.to_string(), index);
        Some(index)
    }

    /// The evidence for `model`.
    pub fn finish(mut self, model: &str) -> Evidence {
        if self.unlabelled > 0 {
            self.problems.push(format!(
                "{} rows of the test data have no label (an empty first column); their \
                 predictions are not compared.",
                self.unlabelled
            ));
        }
        let fractional_numbers = self.total > 0 && self.all_numbers && self.some_fraction;
        let figures = if self.too_many_classes || fractional_numbers {
            Figures::NotAClassifier(NotAClassifier {
                distinct_outputs: self.outputs.len(),
                distinct_labels: self.labels.len(),
                fractional_numbers,
            })
        } else {
            Figures::Classes(self.class_table())
        };
        Evidence {
            model: model.to_string(),
            total: self.total,
            correct: self.correct,
            figures,
            sample: self.sample,
            problems: self.problems,
        }
    }

    fn class_table(&self) -> ClassTable {
        let mut named: Vec<(&String, usize)> =
            self.classes.iter().map(|(name, i)| (name, *i)).collect();
        named.sort();
        // Where each first-seen index goes in the sorted order.
        let position: std::collections::HashMap<usize, usize> = named
            .iter()
            .enumerate()
            .map(|(sorted, (_, seen))| (*seen, sorted))
            .collect();
        let n = named.len();
        let mut confusion = vec![vec![0u32; n]; n];
        for ((actual, predicted), rows) in &self.counts {
            let cell = position
                .get(actual)
                .zip(position.get(predicted))
                .and_then(|(row, column)| confusion.get_mut(*row)?.get_mut(*column));
            if let Some(cell) = cell {
                *cell = *rows;
            }
        }
        let classes: Vec<String> = named.into_iter().map(|(name, _)| name.clone()).collect();
        let per_class = classes
            .iter()
            .zip(&confusion)
            .enumerate()
            .map(|(i, (class, row))| {
                let hits = row.get(i).copied().unwrap_or(0);
                let predicted: u32 = confusion.iter().filter_map(|row| row.get(i)).sum();
                let support: u32 = row.iter().sum();
                ClassFigures {
                    class: class.clone(),
                    precision: (predicted > 0).then(|| f64::from(hits) / f64::from(predicted)),
                    recall: (support > 0).then(|| f64::from(hits) / f64::from(support)),
                    support,
                }
            })
            .collect();
        ClassTable {
            classes,
            confusion,
            per_class,
        }
    }
}

fn remember(seen: &mut HashSet<u64>, hash: u64) {
    if seen.len() < DISTINCT_LIMIT {
        seen.insert(hash);
    }
}

fn shortened(text: &str, chars: usize) -> String {
    match text.char_indices().nth(chars) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

/// Reading the test data and the predictions as CSV (RFC 4180: quoted fields may hold
/// commas, quotes doubled, CRLF or LF line ends). Server only (the `csv` feature, which `ssr`
/// turns on): the browser never parses them.
#[cfg(feature = "csv")]
pub mod csv_text {
    use super::{Evidence, Tally};

    /// The first field of every record: the label of each test-data row (the sample
    /// container's contract: label in column 1, no header row, since a batch transform sends
    /// every line to the model), or the prediction of each output line (a model may add
    /// columns after it, a score for instance). Blank lines are no records, as for the
    /// transform that sent the rows; a record whose first field is empty keeps its place
    /// with an empty text.
    pub fn first_fields(text: &str) -> Vec<String> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut record = csv::ByteRecord::new();
        let mut out = Vec::new();
        // The csv reader accepts any bytes as some records (a stray quote included); it only
        // fails on I/O, which reading from memory does not have.
        while reader.read_byte_record(&mut record).unwrap_or(false) {
            let first = record.get(0).unwrap_or_default();
            out.push(String::from_utf8_lossy(first).trim().to_string());
        }
        out
    }

    /// Tallies one test-data file against the predictions written for it.
    pub fn compare(tally: &mut Tally, file: &str, test_data: &str, predictions: &str) {
        tally.compare(file, &first_fields(test_data), &first_fields(predictions));
    }

    /// The evidence of one test-data file and its predictions.
    pub fn evidence(model: &str, test_data: &str, predictions: &str) -> Evidence {
        let mut tally = Tally::new();
        compare(&mut tally, "The test data", test_data, predictions);
        tally.finish(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn table(e: &Evidence) -> &ClassTable {
        match &e.figures {
            Figures::Classes(table) => table,
            other => panic!("expected classes, got {other:?}"),
        }
    }

    fn not_a_classifier(e: &Evidence) -> &NotAClassifier {
        match &e.figures {
            Figures::NotAClassifier(n) => n,
            other => panic!("expected not a classifier, got {other:?}"),
        }
    }

    /// Expected figures counted by hand: precision = hits / predicted as the class, recall =
    /// hits / rows of the class (the definitions in scikit-learn's user guide, "Precision,
    /// recall and F-measures").
    #[test]
    fn evidence_counts_a_confusion_matrix_and_per_class_figures() {
        let labels = strings(&["setosa", "setosa", "versicolor", "virginica", "virginica"]);
        let predictions = strings(&[
            "setosa",
            "versicolor",
            "versicolor",
            "virginica",
            "versicolor",
        ]);
        let e = Evidence::compute("m", &labels, &predictions);
        let t = table(&e);
        assert_eq!(t.classes, strings(&["setosa", "versicolor", "virginica"]));
        assert_eq!(
            t.confusion,
            vec![vec![1, 1, 0], vec![0, 1, 0], vec![0, 1, 1]]
        );
        assert_eq!((e.correct, e.total), (3, 5));
        assert_eq!(e.accuracy(), Some(0.6));
        let versicolor = &t.per_class[1];
        assert_eq!(versicolor.precision, Some(1.0 / 3.0));
        assert_eq!(versicolor.recall, Some(1.0));
        assert_eq!(t.per_class[0].support, 2);
        assert!(e.problems.is_empty());
    }

    #[test]
    fn mismatched_lengths_are_reported_not_hidden() {
        let e = Evidence::compute("m", &strings(&["a", "b", "c"]), &strings(&["a"]));
        assert_eq!(e.total, 1);
        assert!(
            e.problems[0].contains("3 labelled rows"),
            "{:?}",
            e.problems
        );
        let empty = Evidence::compute("m", &[], &[]);
        assert_eq!(empty.accuracy(), None);
        assert_eq!(percent(empty.accuracy()), "–");
    }

    #[test]
    fn fifty_classes_are_a_classifier_and_fifty_one_are_not() {
        let fifty: Vec<String> = (0..50).map(|i| format!("c{i}")).collect();
        let e = Evidence::compute("m", &fifty, &fifty);
        assert_eq!(table(&e).classes.len(), 50);
        assert_eq!(e.accuracy(), Some(1.0));

        let fifty_one: Vec<String> = (0..51).map(|i| format!("c{i}")).collect();
        let e = Evidence::compute("m", &fifty_one, &fifty_one);
        let n = not_a_classifier(&e);
        assert_eq!((n.distinct_outputs, n.distinct_labels), (51, 51));
        assert_eq!(
            n.sentence(),
            "Not a classifier: 51 distinct outputs, more than the 50 classes Gatehouse draws \
             a confusion matrix for."
        );
        assert_eq!(e.accuracy(), None);
        assert_eq!((e.total, e.correct), (51, 51));
    }

    #[test]
    fn many_labels_with_few_outputs_have_no_matrix_either() {
        let labels: Vec<String> = (0..60).map(|i| format!("{i}")).collect();
        let predictions = vec!["0".to_string(); 60];
        let e = Evidence::compute("m", &labels, &predictions);
        let n = not_a_classifier(&e);
        assert_eq!((n.distinct_outputs, n.distinct_labels), (1, 60));
        assert!(n
            .sentence()
            .contains("the test data has 60 distinct labels"));
    }

    #[test]
    fn fractional_numbers_are_scores_however_few() {
        let labels = strings(&["1", "0", "1"]);
        let e = Evidence::compute("m", &labels, &strings(&["0.93", "0.12", "1"]));
        let n = not_a_classifier(&e);
        assert!(n.fractional_numbers);
        assert_eq!(n.distinct_outputs, 3);
        // Whole numbers written with a point are class numbers, not scores.
        let e = Evidence::compute("m", &labels, &strings(&["1.0", "0", "1"]));
        assert_eq!(table(&e).classes, strings(&["0", "1", "1.0"]));
    }

    #[test]
    fn a_float_per_row_keeps_memory_bounded() {
        let rows = 200_000;
        let labels: Vec<String> = (0..rows).map(|i| format!("{}", i % 7)).collect();
        let predictions: Vec<String> = (0..rows).map(|i| format!("{i}.5")).collect();
        let e = Evidence::compute("m", &labels, &predictions);
        let n = not_a_classifier(&e);
        assert_eq!(n.distinct_outputs, DISTINCT_LIMIT);
        assert!(n
            .sentence()
            .starts_with("Not a classifier: 10000 or more distinct outputs"));
        assert_eq!(e.sample.len(), SAMPLE_ROWS);
    }

    #[test]
    fn unlabelled_rows_keep_their_place_but_are_not_compared() {
        let e = Evidence::compute("m", &strings(&["a", "", "b"]), &strings(&["a", "x", "b"]));
        assert_eq!((e.total, e.correct), (2, 2));
        assert!(e.problems[0].starts_with("1 rows of the test data have no label"));
    }

    #[test]
    fn long_cells_are_shortened_in_the_sample() {
        let long = "é".repeat(500);
        let e = Evidence::compute(
            "m",
            std::slice::from_ref(&long),
            std::slice::from_ref(&long),
        );
        assert_eq!(e.sample[0].0.chars().count(), SAMPLE_TEXT + 1);
        assert!(e.sample[0].0.ends_with('…'));
    }

    /// RFC 4180 section 2: fields containing commas, quotes or line breaks are enclosed in
    /// double quotes, a quote inside is doubled, and records end with CRLF (LF accepted by
    /// the csv crate too). The expected labels are written out by hand from those rules.
    #[cfg(feature = "csv")]
    #[test]
    fn labels_are_the_first_field_of_rfc_4180_records() {
        use super::csv_text::first_fields;
        let text = "\"Iris, setosa\",5.1,3.5\r\n\"say \"\"hi\"\"\",1\r\nplain , 2\r\n\r\n\"two\r\nlines\",3\r\n,4\r\nlast";
        assert_eq!(
            first_fields(text),
            strings(&[
                "Iris, setosa",
                "say \"hi\"",
                "plain",
                "two\r\nlines",
                "",
                "last"
            ])
        );
        assert_eq!(first_fields("setosa,5.1,3.5").as_slice(), ["setosa"]);
        assert_eq!(first_fields("\"2\", 1.0").as_slice(), ["2"]);
        assert!(first_fields("").is_empty());
        assert!(first_fields("\n\r\n\n").is_empty());
    }

    #[cfg(feature = "csv")]
    #[test]
    fn quoted_labels_match_quoted_predictions() {
        let test_data = "\"a,1\",0.1,0.2\r\n\"b\",0.3,0.4\r\n";
        // A model may add columns after its prediction (a score here).
        let predictions = "\"a,1\",0.97\n\"a,1\",0.51\n";
        let e = csv_text::evidence("m", test_data, predictions);
        let t = table(&e);
        assert_eq!(t.classes, strings(&["a,1", "b"]));
        assert_eq!(t.confusion, vec![vec![1, 0], vec![1, 0]]);
        assert_eq!((e.correct, e.total), (1, 2));
    }
}
