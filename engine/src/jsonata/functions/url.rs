//! URL encoding as JavaScript's `encodeURIComponent`/`encodeURI` and their decoders define
//! it (ECMA-262 §19.2.6).

use super::{arg_str, fail};
use crate::jsonata::env::Env;
use crate::jsonata::error::{ErrorCode, Result};
use crate::jsonata::evaluator::Evaluator;
use crate::jsonata::function::Builtin;
use crate::jsonata::value::{Val, Value};

pub(crate) static FUNCTIONS: &[Builtin] = &[
    Builtin::new("encodeUrlComponent", "<s-:s>", 1, encode_component),
    Builtin::new("encodeUrl", "<s-:s>", 1, encode_url),
    Builtin::new("decodeUrlComponent", "<s-:s>", 1, decode_component),
    Builtin::new("decodeUrl", "<s-:s>", 1, decode_url),
];

const UNRESERVED_MARKS: &str = "-_.!~*'()";
const RESERVED: &str = ";/?:@&=+$,#";

fn encode(s: &str, keep: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || UNRESERVED_MARKS.contains(c) || keep.contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Decodes `%XX` sequences (which must form UTF-8), keeping escapes of `keep` as written.
fn decode(s: &str, keep: &str, name: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let malformed = || {
        fail(
            ErrorCode::D3140,
            format!("Malformed URL passed to ${name}(): {s:?}"),
        )
    };
    let hex = |i: usize| -> Option<u8> {
        let h = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
        u8::from_str_radix(h, 16).ok()
    };
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte != b'%' {
            out.push(byte);
            i += 1;
            continue;
        }
        let Some(first) = hex(i) else {
            return malformed();
        };
        if first < 0x80 {
            if keep.contains(first as char) {
                out.extend_from_slice(bytes.get(i..i + 3).unwrap_or_default());
            } else {
                out.push(first);
            }
            i += 3;
            continue;
        }
        let len = match first {
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => return malformed(),
        };
        let mut seq = vec![first];
        for k in 1..len {
            let at = i + 3 * k;
            if bytes.get(at) != Some(&b'%') {
                return malformed();
            }
            match hex(at) {
                Some(b) if b & 0xC0 == 0x80 => seq.push(b),
                _ => return malformed(),
            }
        }
        if std::str::from_utf8(&seq).is_err() {
            return malformed();
        }
        out.extend_from_slice(&seq);
        i += 3 * len;
    }
    String::from_utf8(out).or_else(|_| malformed())
}

fn encode_component(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(arg_str(args, 0).map(|s| Value::string(encode(&s, ""))))
}

fn encode_url(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    Ok(arg_str(args, 0).map(|s| Value::string(encode(&s, RESERVED))))
}

fn decode_component(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    match arg_str(args, 0) {
        None => Ok(None),
        Some(s) => Ok(Some(Value::string(decode(&s, "", "decodeUrlComponent")?))),
    }
}

fn decode_url(_: &mut Evaluator, args: &[Val], _: &Val, _: &Env) -> Result<Val> {
    match arg_str(args, 0) {
        None => Ok(None),
        Some(s) => Ok(Some(Value::string(decode(&s, RESERVED, "decodeUrl")?))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values: the examples of https://docs.jsonata.org/string-functions#encodeurlcomponent
    // and #encodeurl
    #[test]
    fn encodes_as_the_jsonata_documentation_shows() {
        assert_eq!(encode("?x=test", ""), "%3Fx%3Dtest");
        assert_eq!(
            encode("https://mozilla.org/?x=шеллы", RESERVED),
            "https://mozilla.org/?x=%D1%88%D0%B5%D0%BB%D0%BB%D1%8B"
        );
        assert_eq!(decode("%3Fx%3Dtest", "", "d").unwrap(), "?x=test");
        assert_eq!(decode("%3Fx", RESERVED, "d").unwrap(), "%3Fx");
        assert_eq!(
            decode("%E0%A4%A", "", "d").unwrap_err().code,
            ErrorCode::D3140
        );
    }
}
