//! The stored message record: the bytes the commit log holds and a pull response carries.
//!
//! ```text
//! off  size  field
//!   0     4  total size (this whole record)
//!   4     4  magic code (0xDAA320A7; V2 0xDAA320AB has a 2-byte topic length)
//!   8     4  body CRC
//!  12     4  queue id
//!  16     4  flag
//!  20     8  queue offset
//!  28     8  commit-log (physical) offset
//!  36     4  sysFlag
//!  40     8  born timestamp
//!  48   8|20 born host (IPv4 + port | IPv6 + port)
//!   .     8  store timestamp
//!   .   8|20 store host
//!   .     4  reconsume times
//!   .     8  prepared transaction offset
//!   .   4+n  body length + body
//!   . 1|2+n  topic length + topic
//!   .   2+n  properties length + properties
//! ```
//! All integers big-endian (Java's `MessageDecoder`).

use super::{properties::Properties, sys_flag};
use crate::error::ProtocolError;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

pub const MESSAGE_MAGIC_CODE: i32 = 0xDAA3_20A7_u32 as i32;
pub const MESSAGE_MAGIC_CODE_V2: i32 = 0xDAA3_20AB_u32 as i32;
/// Marks the unused end of a commit-log file.
pub const BLANK_MAGIC_CODE: i32 = 0xCBD4_3194_u32 as i32;

/// Longest topic the one-byte length of the V1 layout can hold (Java caps topics at 127 bytes).
const V1_MAX_TOPIC_LEN: usize = 127;

/// Byte offsets of fields a store patches in place after encoding.
pub mod offsets {
    pub const TOTAL_SIZE: usize = 0;
    pub const MAGIC_CODE: usize = 4;
    pub const BODY_CRC: usize = 8;
    pub const QUEUE_ID: usize = 12;
    pub const QUEUE_OFFSET: usize = 20;
    pub const PHYSICAL_OFFSET: usize = 28;
    pub const SYS_FLAG: usize = 36;
    pub const BORN_TIMESTAMP: usize = 40;
    pub const BORN_HOST: usize = 48;
}

/// One message in the stored layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMessage {
    pub body_crc: u32,
    pub queue_id: i32,
    pub flag: i32,
    pub queue_offset: i64,
    pub commit_log_offset: i64,
    pub sys_flag: i32,
    pub born_timestamp: i64,
    pub born_host: SocketAddr,
    pub store_timestamp: i64,
    pub store_host: SocketAddr,
    pub reconsume_times: i32,
    pub prepared_transaction_offset: i64,
    pub body: Bytes,
    pub topic: String,
    /// The raw property string; see [`StoredMessage::properties`].
    pub properties: String,
}

impl StoredMessage {
    /// The record's size once encoded, or an error if a field cannot fit the layout.
    pub fn encoded_len(&self) -> Result<usize, ProtocolError> {
        if self.properties.len() > i16::MAX as usize {
            return Err(ProtocolError::Message("properties longer than 32767 bytes"));
        }
        if self.topic.len() > u16::MAX as usize {
            return Err(ProtocolError::Message("topic longer than 65535 bytes"));
        }
        let topic_len_width = if self.topic.len() <= V1_MAX_TOPIC_LEN {
            1
        } else {
            2
        };
        Ok(4 + 4
            + 4
            + 4
            + 4
            + 8
            + 8
            + 4
            + 8
            + host_len(&self.born_host)
            + 8
            + host_len(&self.store_host)
            + 4
            + 8
            + 4
            + self.body.len()
            + topic_len_width
            + self.topic.len()
            + 2
            + self.properties.len())
    }

