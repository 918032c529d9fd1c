//! The evidence for an approval, read within bounds and kept while its objects stay the same
//! (server only).
//!
//! Listing is cheap and reading is not. Every view of an approval page — and every live event
//! of its run makes open pages ask again — lists the test data and the predictions, and reads
//! them only when that listing was not tallied before. Objects are read a few at a time, each
//! no larger than [`OBJECT_LIMIT`] and all together no more than [`TOTAL_LIMIT`]: an object
//! over a bound is not read at all (its size comes from the listing), and the evidence says so
//! in a sentence that names it and the bound.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::{Arc, Mutex};

use futures_util::stream::{self, StreamExt};
use tokio::sync::OnceCell;

use crate::control_plane::{ControlPlane, PipelineError};
use crate::models::evidence::{csv_text, Evidence, Tally};
use crate::models::pipeline::StoredObject;

/// The largest object read for evidence: the test data of a model the pipeline trains on one
/// machine is far smaller, and a file this size is still tallied in well under a second.
pub const OBJECT_LIMIT: u64 = 8_000_000;
/// The most read for one evidence, test data and predictions together. It is also what a
/// computation can hold in memory at once, whatever the concurrency.
pub const TOTAL_LIMIT: u64 = 32_000_000;
/// Objects read at the same time (each pair is its test data and its predictions).
pub const PAIRS_AT_ONCE: usize = 4;
/// Evidences kept. Each is small whatever the data (at most 50 classes, 50 sample rows), so
/// this bounds the cache's memory.
pub const CACHE_ENTRIES: usize = 64;

/// What an evidence is computed from, as the listings describe it: the model and transform
/// job's name, and every test-data object and every prediction object with its URI, size,
/// version and modification time as the backend gives them.
///
/// The key identifies the content because every write of an object changes what its listing
/// says. S3 gives each write a new `LastModified` and an ETag derived from the content (the
/// MD5 of a single-part upload; for a multipart upload a digest of its parts' digests), so
/// equal listings mean equal bytes. A local file has no ETag, but the engine writes each file
/// whole under a temporary name and renames it into place: each write is a new inode with a
/// new modification time (kept to the nanosecond). Two Gatehouse processes that see the same
/// listing therefore compute the same evidence; the cache saves only the reading, and a
/// process without it (another instance, a restart) reads and computes the same thing.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EvidenceKey {
    pub model: String,
    pub test_data: Vec<StoredObject>,
    pub predictions: Vec<StoredObject>,
}

/// Evidences computed in this process, the [`CACHE_ENTRIES`] most recently used. A
/// computation runs once per key however many requests ask at the same time; one that fails
/// (an object could not be read) is not kept, so the next request tries again.
#[derive(Debug, Default)]
pub struct EvidenceCache {
    entries: Mutex<Entries>,
}

#[derive(Debug, Default)]
struct Entries {
    cells: HashMap<Arc<EvidenceKey>, Arc<OnceCell<Evidence>>>,
    /// Least recently used first.
    order: VecDeque<Arc<EvidenceKey>>,
}

impl EvidenceCache {
    pub fn new() -> EvidenceCache {
        EvidenceCache::default()
    }

    /// The evidence for `key`: kept, or computed now by `compute`.
    pub async fn get_or_compute<F, Fut>(
        &self,
        key: EvidenceKey,
        compute: F,
    ) -> Result<Evidence, String>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Evidence, String>>,
    {
        let cell = self.cell(key);
        cell.get_or_try_init(compute).await.cloned()
    }

