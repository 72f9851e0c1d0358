//! The offset message id: store host and commit-log offset, printed as upper-case hex.
//!
//! IPv4 gives 16 bytes (4 address + 4 port + 8 offset), 32 hex digits; IPv6 gives 28 bytes, 56 digits.
//! Clients send it back in VIEW_MESSAGE_BY_ID and CONSUMER_SEND_MSG_BACK, so the offset inside must
//! locate the record exactly.

use crate::error::ProtocolError;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MessageId {
    pub store_host: SocketAddr,
    pub commit_log_offset: i64,
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.store_host.ip() {
            IpAddr::V4(ip) => ip.octets().iter().try_for_each(|b| write!(f, "{b:02X}"))?,
            IpAddr::V6(ip) => ip.octets().iter().try_for_each(|b| write!(f, "{b:02X}"))?,
        }
        write!(
            f,
            "{:08X}{:016X}",
            u32::from(self.store_host.port()),
            self.commit_log_offset as u64
        )
    }
}

impl FromStr for MessageId {
    type Err = ProtocolError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bytes = hex_decode(s).ok_or(ProtocolError::Message("message id is not hex"))?;
        let (ip, rest): (IpAddr, &[u8]) = match bytes.len() {
            16 => (
                IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
                &bytes[4..],
            ),
            28 => {
                let mut o = [0u8; 16];
                o.copy_from_slice(&bytes[..16]);
                (IpAddr::V6(Ipv6Addr::from(o)), &bytes[16..])
            }
            _ => {
                return Err(ProtocolError::Message(
                    "message id must be 32 or 56 hex digits",
                ))
            }
        };
        let port = u32::from_be_bytes(rest[0..4].try_into().unwrap_or_default());
        let offset = i64::from_be_bytes(rest[4..12].try_into().unwrap_or_default());
        Ok(MessageId {
            store_host: SocketAddr::new(ip, port as u16),
            commit_log_offset: offset,
        })
    }
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}
