//! Which live news a part of a page follows.
//!
//! A page marks what it shows with a `data-live` scope; the browser's live listener shows the
//! page afresh when news concerns one of them. The server names the news kinds (`execution`,
//! `approval`, `decision`, each about one execution; `endpoint`, about one endpoint; `resync`,
//! "you missed some; look again").

/// The attribute that carries a scope.
pub const LIVE_ATTRIBUTE: &str = "data-live";

/// Marks a page that shows the answer to a form it posted: showing it afresh (a GET) would
/// drop the answer the reader is looking at, so news does not refresh it.
pub const HOLD_ATTRIBUTE: &str = "data-live-hold";

/// The attribute that carries the live news position a page was rendered at.
pub const SINCE_ATTRIBUTE: &str = "data-live-since";

/// The kinds of news the server sends on `/events`.
pub const NEWS_KINDS: [&str; 5] = ["execution", "approval", "decision", "endpoint", "resync"];

/// A list of runs: any news may change it.
pub const RUNS: &str = "runs";

/// Marks the navigation's count of pending approvals. It is not a scope: news of an
/// approval opening or closing carries the new count (`pending`), and the browser writes it
/// here instead of showing the page afresh, so a decision costs every open tab nothing.
pub const PENDING_COUNT_ATTRIBUTE: &str = "data-pending-count";

/// The news kinds that carry the count of pending approvals.
pub fn carries_pending_count(kind: &str) -> bool {
    matches!(kind, "approval" | "decision")
}

/// One run, by name.
pub fn run(name: &str) -> String {
    format!("run:{name}")
}

/// One endpoint, by name.
pub fn endpoint(name: &str) -> String {
    format!("endpoint:{name}")
}

/// Whether news of `kind` about `subject` (an execution's or an endpoint's name) concerns a
/// part marked with `scope`.
pub fn concerns(scope: &str, kind: &str, subject: Option<&str>) -> bool {
    if kind == "resync" {
        return true;
    }
    match scope {
        RUNS => true,
        other => {
            if let Some(name) = other.strip_prefix("run:") {
                kind != "endpoint" && subject == Some(name)
            } else if let Some(name) = other.strip_prefix("endpoint:") {
                kind == "endpoint" && subject == Some(name)
            } else {
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_page_follows_its_own_run_only() {
        let scope = run("c0ffee00-1");
        assert!(concerns(&scope, "execution", Some("c0ffee00-1")));
        assert!(concerns(&scope, "decision", Some("c0ffee00-1")));
        assert!(!concerns(&scope, "execution", Some("c0ffee00-12")));
        assert!(!concerns(&scope, "approval", None));
    }

    #[test]
    fn an_endpoint_page_follows_its_own_endpoint_only() {
        let scope = endpoint("iris-serving");
        assert!(concerns(&scope, "endpoint", Some("iris-serving")));
        assert!(!concerns(&scope, "endpoint", Some("iris-serving-2")));
        // A run that shares the endpoint's name is not the endpoint.
        assert!(!concerns(&scope, "execution", Some("iris-serving")));
        assert!(!concerns(
            &run("iris-serving"),
            "endpoint",
            Some("iris-serving")
        ));
        assert!(concerns(RUNS, "endpoint", Some("iris-serving")));
    }

    #[test]
    fn the_pending_count_comes_with_waits_starting_and_ending_only() {
        assert!(carries_pending_count("approval"));
        assert!(carries_pending_count("decision"));
        assert!(!carries_pending_count("execution"));
        assert!(!carries_pending_count("endpoint"));
        assert!(!carries_pending_count("resync"));
    }

    #[test]
    fn lists_follow_everything_and_a_resync_concerns_all() {
        for kind in NEWS_KINDS {
            assert!(concerns(RUNS, kind, Some("x")));
        }
        assert!(concerns("unknown-scope", "resync", None));
        assert!(!concerns("unknown-scope", "execution", Some("x")));
    }
}
