//! Date/time picture strings (`[Y0001]-[M01]-[D01]`, `[FNn], [D1o] [MNn]`, …): XPath's
//! `format-dateTime` (https://www.w3.org/TR/xpath-functions-31/#rules-for-datetime-formatting)
//! as JSONata implements it, for formatting and for parsing. Times are UTC unless a
//! timezone offset (`+hhmm`) is given.

use super::datetime::{civil_from_days, days_from_civil, ISO_PICTURE};
use super::fail;
use super::integer_format::{self as int, Case, IntegerFormat, Primary};
use crate::jsonata::error::{ErrorCode, Result};

const DAYS: [&str; 8] = [
    "",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAY_MS: f64 = 86_400_000.0;

#[derive(Clone, Debug)]
struct Marker {
    component: char,
    presentation1: String,
    presentation2: Option<char>,
    names: Option<Case>,
    width: Option<(Option<usize>, Option<usize>)>,
    integer: Option<IntegerFormat>,
    /// For years: how many digits to keep (`-1` for all).
    n: i64,
}

#[derive(Clone, Debug)]
enum Part {
    Literal(String),
    Marker(Marker),
}

fn default_presentation(c: char) -> Option<&'static str> {
    Some(match c {
        'Y' | 'M' | 'D' | 'd' | 'W' | 'w' | 'X' | 'x' | 'H' | 'h' | 'f' => "1",
        'F' | 'P' | 'C' | 'E' => "n",
        'm' | 's' => "01",
        'Z' | 'z' => "01:01",
        _ => return None,
    })
}

fn analyse(picture: &str) -> Result<Vec<Part>> {
    let chars: Vec<char> = picture.chars().collect();
    let mut parts: Vec<Part> = Vec::new();
    let literal = |parts: &mut Vec<Part>, from: usize, to: usize| {
        if to > from {
            let text: String = chars.get(from..to).unwrap_or_default().iter().collect();
            parts.push(Part::Literal(text.replace("]]", "]")));
        }
    };
    let (mut start, mut pos) = (0, 0);
    while let Some(&at) = chars.get(pos) {
        if at != '[' {
            pos += 1;
            continue;
        }
        if chars.get(pos + 1) == Some(&'[') {
            literal(&mut parts, start, pos);
            parts.push(Part::Literal("[".into()));
            pos += 2;
            start = pos;
            continue;
        }
        literal(&mut parts, start, pos);
        start = pos;
        let Some(close) = chars
            .iter()
            .skip(start)
            .position(|c| *c == ']')
            .map(|i| i + start)
        else {
            return fail(
                ErrorCode::D3135,
                "No matching closing bracket ']' in the date/time picture string",
            );
        };
        let marker: String = chars
            .get(start + 1..close)
            .unwrap_or_default()
            .iter()
            .filter(|c| !c.is_whitespace())
            .collect();
        let m = marker_of(&marker, &mut parts)?;
        parts.push(Part::Marker(m));
        pos = close + 1;
        start = pos;
    }
    literal(&mut parts, start, chars.len());
    Ok(parts)
}

