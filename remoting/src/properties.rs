//! Config files in the shape Java servers read (`namesrv.properties`, `broker.conf`).
//!
//! Follows `java.util.Properties.load`: `key=value`, `key: value` or `key value`; `#` and `!`
//! comments; a trailing backslash continues the line; `\t \n \r \f \uXXXX` escapes. Later keys win.
//! [`read_file`] also accepts the same keys as a TOML file, for people who prefer TOML.

use std::path::Path;

/// Reads a config file as `(key, value)` pairs: TOML if the name ends in `.toml`, else Java
/// properties. The error is a sentence naming what is wrong.
pub fn read_file(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    if path.extension().is_some_and(|e| e == "toml") {
        toml_pairs(&text)
    } else {
        Ok(parse(&text))
    }
}

/// Flattens a TOML document of scalar values into key/value strings.
fn toml_pairs(text: &str) -> Result<Vec<(String, String)>, String> {
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
    table
        .into_iter()
        .map(|(k, v)| match v {
            toml::Value::String(s) => Ok((k, s)),
            toml::Value::Integer(i) => Ok((k, i.to_string())),
            toml::Value::Boolean(b) => Ok((k, b.to_string())),
            toml::Value::Float(f) => Ok((k, f.to_string())),
            other => Err(format!(
                "key `{k}`: expected a string, number or boolean, found {}",
                other.type_str()
            )),
        })
        .collect()
}

/// Properties text, `key=value` per line, for `-p` (print the effective configuration) and for
/// answers such as GET_BROKER_CONFIG. The inverse of [`parse`] for plain values.
pub fn render(entries: &[(String, String)]) -> String {
    entries.iter().map(|(k, v)| format!("{k}={v}\n")).collect()
}

/// Parses properties text into `(key, value)` pairs in file order.
pub fn parse(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut lines = text.lines();
    while let Some(first) = lines.next() {
        let mut logical = first.trim_start().to_owned();
        if logical.is_empty() || logical.starts_with('#') || logical.starts_with('!') {
            continue;
        }
        while ends_with_continuation(&logical) {
            logical.pop();
            match lines.next() {
                Some(next) => logical.push_str(next.trim_start()),
                None => break,
            }
        }
        let (key, value) = split_key_value(&logical);
        let (key, value) = (unescape(key), unescape(value));
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key, value)),
        }
    }
    out
}

/// An odd number of trailing backslashes continues the line.
fn ends_with_continuation(line: &str) -> bool {
    line.bytes().rev().take_while(|&b| b == b'\\').count() % 2 == 1
}

fn split_key_value(line: &str) -> (&str, &str) {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'=' | b':' | b' ' | b'\t' => break,
            _ => i += 1,
        }
    }
    let key = &line[..i.min(line.len())];
    let mut rest = line.get(i..).unwrap_or("").trim_start_matches([' ', '\t']);
    if let Some(r) = rest.strip_prefix(['=', ':']) {
        rest = r.trim_start_matches([' ', '\t']);
    }
    (key, rest)
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = chars.by_ref().take(4).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) => out.push(ch),
                    None => out.push_str(&hex),
                }
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn reads_java_properties_syntax() {
        let text = "# comment\n! also\nbrokerClusterName = DefaultCluster\nbrokerName:broker-a\nlistenPort 10911\n\
                    namesrvAddr=127.0.0.1:9876;\\\n    127.0.0.2:9876\npath=C\\:\\\\data\\u0041\n\nempty=\nbrokerName=broker-b\n";
        let p = parse(text);
        let get = |k: &str| p.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
        assert_eq!(get("brokerClusterName"), Some("DefaultCluster"));
        assert_eq!(get("brokerName"), Some("broker-b"));
        assert_eq!(get("listenPort"), Some("10911"));
        assert_eq!(get("namesrvAddr"), Some("127.0.0.1:9876;127.0.0.2:9876"));
        assert_eq!(get("path"), Some("C:\\dataA"));
        assert_eq!(get("empty"), Some(""));
        assert_eq!(p.len(), 6);
    }
}