    /// How many evidences are kept (or being computed).
    pub fn len(&self) -> usize {
        self.lock().cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A poisoned map only means another request panicked while holding it; the entries
        // themselves are still consistent (each change below is one step).
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn cell(&self, key: EvidenceKey) -> Arc<OnceCell<Evidence>> {
        let mut entries = self.lock();
        if let Some(cell) = entries.cells.get(&key).cloned() {
            if let Some(at) = entries.order.iter().position(|k| **k == key) {
                if let Some(used) = entries.order.remove(at) {
                    entries.order.push_back(used);
                }
            }
            return cell;
        }
        let key = Arc::new(key);
        let cell = Arc::new(OnceCell::new());
        entries.cells.insert(Arc::clone(&key), Arc::clone(&cell));
        entries.order.push_back(key);
        while entries.order.len() > CACHE_ENTRIES {
            if let Some(oldest) = entries.order.pop_front() {
                entries.cells.remove(&oldest);
            }
        }
        cell
    }
}

/// A model's predictions on the test data its transform job was given, against that data's
/// labels: from the cache when the listings are the ones tallied before.
pub async fn evidence_for(
    pipeline: &dyn ControlPlane,
    cache: &EvidenceCache,
    job: &str,
) -> Result<Evidence, String> {
    let transform = pipeline
        .transform_job(job)
        .await
        .map_err(|e| format!("No batch transform to judge by: {e}"))?;
    let input = transform
        .input_uri
        .clone()
        .ok_or("The transform job names no input data.")?;
    let (test_data, predictions) = tokio::join!(
        pipeline.list_objects(&input),
        pipeline.transform_output(job)
    );
    let mut test_data = test_data.map_err(|e| format!("The test data cannot be read: {e}"))?;
    let mut predictions =
        predictions.map_err(|e| format!("The predictions cannot be read: {e}"))?;
    test_data.sort_by(|a, b| a.uri.cmp(&b.uri));
    predictions.sort_by(|a, b| a.uri.cmp(&b.uri));
    let plan = plan(&test_data, &predictions);
    let key = EvidenceKey {
        model: job.to_string(),
        test_data,
        predictions,
    };
    cache
        .get_or_compute(key, || read_and_tally(pipeline, job, plan))
        .await
}

/// Which objects to read: each test-data file with the predictions written for it, and what
/// cannot be compared, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// (test data, its predictions), in the test data's order.
    pub pairs: Vec<(StoredObject, StoredObject)>,
    pub problems: Vec<String>,
}

/// Pairs every test-data object with its predictions (`<file>.out`, as a batch transform
/// names them) and keeps the pairs within [`OBJECT_LIMIT`] and [`TOTAL_LIMIT`], in order.
pub fn plan(test_data: &[StoredObject], predictions: &[StoredObject]) -> Plan {
    let mut pairs = Vec::new();
    let mut problems = Vec::new();
    let mut planned: u64 = 0;
    for input in test_data {
        let file = file_name(&input.uri);
        let Some(output) = predictions
            .iter()
            .find(|o| o.uri.ends_with(&format!("/{file}.out")))
        else {
            problems.push(format!("No predictions were written for {file}."));
            continue;
        };
        let mut fits = true;
        if input.size > OBJECT_LIMIT {
            fits = false;
            problems.push(format!(
                "The test data {} is {}, over the {} Gatehouse reads for evidence; its rows \
                 are not compared.",
                input.uri,
                size_text(input.size),
                size_text(OBJECT_LIMIT)
            ));
        }
        if output.size > OBJECT_LIMIT {
            fits = false;
            problems.push(format!(
                "The predictions {} are {}, over the {} Gatehouse reads for evidence; the \
                 rows of {file} are not compared.",
                output.uri,
                size_text(output.size),
                size_text(OBJECT_LIMIT)
            ));
        }
        if !fits {
            continue;
        }
        let both = input.size.saturating_add(output.size);
        if planned.saturating_add(both) > TOTAL_LIMIT {
            problems.push(format!(
                "Gatehouse reads at most {} of test data and predictions for evidence: {} \
                 ({}) and its predictions ({}) are not compared.",
                size_text(TOTAL_LIMIT),
                input.uri,
                size_text(input.size),
                size_text(output.size)
            ));
            continue;
        }
        planned += both;
        pairs.push((input.clone(), output.clone()));
    }
    Plan { pairs, problems }
}

