//! Time, behind a trait so waits and timeouts are testable without sleeping for real.
//!
//! [`TokioClock`] derives wall-clock time from tokio's monotonic clock, so a test that runs
//! on a paused tokio runtime (`#[tokio::test(start_paused = true)]`) sees both `now()` and
//! every sleep advance instantly, while production sees real time.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use time::OffsetDateTime;

pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
    fn sleep(&self, duration: Duration) -> Sleep;

    /// Sleeps until `deadline` (at once if it has passed).
    fn sleep_until(&self, deadline: OffsetDateTime) -> Sleep {
        let remaining = deadline - self.now();
        let duration = if remaining.is_positive() {
            Duration::try_from(remaining).unwrap_or(Duration::ZERO)
        } else {
            Duration::ZERO
        };
        self.sleep(duration)
    }
}

#[derive(Debug, Clone)]
pub struct TokioClock {
    wall_at_start: OffsetDateTime,
    instant_at_start: tokio::time::Instant,
}

impl TokioClock {
    pub fn new() -> Self {
        TokioClock {
            wall_at_start: OffsetDateTime::now_utc(),
            instant_at_start: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> OffsetDateTime {
        self.wall_at_start + self.instant_at_start.elapsed()
    }

    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// Milliseconds since the Unix epoch: how the AWS SDK shapes timestamps in task outputs.
pub fn epoch_millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// `t + d`, saturating at the end of year 9999 instead of overflowing (a definition may
/// ask for a wait or a timeout of u64::MAX seconds).
pub fn after(t: OffsetDateTime, d: Duration) -> OffsetDateTime {
    let far = time::macros::datetime!(9999-12-31 23:59:59 UTC);
    time::Duration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d))
        .map(|sum| sum.min(far))
        .unwrap_or(far)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn paused_time_advances_the_wall_clock_without_sleeping() {
        let clock = TokioClock::new();
        let before = clock.now();
        let started = std::time::Instant::now();
        clock.sleep(Duration::from_secs(3600)).await;
        assert!(clock.now() - before >= time::Duration::hours(1));
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn after_saturates_instead_of_overflowing() {
        let t = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(
            after(t, Duration::from_secs(60)),
            t + time::Duration::minutes(1)
        );
        assert_eq!(after(t, Duration::from_secs(u64::MAX)).year(), 9999);
    }
}
