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
    /// Upper-case hex of the address, port and offset, as Java's `MessageDecoder.createMessageId`.
    /// Every send answers with one, so the digits are written by hand rather than by `fmt`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
        // An IPv6 address (16), the port as 4 bytes, the offset as 8.
        let mut raw = [0u8; 28];
        let host = match self.store_host.ip() {
            IpAddr::V4(ip) => {
                raw[..4].copy_from_slice(&ip.octets());
                4
            }
            IpAddr::V6(ip) => {
                raw[..16].copy_from_slice(&ip.octets());
                16
            }
        };
        let port = u32::from(self.store_host.port()).to_be_bytes();
        raw[host..host + 4].copy_from_slice(&port);
        raw[host + 4..host + 12].copy_from_slice(&(self.commit_log_offset as u64).to_be_bytes());
        let mut hex = [0u8; 56];
        let len = (host + 12) * 2;
        for (i, b) in raw[..host + 12].iter().enumerate() {
            hex[2 * i] = DIGITS[usize::from(b >> 4)];
            hex[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
        }
        // Only ASCII digits were written.
        f.write_str(std::str::from_utf8(&hex[..len]).map_err(|_| fmt::Error)?)
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