    /// Appends the record. The host flags in `sys_flag` are set from the addresses, so the layout
    /// always matches them.
    pub fn encode(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        let total = self.encoded_len()?;
        if total > i32::MAX as usize {
            return Err(ProtocolError::Message("record larger than 2 GiB"));
        }
        let v2 = self.topic.len() > V1_MAX_TOPIC_LEN;
        let mut flag = self.sys_flag & !(sys_flag::BORNHOST_V6 | sys_flag::STOREHOST_V6);
        if self.born_host.is_ipv6() {
            flag |= sys_flag::BORNHOST_V6;
        }
        if self.store_host.is_ipv6() {
            flag |= sys_flag::STOREHOST_V6;
        }
        out.reserve(total);
        out.put_i32(total as i32);
        out.put_i32(if v2 {
            MESSAGE_MAGIC_CODE_V2
        } else {
            MESSAGE_MAGIC_CODE
        });
        out.put_u32(self.body_crc);
        out.put_i32(self.queue_id);
        out.put_i32(self.flag);
        out.put_i64(self.queue_offset);
        out.put_i64(self.commit_log_offset);
        out.put_i32(flag);
        out.put_i64(self.born_timestamp);
        put_host(out, &self.born_host);
        out.put_i64(self.store_timestamp);
        put_host(out, &self.store_host);
        out.put_i32(self.reconsume_times);
        out.put_i64(self.prepared_transaction_offset);
        out.put_i32(self.body.len() as i32);
        out.put_slice(&self.body);
        if v2 {
            out.put_u16(self.topic.len() as u16);
        } else {
            out.put_u8(self.topic.len() as u8);
        }
        out.put_slice(self.topic.as_bytes());
        out.put_i16(self.properties.len() as i16);
        out.put_slice(self.properties.as_bytes());
        Ok(())
    }

    /// Decodes the record at the front of `buf` and returns it with its size. The body is a slice
    /// of `buf`, not a copy. Checks the magic code and that every length stays inside the record;
    /// checking the body CRC is [`StoredMessage::crc_matches`], since readers differ on wanting it.
    pub fn decode(buf: &Bytes) -> Result<(Self, usize), ProtocolError> {
        if buf.len() < 8 {
            return Err(ProtocolError::Truncated("message record"));
        }
        let total = i32::from_be_bytes(buf[0..4].try_into().unwrap_or_default());
        let magic = i32::from_be_bytes(buf[4..8].try_into().unwrap_or_default());
        let v2 = match magic {
            MESSAGE_MAGIC_CODE => false,
            MESSAGE_MAGIC_CODE_V2 => true,
            _ => return Err(ProtocolError::Message("bad magic code")),
        };
        let total =
            usize::try_from(total).map_err(|_| ProtocolError::Message("negative record size"))?;
        if total > buf.len() {
            return Err(ProtocolError::Truncated("message record"));
        }
        // A size smaller than the size and magic fields themselves is damage, not a record.
        if total < 8 {
            return Err(ProtocolError::Message(
                "record size smaller than its header",
            ));
        }
        let mut b = buf.slice(8..total);
        let mut r = Reader(&mut b);
        let body_crc = r.u32()?;
        let queue_id = r.i32()?;
        let flag = r.i32()?;
        let queue_offset = r.i64()?;
        let commit_log_offset = r.i64()?;
        let sys_flag = r.i32()?;
        let born_timestamp = r.i64()?;
        let born_host = r.host(sys_flag & sys_flag::BORNHOST_V6 != 0)?;
        let store_timestamp = r.i64()?;
        let store_host = r.host(sys_flag & sys_flag::STOREHOST_V6 != 0)?;
        let reconsume_times = r.i32()?;
        let prepared_transaction_offset = r.i64()?;
        let body_len = r.len32()?;
        let body = r.take(body_len)?;
        let topic_len = if v2 {
            r.u16()? as usize
        } else {
            r.u8()? as usize
        };
        let topic = r.utf8(topic_len, "topic is not UTF-8")?;
        let props_len = usize::try_from(r.i16()?)
            .map_err(|_| ProtocolError::Message("negative properties length"))?;
        let properties = r.utf8(props_len, "properties are not UTF-8")?;
        if b.has_remaining() {
            return Err(ProtocolError::Message(
                "record size does not match its fields",
            ));
        }
        let msg = StoredMessage {
            body_crc,
            queue_id,
            flag,
            queue_offset,
            commit_log_offset,
            sys_flag,
            born_timestamp,
            born_host,
            store_timestamp,
            store_host,
            reconsume_times,
            prepared_transaction_offset,
            body,
            topic,
            properties,
        };
        Ok((msg, total))
    }

