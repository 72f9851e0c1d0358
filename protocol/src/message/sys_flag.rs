//! Bits of a message's `sysFlag` (Java's `MessageSysFlag`).

/// The body is compressed; bits 8..11 say with what.
pub const COMPRESSED: i32 = 1;
/// Set by old clients when `TAGS` holds several tags.
pub const MULTI_TAGS: i32 = 1 << 1;
/// Transaction state, bits 2..3.
pub const TRANSACTION_NOT_TYPE: i32 = 0;
pub const TRANSACTION_PREPARED_TYPE: i32 = 1 << 2;
pub const TRANSACTION_COMMIT_TYPE: i32 = 2 << 2;
pub const TRANSACTION_ROLLBACK_TYPE: i32 = 3 << 2;
const TRANSACTION_MASK: i32 = 3 << 2;
/// The born host is IPv6 (16 address bytes instead of 4).
pub const BORNHOST_V6: i32 = 1 << 4;
/// The store host is IPv6.
pub const STOREHOST_V6: i32 = 1 << 5;
/// 5.x: the message wraps others (multi-dispatch); clients must unwrap.
pub const NEED_UNWRAP: i32 = 1 << 6;
/// 5.x: one record holds a whole batch.
pub const INNER_BATCH: i32 = 1 << 7;
const COMPRESSION_MASK: i32 = 7 << 8;

/// The compression a compressed body uses (bits 8..11). Old clients set only [`COMPRESSED`],
/// which means zlib.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Lz4,
    Zstd,
    Zlib,
}

/// `None` when the body is not compressed.
pub fn compression(sys_flag: i32) -> Option<Compression> {
    if sys_flag & COMPRESSED == 0 {
        return None;
    }
    Some(match (sys_flag & COMPRESSION_MASK) >> 8 {
        1 => Compression::Lz4,
        2 => Compression::Zstd,
        _ => Compression::Zlib,
    })
}

pub fn transaction_type(sys_flag: i32) -> i32 {
    sys_flag & TRANSACTION_MASK
}

pub fn with_transaction_type(sys_flag: i32, tx: i32) -> i32 {
    (sys_flag & !TRANSACTION_MASK) | (tx & TRANSACTION_MASK)
}

/// Bytes a host address takes in the stored layout (address + 4-byte port).
pub fn born_host_len(sys_flag: i32) -> usize {
    if sys_flag & BORNHOST_V6 == 0 {
        8
    } else {
        20
    }
}

pub fn store_host_len(sys_flag: i32) -> usize {
    if sys_flag & STOREHOST_V6 == 0 {
        8
    } else {
        20
    }
}
