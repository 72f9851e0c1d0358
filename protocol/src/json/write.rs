//! Serialization of [`Json`] in fastjson's or standard shape.

use super::{Json, JsonStyle};
use std::fmt::Write;

pub(super) fn write_value(out: &mut String, v: &Json, style: JsonStyle) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Int(n) => write_int(out, *n),
        Json::Float(f) => write_float(out, *f),
        Json::Str(s) => write_str(out, s),
        Json::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, style);
            }
            out.push(']');
        }
        Json::Object(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_key(out, k, style);
                out.push(':');
                write_value(out, v, style);
            }
            out.push('}');
        }
    }
}

fn write_key(out: &mut String, k: &Json, style: JsonStyle) {
    match (k, style) {
        (Json::Str(s), _) => write_str(out, s),
        (_, JsonStyle::Fastjson) => write_value(out, k, style),
        (_, JsonStyle::Standard) => write_str(out, &k.write(JsonStyle::Standard)),
    }
}

/// Java prints doubles with a decimal point (`0.0`), and JSON has no NaN or infinity.
fn write_float(out: &mut String, f: f64) {
    if !f.is_finite() {
        out.push_str("null");
        return;
    }
    let start = out.len();
    let _ = write!(out, "{f}");
    if !out[start..].contains(['.', 'e', 'E']) {
        out.push_str(".0");
    }
}

/// `n` in decimal. Every frame header carries four integers; this skips `fmt`'s machinery.
pub(crate) fn write_int(out: &mut String, n: i64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    let mut rest = n.unsigned_abs();
    loop {
        start -= 1;
        digits[start] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        out.push('-');
    }
    out.extend(digits[start..].iter().map(|&d| char::from(d)));
}

pub(crate) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            // fastjson writes the RocketMQ property separators (0x01, 0x02) as `\u0001`.
            b if b < 0x20 => None,
            _ => continue,
        };
        // Every byte that needs escaping is ASCII, so `i` is a character boundary.
        out.push_str(&s[plain..i]);
        match short {
            Some(escape) => out.push_str(escape),
            None => {
                let _ = write!(out, "\\u{b:04X}");
            }
        }
        plain = i + 1;
    }
    out.push_str(&s[plain..]);
    out.push('"');
}
