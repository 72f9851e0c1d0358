//! Mapping between Rust types and [`Json`] values, the way fastjson maps Java beans.
//!
//! Reading is lenient like fastjson: a missing or `null` field takes its default, unknown fields are
//! ignored, numbers may arrive quoted. Writing follows fastjson: fields sorted by name, `None` omitted.

use super::{parse, Json, JsonError};
use std::collections::BTreeMap;

/// A type with a JSON form. Implemented for primitives, `Vec`, `Option`, `BTreeMap` and, through
/// [`json_bean!`](crate::json_bean), for the RocketMQ body types.
pub trait JsonCodec: Sized {
    fn to_json(&self) -> Json;
    fn from_json(v: &Json) -> Result<Self, JsonError>;

    /// Decodes a map key. Keys may arrive in another form than values (`"0"` for a numeric key in
    /// standard JSON, a string holding JSON text for an object key), so types can widen this.
    fn from_json_key(k: &Json) -> Result<Self, JsonError> {
        Self::from_json(k)
    }

    /// Whether a bean writer should leave this field out (fastjson omits nulls).
    fn is_absent(&self) -> bool {
        false
    }
}

fn expected(what: &'static str) -> JsonError {
    JsonError::type_mismatch("", what)
}

impl JsonCodec for Json {
    fn to_json(&self) -> Json {
        self.clone()
    }
    fn from_json(v: &Json) -> Result<Self, JsonError> {
        Ok(v.clone())
    }
}

impl JsonCodec for String {
    fn to_json(&self) -> Json {
        Json::Str(self.clone())
    }
    fn from_json(v: &Json) -> Result<Self, JsonError> {
        match v {
            Json::Str(s) => Ok(s.clone()),
            Json::Null => Ok(String::new()),
            Json::Int(n) => Ok(n.to_string()),
            Json::Bool(b) => Ok(b.to_string()),
            _ => Err(expected("a string")),
        }
    }
}

macro_rules! int_codec {
    ($($t:ty),*) => {$(
        impl JsonCodec for $t {
            fn to_json(&self) -> Json {
                Json::Int(*self as i64)
            }
            fn from_json(v: &Json) -> Result<Self, JsonError> {
                match v {
                    Json::Null => Ok(0),
                    _ => v.as_i64().and_then(|n| <$t>::try_from(n).ok())
                        .ok_or_else(|| expected(concat!("an integer that fits ", stringify!($t)))),
                }
            }
        }
    )*};
}
int_codec!(i8, i16, i32, i64, u8, u16, u32);

impl JsonCodec for bool {
    fn to_json(&self) -> Json {
        Json::Bool(*self)
    }
    fn from_json(v: &Json) -> Result<Self, JsonError> {
        match v {
            Json::Bool(b) => Ok(*b),
            Json::Null => Ok(false),
            Json::Int(n) => Ok(*n != 0),
            Json::Str(s) if s.eq_ignore_ascii_case("true") => Ok(true),
            Json::Str(s) if s.eq_ignore_ascii_case("false") => Ok(false),
            _ => Err(expected("a boolean")),
        }
    }
}

impl JsonCodec for f64 {
    fn to_json(&self) -> Json {
        Json::Float(*self)
    }
    fn from_json(v: &Json) -> Result<Self, JsonError> {
        match v {
            Json::Float(f) => Ok(*f),
            Json::Int(n) => Ok(*n as f64),
            Json::Null => Ok(0.0),
            Json::Str(s) => s.trim().parse().map_err(|_| expected("a number")),
            _ => Err(expected("a number")),
        }
    }
}

impl<T: JsonCodec> JsonCodec for Option<T> {
    fn to_json(&self) -> Json {
        self.as_ref().map_or(Json::Null, T::to_json)
    }
    fn from_json(v: &Json) -> Result<Self, JsonError> {
        match v {
            Json::Null => Ok(None),
            _ => T::from_json(v).map(Some),
        }
    }
    fn is_absent(&self) -> bool {
        self.is_none()
    }
}

impl<T: JsonCodec> JsonCodec for Vec<T> {
    fn to_json(&self) -> Json {
        Json::Array(self.iter().map(T::to_json).collect())
    }
    fn from_json(v: &Json) -> Result<Self, JsonError> {
        match v {
            Json::Array(items) => items.iter().map(T::from_json).collect(),
            Json::Null => Ok(Vec::new()),
            _ => Err(expected("an array")),
        }
    }
}

