//! `$formatNumber(number, picture, options)`: the XPath `format-number` picture syntax
//! (https://www.w3.org/TR/xpath-functions-31/#func-format-number) as JSONata implements it.

use super::numeric::round_half_even;
use super::{arg, arg_num, arg_str, fail};
use crate::jsonata::env::Env;
use crate::jsonata::error::{ErrorCode, Result};
use crate::jsonata::evaluator::Evaluator;
use crate::jsonata::function::Builtin;
use crate::jsonata::value::{Val, Value};

pub(crate) static FUNCTIONS: &[Builtin] =
    &[Builtin::new("formatNumber", "<n-so?:s>", 3, format_number)];

struct Properties {
    decimal: char,
    grouping: char,
    exponent: char,
    minus: char,
    percent: char,
    per_mille: char,
    zero: char,
    digit: char,
    pattern: char,
}

impl Properties {
    fn digits(&self) -> Vec<char> {
        (0..10)
            .filter_map(|i| char::from_u32(self.zero as u32 + i))
            .collect()
    }
    fn active(&self) -> Vec<char> {
        let mut a = self.digits();
        a.extend([
            self.decimal,
            self.exponent,
            self.grouping,
            self.digit,
            self.pattern,
        ]);
        a
    }
}

#[derive(Clone)]
struct Parts {
    prefix: Vec<char>,
    suffix: Vec<char>,
    active: Vec<char>,
    mantissa: Vec<char>,
    exponent: Option<Vec<char>>,
    integer: Vec<char>,
    fractional: Vec<char>,
    picture: Vec<char>,
}

#[derive(Clone)]
struct Analysis {
    integer_groups: Vec<usize>,
    regular: usize,
    min_integer: usize,
    scaling: i32,
    prefix: Vec<char>,
    fraction_groups: Vec<usize>,
    min_fraction: usize,
    max_fraction: usize,
    min_exponent: usize,
    suffix: Vec<char>,
    picture: Vec<char>,
}

fn index_of(s: &[char], c: char, from: usize) -> Option<usize> {
    s.iter().skip(from).position(|x| *x == c).map(|p| p + from)
}

fn split_parts(sub: &[char], p: &Properties) -> Parts {
    let active = p.active();
    let is_active = |c: &char| active.contains(c) && *c != p.exponent;
    let prefix_len = sub.iter().position(is_active).unwrap_or(0);
    let suffix_start = sub
        .iter()
        .rposition(is_active)
        .map(|i| i + 1)
        .unwrap_or(sub.len());
    let (head, suffix) = sub
        .split_at_checked(suffix_start.max(prefix_len))
        .unwrap_or((sub, &[]));
    let (prefix, active_part) = head.split_at_checked(prefix_len).unwrap_or((&[], head));
    let (prefix, suffix, active_part) = (prefix.to_vec(), suffix.to_vec(), active_part.to_vec());
    let exp_pos = index_of(sub, p.exponent, prefix_len);
    let (mantissa, exponent) = match exp_pos {
        Some(e) if e <= sub.len() - suffix.len() => {
            let cut = e.min(active_part.len());
            (
                active_part.get(..cut).unwrap_or_default().to_vec(),
                Some(active_part.get(cut + 1..).unwrap_or(&[]).to_vec()),
            )
        }
        _ => (active_part.clone(), None),
    };
    let (integer, fractional) = match index_of(&mantissa, p.decimal, 0) {
        None => (mantissa.clone(), suffix.clone()),
        Some(d) => (
            mantissa.get(..d).unwrap_or_default().to_vec(),
            mantissa.get(d + 1..).unwrap_or_default().to_vec(),
        ),
    };
    Parts {
        prefix,
        suffix,
        active: active_part,
        mantissa,
        exponent,
        integer,
        fractional,
        picture: sub.to_vec(),
    }
}

