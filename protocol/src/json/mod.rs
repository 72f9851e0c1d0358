//! JSON as the Java RocketMQ side writes and reads it.
//!
//! Java RocketMQ serializes headers and bodies with fastjson, which writes a few things standard JSON
//! forbids: map keys that are bare numbers (`{0:"127.0.0.1:10911"}` for a `Map<Long, String>`) and map
//! keys that are whole objects (`{{"topic":"T","queueId":0}:5}` for a `Map<MessageQueue, Long>`). Its
//! reader also accepts single-quoted strings and unquoted identifier keys. [`Json`] models all of that,
//! [`parse`] reads it with a nesting limit (hostile input cannot exhaust the stack), and
//! [`Json::write`] writes either fastjson's shape or standard JSON ([`JsonStyle`]).
//!
//! Typed bodies implement [`JsonCodec`], usually through the [`json_bean!`](crate::json_bean) macro.

mod codec;
mod parse;
pub(crate) mod write;

pub use codec::{bean_from_key, JsonCodec, JsonObjectReader};
pub use parse::{parse, Parser};

/// A parsed JSON value, permissive enough for fastjson output.
///
/// Objects keep their keys in document order and allow any value as a key; a key is almost always
/// a [`Json::Str`], a [`Json::Int`] (fastjson's bare numeric keys) or a [`Json::Object`].
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Array(Vec<Json>),
    Object(Vec<(Json, Json)>),
}

/// How to write keys that are not strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonStyle {
    /// What fastjson writes: numeric keys bare (`{0:"a"}`), object keys as objects.
    /// The Go and C++ clients parse route bodies in exactly this shape.
    Fastjson,
    /// Standard JSON: every key quoted; an object key becomes its JSON text as a string.
    Standard,
}

/// Why a JSON text or value could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error("invalid JSON at byte {offset}: {reason}")]
    Syntax { offset: usize, reason: &'static str },
    #[error("JSON nests deeper than {0} levels")]
    TooDeep(usize),
    #[error("JSON field `{field}`: expected {expected}")]
    Type {
        field: String,
        expected: &'static str,
    },
}

impl JsonError {
    pub(crate) fn type_mismatch(field: &str, expected: &'static str) -> Self {
        JsonError::Type {
            field: field.to_owned(),
            expected,
        }
    }
}

impl Json {
    /// Looks up `key` in an object whose keys are strings; `None` for other values or absent keys.
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Json::Str(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Integer value; fastjson is lenient and so are we: a string of digits also counts.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Json::Int(n) => Some(*n),
            Json::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(*f as i64),
            Json::Str(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// Serializes in the given style.
    pub fn write(&self, style: JsonStyle) -> String {
        let mut out = String::new();
        write::write_value(&mut out, self, style);
        out
    }

    /// Fastjson-shaped text, the default for everything we send to Java peers.
    pub fn to_fastjson(&self) -> String {
        self.write(JsonStyle::Fastjson)
    }
}

impl std::fmt::Display for Json {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.write(JsonStyle::Standard))
    }
}

/// Parses `text` and decodes it as `T`.
pub fn from_slice<T: JsonCodec>(text: &[u8]) -> Result<T, JsonError> {
    T::from_json(&parse(text)?)
}

/// Encodes `value` as fastjson-shaped bytes.
pub fn to_vec<T: JsonCodec>(value: &T, style: JsonStyle) -> Vec<u8> {
    value.to_json().write(style).into_bytes()
}

#[cfg(test)]
mod tests;
