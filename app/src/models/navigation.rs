//! Where the browser may be sent after signing in.

/// The page to go to after sign-in: `next` when it is a path on this site, else the
/// dashboard. Refuses anything that could leave the site (`//evil.example`, `/\evil`,
/// `https://…`) so the sign-in page cannot be used as an open redirect.
pub fn safe_next(next: Option<&str>) -> String {
    const HOME: &str = "/executions";
    let Some(next) = next else {
        return HOME.to_string();
    };
    let stays_here = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && !next.starts_with("/signin")
        && next.len() <= 2048;
    if stays_here {
        next.to_string()
    } else {
        HOME.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

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
}
