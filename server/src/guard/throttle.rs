//! Sign-in throttling: failed attempts per username and per client address earn a growing
//! wait before the next attempt is even checked.
//!
//! After `free_failures` failures the key must wait `base_delay · 2^(extra failures)`, capped
//! at `max_delay`. A success clears the username's count (not the address's: one address
//! guessing many accounts stays slowed). Counts are forgotten after `forget_after` without
//! failures. State is in memory: a restart forgives, which is acceptable for a delay (not a
//! lock-out), and keeps a database write off the sign-in path.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    User(String),
    Address(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

#[derive(Debug, Default)]
pub struct SignInThrottle {
    policy: ThrottlePolicy,
    failures: Mutex<HashMap<Key, Failures>>,
}

impl SignInThrottle {
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// How long this attempt must still wait, if at all (`now` is passed for testability).
    pub fn wait_before_attempt(
        &self,
        username: &str,
        address: IpAddr,
        now: Instant,
    ) -> Option<Duration> {
        let Ok(mut failures) = self.failures.lock() else {
            return None;
        };
        let forget_after = self.policy.forget_after;
        failures.retain(|_, entry| now.saturating_duration_since(entry.last) < forget_after);
        [
            Key::User(username.to_ascii_lowercase()),
            Key::Address(address),
        ]
        .iter()
        .filter_map(|key| failures.get(key))
        .filter_map(|entry| {
            let delay = self.delay_for(entry.count)?;
            let ready_at = entry.last + delay;
            (ready_at > now).then(|| ready_at - now)
        })
        .max()
    }

    pub fn record_failure(&self, username: &str, address: IpAddr, now: Instant) {
        if let Ok(mut failures) = self.failures.lock() {
            for key in [
                Key::User(username.to_ascii_lowercase()),
                Key::Address(address),
            ] {
                let entry = failures.entry(key).or_insert(Failures {
                    count: 0,
                    last: now,
                });
                entry.count = entry.count.saturating_add(1);
                entry.last = now;
            }
        }
    }

    pub fn record_success(&self, username: &str) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.remove(&Key::User(username.to_ascii_lowercase()));
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

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));
    const OTHER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

    #[test]
    fn the_first_failures_are_free_then_the_wait_doubles() {
        let throttle = SignInThrottle::new(ThrottlePolicy::default());
        let start = Instant::now();
        for _ in 0..2 {
            throttle.record_failure("ana", HOME, start);
        }
        assert_eq!(throttle.wait_before_attempt("ana", HOME, start), None);
        throttle.record_failure("ana", HOME, start);
        assert_eq!(
            throttle.wait_before_attempt("ana", HOME, start),
            Some(Duration::from_secs(1))
        );
        throttle.record_failure("ana", HOME, start);
        assert_eq!(
            throttle.wait_before_attempt("ana", HOME, start),
            Some(Duration::from_secs(2))
        );
        throttle.record_failure("ana", HOME, start);
        assert_eq!(
            throttle.wait_before_attempt("ana", HOME, start),
            Some(Duration::from_secs(4))
        );
        let later = start + Duration::from_secs(4);
        assert_eq!(throttle.wait_before_attempt("ana", HOME, later), None);
    }

    #[test]
    fn the_username_is_throttled_from_any_address() {
        let throttle = SignInThrottle::new(ThrottlePolicy::default());
        let now = Instant::now();
        for _ in 0..4 {
            throttle.record_failure("ana", HOME, now);
        }
        assert!(throttle.wait_before_attempt("ANA", OTHER, now).is_some());
    }

    #[test]
    fn an_address_guessing_many_users_is_throttled_for_every_user() {
        let throttle = SignInThrottle::new(ThrottlePolicy::default());
        let now = Instant::now();
        for user in ["a", "b", "c", "d", "e"] {
            throttle.record_failure(user, HOME, now);
        }
        assert!(throttle
            .wait_before_attempt("fresh-user", HOME, now)
            .is_some());
        assert_eq!(throttle.wait_before_attempt("fresh-user", OTHER, now), None);
    }

    #[test]
    fn success_clears_the_username_but_not_the_address() {
        let throttle = SignInThrottle::new(ThrottlePolicy::default());
        let now = Instant::now();
        for _ in 0..4 {
            throttle.record_failure("ana", HOME, now);
        }
        throttle.record_success("ana");
        assert_eq!(throttle.wait_before_attempt("ana", OTHER, now), None);
        assert!(throttle.wait_before_attempt("ana", HOME, now).is_some());
    }

    #[test]
    fn the_wait_is_capped_and_old_failures_are_forgotten() {
        let policy = ThrottlePolicy::default();
        let throttle = SignInThrottle::new(policy);
        let now = Instant::now();
        for _ in 0..64 {
            throttle.record_failure("ana", HOME, now);
        }
        assert_eq!(
            throttle.wait_before_attempt("ana", OTHER, now),
            Some(policy.max_delay)
        );
        let much_later = now + policy.forget_after;
        assert_eq!(throttle.wait_before_attempt("ana", OTHER, much_later), None);
    }
}
