//! The protocol layer's error type.

use crate::json::JsonError;

/// Why bytes from the wire could not be turned into a command, header, message or body.
///
/// Every variant describes the input, never an internal fault: the server turns it into a
/// RocketMQ response code plus this text as the remark, or closes a connection whose framing is lost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("frame of {len} bytes exceeds the {max}-byte limit")]
    FrameTooLarge { len: usize, max: usize },
    #[error("malformed frame: {0}")]
    MalformedFrame(&'static str),
    #[error("unknown header serialize type {0} (expected 0 = JSON or 1 = ROCKETMQ)")]
    UnknownSerializeType(u8),
    #[error("truncated {0}")]
    Truncated(&'static str),
    #[error("invalid JSON header: {0}")]
    JsonHeader(JsonError),
    #[error("invalid body: {0}")]
    Body(JsonError),
    #[error("invalid header: {0}")]
    BinaryHeader(&'static str),
    /// Worded like Java's `RemotingCommandException` so people searching the remark find answers.
    #[error("the custom field <{0}> is null")]
    MissingField(&'static str),
    #[error("the custom field <{field}> has invalid value {value:?}: expected {expected}")]
    InvalidField {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("invalid message: {0}")]
    Message(&'static str),
}