fn marker_of(marker: &str, previous: &mut [Part]) -> Result<Marker> {
    let component = marker.chars().next().unwrap_or(' ');
    let body: String = marker.chars().skip(1).collect();
    let (pres, width) = match body.rfind(',') {
        Some(comma) => {
            let w = &body[comma + 1..];
            let parse_width = |s: &str| -> Option<usize> {
                if s == "*" {
                    None
                } else {
                    s.chars()
                        .take_while(|c| c.is_ascii_digit())
                        .collect::<String>()
                        .parse()
                        .ok()
                }
            };
            let (min, max) = match w.find('-') {
                None => (parse_width(w), None),
                Some(d) => (parse_width(&w[..d]), parse_width(&w[d + 1..])),
            };
            (body[..comma].to_string(), Some((min, max)))
        }
        None => (body.clone(), None),
    };
    let mut m = Marker {
        component,
        presentation1: String::new(),
        presentation2: None,
        names: None,
        width,
        integer: None,
        n: -1,
    };
    let count = pres.chars().count();
    if count == 1 {
        m.presentation1 = pres;
    } else if count > 1 {
        let last = pres.chars().last().unwrap_or(' ');
        if "atco".contains(last) {
            m.presentation2 = Some(last);
            m.presentation1 = pres.chars().take(count - 1).collect();
        } else {
            m.presentation1 = pres;
        }
    } else {
        match default_presentation(component) {
            Some(p) => m.presentation1 = p.to_string(),
            None => {
                return fail(
                    ErrorCode::D3132,
                    format!(
                        "Unknown component specifier {component:?} in the date/time picture string"
                    ),
                )
            }
        }
    }
    if default_presentation(component).is_none() {
        return fail(
            ErrorCode::D3132,
            format!("Unknown component specifier {component:?} in the date/time picture string"),
        );
    }
    let mut p1 = m.presentation1.chars();
    match (p1.next(), p1.next()) {
        (Some('n'), _) => m.names = Some(Case::Lower),
        (Some('N'), Some('n')) => m.names = Some(Case::Title),
        (Some('N'), _) => m.names = Some(Case::Upper),
        _ if "YMDdFWwXxHhmsf".contains(component) => {
            let mut pattern = m.presentation1.clone();
            if let Some(p2) = m.presentation2 {
                pattern.push(';');
                pattern.push(p2);
            }
            let mut f = int::analyse(&pattern)?;
            if let Some((Some(min), _)) = m.width {
                f.mandatory = f.mandatory.max(min);
            }
            if component == 'Y' {
                match m.width {
                    Some((_, Some(max))) => {
                        m.n = max as i64;
                        f.mandatory = max;
                    }
                    _ => {
                        let w = f.mandatory + f.optional;
                        if w >= 2 {
                            m.n = w as i64;
                        }
                    }
                }
            }
            if let Some(Part::Marker(prev)) = previous.last_mut() {
                if let Some(pf) = prev.integer.as_mut() {
                    pf.parse_width = Some(pf.mandatory);
                }
            }
            m.integer = Some(f);
        }
        _ => {}
    }
    if component == 'Z' || component == 'z' {
        m.integer = Some(int::analyse(&m.presentation1)?);
    }
    Ok(m)
}

/// The fields of a UTC instant that pictures refer to.
struct Fields {
    millis: f64,
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
    second: i64,
    milli: i64,
    weekday: i64,
}

fn fields(millis: f64) -> Fields {
    let days = (millis / DAY_MS).floor() as i64;
    let rem = (millis - days as f64 * DAY_MS) as i64;
    let (year, month, day) = civil_from_days(days);
    Fields {
        millis,
        year,
        month,
        day,
        hour: rem / 3_600_000,
        minute: rem / 60_000 % 60,
        second: rem / 1000 % 60,
        milli: rem % 1000,
        weekday: (days + 3).rem_euclid(7) + 1,
    }
}

fn utc(y: i64, m0: i64, d: i64) -> f64 {
    let y = y + m0.div_euclid(12);
    let m = m0.rem_euclid(12) + 1;
    days_from_civil(y, m, 1) as f64 * DAY_MS + (d - 1) as f64 * DAY_MS
}

/// The start of week 1 of a month (ISO 8601: the week holding the first Thursday).
fn start_of_first_week(year: i64, month0: i64) -> f64 {
    let first = utc(year, month0, 1);
    let mut dow = fields(first).weekday;
    if dow == 0 {
        dow = 7;
    }
    if dow > 4 {
        first + (8 - dow) as f64 * DAY_MS
    } else {
        first - (dow - 1) as f64 * DAY_MS
    }
}

fn delta_weeks(start: f64, end: f64) -> f64 {
    (end - start) / (DAY_MS * 7.0) + 1.0
}

fn component(f: &Fields, c: char) -> Option<i64> {
    Some(match c {
        'Y' => f.year,
        'M' => f.month,
        'D' => f.day,
        'd' => ((utc(f.year, f.month - 1, f.day) - utc(f.year, 0, 1)) / DAY_MS) as i64 + 1,
        'F' => f.weekday,
        'W' => {
            let start = start_of_first_week(f.year, 0);
            let today = utc(f.year, f.month - 1, f.day);
            let mut week = delta_weeks(start, today);
            if week > 52.0 {
                if today >= start_of_first_week(f.year + 1, 0) {
                    week = 1.0;
                }
            } else if week < 1.0 {
                week = delta_weeks(start_of_first_week(f.year - 1, 0), today);
            }
            week.floor() as i64
        }
        'w' => {
            let start = start_of_first_week(f.year, f.month - 1);
            let today = utc(f.year, f.month - 1, f.day);
            let mut week = delta_weeks(start, today);
            if week > 4.0 {
                if today >= start_of_first_week(f.year, f.month) {
                    week = 1.0;
                }
            } else if week < 1.0 {
                week = delta_weeks(start_of_first_week(f.year, f.month - 2), today);
            }
            week.floor() as i64
        }
        'X' => {
            if f.millis < start_of_first_week(f.year, 0) {
                f.year - 1
            } else if f.millis >= start_of_first_week(f.year + 1, 0) {
                f.year + 1
            } else {
                f.year
            }
        }
        'x' => {
            if f.millis < start_of_first_week(f.year, f.month - 1) {
                (f.month - 2).rem_euclid(12) + 1
            } else if f.millis >= start_of_first_week(f.year, f.month) {
                f.month % 12 + 1
            } else {
                f.month
            }
        }
        'H' => f.hour,
        'h' => match f.hour % 12 {
            0 => 12,
            h => h,
        },
        'm' => f.minute,
        's' => f.second,
        'f' => f.milli,
        _ => return None,
    })
}