/// Reads the planned pairs, [`PAIRS_AT_ONCE`] at a time, and tallies each as it arrives (on a
/// blocking thread: parsing megabytes of CSV is work, not waiting). Each text is dropped once
/// tallied, so what is held at once is bounded by the plan's total.
async fn read_and_tally(
    pipeline: &dyn ControlPlane,
    model: &str,
    plan: Plan,
) -> Result<Evidence, String> {
    let mut tally = Tally::new();
    let mut reads = stream::iter(plan.pairs)
        .map(|(input, output)| async move {
            let (labels, predictions) = tokio::join!(
                pipeline.read_object(&input.uri, OBJECT_LIMIT),
                pipeline.read_object(&output.uri, OBJECT_LIMIT)
            );
            (input, labels, predictions)
        })
        .buffered(PAIRS_AT_ONCE);
    while let Some((input, labels, predictions)) = reads.next().await {
        match (labels, predictions) {
            (Ok(labels), Ok(predictions)) => {
                let file = file_name(&input.uri).to_string();
                tally = tokio::task::spawn_blocking(move || {
                    csv_text::compare(&mut tally, &file, &labels, &predictions);
                    tally
                })
                .await
                .map_err(|e| {
                    tracing::error!(error = %e, "tallying the evidence failed");
                    "The evidence could not be computed.".to_string()
                })?;
            }
            // Grown past the bound since it was listed: said like one listed that large.
            (Err(PipelineError::TooLarge(sentence)), _)
            | (_, Err(PipelineError::TooLarge(sentence))) => tally.problem(sentence),
            (Err(e), _) => return Err(format!("The test data cannot be read: {e}")),
            (_, Err(e)) => return Err(format!("The predictions cannot be read: {e}")),
        }
    }
    for problem in plan.problems {
        tally.problem(problem);
    }
    Ok(tally.finish(model))
}

/// The last part of an object's URI.
fn file_name(uri: &str) -> &str {
    uri.rsplit('/').next().unwrap_or_default()
}