fn validate(parts: &Parts, p: &Properties) -> Result<()> {
    let digits = p.digits();
    let active = p.active();
    let sub = &parts.picture;
    let count = |c: char| sub.iter().filter(|x| **x == c).count();
    let mut error = None;
    if count(p.decimal) > 1 {
        error = Some(ErrorCode::D3081);
    }
    if count(p.percent) > 1 {
        error = Some(ErrorCode::D3082);
    }
    if count(p.per_mille) > 1 {
        error = Some(ErrorCode::D3083);
    }
    if count(p.percent) > 0 && count(p.per_mille) > 0 {
        error = Some(ErrorCode::D3084);
    }
    if !parts
        .mantissa
        .iter()
        .any(|c| digits.contains(c) || *c == p.digit)
    {
        error = Some(ErrorCode::D3085);
    }
    if parts.active.iter().any(|c| !active.contains(c)) {
        error = Some(ErrorCode::D3086);
    }
    match index_of(sub, p.decimal, 0) {
        Some(d) => {
            let before = d.checked_sub(1).and_then(|i| sub.get(i));
            if before == Some(&p.grouping) || sub.get(d + 1) == Some(&p.grouping) {
                error = Some(ErrorCode::D3087);
            }
        }
        None => {
            if parts.integer.last() == Some(&p.grouping) {
                error = Some(ErrorCode::D3088);
            }
        }
    }
    if sub
        .windows(2)
        .any(|w| matches!(w, [a, b] if *a == p.grouping && *b == p.grouping))
    {
        error = Some(ErrorCode::D3089);
    }
    if let Some(opt) = index_of(&parts.integer, p.digit, 0) {
        if parts.integer.iter().take(opt).any(|c| digits.contains(c)) {
            error = Some(ErrorCode::D3090);
        }
    }
    if let Some(opt) = parts.fractional.iter().rposition(|c| *c == p.digit) {
        if parts
            .fractional
            .iter()
            .skip(opt)
            .any(|c| digits.contains(c))
        {
            error = Some(ErrorCode::D3091);
        }
    }
    if let Some(exp) = &parts.exponent {
        if !exp.is_empty() && (count(p.percent) > 0 || count(p.per_mille) > 0) {
            error = Some(ErrorCode::D3092);
        }
        if exp.is_empty() || exp.iter().any(|c| !digits.contains(c)) {
            error = Some(ErrorCode::D3093);
        }
    }
    match error {
        Some(code) => fail(code, picture_message(code)),
        None => Ok(()),
    }
}

fn picture_message(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::D3080 => "The picture string must contain at most two sub-pictures",
        ErrorCode::D3081 => "A sub-picture must not contain more than one decimal separator",
        ErrorCode::D3082 => "A sub-picture must not contain more than one percent sign",
        ErrorCode::D3083 => "A sub-picture must not contain more than one per-mille sign",
        ErrorCode::D3084 => "A sub-picture must not contain both a percent and a per-mille sign",
        ErrorCode::D3085 => {
            "The mantissa of a sub-picture must contain at least one digit or optional digit (#)"
        }
        ErrorCode::D3086 => {
            "A sub-picture must not contain a passive character between two active characters"
        }
        ErrorCode::D3087 => "A grouping separator must not be next to the decimal separator",
        ErrorCode::D3088 => "A grouping separator must not end the integer part of a sub-picture",
        ErrorCode::D3089 => "A sub-picture must not contain two grouping separators in a row",
        ErrorCode::D3090 => {
            "In the integer part, a digit must not be followed by an optional digit (#)"
        }
        ErrorCode::D3091 => {
            "In the fractional part, an optional digit (#) must not be followed by a digit"
        }
        ErrorCode::D3092 => {
            "A sub-picture with a percent or per-mille sign must not have an exponent"
        }
        _ => "The exponent part of a sub-picture must consist of one or more digits",
    }
}

fn grouping_positions(
    part: &[char],
    integer: &[char],
    to_left: bool,
    p: &Properties,
) -> Vec<usize> {
    let digits = p.digits();
    let counts = |s: &[char]| {
        s.iter()
            .filter(|c| digits.contains(c) || **c == p.digit)
            .count()
    };
    let mut positions = Vec::new();
    let mut pos = index_of(part, p.grouping, 0);
    while let Some(g) = pos {
        positions.push(if to_left {
            counts(part.get(..g).unwrap_or(part))
        } else {
            counts(part.get(g..).unwrap_or_default())
        });
        pos = index_of(integer, p.grouping, g + 1);
    }
    positions
}

