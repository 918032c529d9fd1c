//! Task tokens: opaque, unguessable, decided at most once. Decisions are written to the
//! store before the caller is answered; waiters are woken through an in-memory hub and
//! re-read the store, so a decision made before a restart is found after it.

use crate::clock::{epoch_millis, Clock};
use crate::error::{names, StatesError};
use crate::runtime::storage_failure;
use crate::store::{Store, TOKEN_CLOSED, TOKEN_DECIDED};
use base64::Engine as _;
use rand::RngCore;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::Notify;

const PREFIX: &str = "ght1.";
const RANDOM_BYTES: usize = 48;

/// A fresh token: 384 random bits, URL-safe.
pub fn new_token() -> String {
    let mut bytes = [0u8; RANDOM_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    format!(
        "{PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// Whether a string could be a token at all (otherwise: `InvalidToken`).
pub fn is_well_formed(token: &str) -> bool {
    token.strip_prefix(PREFIX).is_some_and(|rest| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(rest)
            .is_ok_and(|b| b.len() == RANDOM_BYTES)
    })
}

#[derive(Default)]
pub(crate) struct TokenHub {
    waiters: Mutex<HashMap<String, Arc<Notify>>>,
}

impl TokenHub {
    fn notifier(&self, token: &str) -> Arc<Notify> {
        let mut map = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(token.to_string()).or_default().clone()
    }

    pub fn wake(&self, token: &str) {
        let map = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get(token) {
            n.notify_waiters();
        }
    }

    fn forget(&self, token: &str) {
        let mut map = self.waiters.lock().unwrap_or_else(|p| p.into_inner());
        map.remove(token);
    }
}

/// The decision stored for a token, as a task result.
pub fn decision_result(decision: &Value) -> Result<Value, StatesError> {
    if let Some(output) = decision.get("output") {
        return Ok(output.clone());
    }
    Err(StatesError::new(
        decision
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or_default(),
        decision
            .get("cause")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    ))
}

pub fn success_decision(output: Value) -> Value {
    json!({"output": output})
}

pub fn failure_decision(error: &str, cause: &str) -> Value {
    json!({"error": error, "cause": cause})
}

/// Waits for a decision on `token`, failing with `States.HeartbeatTimeout` when no
/// heartbeat (or decision) arrives within `heartbeat` seconds.
pub(crate) async fn wait_for_decision(
    store: &Store,
    hub: &TokenHub,
    clock: &Arc<dyn Clock>,
    token: &str,
    heartbeat: Option<u64>,
) -> Result<Value, StatesError> {
    let notify = hub.notifier(token);
    let result = loop {
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let row = store
            .token(token)
            .map_err(storage_failure)?
            .ok_or_else(|| StatesError::runtime("the task token disappeared"))?;
        match row.status.as_str() {
            TOKEN_DECIDED => {
                break row
                    .decision
                    .as_ref()
                    .map(decision_result)
                    .unwrap_or_else(|| Err(StatesError::runtime("empty decision")))
            }
            TOKEN_CLOSED => break Err(StatesError::new(names::TIMEOUT, "the task was closed")),
            _ => {}
        }
        let Some(hb) = heartbeat else {
            notified.await;
            continue;
        };
        let last =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(row.heartbeat_ms) * 1_000_000)
                .map_err(|e| StatesError::runtime(e.to_string()))?;
        let deadline = crate::clock::after(last, Duration::from_secs(hb));
        tokio::select! {
            _ = notified => continue,
            _ = clock.sleep_until(deadline) => {
                if store.close_token(token).map_err(storage_failure)? {
                    break Err(StatesError::new(names::HEARTBEAT_TIMEOUT, ""));
                }
                // A decision arrived as the heartbeat expired: read it.
            }
        }
    };
    hub.forget(token);
    result
}

/// Used when a task's `TimeoutSeconds` expires while it waits for its token: the token
/// closes, unless a decision got there first, which then wins.
pub(crate) fn close_or_take_decision(
    store: &Store,
    token: &str,
) -> Result<Option<Result<Value, StatesError>>, StatesError> {
    if store.close_token(token).map_err(storage_failure)? {
        return Ok(None);
    }
    let row = store.token(token).map_err(storage_failure)?;
    Ok(row.and_then(|r| r.decision).map(|d| decision_result(&d)))
}

pub fn now_ms(clock: &Arc<dyn Clock>) -> i64 {
    epoch_millis(clock.now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_well_formed() {
        let a = new_token();
        let b = new_token();
        assert_ne!(a, b);
        assert!(is_well_formed(&a));
        assert!(!is_well_formed("ght1.short"));
        assert!(!is_well_formed(&a.replace("ght1.", "xxxx.")));
    }
}