/// `52.4 MB`, `8 MB`, `3.1 KB`, `12 bytes` (decimal units, as S3's console shows sizes).
pub fn size_text(bytes: u64) -> String {
    const KB: u64 = 1_000;
    const MB: u64 = 1_000_000;
    if bytes >= MB && bytes.is_multiple_of(MB) {
        format!("{} MB", bytes / MB)
    } else if bytes >= MB {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    } else if bytes >= KB {
        format!("{:.1} KB", bytes as f64 / KB as f64)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::models::evidence::Figures;

    fn object(uri: &str, size: u64) -> StoredObject {
        StoredObject {
            uri: uri.to_string(),
            size,
            version: Some("\"e\"".into()),
            modified: Some("1.0".into()),
        }
    }

    fn key(n: usize) -> EvidenceKey {
        EvidenceKey {
            model: format!("m{n}"),
            test_data: vec![object("s3://b/test/test.csv", 10)],
            predictions: vec![object("s3://b/out/test.csv.out", 5)],
        }
    }

    fn evidence(model: &str) -> Evidence {
        Evidence::compute(model, &["a".to_string()], &["a".to_string()])
    }

    #[test]
    fn sizes_read_in_decimal_units() {
        assert_eq!(size_text(52_400_000), "52.4 MB");
        assert_eq!(size_text(8_000_000), "8 MB");
        assert_eq!(size_text(3_140), "3.1 KB");
        assert_eq!(size_text(12), "12 bytes");
    }

    #[test]
    fn an_object_over_the_bound_is_not_planned_and_is_named() {
        let test_data = [object("s3://b/test/test.csv", 1_000)];
        let predictions = [object("s3://b/out/test.csv.out", 52_400_000)];
        let plan = plan(&test_data, &predictions);
        assert!(plan.pairs.is_empty());
        assert_eq!(
            plan.problems,
            [
                "The predictions s3://b/out/test.csv.out are 52.4 MB, over the 8 MB Gatehouse \
              reads for evidence; the rows of test.csv are not compared."
            ]
        );
        let test_data = [object("s3://b/test/test.csv", 9_000_000)];
        let predictions = [object("s3://b/out/test.csv.out", 10)];
        let plan = super::plan(&test_data, &predictions);
        assert!(plan.pairs.is_empty());
        assert!(plan.problems[0].starts_with("The test data s3://b/test/test.csv is 9 MB,"));
    }

    #[test]
    fn pairs_stop_at_the_total_bound_and_unpaired_files_are_named() {
        // Five pairs of 7.5 MB: four fit in 32 MB (30 MB), the fifth would make 37.5 MB.
        let test_data: Vec<_> = (0..5)
            .map(|i| object(&format!("s3://b/test/p{i}.csv"), 7_000_000))
            .chain([object("s3://b/test/lonely.csv", 1)])
            .collect();
        let predictions: Vec<_> = (0..5)
            .map(|i| object(&format!("s3://b/out/p{i}.csv.out"), 500_000))
            .collect();
        let plan = plan(&test_data, &predictions);
        assert_eq!(plan.pairs.len(), 4);
        assert_eq!(plan.pairs[3].1.uri, "s3://b/out/p3.csv.out");
        assert_eq!(
            plan.problems,
            [
                "Gatehouse reads at most 32 MB of test data and predictions for evidence: \
                 s3://b/test/p4.csv (7 MB) and its predictions (500.0 KB) are not compared.",
                "No predictions were written for lonely.csv."
            ]
        );
    }

    #[tokio::test]
    async fn one_computation_per_key_however_many_ask_at_once() {
        let cache = Arc::new(EvidenceCache::new());
        let runs = Arc::new(AtomicUsize::new(0));
        let mut asking = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (cache, runs) = (Arc::clone(&cache), Arc::clone(&runs));
            asking.spawn(async move {
                cache
                    .get_or_compute(key(1), || async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                        Ok(evidence("m1"))
                    })
                    .await
            });
        }
        while let Some(answer) = asking.join_next().await {
            assert_eq!(answer.expect("task").expect("evidence").model, "m1");
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_failed_computation_is_not_kept() {
        let cache = EvidenceCache::new();
        let failed = cache
            .get_or_compute(key(1), || async { Err("S3 is down".to_string()) })
            .await;
        assert_eq!(failed, Err("S3 is down".to_string()));
        let again = cache
            .get_or_compute(key(1), || async { Ok(evidence("m1")) })
            .await;
        assert!(matches!(again, Ok(e) if matches!(e.figures, Figures::Classes(_))));
    }

    #[tokio::test]
    async fn the_least_recently_used_evidence_goes_first() {
        let cache = &EvidenceCache::new();
        let computed = &AtomicUsize::new(0);
        let ask = move |n: usize| {
            cache.get_or_compute(key(n), move || async move {
                computed.fetch_add(1, Ordering::SeqCst);
                Ok(evidence(&format!("m{n}")))
            })
        };
        for n in 0..CACHE_ENTRIES {
            ask(n).await.expect("evidence");
        }
        // Key 0 used again, so key 1 is now the oldest and makes room for a new one.
        ask(0).await.expect("evidence");
        ask(CACHE_ENTRIES).await.expect("evidence");
        assert_eq!(cache.len(), CACHE_ENTRIES);
        assert_eq!(computed.load(Ordering::SeqCst), CACHE_ENTRIES + 1);
        ask(0).await.expect("evidence");
        assert_eq!(
            computed.load(Ordering::SeqCst),
            CACHE_ENTRIES + 1,
            "0 was kept"
        );
        ask(1).await.expect("evidence");
        assert_eq!(
            computed.load(Ordering::SeqCst),
            CACHE_ENTRIES + 2,
            "1 was not"
        );
    }

    #[test]
    fn a_rewritten_object_is_another_key() {
        let mut rewritten = key(1);
        rewritten.predictions[0].version = Some("\"f\"".into());
        assert_ne!(key(1), rewritten);
        let mut touched = key(1);
        touched.test_data[0].modified = Some("1.5".into());
        assert_ne!(key(1), touched);
    }
}
