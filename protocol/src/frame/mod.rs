//! Remoting frames: the command every request and response is, and its two header encodings.
//!
//! On the wire a frame is
//!
//! ```text
//! +-------------+-----------------------------+--------+------+
//! | total: u32  | type: u8 | header_len: u24  | header | body |
//! +-------------+-----------------------------+--------+------+
//!   big-endian; total = 4 + header_len + body_len; type 0 = JSON header, 1 = ROCKETMQ binary header
//! ```
//!
//! A response is written in the encoding of its request ([`RemotingCommand::response_to`]).

mod codec;
mod json_header;
mod rocketmq_header;

pub use codec::{FrameDecoder, DEFAULT_MAX_FRAME_LEN};

use crate::codes::{LanguageCode, RequestCode, ResponseCode};
use crate::error::ProtocolError;
use crate::ext_fields::ExtFields;
use crate::header::CommandHeader;
use bytes::Bytes;

/// The `version` we announce: RocketMQ V4_9_7, the release whose behaviour we follow.
pub const ROCKETMQ_VERSION: i32 = 407;

/// Flag bit 0: the command is a response.
pub const FLAG_RESPONSE: i32 = 1;
/// Flag bit 1: the request is oneway; no response is sent.
pub const FLAG_ONEWAY: i32 = 1 << 1;

/// How the header of a frame is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum SerializeType {
    /// fastjson text, the Java client's default.
    #[default]
    Json,
    /// RocketMQ's compact binary layout (`-Drocketmq.serialize.type=ROCKETMQ`).
    RocketMq,
}

impl SerializeType {
    pub fn code(self) -> u8 {
        match self {
            SerializeType::Json => 0,
            SerializeType::RocketMq => 1,
        }
    }

    pub fn from_code(code: u8) -> Result<Self, ProtocolError> {
        match code {
            0 => Ok(SerializeType::Json),
            1 => Ok(SerializeType::RocketMq),
            other => Err(ProtocolError::UnknownSerializeType(other)),
        }
    }
}

/// One request or response (Java's `RemotingCommand`).
///
/// `code` is a request code in requests and a response code in responses; both stay raw `i32` so
/// codes we do not know survive a round trip. The body is a [`Bytes`] slice of the receive buffer,
/// so decoding never copies it.
#[derive(Debug, Clone, PartialEq)]
pub struct RemotingCommand {
    pub code: i32,
    pub language: LanguageCode,
    pub version: i32,
    pub opaque: i32,
    pub flag: i32,
    pub remark: Option<String>,
    /// `None` and empty differ on the JSON wire (absent vs `"extFields":{}`); Java keeps it null
    /// until a custom header is written, and so do we.
    pub ext_fields: Option<ExtFields>,
    pub serialize_type: SerializeType,
    pub body: Bytes,
}

impl RemotingCommand {
    /// A request with the given code and no header fields.
    pub fn request(code: RequestCode, opaque: i32) -> Self {
        Self {
            code: code.0,
            language: LanguageCode::default(),
            version: ROCKETMQ_VERSION,
            opaque,
            flag: 0,
            remark: None,
            ext_fields: None,
            serialize_type: SerializeType::Json,
            body: Bytes::new(),
        }
    }

    /// A request carrying a typed header.
    pub fn request_with<H: CommandHeader>(code: RequestCode, opaque: i32, header: &H) -> Self {
        Self::request(code, opaque).with_header(header)
    }

    /// The response to `request`: same opaque and encoding, response flag set.
    pub fn response_to(
        request: &RemotingCommand,
        code: ResponseCode,
        remark: Option<String>,
    ) -> Self {
        Self {
            code: code.0,
            language: LanguageCode::default(),
            version: ROCKETMQ_VERSION,
            opaque: request.opaque,
            flag: FLAG_RESPONSE,
            remark,
            ext_fields: None,
            serialize_type: request.serialize_type,
            body: Bytes::new(),
        }
    }

    pub fn is_response(&self) -> bool {
        self.flag & FLAG_RESPONSE != 0
    }

    pub fn is_oneway(&self) -> bool {
        self.flag & FLAG_ONEWAY != 0
    }

    pub fn mark_oneway(mut self) -> Self {
        self.flag |= FLAG_ONEWAY;
        self
    }

    pub fn request_code(&self) -> RequestCode {
        RequestCode(self.code)
    }

    pub fn response_code(&self) -> ResponseCode {
        ResponseCode(self.code)
    }

    pub fn with_serialize_type(mut self, t: SerializeType) -> Self {
        self.serialize_type = t;
        self
    }

    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    pub fn with_remark(mut self, remark: impl Into<String>) -> Self {
        self.remark = Some(remark.into());
        self
    }

    /// Writes `header`'s fields into `extFields` (creating it, even if the header has no fields,
    /// as Java does).
    pub fn with_header<H: CommandHeader>(mut self, header: &H) -> Self {
        header.encode(self.ext_fields.get_or_insert_with(ExtFields::new));
        self
    }

    /// Header fields; empty when the frame carried none.
    pub fn fields(&self) -> &ExtFields {
        static EMPTY: ExtFields = ExtFields::empty();
        self.ext_fields.as_ref().unwrap_or(&EMPTY)
    }

    /// Header fields for writing, created on first use.
    pub fn fields_mut(&mut self) -> &mut ExtFields {
        self.ext_fields.get_or_insert_with(ExtFields::new)
    }

    /// Decodes the typed header `H` from `extFields`.
    pub fn header<H: CommandHeader>(&self) -> Result<H, ProtocolError> {
        H::decode(self.fields())
    }
}
