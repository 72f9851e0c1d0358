//! Config files in the shape Java servers read (`namesrv.properties`, `broker.conf`).
//!
//! Follows `java.util.Properties.load`: `key=value`, `key: value` or `key value`; `#` and `!`
//! comments; a trailing backslash continues the line; `\t \n \r \f \uXXXX` escapes. Later keys win.
//! [`read_file`] also accepts the same keys as a TOML file, for people who prefer TOML.
//! [`update_text`] changes some keys of such a file and leaves the rest of it as it was.

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

/// `text` (the contents of config file `path`) with each of `changes` set: a key already in
/// it has its value replaced where it stands, a new key is added at the end (in TOML, before
/// the first table). Comments, order and every other key are kept as they were.
pub fn update_text(
    path: &Path,
    text: &str,
    changes: &[(String, String)],
) -> Result<String, String> {
    if path.extension().is_some_and(|e| e == "toml") {
        update_toml(text, changes)
    } else {
        Ok(update_properties(text, changes))
    }
}

fn update_properties(text: &str, changes: &[(String, String)]) -> String {
    let line_for =
        |key: &str, value: &str| format!("{}={}", escape(key, true), escape(value, false));
    let mut out = String::with_capacity(text.len() + 64);
    let mut seen = vec![false; changes.len()];
    let mut lines = text.lines();
    while let Some(first) = lines.next() {
        let trimmed = first.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with('!') {
            out.push_str(first);
            out.push('\n');
            continue;
        }
        // A logical line may go on over several physical ones.
        let mut physical = vec![first];
        let mut logical = trimmed.to_owned();
        while ends_with_continuation(&logical) {
            logical.pop();
            match lines.next() {
                Some(next) => {
                    physical.push(next);
                    logical.push_str(next.trim_start());
                }
                None => break,
            }
        }
        let key = unescape(split_key_value(&logical).0);
        match changes.iter().position(|(k, _)| *k == key) {
            Some(i) => {
                seen[i] = true;
                out.push_str(&line_for(&key, &changes[i].1));
                out.push('\n');
            }
            None => {
                for line in physical {
                    out.push_str(line);
                    out.push('\n');
                }
            }
        }
    }
    for ((key, value), _) in changes.iter().zip(&seen).filter(|(_, seen)| !**seen) {
        out.push_str(&line_for(key, value));
        out.push('\n');
    }
    out
}

/// Escapes what [`parse`] would otherwise read differently: backslashes, line breaks, a
/// leading space, and in a key the separators.
fn escape(s: &str, is_key: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' ' if i == 0 || is_key => out.push_str("\\ "),
            '=' | ':' | '#' | '!' if is_key => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

fn update_toml(text: &str, changes: &[(String, String)]) -> Result<String, String> {
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .map_err(|e: toml_edit::TomlError| e.to_string())?;
    for (key, value) in changes {
        // A number or boolean stays one; anything else is a string. Either reads back the same
        // through `read_file`, which takes every value as text.
        let item = if let Ok(b) = value.parse::<bool>() {
            toml_edit::value(b)
        } else if let Ok(n) = value.parse::<i64>() {
            toml_edit::value(n)
        } else {
            toml_edit::value(value.as_str())
        };
        match doc.get_mut(key) {
            Some(existing) if existing.is_value() => {
                // Keep the comment written after the old value.
                let suffix = existing
                    .as_value()
                    .and_then(|v| v.decor().suffix().cloned());
                *existing = item;
                if let (Some(suffix), Some(v)) = (suffix, existing.as_value_mut()) {
                    v.decor_mut().set_suffix(suffix);
                }
            }
            Some(_) => return Err(format!("key `{key}` is a table, not a value")),
            None => {
                doc.insert(key, item);
            }
        }
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::{parse, update_text};
    use std::path::Path;

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

    #[test]
    fn updating_properties_keeps_everything_else() {
        let text = "# the broker\nbrokerName = broker-a\nbrokerPermission=6\n# perm above\n\
                    namesrvAddr=127.0.0.1:9876;\\\n    127.0.0.2:9876\nmaxMessageSize: 100\n";
        let changes = [
            ("brokerPermission".to_owned(), "4".to_owned()),
            ("namesrvAddr".to_owned(), "10.0.0.1:9876".to_owned()),
            ("storePathRootDir".to_owned(), "C:\\data dir".to_owned()),
        ];
        let out = update_text(Path::new("broker.conf"), text, &changes).unwrap();
        assert_eq!(
            out,
            "# the broker\nbrokerName = broker-a\nbrokerPermission=4\n# perm above\n\
             namesrvAddr=10.0.0.1:9876\nmaxMessageSize: 100\nstorePathRootDir=C:\\\\data dir\n"
        );
        let back = parse(&out);
        let get = |k: &str| {
            back.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("brokerPermission"), Some("4"));
        assert_eq!(get("namesrvAddr"), Some("10.0.0.1:9876"));
        assert_eq!(get("storePathRootDir"), Some("C:\\data dir"));
        assert_eq!(get("maxMessageSize"), Some("100"));
    }

    #[test]
    fn updating_toml_keeps_comments_and_types() {
        let text = "# the broker\nbrokerName = \"broker-a\"\nbrokerPermission = 6 # RW\n\n[extra]\nx = 1\n";
        let changes = [
            ("brokerPermission".to_owned(), "4".to_owned()),
            ("longPollingEnable".to_owned(), "false".to_owned()),
            ("msgTraceTopicName".to_owned(), "T \"q\"".to_owned()),
        ];
        let out = update_text(Path::new("broker.toml"), text, &changes).unwrap();
        assert!(
            out.starts_with("# the broker\nbrokerName = \"broker-a\"\nbrokerPermission = 4 # RW\n"),
            "{out}"
        );
        let doc: toml::Table = out.parse().unwrap();
        assert_eq!(doc["brokerPermission"].as_integer(), Some(4));
        assert_eq!(doc["longPollingEnable"].as_bool(), Some(false));
        assert_eq!(doc["msgTraceTopicName"].as_str(), Some("T \"q\""));
        // New keys go at the top level, not into the table that ends the file.
        assert_eq!(doc["extra"].as_table().map(|t| t.len()), Some(1));
    }
}