fn cased(s: &str, case: Option<Case>) -> String {
    match case {
        Some(Case::Upper) => s.to_uppercase(),
        Some(Case::Lower) => s.to_lowercase(),
        _ => s.to_string(),
    }
}

/// Formats epoch milliseconds with a picture (ISO 8601 without one) at a `±hhmm` offset.
pub(crate) fn format_datetime(
    millis: f64,
    picture: Option<&str>,
    timezone: Option<&str>,
) -> Result<String> {
    if !millis.is_finite() || millis.abs() > 8.64e15 {
        return fail(
            ErrorCode::D3110,
            "The number of milliseconds is outside the range of dates",
        );
    }
    let (mut off_h, mut off_m) = (0i64, 0i64);
    if let Some(tz) = timezone {
        let digits: String = tz
            .trim()
            .chars()
            .enumerate()
            .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && (*c == '+' || *c == '-')))
            .map(|(_, c)| c)
            .collect();
        let offset: i64 = digits.parse().unwrap_or(0);
        // as the reference implementation splits it: floored hours, remainder minutes
        off_h = offset.div_euclid(100);
        off_m = offset % 100;
    }
    let parts = analyse(picture.unwrap_or(ISO_PICTURE))?;
    let f = fields(millis + ((60 * off_h + off_m) * 60_000) as f64);
    let mut out = String::new();
    for part in &parts {
        match part {
            Part::Literal(l) => out.push_str(l),
            Part::Marker(m) => out.push_str(&format_marker(&f, m, off_h, off_m)?),
        }
    }
    Ok(out)
}

fn format_marker(f: &Fields, m: &Marker, off_h: i64, off_m: i64) -> Result<String> {
    let c = m.component;
    if "YMDdFWwXxHhms".contains(c) {
        let mut v = component(f, c).unwrap_or(0);
        if c == 'Y' && m.n != -1 {
            v %= 10i64.pow(m.n.clamp(0, 18) as u32);
        }
        if m.names.is_some() {
            let name = match c {
                'M' | 'x' => MONTHS
                    .get((v - 1).rem_euclid(12) as usize)
                    .copied()
                    .unwrap_or_default(),
                'F' => DAYS
                    .get(v.clamp(0, 7) as usize)
                    .copied()
                    .unwrap_or_default(),
                _ => {
                    return fail(
                        ErrorCode::D3133,
                        format!(
                            "The 'name' modifier can only be applied to months and days, not {c:?}"
                        ),
                    )
                }
            };
            let mut name = cased(name, m.names);
            if let Some((_, Some(max))) = m.width {
                name = name.chars().take(max).collect();
            }
            return Ok(name);
        }
        return int::format(v as f64, m.integer.as_ref().unwrap_or(&default_int()));
    }
    match c {
        'f' => int::format(f.milli as f64, m.integer.as_ref().unwrap_or(&default_int())),
        'Z' | 'z' => {
            let offset = off_h * 100 + off_m;
            let fmt = m.integer.clone().unwrap_or_else(default_int);
            let mut s = if fmt.regular.is_some() {
                int::format(offset as f64, &fmt)?
            } else {
                match fmt.mandatory {
                    1 | 2 => {
                        let mut s = int::format(off_h as f64, &fmt)?;
                        if off_m != 0 {
                            s += &format!(":{:02}", off_m.abs());
                        }
                        s
                    }
                    3 | 4 => int::format(offset as f64, &fmt)?,
                    n => {
                        return fail(
                            ErrorCode::D3134,
                            format!("The timezone format specifier cannot have more than four digits (it has {n})"),
                        )
                    }
                }
            };
            if offset >= 0 {
                s.insert(0, '+');
            }
            if c == 'z' {
                s.insert_str(0, "GMT");
            }
            if offset == 0 && m.presentation2 == Some('t') {
                s = "Z".into();
            }
            Ok(s)
        }
        'P' => {
            let s = if f.hour >= 12 { "pm" } else { "am" };
            Ok(if m.names == Some(Case::Upper) {
                s.to_uppercase()
            } else {
                s.into()
            })
        }
        _ => Ok("ISO".into()),
    }
}

