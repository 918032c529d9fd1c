//! Parsing a timestamp with a date/time picture (`$toMillis(ts, picture)`).
//!
//! The date must be given as year-month-day or year plus day-of-year, the time as
//! hour-minute-second-fraction (24 h) or with an am/pm marker. Fields left out before the
//! first one given default to the current time; fields after the last one given to their
//! minimum. A gap between given fields is an error (D3136). Week-based dates are not
//! supported (D3136), as in the reference implementation.

use super::fail;
use super::integer_format as int;
use super::picture::{analyse_for_parse, month_day_of_year, now_component, utc_millis, ParseKind};
use crate::jsonata::error::{ErrorCode, Result};
use std::collections::hash_map::Entry;
use std::collections::HashMap;

fn zone_minutes(value: &str, component: char, sep: Option<char>) -> i64 {
    let v = if component == 'z' {
        value.get(3..).unwrap_or("")
    } else {
        value
    };
    let int = |s: &str| -> i64 {
        let t: String = s
            .chars()
            .enumerate()
            .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && (*c == '+' || *c == '-')))
            .map(|(_, c)| c)
            .collect();
        t.parse().unwrap_or(0)
    };
    let (h, m) = match sep.and_then(|c| v.find(c).map(|i| (i, c))) {
        Some((i, c)) => (int(&v[..i]), int(&v[i + c.len_utf8()..])),
        None => {
            if v.chars().count() <= 3 {
                (int(v), 0)
            } else {
                (int(v.get(..3).unwrap_or("")), int(v.get(3..).unwrap_or("")))
            }
        }
    };
    h * 60 + m
}

pub(crate) fn parse(timestamp: &str, picture: &str, now_millis: f64) -> Result<Option<f64>> {
    let parts = analyse_for_parse(picture)?;
    let pattern: String = parts.iter().map(|(_, re, _)| format!("({re})")).collect();
    let re = regex::RegexBuilder::new(&format!("^{pattern}$"))
        .case_insensitive(true)
        .build()
        .map_err(|e| {
            crate::jsonata::error::JsonataError::new(
                ErrorCode::D3136,
                format!("The date/time picture cannot be used for parsing: {e}"),
            )
        })?;
    let Some(caps) = re.captures(timestamp) else {
        return Ok(None);
    };
    let mut c: HashMap<char, f64> = HashMap::new();
    for (i, (component, _, kind)) in parts.iter().enumerate() {
        let (Some(component), Some(text)) = (component, caps.get(i + 1).map(|m| m.as_str())) else {
            continue;
        };
        let value = match kind {
            ParseKind::Literal => None,
            ParseKind::Zone(sep) => Some(zone_minutes(text, *component, *sep) as f64),
            ParseKind::Fraction => {
                let digits: String = text.chars().take(3).collect();
                format!("0.{digits}")
                    .parse::<f64>()
                    .ok()
                    .map(|f| f * 1000.0)
            }
            ParseKind::Integer(f) => int::parse(text, f)?,
            ParseKind::Names(names) => names
                .iter()
                .find(|(n, _)| n == text)
                .map(|(_, v)| *v as f64),
        };
        if let Some(v) = value {
            c.insert(*component, v);
        }
    }
    if c.is_empty() {
        return Ok(None);
    }
    let mask_of = |letters: &str| -> u32 {
        letters
            .chars()
            .fold(0, |m, l| (m << 1) | u32::from(c.contains_key(&l)))
    };
    let is_type = |mask: u32, t: u32| (!t & mask) == 0 && (t & mask) != 0;
    let dmask = mask_of("YXMxWwdD");
    let date_a = is_type(dmask, 0b1010_0001);
    let date_b = !date_a && is_type(dmask, 0b1000_0010);
    let date_c = is_type(dmask, 0b0101_0100);
    let date_d = !date_c && is_type(dmask, 0b0100_1000);
    let tmask = mask_of("PHhmsf");
    let time_a = is_type(tmask, 0b01_0111);
    let time_b = !time_a && is_type(tmask, 0b10_1111);
    // the reference implementation lists Y and D (not d) for a day-of-year date
    let date_comps = if date_b {
        "YD"
    } else if date_c {
        "XxwF"
    } else if date_d {
        "XWF"
    } else {
        "YMD"
    };
    let time_comps = if time_b { "Phmsf" } else { "Hmsf" };
    let (mut started, mut ended) = (false, false);
    for part in date_comps.chars().chain(time_comps.chars()) {
        match c.entry(part) {
            Entry::Occupied(_) => {
                started = true;
                if ended {
                    return fail(
                        ErrorCode::D3136,
                        "The date/time picture string is missing fields needed to parse the timestamp",
                    );
                }
            }
            Entry::Vacant(slot) if started => {
                slot.insert(if "MDd".contains(part) { 1.0 } else { 0.0 });
                ended = true;
            }
            Entry::Vacant(slot) => {
                slot.insert(now_component(now_millis, part) as f64);
            }
        }
    }
    if date_c || date_d {
        return fail(
            ErrorCode::D3136,
            "Parsing week-based dates is not supported",
        );
    }
    let get = |k: char| c.get(&k).copied().unwrap_or(0.0) as i64;
    let mut month0 = if get('M') > 0 { get('M') - 1 } else { 0 };
    let mut day = get('D');
    if date_b {
        (month0, day) = month_day_of_year(get('Y'), get('d'));
    }
    let mut hour = get('H');
    if time_b {
        hour = if get('h') == 12 { 0 } else { get('h') };
        if get('P') == 1 {
            hour += 12;
        }
    }
    let mut millis = utc_millis(get('Y'), month0, day, hour, get('m'), get('s'), get('f'));
    let zone = c.get(&'Z').or(c.get(&'z')).copied().unwrap_or(0.0);
    millis -= zone * 60_000.0;
    Ok(Some(millis))
}
