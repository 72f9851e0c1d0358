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

/// Where JSON text is written: a `String` for bodies, or straight into a frame's `BytesMut` for
/// headers, which are written for every response and so skip a `String` and its copy.
pub(crate) trait JsonSink {
    fn put(&mut self, text: &str);
}

impl JsonSink for String {
    fn put(&mut self, text: &str) {
        self.push_str(text);
    }
}

impl JsonSink for bytes::BytesMut {
    fn put(&mut self, text: &str) {
        self.extend_from_slice(text.as_bytes());
    }
}

/// `n` in decimal. Every frame header carries four integers; this skips `fmt`'s machinery.
pub(crate) fn write_int(out: &mut impl JsonSink, n: i64) {
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
        out.put("-");
    }
    // Only ASCII digits were written.
    out.put(std::str::from_utf8(&digits[start..]).unwrap_or_default());
}

pub(crate) fn write_str(out: &mut impl JsonSink, s: &str) {
    out.put("\"");
    let mut plain = 0;
    for (i, b) in s.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            // fastjson writes the RocketMQ property separators (0x01, 0x02) as `\u0001`.
            b if b < 0x20 => "",
            _ => continue,
        };
        // Every byte that needs escaping is ASCII, so `i` is a character boundary.
        out.put(&s[plain..i]);
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            let escape = [
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(b >> 4)],
                HEX[usize::from(b & 15)],
            ];
            // Only ASCII was written.
            out.put(std::str::from_utf8(&escape).unwrap_or_default());
        } else {
            out.put(short);
        }
        plain = i + 1;
    }
    out.put(&s[plain..]);
    out.put("\"");
}
