//! Sign-in throttling: failed attempts per username and per client address earn a growing
//! wait before the next attempt is even checked.
//!
//! After `free_failures` failures the key must wait `base_delay · 2^(extra failures)`, capped
//! at `max_delay`. A success clears the username's count (not the address's: one address
//! guessing many accounts stays slowed). Counts are forgotten after `forget_after` without
//! failures. The counts live where every Gatehouse process sees them ([`FailureCounts`]: the
//! SQLite file, or DynamoDB in aws mode), so attempts spread over several instances add up;
//! times are wall-clock milliseconds for the same reason. When the counts cannot be read or
//! written the attempt goes ahead (and the failure is logged): the throttle slows guessing,
//! it must not lock everyone out while a table is unreachable.

use std::fmt::Debug;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    pub free_failures: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    pub forget_after: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            free_failures: 3,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(300),
            forget_after: Duration::from_secs(3600),
        }
    }
}

/// The failures counted under one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    /// When the latest was, in Unix milliseconds.
    pub last_ms: i64,
}

/// Where failed attempts are counted, shared by every Gatehouse process. Errors are
/// sentences for logs.
#[async_trait::async_trait]
pub trait FailureCounts: Send + Sync + Debug {
    /// The failures under each key, in the order asked (`None`: none counted).
    async fn read(&self, keys: &[String]) -> Result<Vec<Option<Failures>>, String>;

    /// One more failure under each key, at `now_ms`; a count whose last failure is older than
    /// `forget_after_ms` starts again from one.
    async fn add(&self, keys: &[String], now_ms: i64, forget_after_ms: i64) -> Result<(), String>;

    /// Forgets `key`'s failures.
    async fn clear(&self, key: &str) -> Result<(), String>;
}

fn user_key(username: &str) -> String {
    format!("signin-user#{}", username.to_ascii_lowercase())
}

fn address_key(address: IpAddr) -> String {
    format!("signin-address#{address}")
}

#[derive(Debug, Clone)]
pub struct SignInThrottle {
    policy: ThrottlePolicy,
    counts: Arc<dyn FailureCounts>,
}

impl SignInThrottle {
    pub fn new(policy: ThrottlePolicy, counts: Arc<dyn FailureCounts>) -> Self {
        Self { policy, counts }
    }

    /// The wall clock in Unix milliseconds, the time every process agrees on.
    pub fn now_ms() -> i64 {
        app::models::pipeline::Timestamp::now().millis()
    }

    fn forget_after_ms(&self) -> i64 {
        i64::try_from(self.policy.forget_after.as_millis()).unwrap_or(i64::MAX)
    }

    /// How long this attempt must still wait, if at all.
    pub async fn wait_before_attempt(
        &self,
        username: &str,
        address: IpAddr,
        now_ms: i64,
    ) -> Option<Duration> {
        let keys = [user_key(username), address_key(address)];
        let counted = match self.counts.read(&keys).await {
            Ok(counted) => counted,
            Err(error) => {
                tracing::error!(%error, "sign-in throttle: the failure counts cannot be read");
                return None;
            }
        };
        let stale_before = now_ms.saturating_sub(self.forget_after_ms());
        counted
            .into_iter()
            .flatten()
            .filter(|failures| failures.last_ms >= stale_before)
            .filter_map(|failures| {
                let delay = self.delay_for(failures.count)?;
                let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
                let ready_at = failures.last_ms.saturating_add(delay_ms);
                (ready_at > now_ms).then(|| Duration::from_millis((ready_at - now_ms) as u64))
            })
            .max()
    }

    pub async fn record_failure(&self, username: &str, address: IpAddr, now_ms: i64) {
        let keys = [user_key(username), address_key(address)];
        if let Err(error) = self.counts.add(&keys, now_ms, self.forget_after_ms()).await {
            tracing::error!(%error, "sign-in throttle: a failure could not be counted");
        }
    }

    pub async fn record_success(&self, username: &str) {
        if let Err(error) = self.counts.clear(&user_key(username)).await {
            tracing::error!(%error, "sign-in throttle: a success could not clear the count");
        }
    }

