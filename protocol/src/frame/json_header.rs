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
use crate::json::write::{write_int, write_str, JsonSink};
use crate::json::{self, Json, Parser};
use bytes::{Bytes, BytesMut};

/// Writes the header straight into `out`, the frame being built.
pub(super) fn encode(cmd: &RemotingCommand, out: &mut BytesMut) {
    out.put("{\"code\":");
    write_int(out, cmd.code.into());
    if let Some(fields) = &cmd.ext_fields {
        out.put(",\"extFields\":{");
        for (i, (k, v)) in fields.iter().enumerate() {
            if i > 0 {
                out.put(",");
            }
            write_str(out, k);
            out.put(":");
            write_str(out, v);
        }
        out.put("}");
    }
    out.put(",\"flag\":");
    write_int(out, cmd.flag.into());
    out.put(",\"language\":");
    write_str(out, cmd.language.name().unwrap_or("OTHER"));
    out.put(",\"opaque\":");
    write_int(out, cmd.opaque.into());
    if let Some(remark) = &cmd.remark {
        out.put(",\"remark\":");
        write_str(out, remark);
    }
    out.put(",\"serializeTypeCurrentRPC\":\"JSON\",\"version\":");
    write_int(out, cmd.version.into());
    out.put("}");
}

/// Reads the header in one pass, each field straight into the command: this runs for every
/// request, so no intermediate [`Json`] tree is built, and the `extFields` names and values stay
/// spans of one copy of the header (see [`ExtFields`]).
pub(super) fn decode(header: &Bytes) -> Result<RemotingCommand, ProtocolError> {
    let mut cmd = RemotingCommand {
        code: 0,
        language: LanguageCode::JAVA,
        version: 0,
        opaque: 0,
        flag: 0,
        remark: None,
        ext_fields: None,
        serialize_type: super::SerializeType::Json,
        body: Bytes::new(),
    };
    let mut fields = ExtFields::for_header(header, 16);
    let text = fields.text();
    // Java writes headers as UTF-8; one check of the whole text spares one per string. Should a
    // header hold other bytes anyway, strings are checked one by one and only a bad one fails.
    let mut p = match std::str::from_utf8(&text) {
        Ok(text) => Parser::for_utf8(text),
        Err(_) => Parser::new(&text),
    };
    let mut has_fields = false;
    p.each_field(|p, key| {
        match &*key {
            "code" => cmd.code = int(p, "code")?,
            "version" => cmd.version = int(p, "version")?,
            "opaque" => cmd.opaque = int(p, "opaque")?,
            "flag" => cmd.flag = int(p, "flag")?,
            "language" => {
                cmd.language = match p.str_value()? {
                    Some(name) => LanguageCode::from_name(&name).unwrap_or(LanguageCode::OTHER),
                    None => match p.any()? {
                        Json::Int(n) => LanguageCode(n as u8),
                        _ => LanguageCode::JAVA,
                    },
                }
            }
            "remark" => {
                cmd.remark = match p.str_value()? {
                    Some(s) => Some(s.into_owned()),
                    None => {
                        p.any()?;
                        None
                    }
                }
            }
            "extFields" if p.at_object() => {
                has_fields = true;
                p.each_field(|p, k| {
                    if let Some(v) = p.str_value()? {
                        fields.push_from_header(k, v);
                        return Ok(());
                    }
                    match p.any()? {
                        Json::Null => {}
                        other => fields.push_from_header(k, other.to_string().into()),
                    }
                    Ok(())
                })?;
            }
            // `serializeTypeCurrentRPC` among them: the frame's type byte already said it.
            _ => {
                if p.str_value()?.is_none() {
                    p.any()?;
                }
            }
        }
        Ok(())
    })
    .map_err(ProtocolError::JsonHeader)?;
    p.finish().map_err(ProtocolError::JsonHeader)?;
    if has_fields {
        cmd.ext_fields = Some(fields);
    }
    Ok(cmd)
}

/// A 32-bit integer field; `null` reads as 0, as fastjson leaves an absent int.
fn int(p: &mut Parser, name: &'static str) -> Result<i32, json::JsonError> {
    match p.any()? {
        Json::Null => Ok(0),
        x => x
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or_else(|| json::JsonError::type_mismatch(name, "a 32-bit integer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_field_whatever_else_the_header_holds() {
        // Escaped keys, non-string and null values, an unknown nested field, odd spacing.
        let header = Bytes::from_static(
            br#" { "code" : 310, "extFields":{"a":"1","b\"q":"x\ny","n":5,"z":null},
            "flag":2,"language":"CPP","opaque":-7,"remark":null,
            "later":{"deep":[1,{"x":[]}]},"serializeTypeCurrentRPC":"JSON","version":407} "#,
        );
        let cmd = decode(&header).unwrap();
        assert_eq!(
            (cmd.code, cmd.flag, cmd.opaque, cmd.version),
            (310, 2, -7, 407)
        );
        assert_eq!(cmd.language, LanguageCode::from_name("CPP").unwrap());
        assert_eq!(cmd.remark, None);
        let fields = cmd.fields();
        assert_eq!(fields.get("a"), Some("1"));
        assert_eq!(fields.get("b\"q"), Some("x\ny"));
        assert_eq!(fields.get("n"), Some("5"));
        assert_eq!(fields.get("z"), None);
        // What we write reads back the same.
        let mut out = BytesMut::new();
        encode(&cmd, &mut out);
        let again = decode(&out.freeze()).unwrap();
        assert_eq!(again.fields().get("b\"q"), Some("x\ny"));
        assert_eq!(again.opaque, -7);
    }

    #[test]
    fn bytes_that_are_not_utf8_fail_only_inside_a_string() {
        // Outside strings a stray byte is a syntax error either way; inside one, the string
        // is refused, as when every string was checked alone.
        let mut bad_value = br#"{"code":1,"extFields":{"k":"v"#.to_vec();
        bad_value.extend_from_slice(&[0xff, b'"', b'}', b'}']);
        assert!(decode(&Bytes::from(bad_value)).is_err());
        let ok = Bytes::from(r#"{"code":1,"extFields":{"k":"é"}}"#.as_bytes().to_vec());
        assert_eq!(decode(&ok).unwrap().fields().get("k"), Some("é"));
    }

    #[test]
    fn refuses_what_is_not_a_header() {
        for bad in [
            "[1]",
            "{\"code\":1",
            "{\"code\":\"ten\"}",
            "{\"code\":1} trailing",
            "{\"opaque\":99999999999}",
            "{\"extFields\":{\"a\" 1}}",
        ] {
            let e = decode(&Bytes::from(bad.as_bytes().to_vec()));
            assert!(e.is_err(), "{bad} decoded");
        }
        let deep = format!("{{\"x\":{}{}}}", "[".repeat(500), "]".repeat(500));
        assert!(decode(&Bytes::from(deep.into_bytes())).is_err());
    }
}
