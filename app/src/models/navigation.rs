//! Where the browser may be sent: after signing in, and back to a page after one of its forms.

/// The page to go to after sign-in: `next` when it is a path on this site, else the
/// dashboard. Refuses anything that could leave the site (`//evil.example`, `/\evil`,
/// `https://…`) so the sign-in page cannot be used as an open redirect.
pub fn safe_next(next: Option<&str>) -> String {
    const HOME: &str = "/executions";
    match next {
        Some(next) if stays_on_this_site(next) && !next.starts_with("/signin") => next.to_string(),
        _ => HOME.to_string(),
    }
}

/// Whether a browser sent to `path` stays on this site: a path of ours, not `//evil.example`,
/// `/\evil` (which browsers read as `//`) or an absolute address.
fn stays_on_this_site(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.chars().any(|c| c.is_control() || c == '\\')
        && path.len() <= 2048
}

/// The query keys a page reads to say how one of its forms fared: set by the server when it
/// sends the browser back to the page, so the answer shows with or without JavaScript.
pub mod outcome {
    /// The execution a start form started (its name).
    pub const STARTED: &str = "started";
    /// A stop form's execution was asked to stop.
    pub const STOPPED: &str = "stopped";
    /// A decision was sent: `approved` or `rejected`.
    pub const DECIDED: &str = "decided";
    /// An approval was counted towards a quorum: `2-of-3`.
    pub const COUNTED: &str = "counted";
    /// An endpoint was asked to go back to an earlier config (the config's name).
    pub const ROLLED_BACK: &str = "rollback";
    /// An endpoint was deleted (its name).
    pub const DELETED: &str = "deleted";
    /// Leptos' own keys for a failed form: the server function's path and its error.
    pub const ERROR_PATH: &str = "__path";
    pub const ERROR: &str = "__err";

    pub const ALL: [&str; 8] = [
        STARTED,
        STOPPED,
        DECIDED,
        COUNTED,
        ROLLED_BACK,
        DELETED,
        ERROR_PATH,
        ERROR,
    ];
}

/// `text` made safe for a URL's query string.
pub fn encode_query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The page a form was sent from (`referer`, absolute or a path), with `key=value` saying how
/// it fared in place of any earlier form's outcome. Only the path and query are kept, so the
/// answer never sends the browser off the site.
pub fn back_with_outcome(referer: Option<&str>, key: &str, value: &str) -> String {
    let referer = referer.unwrap_or("/");
    let after_host = match referer.find("://") {
        Some(scheme_end) => {
            let rest = &referer[scheme_end + 3..];
            rest.find('/').map_or("/", |slash| &rest[slash..])
        }
        None => referer,
    };
    let without_fragment = after_host.split('#').next().unwrap_or("/");
    let (path, query) = without_fragment
        .split_once('?')
        .unwrap_or((without_fragment, ""));
    let path = if stays_on_this_site(path) { path } else { "/" };
    let mut pairs: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            !outcome::ALL.contains(&name)
        })
        .map(str::to_string)
        .collect();
    pairs.push(format!("{key}={}", encode_query_value(value)));
    format!("{path}?{}", pairs.join("&"))
}

#[cfg(test)]
mod tests {
    use super::{back_with_outcome, encode_query_value, safe_next};

    #[test]
    fn paths_on_this_site_are_kept() {
        assert_eq!(safe_next(Some("/approvals")), "/approvals");
        assert_eq!(
            safe_next(Some("/executions?status=FAILED")),
            "/executions?status=FAILED"
        );
    }

    #[test]
    fn anything_that_could_leave_the_site_goes_home() {
        for next in [
            None,
            Some(""),
            Some("https://evil.example/"),
            Some("//evil.example/x"),
            Some("/\\evil.example"),
            Some("/ok\\..\\x"),
            Some("javascript:alert(1)"),
            Some("/a\nb"),
            Some("/signin?next=/signin"),
        ] {
            assert_eq!(safe_next(next), "/executions", "{next:?}");
        }
    }

    #[test]
    fn a_form_answer_goes_back_to_its_page_with_only_the_newest_outcome() {
        assert_eq!(
            back_with_outcome(
                Some("http://127.0.0.1:3000/executions?status=RUNNING&started=old&__path=%2Fapi%2Fx&__err=e30"),
                "started",
                "a b"
            ),
            "/executions?status=RUNNING&started=a%20b"
        );
        assert_eq!(
            back_with_outcome(Some("/approvals/x#forms"), "decided", "approved"),
            "/approvals/x?decided=approved"
        );
    }

    #[test]
    fn a_form_answer_never_leaves_the_site() {
        for referer in [
            None,
            Some("https://evil.example"),
            Some("//evil.example/x"),
            Some("https://gatehouse.example/\\evil.example"),
            Some("/\\evil.example"),
            Some("x"),
        ] {
            let to = back_with_outcome(referer, "stopped", "1");
            assert_eq!(to, "/?stopped=1", "{referer:?}");
        }
        assert_eq!(encode_query_value("é/&"), "%C3%A9%2F%26");
    }
}
