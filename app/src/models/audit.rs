//! The audit log's records and filters, shared by the server and the pages.
//!
//! A record says who did what to what, with which outcome, from where and when. Each carries
//! the hash of the record before it, so the log is a chain: changing, removing or reordering a
//! record breaks it where it happened.

use serde::{Deserialize, Serialize};

use crate::models::pipeline::{shorten, Timestamp};

/// How an audited action ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AuditOutcome {
    /// It was done.
    Success,
    /// Gatehouse refused it: not allowed, bad input, already decided.
    Refused,
    /// It was allowed but failed: a wrong password, a backend that did not answer.
    Failure,
}

impl AuditOutcome {
    pub const ALL: [AuditOutcome; 3] = [
        AuditOutcome::Success,
        AuditOutcome::Refused,
        AuditOutcome::Failure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AuditOutcome::Success => "success",
            AuditOutcome::Refused => "refused",
            AuditOutcome::Failure => "failure",
        }
    }

    pub fn parse(text: &str) -> Option<AuditOutcome> {
        AuditOutcome::ALL
            .into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

/// What an action appends: everything but the position in the chain and the time, which the
/// log assigns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// The username as the caller gave it (`-` when nobody was signed in).
    pub actor: String,
    /// The roles the actor held when acting, names sorted.
    pub roles: Vec<String>,
    /// What was done, dotted: `auth.sign_in`, `execution.start`, `approval.decide`…
    pub action: String,
    /// What it was done to: an execution name, an endpoint, a username (`-` for none).
    pub target: String,
    pub outcome: AuditOutcome,
    /// The request id the server gave the request, to find its log lines.
    pub request_id: String,
    /// The client's address as the server saw it.
    pub source_ip: String,
    /// Anything else worth keeping (a reason, a comment, a token's hash), as JSON text.
    /// Never a password or a task token in clear.
    pub details: String,
}

/// Longest a field of an entry may be; longer text is cut (with `…`) before it is chained, so
/// one huge comment cannot bloat the log.
pub const FIELD_LIMIT: usize = 256;
pub const DETAILS_LIMIT: usize = 8 * 1024;

impl AuditEntry {
    /// The entry with every field cut to its limit and control characters replaced, so what
    /// is chained is exactly what is stored and shown.
    pub fn bounded(mut self) -> AuditEntry {
        let clean = |text: &str, limit: usize| {
            let printable: String = text
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            shorten(&printable, limit)
        };
        self.actor = clean(&self.actor, FIELD_LIMIT);
        self.roles = self.roles.iter().map(|r| clean(r, 32)).collect();
        self.roles.sort();
        self.action = clean(&self.action, 64);
        self.target = clean(&self.target, FIELD_LIMIT);
        self.request_id = clean(&self.request_id, 64);
        self.source_ip = clean(&self.source_ip, 64);
        // Details are JSON text: control characters inside it are already escaped by the
        // encoder; cutting keeps it readable if not parseable, which is fine for a record.
        self.details = shorten(&self.details, DETAILS_LIMIT);
        self
    }
}

/// One record of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// Position in the chain, from 1, without gaps.
    pub seq: u64,
    /// When the log appended it.
    pub at: Timestamp,
    pub entry: AuditEntry,
    /// Hex SHA-256 of the record before (64 zeros for the first).
    pub prev_hash: String,
    /// Hex SHA-256 of this record's canonical encoding, which includes `prev_hash`.
    pub hash: String,
}

/// The audit page's filter, as its GET form sends it: every field optional text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditFilter {
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub outcome: Option<String>,
    /// `YYYY-MM-DD`, from midnight UTC.
    #[serde(default)]
    pub from: Option<String>,
    /// `YYYY-MM-DD`, up to the end of that day UTC.
    #[serde(default)]
    pub until: Option<String>,
    /// Show records older than this sequence number (the next page).
    #[serde(default)]
    pub before: Option<String>,
}

/// A filter checked and typed: what the stores search with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Exact username.
    pub actor: Option<String>,
    /// An action, or a prefix ending in `.` (`approval.` for every approval action).
    pub action: Option<String>,
    /// Text the target contains.
    pub target: Option<String>,
    pub outcome: Option<AuditOutcome>,
    pub from: Option<Timestamp>,
    pub until: Option<Timestamp>,
    pub before: Option<u64>,
    /// At most this many records, newest first.
    pub limit: usize,
}

impl AuditQuery {
    /// Whether a record passes every condition but `before` and `limit`.
    pub fn matches(&self, record: &AuditRecord) -> bool {
        let entry = &record.entry;
        self.actor.as_ref().is_none_or(|a| &entry.actor == a)
            && self.action.as_ref().is_none_or(|a| {
                if a.ends_with('.') {
                    entry.action.starts_with(a.as_str())
                } else {
                    &entry.action == a
                }
            })
            && self
                .target
                .as_ref()
                .is_none_or(|t| entry.target.to_lowercase().contains(&t.to_lowercase()))
            && self.outcome.is_none_or(|o| entry.outcome == o)
            && self.from.is_none_or(|from| record.at >= from)
            && self.until.is_none_or(|until| record.at < until)
    }
}

/// Rows per audit page.
pub const AUDIT_PAGE_SIZE: usize = 50;
/// Most records one export carries.
pub const EXPORT_LIMIT: usize = 100_000;

/// Why a filter cannot be used, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError(pub String);

