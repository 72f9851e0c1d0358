//! Serialization of [`Json`] in fastjson's or standard shape.

use super::{Json, JsonStyle};
use std::fmt::Write;

pub(super) fn write_value(out: &mut String, v: &Json, style: JsonStyle) {
    match v {
        Json::Null => out.push_str("null"),
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Int(n) => {
            let _ = write!(out, "{n}");
        }
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

pub(crate) fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // fastjson writes the RocketMQ property separators (0x01, 0x02) this way.
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}
