//! Counting the AWS API calls the adapter makes: an SDK interceptor on every client, one count
//! per HTTP attempt (retries included), keyed `service:Operation`. Benches and tests read it to
//! hold a page to its call budget (one list page ≤ 12 calls).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// The counts, shared by the interceptors of all the adapter's clients.
#[derive(Debug, Clone, Default)]
pub struct ApiCalls(Arc<Mutex<BTreeMap<String, u64>>>);

impl ApiCalls {
    /// Calls made so far, per `service:Operation` (`sfn:ListExecutions`, …).
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().map(|map| map.clone()).unwrap_or_default()
    }

    /// All calls made so far.
    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }

    pub fn reset(&self) {
        if let Ok(mut map) = self.0.lock() {
            map.clear();
        }
    }

    fn add(&self, key: String) {
        if let Ok(mut map) = self.0.lock() {
            *map.entry(key).or_default() += 1;
        }
    }

    /// The interceptor to register on a client's configuration.
    pub fn interceptor(&self) -> CountCalls {
        CountCalls(self.clone())
    }
}

/// Counts each request as it is sent.
#[derive(Debug, Clone)]
pub struct CountCalls(ApiCalls);

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "GatehouseCountCalls"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let key = match cfg.load::<Metadata>() {
            Some(metadata) => format!("{}:{}", metadata.service(), metadata.name()),
            None => "unknown".to_string(),
        };
        self.0.add(key);
        Ok(())
    }
}