impl AuditFilter {
    /// The typed query for this filter, `limit` records at most.
    pub fn check(&self, limit: usize) -> Result<AuditQuery, FilterError> {
        let present = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
        };
        let too_long = |name: &str, v: &Option<String>| -> Result<(), FilterError> {
            match v {
                Some(text) if text.chars().count() > FIELD_LIMIT => Err(FilterError(format!(
                    "The {name} filter is too long (at most {FIELD_LIMIT} characters)."
                ))),
                _ => Ok(()),
            }
        };
        let actor = present(&self.actor);
        let action = present(&self.action);
        let target = present(&self.target);
        too_long("actor", &actor)?;
        too_long("action", &action)?;
        too_long("target", &target)?;
        let outcome = match present(&self.outcome) {
            None => None,
            Some(text) => Some(AuditOutcome::parse(&text).ok_or_else(|| {
                FilterError(format!(
                    "'{}' is not an outcome; use success, refused or failure.",
                    shorten(&text, 40)
                ))
            })?),
        };
        let date = |name: &str, v: &Option<String>| -> Result<Option<Timestamp>, FilterError> {
            match present(v) {
                None => Ok(None),
                Some(text) => Timestamp::from_date(&text).map(Some).ok_or_else(|| {
                    FilterError(format!(
                        "The {name} date '{}' is not a date; use YYYY-MM-DD.",
                        shorten(&text, 40)
                    ))
                }),
            }
        };
        let from = date("from", &self.from)?;
        let until = date("until", &self.until)?.map(|t| Timestamp(t.0 + 86_400_000));
        if let (Some(from), Some(until)) = (from, until) {
            if from >= until {
                return Err(FilterError(
                    "The from date is after the until date.".to_string(),
                ));
            }
        }
        let before = match present(&self.before) {
            None => None,
            Some(text) => Some(text.parse::<u64>().map_err(|_| {
                FilterError(format!("'{}' is not a record number.", shorten(&text, 40)))
            })?),
        };
        Ok(AuditQuery {
            actor,
            action,
            target,
            outcome,
            from,
            until,
            before,
            limit,
        })
    }

    /// The query string of this filter (without `before`), for export links and paging.
    pub fn query_string(&self) -> String {
        let fields = [
            ("actor", &self.actor),
            ("action", &self.action),
            ("target", &self.target),
            ("outcome", &self.outcome),
            ("from", &self.from),
            ("until", &self.until),
        ];
        fields
            .iter()
            .filter_map(|(name, value)| {
                value
                    .as_deref()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(|v| format!("{name}={}", percent_encode(v)))
            })
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// Percent-encodes everything but unreserved URL characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// A page of the audit log for the audit page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub records: Vec<AuditRecord>,
    /// `before=` for the next (older) page, when there may be one.
    pub next_before: Option<u64>,
    /// The filter's query string, for export links.
    pub query: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64, actor: &str, action: &str, outcome: AuditOutcome) -> AuditRecord {
        AuditRecord {
            seq,
            at: Timestamp(1_000 * seq as i64),
            entry: AuditEntry {
                actor: actor.into(),
                roles: vec![],
                action: action.into(),
                target: "c0ffee00-1".into(),
                outcome,
                request_id: "-".into(),
                source_ip: "127.0.0.1".into(),
                details: "{}".into(),
            },
            prev_hash: String::new(),
            hash: String::new(),
        }
    }

    #[test]
    fn filters_match_exact_actor_action_prefix_and_target_text() {
        let query = AuditFilter {
            actor: Some(" alice ".into()),
            action: Some("approval.".into()),
            target: Some("C0FFEE".into()),
            ..AuditFilter::default()
        }
        .check(10)
        .unwrap();
        assert!(query.matches(&record(
            1,
            "alice",
            "approval.decide",
            AuditOutcome::Success
        )));
        assert!(!query.matches(&record(
            1,
            "alicia",
            "approval.decide",
            AuditOutcome::Success
        )));
        assert!(!query.matches(&record(
            1,
            "alice",
            "execution.start",
            AuditOutcome::Success
        )));
    }

    #[test]
    fn bad_filters_say_what_is_wrong() {
        let bad = |f: AuditFilter| f.check(10).unwrap_err().0;
        assert!(bad(AuditFilter {
            outcome: Some("maybe".into()),
            ..Default::default()
        })
        .contains("not an outcome"));
        assert!(bad(AuditFilter {
            from: Some("yesterday".into()),
            ..Default::default()
        })
        .contains("YYYY-MM-DD"));
        assert!(bad(AuditFilter {
            from: Some("2026-12-02".into()),
            until: Some("2026-12-01".into()),
            ..Default::default()
        })
        .contains("after"));
        assert!(bad(AuditFilter {
            before: Some("x".into()),
            ..Default::default()
        })
        .contains("record number"));
    }

    #[test]
    fn bounded_entries_are_cut_and_printable() {
        let entry = AuditEntry {
            actor: "a\u{0}b\nc".into(),
            roles: vec!["viewer".into(), "admin".into()],
            action: "x".into(),
            target: "t".repeat(10_000),
            outcome: AuditOutcome::Success,
            request_id: "r".into(),
            source_ip: "ip".into(),
            details: "d".repeat(100_000),
        }
        .bounded();
        assert_eq!(entry.actor, "a b c");
        assert_eq!(entry.roles, vec!["admin", "viewer"]);
        assert!(entry.target.chars().count() <= FIELD_LIMIT);
        assert!(entry.details.chars().count() <= DETAILS_LIMIT);
    }

    #[test]
    fn query_strings_encode_their_values() {
        let filter = AuditFilter {
            actor: Some("a b&c".into()),
            outcome: Some(String::new()),
            ..Default::default()
        };
        assert_eq!(filter.query_string(), "actor=a%20b%26c");
    }
}
