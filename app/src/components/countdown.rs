//! Time left until a deadline. The server renders it as of the moment it rendered the page;
//! once hydrated, the browser counts down every second from its own clock.

use leptos::prelude::*;

use crate::models::pipeline::{human_duration, Timestamp};

/// `3 h 59 min left`, or how long ago it ran out.
pub fn time_left(deadline: Timestamp, now: Timestamp) -> String {
    let left = deadline.0 - now.0;
    if left >= 0 {
        format!("{} left", human_duration(left))
    } else {
        format!("ran out {} ago", human_duration(-left))
    }
}

#[component]
pub fn Countdown(
    deadline: Timestamp,
    /// The server's clock when it rendered the page (what is shown before hydration).
    now: Timestamp,
) -> impl IntoView {
    let now = RwSignal::new(now);
    // Effects run in the browser only: the server renders the value above.
    Effect::new(move |_| {
        let tick = move || now.set(Timestamp(web_sys::js_sys::Date::now() as i64));
        tick();
        if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
            on_cleanup(move || handle.clear());
        }
    });
    view! {
        <span class="countdown" data-deadline=deadline.rfc3339()>
            <time datetime=deadline.rfc3339()>{move || time_left(deadline, now.get())}</time>
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_reads_both_ways() {
        assert_eq!(
            time_left(Timestamp(90_000), Timestamp(0)),
            "1 min 30 s left"
        );
        assert_eq!(time_left(Timestamp(0), Timestamp(5_000)), "ran out 5 s ago");
    }
}
