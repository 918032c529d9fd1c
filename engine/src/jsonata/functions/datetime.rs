//! Date and time: `$now`, `$millis`, `$fromMillis`, `$toMillis`. Timestamps without a
//! picture are ISO 8601 in UTC (`2017-06-24T14:32:00.000Z`); pictures follow XPath's
//! `format-dateTime` (see `picture.rs`).

use super::picture as pic;
use super::{arg_num, arg_str, fail};
use crate::jsonata::env::Env;
use crate::jsonata::error::{ErrorCode, Result};
use crate::jsonata::evaluator::Evaluator;
use crate::jsonata::function::Builtin;
use crate::jsonata::value::{Val, Value};

pub(crate) static FUNCTIONS: &[Builtin] = &[
    Builtin::new("now", "<s?s?:s>", 2, now),
    Builtin::new("millis", "<:n>", 0, millis),
    Builtin::new("fromMillis", "<n-s?s?:s>", 3, from_millis),
    Builtin::new("toMillis", "<s-s?:n>", 2, to_millis),
];

/// The ISO 8601 picture `$fromMillis` uses when none is given.
pub(crate) const ISO_PICTURE: &str = "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]";

fn now(ev: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let picture = arg_str(args, 0);
    let timezone = arg_str(args, 1);
    Ok(Some(Value::string(pic::format_datetime(
        ev.now_millis,
        picture.as_deref(),
        timezone.as_deref(),
    )?)))
}

fn millis(ev: &mut Evaluator, _: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(Some(Value::Number(ev.now_millis)))
}

fn from_millis(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(ms) = arg_num(args, 0) else {
        return Ok(None);
    };
    let picture = arg_str(args, 1);
    let timezone = arg_str(args, 2);
    Ok(Some(Value::string(pic::format_datetime(
        ms,
        picture.as_deref(),
        timezone.as_deref(),
    )?)))
}

fn to_millis(ev: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(ts) = arg_str(args, 0) else {
        return Ok(None);
    };
    match arg_str(args, 1) {
        Some(picture) => Ok(pic::parse_datetime(&ts, &picture, ev.now_millis)?.map(Value::Number)),
        None => match parse_iso(&ts) {
            Some(ms) => Ok(Some(Value::Number(ms))),
            None => fail(
                ErrorCode::D3110,
                format!("The argument of $toMillis must be an ISO 8601 timestamp, not {ts:?}"),
            ),
        },
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (month 1–12).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The date (year, month 1–12, day) of a day count since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Parses the ISO 8601 forms JSONata accepts: `YYYY[-MM[-DD]][THH:MM:SS[.fff]][Z|±HH[:]MM]`.
/// A timestamp without an offset is taken as UTC.
pub(crate) fn parse_iso(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let year = num(0, 4)?;
    let mut i = 4;
    let (mut month, mut day) = (1, 1);
    if b.get(i) == Some(&b'-') {
        month = num(i + 1, 2)?;
        i += 3;
        if b.get(i) == Some(&b'-') {
            day = num(i + 1, 2)?;
            i += 3;
        }
    }
    let (mut hour, mut minute, mut second, mut ms) = (0, 0, 0, 0.0);
    if b.get(i) == Some(&b'T') {
        hour = num(i + 1, 2)?;
        (b.get(i + 3) == Some(&b':')).then_some(())?;
        minute = num(i + 4, 2)?;
        (b.get(i + 6) == Some(&b':')).then_some(())?;
        second = num(i + 7, 2)?;
        i += 9;
    }
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        let mut end = start;
        while b.get(end).is_some_and(u8::is_ascii_digit) {
            end += 1;
        }
        if end == start {
            return None;
        }
        let digits = &s[start..end.min(start + 3)];
        ms = format!("{digits:0<3}").parse::<f64>().ok()?;
        i = end;
    }
    let mut offset = 0;
    match b.get(i) {
        None => {}
        Some(b'Z') if i + 1 == b.len() => {}
        Some(sign @ (b'+' | b'-')) => {
            let h = num(i + 1, 2)?;
            let mut j = i + 3;
            if b.get(j) == Some(&b':') {
                j += 1;
            }
            let m = num(j, 2)?;
            if j + 2 != b.len() {
                return None;
            }
            offset = (h * 60 + m) * if *sign == b'-' { -1 } else { 1 };
        }
        _ => return None,
    }
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 24
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = days * 86400 + hour * 3600 + minute * 60 + second - offset * 60;
    Some(secs as f64 * 1000.0 + ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values: the examples of https://docs.jsonata.org/date-time-functions
    // ($toMillis("2017-11-07T15:07:54.972Z") => 1510067274972).
    #[test]
    fn iso_timestamps_parse_to_epoch_milliseconds() {
        assert_eq!(parse_iso("2017-11-07T15:07:54.972Z"), Some(1510067274972.0));
        assert_eq!(parse_iso("1970-01-01"), Some(0.0));
        assert_eq!(
            parse_iso("2017-11-07T16:07:54.972+01:00"),
            Some(1510067274972.0)
        );
        assert_eq!(parse_iso("2017-11-07T15:07"), None);
        assert_eq!(parse_iso("yesterday"), None);
    }

    #[test]
    fn civil_dates_round_trip() {
        for days in [-800_000, -1, 0, 1, 59, 365, 11_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
    }
}