fn regular(indexes: &[usize]) -> usize {
    let Some(&first) = indexes.first() else {
        return 0;
    };
    fn gcd(a: usize, b: usize) -> usize {
        if b == 0 {
            a
        } else {
            gcd(b, a % b)
        }
    }
    let factor = indexes.iter().copied().fold(first, gcd);
    if factor == 0 {
        return 0;
    }
    for i in 1..=indexes.len() {
        if !indexes.contains(&(i * factor)) {
            return 0;
        }
    }
    factor
}

fn analyse(parts: &Parts, p: &Properties) -> Analysis {
    let digits = p.digits();
    let integer_groups = grouping_positions(&parts.integer, &parts.integer, false, p);
    let fraction_groups = grouping_positions(&parts.fractional, &parts.integer, true, p);
    let mut min_integer = parts.integer.iter().filter(|c| digits.contains(c)).count();
    let scaling = min_integer as i32;
    let mut min_fraction = parts
        .fractional
        .iter()
        .filter(|c| digits.contains(c))
        .count();
    let mut max_fraction = parts
        .fractional
        .iter()
        .filter(|c| digits.contains(c) || **c == p.digit)
        .count();
    let has_exponent = parts.exponent.is_some();
    if min_integer == 0 && max_fraction == 0 {
        if has_exponent {
            min_fraction = 1;
            max_fraction = 1;
        } else {
            min_integer = 1;
        }
    }
    if has_exponent && min_integer == 0 && parts.integer.contains(&p.digit) {
        min_integer = 1;
    }
    if min_integer == 0 && min_fraction == 0 {
        min_fraction = 1;
    }
    let min_exponent = parts
        .exponent
        .as_ref()
        .map(|e| e.iter().filter(|c| digits.contains(c)).count())
        .unwrap_or(0);
    Analysis {
        regular: regular(&integer_groups),
        integer_groups,
        min_integer,
        scaling,
        prefix: parts.prefix.clone(),
        fraction_groups,
        min_fraction,
        max_fraction,
        min_exponent,
        suffix: parts.suffix.clone(),
        picture: parts.picture.clone(),
    }
}

fn make_string(value: f64, dp: usize, p: &Properties) -> Vec<char> {
    let digits = p.digits();
    format!("{:.*}", dp, value.abs())
        .chars()
        .map(|c| match c.to_digit(10) {
            // A zero digit near the end of a Unicode block may have fewer than ten digits
            // after it; a digit without a counterpart stays as written.
            Some(d) => digits.get(d as usize).copied().unwrap_or(c),
            None => c,
        })
        .collect()
}

fn insert(s: &mut Vec<char>, at: usize, c: char) {
    let at = at.min(s.len());
    s.insert(at, c);
}