    fn delay_for(&self, count: u32) -> Option<Duration> {
        let extra = count.checked_sub(self.policy.free_failures)?;
        let factor = 2u32.checked_pow(extra).unwrap_or(u32::MAX);
        Some(
            self.policy
                .base_delay
                .checked_mul(factor)
                .unwrap_or(self.policy.max_delay)
                .min(self.policy.max_delay),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Database;
    use crate::shared_state::sqlite::SqliteFailureCounts;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));
    const OTHER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));
    const START: i64 = 1_700_000_000_000;

    fn throttle() -> SignInThrottle {
        let counts = SqliteFailureCounts::new(Database::in_memory().expect("db"));
        SignInThrottle::new(ThrottlePolicy::default(), Arc::new(counts))
    }

    fn secs(s: u64) -> Option<Duration> {
        Some(Duration::from_secs(s))
    }

    #[tokio::test]
    async fn the_first_failures_are_free_then_the_wait_doubles() {
        let throttle = throttle();
        for _ in 0..2 {
            throttle.record_failure("ana", HOME, START).await;
        }
        assert_eq!(throttle.wait_before_attempt("ana", HOME, START).await, None);
        throttle.record_failure("ana", HOME, START).await;
        assert_eq!(
            throttle.wait_before_attempt("ana", HOME, START).await,
            secs(1)
        );
        throttle.record_failure("ana", HOME, START).await;
        assert_eq!(
            throttle.wait_before_attempt("ana", HOME, START).await,
            secs(2)
        );
        throttle.record_failure("ana", HOME, START).await;
        assert_eq!(
            throttle.wait_before_attempt("ana", HOME, START).await,
            secs(4)
        );
        assert_eq!(
            throttle
                .wait_before_attempt("ana", HOME, START + 1_500)
                .await,
            Some(Duration::from_millis(2_500)),
            "the wait counts from the last failure"
        );
        assert_eq!(
            throttle
                .wait_before_attempt("ana", HOME, START + 4_000)
                .await,
            None
        );
    }

    #[tokio::test]
    async fn the_username_is_throttled_from_any_address() {
        let throttle = throttle();
        for _ in 0..4 {
            throttle.record_failure("ana", HOME, START).await;
        }
        assert!(throttle
            .wait_before_attempt("ANA", OTHER, START)
            .await
            .is_some());
    }

    #[tokio::test]
    async fn an_address_guessing_many_users_is_throttled_for_every_user() {
        let throttle = throttle();
        for user in ["a", "b", "c", "d", "e"] {
            throttle.record_failure(user, HOME, START).await;
        }
        assert!(throttle
            .wait_before_attempt("fresh-user", HOME, START)
            .await
            .is_some());
        assert_eq!(
            throttle
                .wait_before_attempt("fresh-user", OTHER, START)
                .await,
            None
        );
    }

    #[tokio::test]
    async fn success_clears_the_username_but_not_the_address() {
        let throttle = throttle();
        for _ in 0..4 {
            throttle.record_failure("ana", HOME, START).await;
        }
        throttle.record_success("ana").await;
        assert_eq!(
            throttle.wait_before_attempt("ana", OTHER, START).await,
            None
        );
        assert!(throttle
            .wait_before_attempt("ana", HOME, START)
            .await
            .is_some());
    }

    #[tokio::test]
    async fn the_wait_is_capped_and_old_failures_are_forgotten() {
        let policy = ThrottlePolicy::default();
        let throttle = throttle();
        for _ in 0..64 {
            throttle.record_failure("ana", HOME, START).await;
        }
        assert_eq!(
            throttle.wait_before_attempt("ana", OTHER, START).await,
            Some(policy.max_delay)
        );
        let much_later = START + policy.forget_after.as_millis() as i64 + 1;
        assert_eq!(
            throttle.wait_before_attempt("ana", OTHER, much_later).await,
            None
        );
        // A failure after the forgetting time starts the count again: free.
        throttle.record_failure("ana", OTHER, much_later).await;
        assert_eq!(
            throttle.wait_before_attempt("ana", OTHER, much_later).await,
            None
        );
    }
}
