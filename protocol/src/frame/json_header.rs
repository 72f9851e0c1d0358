//! The JSON header encoding, in the exact shape fastjson gives Java's `RemotingCommand`.
//!
//! fastjson writes bean fields sorted by name and leaves nulls out:
//! `{"code":..,"extFields":{..},"flag":..,"language":"JAVA","opaque":..,"remark":..,
//! "serializeTypeCurrentRPC":"JSON","version":..}`. We write the same, so a captured Java frame
//! decodes and re-encodes to identical bytes.

use super::RemotingCommand;
use crate::codes::LanguageCode;
use crate::error::ProtocolError;
use crate::ext_fields::ExtFields;
use crate::json::{self, write::write_str, Json};
use bytes::{BufMut, Bytes, BytesMut};
use std::fmt::Write;

pub(super) fn encode(cmd: &RemotingCommand, out: &mut BytesMut) {
    let mut s = String::with_capacity(160);
    let _ = write!(s, "{{\"code\":{}", cmd.code);
    if let Some(fields) = &cmd.ext_fields {
        s.push_str(",\"extFields\":{");
        for (i, (k, v)) in fields.iter().enumerate() {
            if i > 0 {
                s.push(',');
            }
            write_str(&mut s, k);
            s.push(':');
            write_str(&mut s, v);
        }
        s.push('}');
    }
    let _ = write!(s, ",\"flag\":{},\"language\":", cmd.flag);
    write_str(&mut s, cmd.language.name().unwrap_or("OTHER"));
    let _ = write!(s, ",\"opaque\":{}", cmd.opaque);
    if let Some(remark) = &cmd.remark {
        s.push_str(",\"remark\":");
        write_str(&mut s, remark);
    }
    let _ = write!(
        s,
        ",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":{}}}",
        cmd.version
    );
    out.put_slice(s.as_bytes());
}

pub(super) fn decode(header: &Bytes) -> Result<RemotingCommand, ProtocolError> {
    let v = json::parse(header).map_err(ProtocolError::JsonHeader)?;
    if !matches!(v, Json::Object(_)) {
        return Err(ProtocolError::JsonHeader(json::JsonError::type_mismatch(
            "header",
            "an object",
        )));
    }
    let int = |name: &'static str| -> Result<i32, ProtocolError> {
        match v.get(name) {
            None | Some(Json::Null) => Ok(0),
            Some(x) => x
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| {
                    ProtocolError::JsonHeader(json::JsonError::type_mismatch(
                        name,
                        "a 32-bit integer",
                    ))
                }),
        }
    };
    let language = match v.get("language") {
        Some(Json::Str(name)) => LanguageCode::from_name(name).unwrap_or(LanguageCode::OTHER),
        Some(Json::Int(n)) => LanguageCode(*n as u8),
        _ => LanguageCode::JAVA,
    };
    let remark = match v.get("remark") {
        Some(Json::Str(s)) => Some(s.clone()),
        _ => None,
    };
    let ext_fields = match v.get("extFields") {
        Some(Json::Object(entries)) => {
            let mut fields = ExtFields::with_capacity(entries.len());
            for (k, val) in entries {
                let key = k
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| k.to_string());
                let value = match val {
                    Json::Str(s) => s.clone(),
                    Json::Null => continue,
                    other => other.to_string(),
                };
                fields.insert(key, value);
            }
            Some(fields)
        }
        _ => None,
    };
    Ok(RemotingCommand {
        code: int("code")?,
        language,
        version: int("version")?,
        opaque: int("opaque")?,
        flag: int("flag")?,
        remark,
        ext_fields,
        serialize_type: super::SerializeType::Json,
        body: Bytes::new(),
    })
}
