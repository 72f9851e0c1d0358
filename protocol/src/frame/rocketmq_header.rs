//! The ROCKETMQ binary header encoding (Java's `RocketMQSerializable`).
//!
//! ```text
//! code: i16 | language: u8 | version: i16 | opaque: i32 | flag: i32
//! remark_len: i32 | remark (UTF-8)
//! ext_len: i32 | ext_len bytes of { key_len: i16 | key | value_len: i32 | value }
//! ```
//! All big-endian. A null remark and an absent map are both written as length 0.

use super::{RemotingCommand, SerializeType};
use crate::codes::LanguageCode;
use crate::error::ProtocolError;
use crate::ext_fields::ExtFields;
use bytes::{Buf, BufMut, Bytes, BytesMut};

pub(super) fn encode(cmd: &RemotingCommand, out: &mut BytesMut) {
    out.put_i16(cmd.code as i16);
    out.put_u8(cmd.language.0);
    out.put_i16(cmd.version as i16);
    out.put_i32(cmd.opaque);
    out.put_i32(cmd.flag);
    match &cmd.remark {
        Some(r) => {
            out.put_i32(r.len() as i32);
            out.put_slice(r.as_bytes());
        }
        None => out.put_i32(0),
    }
    let len_at = out.len();
    out.put_i32(0);
    for (k, v) in cmd.fields().iter() {
        out.put_i16(k.len() as i16);
        out.put_slice(k.as_bytes());
        out.put_i32(v.len() as i32);
        out.put_slice(v.as_bytes());
    }
    let ext_len = (out.len() - len_at - 4) as i32;
    out[len_at..len_at + 4].copy_from_slice(&ext_len.to_be_bytes());
}

pub(super) fn decode(header: &Bytes) -> Result<RemotingCommand, ProtocolError> {
    let mut b = header.clone();
    need(&b, 2 + 1 + 2 + 4 + 4)?;
    let code = i32::from(b.get_i16());
    let language = LanguageCode(b.get_u8());
    let version = i32::from(b.get_i16());
    let opaque = b.get_i32();
    let flag = b.get_i32();
    let remark = match read_len(&mut b, "remark length")? {
        0 => None,
        n => Some(str_of(&take(&mut b, n)?, "remark")?.to_owned()),
    };
    let ext_len = read_len(&mut b, "extFields length")?;
    let ext = take(&mut b, ext_len)?;
    let ext_fields = if ext_len == 0 {
        None
    } else {
        // Names and values stay spans of one copy of the map's bytes.
        let mut fields = ExtFields::for_header(&ext, 16);
        let mut ext = fields.text();
        while ext.has_remaining() {
            need(&ext, 2)?;
            let key_len = ext.get_i16();
            let key_len = usize::try_from(key_len)
                .map_err(|_| ProtocolError::BinaryHeader("negative key length"))?;
            let key = take(&mut ext, key_len)?;
            let value_len = read_len(&mut ext, "extFields value length")?;
            let value = take(&mut ext, value_len)?;
            fields.push_from_header(
                str_of(&key, "extFields key")?.into(),
                str_of(&value, "extFields value")?.into(),
            );
        }
        Some(fields)
    };
    Ok(RemotingCommand {
        code,
        language,
        version,
        opaque,
        flag,
        remark,
        ext_fields,
        serialize_type: SerializeType::RocketMq,
        body: Bytes::new(),
    })
}

fn need(b: &Bytes, n: usize) -> Result<(), ProtocolError> {
    if b.remaining() < n {
        Err(ProtocolError::Truncated("binary header"))
    } else {
        Ok(())
    }
}

fn read_len(b: &mut Bytes, what: &'static str) -> Result<usize, ProtocolError> {
    need(b, 4)?;
    usize::try_from(b.get_i32()).map_err(|_| ProtocolError::BinaryHeader(what))
}

/// Takes `n` bytes, checking first: a corrupt length must not read past the header.
fn take(b: &mut Bytes, n: usize) -> Result<Bytes, ProtocolError> {
    need(b, n)?;
    Ok(b.split_to(n))
}

fn str_of<'b>(b: &'b Bytes, what: &'static str) -> Result<&'b str, ProtocolError> {
    std::str::from_utf8(b).map_err(|_| ProtocolError::BinaryHeader(what))
}