fn default_int() -> IntegerFormat {
    IntegerFormat {
        primary: Primary::Decimal,
        case: Case::Lower,
        ordinal: false,
        zero: 0x30,
        mandatory: 1,
        optional: 0,
        regular: None,
        separators: Vec::new(),
        token: String::new(),
        parse_width: None,
    }
}

/// Parses a timestamp written with a picture into epoch milliseconds; missing leading
/// fields default to now, missing trailing ones to their minimum.
pub(crate) fn parse_datetime(
    timestamp: &str,
    picture: &str,
    now_millis: f64,
) -> Result<Option<f64>> {
    super::picture_parse::parse(timestamp, picture, now_millis)
}

pub(crate) fn analyse_for_parse(picture: &str) -> Result<Vec<(Option<char>, String, ParseKind)>> {
    let mut out = Vec::new();
    for part in analyse(picture)? {
        match part {
            Part::Literal(l) => out.push((None, regex::escape(&l), ParseKind::Literal)),
            Part::Marker(m) => {
                let c = m.component;
                if c == 'Z' || c == 'z' {
                    let sep = m.integer.as_ref().and_then(|f| f.regular.clone());
                    let mut re = if c == 'z' {
                        "GMT".to_string()
                    } else {
                        String::new()
                    };
                    re += "[-+][0-9]+";
                    if let Some(s) = &sep {
                        re += &regex::escape(&s.character.to_string());
                        re += "[0-9]+";
                    }
                    out.push((Some(c), re, ParseKind::Zone(sep.map(|s| s.character))));
                } else if c == 'f' {
                    out.push((Some(c), "[0-9]+".into(), ParseKind::Fraction));
                } else if let Some(f) = &m.integer {
                    out.push((Some(c), int::pattern(f)?, ParseKind::Integer(f.clone())));
                } else {
                    let names: Vec<(String, i64)> = match c {
                        'M' | 'x' => MONTHS
                            .iter()
                            .enumerate()
                            .map(|(i, n)| (truncate(n, m.width), i as i64 + 1))
                            .collect(),
                        'F' => DAYS
                            .iter()
                            .enumerate()
                            .skip(1)
                            .map(|(i, n)| (truncate(n, m.width), i as i64))
                            .collect(),
                        'P' => vec![("am".into(), 0), ("pm".into(), 1)],
                        _ => {
                            return fail(
                                ErrorCode::D3133,
                                format!("The 'name' modifier can only be applied to months and days, not {c:?}"),
                            )
                        }
                    };
                    out.push((Some(c), "[a-zA-Z]+".into(), ParseKind::Names(names)));
                }
            }
        }
    }
    Ok(out)
}

fn truncate(name: &str, width: Option<(Option<usize>, Option<usize>)>) -> String {
    match width {
        Some((_, Some(max))) if max > 0 => name.chars().take(max).collect(),
        _ => name.to_string(),
    }
}

#[derive(Clone, Debug)]
pub(crate) enum ParseKind {
    Literal,
    Zone(Option<char>),
    Fraction,
    Integer(IntegerFormat),
    Names(Vec<(String, i64)>),
}

/// A component of "now" for filling the leading fields of a parsed timestamp.
pub(crate) fn now_component(now_millis: f64, c: char) -> i64 {
    let f = fields(now_millis);
    match c {
        'P' => i64::from(f.hour >= 12),
        _ => component(&f, c).unwrap_or(0),
    }
}

pub(crate) fn utc_millis(y: i64, m0: i64, d: i64, h: i64, mi: i64, s: i64, ms: i64) -> f64 {
    utc(y, m0, d) + (h * 3_600_000 + mi * 60_000 + s * 1000 + ms) as f64
}

pub(crate) fn month_day_of_year(year: i64, day_of_year: i64) -> (i64, i64) {
    let f = fields(utc(year, 0, 1) + (day_of_year - 1) as f64 * DAY_MS);
    (f.month - 1, f.day)
}
