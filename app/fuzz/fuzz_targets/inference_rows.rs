//! The rows an invocation sends: `check_rows` (the API's own RFC 4180 check, stricter than a
//! reader) never panics, and rows it accepts are what the `csv` crate — what the local
//! SageMaker and the evidence read CSV with — reads as the same number of records, each as
//! wide as the first.
#![no_main]

use app::models::inference::check_rows;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(rows) = check_rows(text) else {
        return;
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    // check_rows skips lines of nothing but spaces, which the reader takes as a record of one
    // blank field; a quoted empty value (`""`) is a record for both.
    let mut records = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let start = reader.position().byte() as usize;
        if !reader
            .read_record(&mut record)
            .expect("accepted rows are UTF-8 CSV")
        {
            break;
        }
        let end = reader.position().byte() as usize;
        if !text[start..end].trim().is_empty() {
            records.push(record.clone());
        }
    }
    assert_eq!(records.len(), rows, "{text:?}");
    let width = records[0].len();
    assert!(records.iter().all(|r| r.len() == width), "{text:?}");
});