fn format_number(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    let Some(value) = arg_num(args, 0) else {
        return Ok(None);
    };
    let picture = arg_str(args, 1).unwrap_or_default();
    let mut p = Properties {
        decimal: '.',
        grouping: ',',
        exponent: 'e',
        minus: '-',
        percent: '%',
        per_mille: '\u{2030}',
        zero: '0',
        digit: '#',
        pattern: ';',
    };
    if let Some(Value::Object(options)) = arg(args, 2) {
        for (k, v) in options.iter() {
            let Some(c) = v.as_str().and_then(|s| s.chars().next()) else {
                continue;
            };
            match k.as_str() {
                "decimal-separator" => p.decimal = c,
                "grouping-separator" => p.grouping = c,
                "exponent-separator" => p.exponent = c,
                "minus-sign" => p.minus = c,
                "percent" => p.percent = c,
                "per-mille" => p.per_mille = c,
                "zero-digit" => p.zero = c,
                "digit" => p.digit = c,
                "pattern-separator" => p.pattern = c,
                _ => {}
            }
        }
    }
    let chars: Vec<char> = picture.chars().collect();
    let subs: Vec<&[char]> = chars.split(|c| *c == p.pattern).collect();
    if subs.len() > 2 {
        return fail(ErrorCode::D3080, picture_message(ErrorCode::D3080));
    }
    let parts: Vec<Parts> = subs.iter().map(|s| split_parts(s, &p)).collect();
    for part in &parts {
        validate(part, &p)?;
    }
    let mut analyses = parts.iter().map(|x| analyse(x, &p));
    // Splitting always yields a first sub-picture; the second, if absent, is the first with a
    // minus sign in front.
    let (Some(positive), negative) = (analyses.next(), analyses.next()) else {
        return fail(ErrorCode::D3080, picture_message(ErrorCode::D3080));
    };
    let negative = negative.unwrap_or_else(|| {
        let mut negative = positive.clone();
        negative.prefix.insert(0, p.minus);
        negative
    });
    let pic = if value >= 0.0 { &positive } else { &negative };
    let adjusted = if pic.picture.contains(&p.percent) {
        value * 100.0
    } else if pic.picture.contains(&p.per_mille) {
        value * 1000.0
    } else {
        value
    };
    let (mantissa, exponent) = if pic.min_exponent == 0 {
        (adjusted, None)
    } else {
        let max_m = 10f64.powi(pic.scaling);
        let min_m = 10f64.powi(pic.scaling - 1);
        let mut m = adjusted;
        let mut e = 0i32;
        if m != 0.0 && m.is_finite() {
            while m.abs() < min_m {
                m *= 10.0;
                e -= 1;
            }
            while m.abs() > max_m {
                m /= 10.0;
                e += 1;
            }
        }
        (m, Some(e))
    };
    let rounded = round_half_even(mantissa, pic.max_fraction as i32);
    let mut s = make_string(rounded, pic.max_fraction, &p);
    match s.iter_mut().find(|c| **c == '.') {
        Some(point) => *point = p.decimal,
        None => s.push(p.decimal),
    }
    while s.first() == Some(&p.zero) {
        s.remove(0);
    }
    while s.last() == Some(&p.zero) {
        s.pop();
    }
    let dp = index_of(&s, p.decimal, 0).unwrap_or(s.len());
    let pad_left = pic.min_integer.saturating_sub(dp);
    let pad_right = pic
        .min_fraction
        .saturating_sub(s.len().saturating_sub(dp + 1));
    let mut v: Vec<char> = std::iter::repeat_n(p.zero, pad_left).collect();
    v.extend(s);
    v.extend(std::iter::repeat_n(p.zero, pad_right));
    let mut dp = index_of(&v, p.decimal, 0).unwrap_or(v.len());
    if let Some(groups) = dp.saturating_sub(1).checked_div(pic.regular) {
        for g in 1..=groups {
            insert(&mut v, dp - g * pic.regular, p.grouping);
        }
    } else {
        for pos in &pic.integer_groups {
            insert(&mut v, dp.saturating_sub(*pos), p.grouping);
            dp += 1;
        }
    }
    let dp = index_of(&v, p.decimal, 0).unwrap_or(v.len());
    for pos in &pic.fraction_groups {
        insert(&mut v, pos + dp + 1, p.grouping);
    }
    let dp = index_of(&v, p.decimal, 0);
    if !pic.picture.contains(&p.decimal) || dp == Some(v.len().saturating_sub(1)) {
        v.pop();
    }
    if let Some(e) = exponent {
        let mut digits = make_string(e as f64, 0, &p);
        while digits.len() < pic.min_exponent {
            digits.insert(0, p.zero);
        }
        v.push(p.exponent);
        if e < 0 {
            v.push(p.minus);
        }
        v.extend(digits);
    }
    let mut out: String = pic.prefix.iter().collect();
    out.extend(v);
    out.extend(pic.suffix.iter());
    Ok(Some(Value::string(out)))
}
