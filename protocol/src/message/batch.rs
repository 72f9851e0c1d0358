//! The body of SEND_BATCH_MESSAGE: messages back to back in a short layout.
//!
//! ```text
//! total size: i32 | magic: i32 (0) | body CRC: i32 (0) | flag: i32
//! body length: i32 | body | properties length: i16 | properties
//! ```
//! The producer leaves magic and CRC zero; the topic and the other fields come from the request header.

use crate::error::ProtocolError;
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// One message of a batch body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchItem {
    pub flag: i32,
    pub body: Bytes,
    pub properties: String,
}

/// Encodes items the way Java's `MessageDecoder.encodeMessages` does.
pub fn encode_batch(items: &[BatchItem]) -> Result<Bytes, ProtocolError> {
    let mut out = BytesMut::new();
    for m in items {
        if m.properties.len() > i16::MAX as usize {
            return Err(ProtocolError::Message("properties longer than 32767 bytes"));
        }
        let total = 4 + 4 + 4 + 4 + 4 + m.body.len() + 2 + m.properties.len();
        let total = i32::try_from(total)
            .map_err(|_| ProtocolError::Message("batch item larger than 2 GiB"))?;
        out.put_i32(total);
        out.put_i32(0);
        out.put_i32(0);
        out.put_i32(m.flag);
        out.put_i32(m.body.len() as i32);
        out.put_slice(&m.body);
        out.put_i16(m.properties.len() as i16);
        out.put_slice(m.properties.as_bytes());
    }
    Ok(out.freeze())
}

/// Splits a batch body; bodies are slices of `body`, not copies. Each item's size field must
/// agree with its contents, so a corrupt batch is refused rather than misread.
pub fn decode_batch(body: &Bytes) -> Result<Vec<BatchItem>, ProtocolError> {
    let mut rest = body.clone();
    let mut items = Vec::new();
    while rest.has_remaining() {
        if rest.remaining() < 20 {
            return Err(ProtocolError::Truncated("batch item"));
        }
        let total = usize::try_from(rest.get_i32())
            .map_err(|_| ProtocolError::Message("negative batch item size"))?;
        if total < 22 || total - 4 > rest.remaining() {
            return Err(ProtocolError::Message("batch item size out of range"));
        }
        let mut item = rest.split_to(total - 4);
        item.advance(8); // magic and CRC, unused in batches
        let flag = item.get_i32();
        let body_len = usize::try_from(item.get_i32())
            .map_err(|_| ProtocolError::Message("negative body length"))?;
        if body_len + 2 > item.remaining() {
            return Err(ProtocolError::Message("batch item body overruns its size"));
        }
        let body = item.split_to(body_len);
        let props_len = usize::try_from(item.get_i16())
            .map_err(|_| ProtocolError::Message("negative properties length"))?;
        if props_len != item.remaining() {
            return Err(ProtocolError::Message(
                "batch item properties do not match its size",
            ));
        }
        let properties = String::from_utf8(item.to_vec())
            .map_err(|_| ProtocolError::Message("properties are not UTF-8"))?;
        items.push(BatchItem {
            flag,
            body,
            properties,
        });
    }
    Ok(items)
}
