//! The evidence's CSV reading and tally: any test data and any predictions give an evidence
//! whose figures add up, within the tally's bounds, and never a panic.
#![no_main]

use app::models::evidence::{csv_text, Figures, MAX_CLASSES, SAMPLE_ROWS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The first NUL splits the input into test data and predictions.
    let (test_data, predictions) = text.split_once('\0').unwrap_or((&text, ""));
    let evidence = csv_text::evidence("m", test_data, predictions);
    assert!(evidence.correct <= evidence.total);
    assert!(evidence.sample.len() <= SAMPLE_ROWS);
    if let Figures::Classes(table) = &evidence.figures {
        let n = table.classes.len();
        assert!(n <= MAX_CLASSES);
        assert_eq!(table.confusion.len(), n);
        let cells: u64 = table.confusion.iter().flatten().map(|c| u64::from(*c)).sum();
        assert_eq!(cells, evidence.total as u64);
        let diagonal: u64 = (0..n).map(|i| u64::from(table.confusion[i][i])).sum();
        assert_eq!(diagonal, evidence.correct as u64);
        assert!(table.classes.windows(2).all(|w| w[0] < w[1]), "sorted, distinct");
    }
    if let Some(accuracy) = evidence.accuracy() {
        assert!((0.0..=1.0).contains(&accuracy));
    }
});