    /// Decodes every record in `buf` (a pull response body, a commit-log range).
    pub fn decode_all(buf: &Bytes) -> Result<Vec<Self>, ProtocolError> {
        let mut out = Vec::new();
        let mut rest = buf.clone();
        while !rest.is_empty() {
            let (msg, len) = Self::decode(&rest)?;
            out.push(msg);
            rest.advance(len);
        }
        Ok(out)
    }

    pub fn crc_matches(&self) -> bool {
        super::body_crc(&self.body) == self.body_crc
    }

    pub fn properties(&self) -> Properties {
        Properties::parse(&self.properties)
    }

    /// The offset message id (store host + commit-log offset) Java computes for this record.
    pub fn msg_id(&self) -> super::MessageId {
        super::MessageId {
            store_host: self.store_host,
            commit_log_offset: self.commit_log_offset,
        }
    }
}

fn host_len(addr: &SocketAddr) -> usize {
    if addr.is_ipv6() {
        20
    } else {
        8
    }
}

fn put_host(out: &mut BytesMut, addr: &SocketAddr) {
    match addr.ip() {
        IpAddr::V4(ip) => out.put_slice(&ip.octets()),
        IpAddr::V6(ip) => out.put_slice(&ip.octets()),
    }
    out.put_i32(i32::from(addr.port()));
}

/// Bounds-checked big-endian reads; every read fails cleanly on a short buffer.
struct Reader<'a>(&'a mut Bytes);

impl Reader<'_> {
    fn need(&self, n: usize) -> Result<(), ProtocolError> {
        if self.0.remaining() < n {
            Err(ProtocolError::Truncated("message record"))
        } else {
            Ok(())
        }
    }
    fn u8(&mut self) -> Result<u8, ProtocolError> {
        self.need(1)?;
        Ok(self.0.get_u8())
    }
    fn u16(&mut self) -> Result<u16, ProtocolError> {
        self.need(2)?;
        Ok(self.0.get_u16())
    }
    fn i16(&mut self) -> Result<i16, ProtocolError> {
        self.need(2)?;
        Ok(self.0.get_i16())
    }
    fn i32(&mut self) -> Result<i32, ProtocolError> {
        self.need(4)?;
        Ok(self.0.get_i32())
    }
    fn u32(&mut self) -> Result<u32, ProtocolError> {
        self.need(4)?;
        Ok(self.0.get_u32())
    }
    fn i64(&mut self) -> Result<i64, ProtocolError> {
        self.need(8)?;
        Ok(self.0.get_i64())
    }
    fn len32(&mut self) -> Result<usize, ProtocolError> {
        usize::try_from(self.i32()?).map_err(|_| ProtocolError::Message("negative length"))
    }
    fn take(&mut self, n: usize) -> Result<Bytes, ProtocolError> {
        self.need(n)?;
        Ok(self.0.split_to(n))
    }
    fn utf8(&mut self, n: usize, what: &'static str) -> Result<String, ProtocolError> {
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| ProtocolError::Message(what))
    }
    fn host(&mut self, v6: bool) -> Result<SocketAddr, ProtocolError> {
        let ip = if v6 {
            self.need(16)?;
            let mut o = [0u8; 16];
            self.0.copy_to_slice(&mut o);
            IpAddr::V6(Ipv6Addr::from(o))
        } else {
            self.need(4)?;
            let mut o = [0u8; 4];
            self.0.copy_to_slice(&mut o);
            IpAddr::V4(Ipv4Addr::from(o))
        };
        let port = self.i32()?;
        Ok(SocketAddr::new(ip, port as u16))
    }
}
