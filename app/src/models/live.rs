//! Which live news a part of a page follows.
//!
//! A page marks what it shows with a `data-live` scope; the browser's live listener shows the
//! page afresh when news concerns one of them. The server names the news kinds (`execution`,
//! `approval`, `decision`, `resync`), each about one execution except `resync` ("you missed
//! some; look again").

/// The attribute that carries a scope.
pub const LIVE_ATTRIBUTE: &str = "data-live";

/// The attribute that carries the live news position a page was rendered at.
pub const SINCE_ATTRIBUTE: &str = "data-live-since";

/// The kinds of news the server sends on `/events`.
pub const NEWS_KINDS: [&str; 4] = ["execution", "approval", "decision", "resync"];

/// A list of runs: any news may change it.
pub const RUNS: &str = "runs";

/// What waits for a decision (the nav's count): a run starting or ending a wait.
pub const APPROVALS: &str = "approvals";

/// One run, by name.
pub fn run(name: &str) -> String {
    format!("run:{name}")
}

/// Whether news of `kind` about `execution` concerns a part marked with `scope`.
pub fn concerns(scope: &str, kind: &str, execution: Option<&str>) -> bool {
    if kind == "resync" {
        return true;
    }
    match scope {
        RUNS => true,
        APPROVALS => matches!(kind, "approval" | "decision"),
        other => match other.strip_prefix("run:") {
            Some(name) => execution == Some(name),
            None => false,
        },
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
    fn the_approvals_count_follows_waits_starting_and_ending() {
        assert!(concerns(APPROVALS, "approval", Some("a")));
        assert!(concerns(APPROVALS, "decision", Some("a")));
        assert!(!concerns(APPROVALS, "execution", Some("a")));
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
