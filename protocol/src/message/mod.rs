//! Messages as RocketMQ lays them out: the stored record (what the commit log holds and a pull
//! response carries), the batch body a producer sends, the property string, `sysFlag` bits and the
//! offset message id.

mod batch;
mod msg_id;
pub mod properties;
pub mod stored;
pub mod sys_flag;

pub use batch::{decode_batch, encode_batch, BatchItem};
pub use msg_id::MessageId;
pub use properties::Properties;
pub use stored::{StoredMessage, BLANK_MAGIC_CODE, MESSAGE_MAGIC_CODE, MESSAGE_MAGIC_CODE_V2};

/// The body checksum RocketMQ stores: CRC-32 (IEEE) with the sign bit cleared, as Java's
/// `UtilAll.crc32` returns it.
pub fn body_crc(body: &[u8]) -> u32 {
    crc32fast::hash(body) & 0x7FFF_FFFF
}

#[cfg(test)]
mod tests;
