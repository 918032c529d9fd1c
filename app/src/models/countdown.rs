//! Deadlines shown as time left: the same words from the server's clock when it draws a page
//! and from the browser's clock each second after.

use super::pipeline::{human_duration, Timestamp};

/// The attribute a countdown on a page carries its deadline in (milliseconds since the epoch).
pub const DEADLINE_ATTRIBUTE: &str = "data-deadline-ms";

/// Time left until `deadline` as of `now`: `3 h 59 min left`, or how long ago it ran out.
pub fn time_left(deadline: Timestamp, now: Timestamp) -> String {
    let left = deadline.0 - now.0;
    if left >= 0 {
        format!("{} left", human_duration(left))
    } else {
        format!("ran out {} ago", human_duration(-left))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_reads_both_ways() {
        // 90 s before the deadline, and 5 s after it.
        assert_eq!(
            time_left(Timestamp(90_000), Timestamp(0)),
            "1 min 30 s left"
        );
        assert_eq!(time_left(Timestamp(0), Timestamp(5_000)), "ran out 5 s ago");
    }
}