/// Maps keep a sorted order so the same table always serializes to the same bytes.
impl<K: JsonCodec + Ord, V: JsonCodec> JsonCodec for BTreeMap<K, V> {
    fn to_json(&self) -> Json {
        Json::Object(
            self.iter()
                .map(|(k, v)| (k.to_json(), v.to_json()))
                .collect(),
        )
    }
    fn from_json(v: &Json) -> Result<Self, JsonError> {
        match v {
            Json::Object(entries) => entries
                .iter()
                .map(|(k, v)| Ok((K::from_json_key(k)?, V::from_json(v)?)))
                .collect(),
            Json::Null => Ok(BTreeMap::new()),
            _ => Err(expected("an object")),
        }
    }
}

/// Field access on a JSON object for bean decoding; see [`json_bean!`](crate::json_bean).
pub struct JsonObjectReader<'a> {
    value: &'a Json,
}

impl<'a> JsonObjectReader<'a> {
    pub fn new(value: &'a Json, type_name: &'static str) -> Result<Self, JsonError> {
        match value {
            Json::Object(_) | Json::Null => Ok(Self { value }),
            _ => Err(JsonError::type_mismatch(type_name, "an object")),
        }
    }

    /// Reads field `name`; absent or `null` gives the default, as fastjson does.
    pub fn field<T: JsonCodec + Default>(&self, name: &str) -> Result<T, JsonError> {
        self.field_or(name, T::default())
    }

    /// Reads field `name`; absent or `null` gives `initial` (the bean's initial value).
    pub fn field_or<T: JsonCodec>(&self, name: &str, initial: T) -> Result<T, JsonError> {
        match self.value.get(name) {
            None | Some(Json::Null) => Ok(initial),
            Some(v) => T::from_json(v).map_err(|e| match e {
                JsonError::Type { field, expected } => JsonError::Type {
                    field: if field.is_empty() {
                        name.to_owned()
                    } else {
                        format!("{name}.{field}")
                    },
                    expected,
                },
                other => other,
            }),
        }
    }
}

/// Decodes a bean used as a map key: an object, or (standard JSON) a string holding the object.
pub fn bean_from_key<T: JsonCodec>(k: &Json) -> Result<T, JsonError> {
    match k {
        Json::Str(text) => T::from_json(&parse(text.as_bytes())?),
        _ => T::from_json(k),
    }
}

/// Declares a body type with its JSON field names and implements [`JsonCodec`] for it.
///
/// A field may name the value it has when absent (`=> "name" = expr`), for Java beans whose
/// fields start at something other than zero or `false`: fastjson leaves an absent field at the
/// bean's initial value, and `Default` gives the same values.
///
/// ```
/// ringmq_protocol::json_bean! {
///     /// A queue of a topic on one broker.
///     pub struct Queue {
///         pub broker_name: String => "brokerName",
///         pub queue_id: i32 => "queueId",
///         pub readable: bool => "readable" = true,
///     }
/// }
/// let q: Queue = ringmq_protocol::json::from_slice(br#"{"queueId":3,"brokerName":"b"}"#).unwrap();
/// assert_eq!((q.queue_id, q.readable), (3, true));
/// ```
#[macro_export]
macro_rules! json_bean {
    ($(#[$meta:meta])* pub struct $name:ident {
        $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty => $json:literal $(= $initial:expr)? ),* $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name { $( $(#[$fmeta])* pub $field: $ty, )* }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $crate::json_bean!(@initial $($initial)?), )* }
            }
        }

        impl $crate::json::JsonCodec for $name {
            fn to_json(&self) -> $crate::json::Json {
                let mut entries: Vec<($crate::json::Json, $crate::json::Json)> = Vec::new();
                $(
                    if !$crate::json::JsonCodec::is_absent(&self.$field) {
                        entries.push((
                            $crate::json::Json::Str($json.to_owned()),
                            $crate::json::JsonCodec::to_json(&self.$field),
                        ));
                    }
                )*
                // fastjson writes bean fields sorted by name.
                entries.sort_by(|a, b| match (&a.0, &b.0) {
                    ($crate::json::Json::Str(x), $crate::json::Json::Str(y)) => x.cmp(y),
                    _ => std::cmp::Ordering::Equal,
                });
                $crate::json::Json::Object(entries)
            }

            fn from_json(v: &$crate::json::Json) -> Result<Self, $crate::json::JsonError> {
                let r = $crate::json::JsonObjectReader::new(v, stringify!($name))?;
                let initial = <Self as Default>::default();
                Ok(Self { $( $field: r.field_or($json, initial.$field)?, )* })
            }

            fn from_json_key(k: &$crate::json::Json) -> Result<Self, $crate::json::JsonError> {
                $crate::json::bean_from_key(k)
            }
        }
    };
    (@initial $initial:expr) => { $initial };
    (@initial) => { Default::default() };
}
