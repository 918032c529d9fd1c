//! The audit page's query string, read as the server reads it (`serde_urlencoded`, what
//! axum's `Query` uses): any query is a filter or a sentence, and a filter's own query string
//! (the export link, the next page) reads back as the same filter.
#![no_main]

use app::models::audit::AuditFilter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(filter) = serde_urlencoded::from_bytes::<AuditFilter>(data) else {
        return;
    };
    match filter.check(50) {
        Err(error) => assert!(!error.0.is_empty(), "a refusal says why"),
        Ok(query) => {
            let link = filter.query_string();
            let again: AuditFilter =
                serde_urlencoded::from_str(&link).expect("a filter's own link reads back");
            let mut expected = query;
            // The link leaves out the page position on purpose.
            expected.before = None;
            assert_eq!(again.check(50), Ok(expected), "{link}");
        }
    }
});
