//! Models read from their artifacts, kept for the next invocation or transform. Bounded: every
//! run of the pipeline trains a model of its own, so a cache that kept every model read would
//! grow with the number of runs for as long as the process lives. The oldest read goes first;
//! a model evicted while an endpoint still serves it is read from its artifact again.

use super::classifier::TrainedModel;
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Models kept: more than the endpoints and transforms a laptop runs at once.
pub(crate) const KEPT_MODELS: usize = 32;

#[derive(Default)]
pub(crate) struct ModelCache {
    inner: Mutex<Kept>,
}

#[derive(Default)]
struct Kept {
    models: HashMap<PathBuf, Arc<TrainedModel>>,
    /// Oldest read first.
    order: VecDeque<PathBuf>,
}

impl ModelCache {
    pub(crate) fn get(&self, artifact: &Path) -> Option<Arc<TrainedModel>> {
        self.lock().models.get(artifact).cloned()
    }

    pub(crate) fn insert(&self, artifact: PathBuf, model: Arc<TrainedModel>) {
        let mut kept = self.lock();
        if kept.models.insert(artifact.clone(), model).is_none() {
            kept.order.push_back(artifact);
        }
        while kept.order.len() > KEPT_MODELS {
            if let Some(oldest) = kept.order.pop_front() {
                kept.models.remove(&oldest);
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().models.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Kept> {
        // A poisoned cache only means a reader panicked holding it; each change is one step.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sagemaker::classifier::Example;

    fn model(label: &str) -> Arc<TrainedModel> {
        let examples = [
            Example {
                label: label.into(),
                features: vec![1.0],
            },
            Example {
                label: "other".into(),
                features: vec![2.0],
            },
        ];
        Arc::new(TrainedModel::train(&examples).expect("trains"))
    }

    #[test]
    fn a_model_per_run_does_not_grow_the_cache_past_its_bound() {
        let cache = ModelCache::default();
        for run in 0..(KEPT_MODELS * 10) {
            cache.insert(PathBuf::from(format!("run-{run}/model.json")), model("a"));
        }
        assert_eq!(cache.len(), KEPT_MODELS);
        // The newest are kept, the oldest went first.
        let newest = PathBuf::from(format!("run-{}/model.json", KEPT_MODELS * 10 - 1));
        assert!(cache.get(&newest).is_some());
        assert!(cache.get(Path::new("run-0/model.json")).is_none());
        // Reading a model again does not count it twice.
        cache.insert(newest.clone(), model("b"));
        assert_eq!(cache.len(), KEPT_MODELS);
        assert_eq!(
            cache.get(&newest).map(|m| m.classes.clone()),
            Some(vec!["b".to_string(), "other".to_string()])
        );
    }
}
