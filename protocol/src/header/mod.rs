//! Typed command headers, converted to and from `extFields`.
//!
//! Java decodes a header by reflection over the header class's fields: each field is looked up in
//! `extFields` by name, fields marked `@CFNotNull` are required, the others keep their default when
//! absent. Here each header is a plain struct declared with [`command_header!`](crate::command_header): a field of type `T`
//! is required (missing gives [`ProtocolError::MissingField`], worded like Java's), an `Option<T>`
//! field is optional. Numbers are decimal and booleans `true`/`false`, as Java's `toString` writes.

pub mod admin;
pub mod client;
pub mod namesrv;
pub mod offset;
pub mod pull;
pub mod send;
pub mod transaction;

use crate::error::ProtocolError;
use crate::ext_fields::ExtFields;

/// A header that travels in a command's `extFields`.
pub trait CommandHeader: Sized {
    fn encode(&self, fields: &mut ExtFields);
    fn decode(fields: &ExtFields) -> Result<Self, ProtocolError>;
}

/// A value that can be one header field.
pub trait HeaderValue: Sized {
    /// The wire text; `None` leaves the field out.
    fn to_field(&self) -> Option<String>;
    /// Reads the field `name` whose wire text is `raw` (`None` when absent).
    fn from_field(name: &'static str, raw: Option<&str>) -> Result<Self, ProtocolError>;
}

impl HeaderValue for String {
    fn to_field(&self) -> Option<String> {
        Some(self.clone())
    }
    fn from_field(name: &'static str, raw: Option<&str>) -> Result<Self, ProtocolError> {
        raw.map(str::to_owned)
            .ok_or(ProtocolError::MissingField(name))
    }
}

macro_rules! number_field {
    ($($t:ty => $what:literal),*) => {$(
        impl HeaderValue for $t {
            fn to_field(&self) -> Option<String> {
                Some(self.to_string())
            }
            fn from_field(name: &'static str, raw: Option<&str>) -> Result<Self, ProtocolError> {
                let raw = raw.ok_or(ProtocolError::MissingField(name))?;
                raw.trim().parse().map_err(|_| ProtocolError::InvalidField {
                    field: name,
                    value: raw.to_owned(),
                    expected: $what,
                })
            }
        }
    )*};
}
number_field!(i32 => "a 32-bit integer", i64 => "a 64-bit integer", u16 => "a port number");

/// Java's `Boolean.parseBoolean`: `true` in any case is true, anything else false.
impl HeaderValue for bool {
    fn to_field(&self) -> Option<String> {
        Some(self.to_string())
    }
    fn from_field(name: &'static str, raw: Option<&str>) -> Result<Self, ProtocolError> {
        raw.map(|r| r.eq_ignore_ascii_case("true"))
            .ok_or(ProtocolError::MissingField(name))
    }
}

impl<T: HeaderValue> HeaderValue for Option<T> {
    fn to_field(&self) -> Option<String> {
        self.as_ref().and_then(T::to_field)
    }
    fn from_field(name: &'static str, raw: Option<&str>) -> Result<Self, ProtocolError> {
        raw.map(|r| T::from_field(name, Some(r))).transpose()
    }
}

/// Declares a header struct and implements [`CommandHeader`] for it.
///
/// ```
/// ringmq_protocol::command_header! {
///     /// Asks for a queue's largest offset.
///     pub struct MaxOffsetQuery {
///         pub topic: String => "topic",
///         pub queue_id: i32 => "queueId",
///         pub broker_name: Option<String> => "bname",
///     }
/// }
/// ```
#[macro_export]
macro_rules! command_header {
    // `pub struct X: RpcRequestHeader { .. }` extends Java's `RpcRequestHeader`: the broker name
    // and the 5.x namespace and oneway fields every routed request may carry.
    ($(#[$meta:meta])* pub struct $name:ident : RpcRequestHeader {
        $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty => $wire:literal ),* $(,)?
    }) => {
        $crate::command_header! {
            $(#[$meta])*
            pub struct $name {
                $( $(#[$fmeta])* pub $field : $ty => $wire, )*
                /// The broker the request is meant for.
                pub broker_name: Option<String> => "bname",
                /// 5.x: namespace of the names in the request.
                pub namespace: Option<String> => "ns",
                /// 5.x: whether the names already carry the namespace.
                pub namespaced: Option<bool> => "nsd",
                /// 5.x: set when the request is sent oneway.
                pub oneway: Option<bool> => "oway",
            }
        }
    };
    // `pub struct X: TopicRequestHeader { .. }` extends Java's `TopicRequestHeader`: the RPC fields
    // plus whether the topic is a logical (static) one.
    ($(#[$meta:meta])* pub struct $name:ident : TopicRequestHeader {
        $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty => $wire:literal ),* $(,)?
    }) => {
        $crate::command_header! {
            $(#[$meta])*
            pub struct $name: RpcRequestHeader {
                $( $(#[$fmeta])* pub $field : $ty => $wire, )*
                /// 5.x: the topic and queue are logical (static-topic) ones.
                pub logical: Option<bool> => "lo",
            }
        }
    };
    ($(#[$meta:meta])* pub struct $name:ident {
        $( $(#[$fmeta:meta])* pub $field:ident : $ty:ty => $wire:literal ),* $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $name { $( $(#[$fmeta])* pub $field: $ty, )* }

        impl $crate::header::CommandHeader for $name {
            #[allow(unused_variables)]
            fn encode(&self, fields: &mut $crate::ExtFields) {
                $(
                    if let Some(v) = $crate::header::HeaderValue::to_field(&self.$field) {
                        fields.insert_static($wire, v);
                    }
                )*
            }

            #[allow(unused_variables)]
            fn decode(fields: &$crate::ExtFields) -> Result<Self, $crate::ProtocolError> {
                Ok(Self { $( $field: $crate::header::HeaderValue::from_field($wire, fields.get($wire))?, )* })
            }
        }
    };
}

/// Helpers shared by the header families' tests.
#[cfg(test)]
pub(crate) mod test_support {
    use super::CommandHeader;
    use crate::ext_fields::ExtFields;
    use std::fmt::Debug;

    pub fn fields(pairs: &[(&str, &str)]) -> ExtFields {
        pairs.iter().copied().collect()
    }

    /// Encodes `h`, checks every populated field went out, and decodes it back unchanged.
    pub fn round_trip<H: CommandHeader + PartialEq + Debug>(h: H, expected_fields: usize) {
        let mut f = ExtFields::new();
        h.encode(&mut f);
        assert_eq!(f.len(), expected_fields, "{h:?} encoded as {f:?}");
        assert_eq!(H::decode(&f).unwrap(), h);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    command_header! {
        /// Test header.
        pub struct Probe {
            pub topic: String => "topic",
            pub queue_id: i32 => "queueId",
            pub offset: Option<i64> => "offset",
            pub unit_mode: Option<bool> => "unitMode",
        }
    }

    #[test]
    fn required_optional_and_invalid_fields() {
        let h = Probe {
            topic: "T".into(),
            queue_id: 3,
            offset: None,
            unit_mode: Some(false),
        };
        let mut f = ExtFields::new();
        h.encode(&mut f);
        assert_eq!(f.get("queueId"), Some("3"));
        assert_eq!(f.get("offset"), None);
        assert_eq!(f.get("unitMode"), Some("false"));
        assert_eq!(Probe::decode(&f).unwrap(), h);

        f.remove("topic");
        assert_eq!(
            Probe::decode(&f).unwrap_err().to_string(),
            "the custom field <topic> is null"
        );
        f.insert("topic", "T");
        f.insert("queueId", "three");
        assert!(matches!(
            Probe::decode(&f),
            Err(ProtocolError::InvalidField {
                field: "queueId",
                ..
            })
        ));
    }
}
