//! Whole frames to and from bytes, and a streaming decoder with a size limit.

use super::{json_header, rocketmq_header, RemotingCommand, SerializeType};
use crate::error::ProtocolError;
use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Largest frame accepted by default: 16 MiB, as Java's `com.rocketmq.remoting.frameMaxLength`.
pub const DEFAULT_MAX_FRAME_LEN: usize = 16 * 1024 * 1024;

impl RemotingCommand {
    /// Appends the whole frame, length prefix included.
    pub fn encode(&self, out: &mut BytesMut) {
        self.encode_head(self.body.len(), out);
        out.extend_from_slice(&self.body);
    }

    /// The whole frame as one buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(128 + self.body.len());
        self.encode(&mut out);
        out.freeze()
    }

    /// Appends everything before the body: the length prefix (counting `body_len` more bytes) and
    /// the header. Lets a server send a body it does not hold in memory (a file range, a list of
    /// cached records) right after, without copying it into the frame.
    pub fn encode_head(&self, body_len: usize, out: &mut BytesMut) {
        // One reservation for the whole head: a server's frame buffer is often fresh (the last
        // frames were split off it to be written), and the header is written piece by piece, so
        // the buffer would otherwise be reallocated and copied several times per frame.
        out.reserve(8 + self.header_len_hint());
        let start = out.len();
        out.put_u32(0); // total length, patched below
        out.put_u32(0); // serialize type + header length, patched below
        match self.serialize_type {
            SerializeType::Json => json_header::encode(self, out),
            SerializeType::RocketMq => rocketmq_header::encode(self, out),
        }
        let header_len = out.len() - start - 8;
        let total = 4 + header_len + body_len;
        out[start..start + 4].copy_from_slice(&(total as u32).to_be_bytes());
        let word =
            (u32::from(self.serialize_type.code()) << 24) | (header_len as u32 & 0x00FF_FFFF);
        out[start + 4..start + 8].copy_from_slice(&word.to_be_bytes());
    }

    /// About as many bytes as the header takes in either encoding (JSON is the longer): its
    /// fixed part with four integers, plus its fields and remark with their quoting.
    fn header_len_hint(&self) -> usize {
        const FIXED: usize = 140;
        let fields: usize = self
            .ext_fields
            .as_ref()
            .map_or(0, |f| f.iter().map(|(k, v)| k.len() + v.len() + 6).sum());
        let remark = self.remark.as_ref().map_or(0, |r| r.len() + 12);
        FIXED + fields + remark
    }

    /// Decodes one complete frame, length prefix included. `frame` must hold exactly one frame.
    pub fn decode(frame: Bytes) -> Result<Self, ProtocolError> {
        if frame.len() < 8 {
            return Err(ProtocolError::Truncated("frame"));
        }
        let total = u32::from_be_bytes(frame[0..4].try_into().unwrap_or_default()) as usize;
        if total + 4 != frame.len() {
            return Err(ProtocolError::MalformedFrame(
                "length prefix does not match the frame",
            ));
        }
        Self::decode_after_prefix(frame.slice(4..))
    }

    /// Decodes a frame whose 4-byte total-length prefix was already stripped.
    fn decode_after_prefix(mut rest: Bytes) -> Result<Self, ProtocolError> {
        if rest.len() < 4 {
            return Err(ProtocolError::Truncated("frame"));
        }
        let word = rest.get_u32();
        let serialize_type = SerializeType::from_code((word >> 24) as u8)?;
        let header_len = (word & 0x00FF_FFFF) as usize;
        if header_len > rest.len() {
            return Err(ProtocolError::MalformedFrame(
                "header length exceeds the frame",
            ));
        }
        let header = rest.split_to(header_len);
        let mut cmd = match serialize_type {
            SerializeType::Json => json_header::decode(&header)?,
            SerializeType::RocketMq => rocketmq_header::decode(&header)?,
        };
        cmd.serialize_type = serialize_type;
        cmd.body = rest;
        Ok(cmd)
    }
}

/// Splits a byte stream into commands.
///
/// Feed it the receive buffer; each call takes one complete frame off the front. The length prefix
/// is checked against the limit before anything is reserved, so a peer claiming a 2 GiB frame costs
/// nothing but an error.
#[derive(Debug, Clone, Copy)]
pub struct FrameDecoder {
    max_frame_len: usize,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_FRAME_LEN)
    }
}

impl FrameDecoder {
    pub fn new(max_frame_len: usize) -> Self {
        Self { max_frame_len }
    }

    pub fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }

    /// How many bytes the frame at the front of `buf` needs in all, once its prefix is readable.
    /// Errors when the prefix is invalid; the connection cannot be resynchronized after that.
    pub fn frame_len(&self, buf: &[u8]) -> Result<Option<usize>, ProtocolError> {
        let Some(prefix) = buf.get(0..4) else {
            return Ok(None);
        };
        let total = u32::from_be_bytes(prefix.try_into().unwrap_or_default()) as usize;
        if total < 4 {
            return Err(ProtocolError::MalformedFrame(
                "length prefix smaller than the header-length word",
            ));
        }
        if total > self.max_frame_len {
            return Err(ProtocolError::FrameTooLarge {
                len: total,
                max: self.max_frame_len,
            });
        }
        Ok(Some(4 + total))
    }

    /// Takes the next complete frame off `buf`, or `None` if more bytes are needed.
    pub fn decode(&self, buf: &mut BytesMut) -> Result<Option<RemotingCommand>, ProtocolError> {
        match self.frame_len(buf)? {
            Some(len) if buf.len() >= len => {
                let mut frame = buf.split_to(len).freeze();
                frame.advance(4);
                RemotingCommand::decode_after_prefix(frame).map(Some)
            }
            _ => Ok(None),
        }
    }
}
