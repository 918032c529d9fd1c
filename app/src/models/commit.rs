//! The commit a pipeline run was built from, as its `commitID` names it.

use serde::{Deserialize, Serialize};

use super::pipeline::{days_from_civil, Timestamp};

/// The commit a run was built from, parsed from the pipeline's `commitID`
/// (`<sha>-<build time>`, the image tag CodeBuild writes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commit {
    /// The whole `commitID`.
    pub id: String,
    /// The commit SHA's first 8 characters.
    pub short_sha: String,
    /// When the image was built, when the `commitID` carries a time Gatehouse can read.
    pub built_at: Option<Timestamp>,
}

impl Commit {
    /// Reads `<hex sha, 7-40 chars>-<time>` where the time is `MM-DD-YYYY-HH-MM-SS` (what
    /// the pipeline's CodeBuild writes: `date '+%m-%d-%Y-%H-%M-%S'`), `YYYY-MM-DD-HH-MM-SS`,
    /// `YYYYMMDDHHMMSS` or Unix seconds. Anything after the time (a suffix that makes an
    /// execution name unique) is ignored. `None` when `text` does not start with a SHA.
    pub fn parse(text: &str) -> Option<Commit> {
        let (sha, rest) = text.split_once('-').unwrap_or((text, ""));
        if !(7..=40).contains(&sha.len()) || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(Commit {
            id: text.to_string(),
            short_sha: sha.chars().take(8).collect(),
            built_at: parse_build_time(rest),
        })
    }

    /// The commit ID the pipeline's CodeBuild gives a build of `sha` at `at` (UTC): the first
    /// 8 characters of the SHA, then `date '+%m-%d-%Y-%H-%M-%S'`, month first.
    pub fn build_id(sha: &str, at: Timestamp) -> String {
        // `utc()` is `YYYY-MM-DD HH:MM:SS`.
        let utc = at.utc();
        let field = |range: std::ops::Range<usize>| utc.get(range).unwrap_or("00");
        format!(
            "{}-{}-{}-{}-{}-{}-{}",
            sha.chars().take(8).collect::<String>(),
            field(5..7),
            field(8..10),
            field(0..4),
            field(11..13),
            field(14..16),
            field(17..19),
        )
    }
}

fn parse_build_time(text: &str) -> Option<Timestamp> {
    let fields: Vec<&str> = text.split('-').collect();
    let number = |s: &str| s.parse::<i64>().ok();
    let from_parts = |y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64| {
        let valid = (1..=12).contains(&mo)
            && d >= 1
            && d <= days_in_month(y, mo)
            && (0..24).contains(&h)
            && (0..60).contains(&mi)
            && (0..61).contains(&s)
            && (1970..=9999).contains(&y);
        valid.then(|| {
            Timestamp(
                (days_from_civil(y, mo as u32, d as u32) * 86_400 + h * 3600 + mi * 60 + s) * 1000,
            )
        })
    };
    if let Some(six) = fields
        .get(..6)
        .filter(|six| six.iter().all(|f| f.bytes().all(|b| b.is_ascii_digit())))
    {
        let n: Vec<i64> = six.iter().filter_map(|f| number(f)).collect();
        if let ([a, b, c, d, e, f], [first, _, third, ..]) = (n.as_slice(), six) {
            if first.len() == 4 {
                return from_parts(*a, *b, *c, *d, *e, *f);
            }
            if first.len() == 2 && third.len() == 4 {
                return from_parts(*c, *a, *b, *d, *e, *f);
            }
        }
    }
    let first = fields.first()?;
    if !first.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match first.len() {
        14 => from_parts(
            number(&first[0..4])?,
            number(&first[4..6])?,
            number(&first[6..8])?,
            number(&first[8..10])?,
            number(&first[10..12])?,
            number(&first[12..14])?,
        ),
        10 => Some(Timestamp(number(first)? * 1000)),
        _ => None,
    }
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_ids_in_every_build_time_format() {
        let dashed = Commit::parse("1a2b3c4d5e-2025-11-25-16-04-05").unwrap();
        assert_eq!(dashed.short_sha, "1a2b3c4d");
        assert_eq!(dashed.built_at, Some(Timestamp(1_764_086_645_000)));
        let compact = Commit::parse("1a2b3c4-20251125160405").unwrap();
        assert_eq!(compact.built_at, dashed.built_at);
        // The sample's CodeBuild: `date '+%m-%d-%Y-%H-%M-%S'`, month first.
        assert_eq!(
            Commit::build_id("1a2b3c4d5e6f", Timestamp(1_764_086_645_000)),
            "1a2b3c4d-11-25-2025-16-04-05"
        );
        let month_first = Commit::parse("1a2b3c4d-11-25-2025-16-04-05").unwrap();
        assert_eq!(month_first.built_at, dashed.built_at);
        assert_eq!(
            Commit::parse("1a2b3c4d-02-29-2024-00-00-00")
                .unwrap()
                .built_at,
            Some(Timestamp(1_709_164_800_000))
        );
        assert_eq!(
            Commit::parse("1a2b3c4d-02-30-2024-00-00-00")
                .unwrap()
                .built_at,
            None
        );
        assert_eq!(
            Commit::parse("1a2b3c4d-25-11-2025-16-04-05")
                .unwrap()
                .built_at,
            None
        );
        let unix = Commit::parse("1a2b3c4d-1764086645-run2").unwrap();
        assert_eq!(unix.built_at, dashed.built_at);
        assert_eq!(Commit::parse("1a2b3c4d").unwrap().built_at, None);
        assert_eq!(Commit::parse("demo-run"), None);
        assert_eq!(
            Commit::parse("1a2b3c4d-2025-13-25-16-04-05")
                .unwrap()
                .built_at,
            None
        );
    }
}
