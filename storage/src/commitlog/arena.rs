//! Where appended records live in memory: records are encoded in place into 1 MiB chunks, and
//! each record is a `Bytes` view of its chunk (no allocation, no copy per record).
//!
//! A record's bytes are shared by the flusher's queue, the tail cache and readers; a chunk is
//! freed when the last view into it goes. Allocating a fresh chunk for every MiB would fault its
//! pages in again each time (and make the allocator grow and trim its heap), so used-up chunks are
//! kept in arrival order and the oldest is reused as soon as nothing points into it any more: the
//! tail cache drops records oldest first, so in steady state the oldest chunk is the one that
//! frees up.

use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;

/// Size of a chunk; a record larger than this gets a chunk of its own size.
const CHUNK: usize = 1 << 20;
/// Used-up chunks remembered for reuse. Past this (readers holding on to old records), the
/// oldest is forgotten and freed by whoever drops its last record.
const MAX_RETIRED: usize = 1024;

#[derive(Default)]
pub(super) struct RecordArena {
    /// Free space of the chunk being filled (its filled part has been split off as records).
    current: BytesMut,
    /// `current` is a standard chunk, worth reusing (not a large record's own buffer).
    current_is_chunk: bool,
    /// Used-up standard chunks, oldest first.
    retired: VecDeque<BytesMut>,
    /// Changes whenever `current` does (a reused chunk gets a new id too).
    chunk_id: u64,
}

impl RecordArena {
    /// Runs `encode`, which must append exactly `len` bytes, and returns them as one record.
    ///
    /// # Panics
    /// If `encode` writes any other number of bytes: the log reserved `len` at the record's
    /// offset, so a mismatch would corrupt every offset after it.
    pub(super) fn record<T>(
        &mut self,
        len: usize,
        encode: impl FnOnce(&mut BytesMut) -> T,
    ) -> (Bytes, T) {
        if self.current.capacity() < len {
            self.next_chunk(len);
        }
        let extra = encode(&mut self.current);
        assert_eq!(
            self.current.len(),
            len,
            "encoded record length differs from the reserved length"
        );
        (self.current.split().freeze(), extra)
    }

    /// Identifies the chunk the last record went into: two records with the same id are parts
    /// of one allocation.
    pub(super) fn chunk_id(&self) -> u64 {
        self.chunk_id
    }

    fn next_chunk(&mut self, len: usize) {
        self.chunk_id += 1;
        let used = std::mem::take(&mut self.current);
        if std::mem::take(&mut self.current_is_chunk) {
            self.retired.push_back(used);
            if self.retired.len() > MAX_RETIRED {
                self.retired.pop_front();
            }
        }
        if len > CHUNK {
            self.current = BytesMut::with_capacity(len);
            return;
        }
        self.current_is_chunk = true;
        if let Some(oldest) = self.retired.front_mut() {
            // Succeeds only when no record of that chunk is referenced any more; then the whole
            // chunk is free space again, without allocating.
            if oldest.try_reclaim(CHUNK) {
                self.current = self.retired.pop_front().expect("front exists");
                return;
            }
        }
        self.current = BytesMut::with_capacity(CHUNK);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;

    fn put(arena: &mut RecordArena, len: usize, byte: u8) -> Bytes {
        arena.record(len, |b| b.put_bytes(byte, len)).0
    }

    #[test]
    fn records_keep_their_bytes_while_chunks_are_reused() {
        let mut arena = RecordArena::default();
        let mut kept = Vec::new();
        // Three chunks' worth; keep every record of the first chunk alive.
        for i in 0..3 * 1024 {
            let r = put(&mut arena, 1024, (i % 251) as u8);
            if i < 1024 {
                kept.push(r);
            }
        }
        for (i, r) in kept.iter().enumerate() {
            assert!(
                r.iter().all(|&b| b == (i % 251) as u8),
                "record {i} changed"
            );
        }
        // The first chunk is pinned, so more appends cannot have reused it.
        let first = kept[0].as_ptr();
        for _ in 0..2048 {
            let r = put(&mut arena, 1024, 0xee);
            assert!(!std::ptr::eq(r.as_ptr(), first));
        }
        drop(kept);
        // Once its records are gone, the oldest chunk is reused rather than a new one made.
        let mut reused = false;
        for _ in 0..4096 {
            reused |= std::ptr::eq(put(&mut arena, 1024, 1).as_ptr(), first);
        }
        assert!(reused, "the freed first chunk was never reused");
    }

    #[test]
    fn a_record_larger_than_a_chunk_gets_its_own_buffer() {
        let mut arena = RecordArena::default();
        let small = put(&mut arena, 100, 1);
        let big = put(&mut arena, 3 * CHUNK, 2);
        let after = put(&mut arena, 100, 3);
        assert_eq!(big.len(), 3 * CHUNK);
        assert!(big.iter().all(|&b| b == 2));
        assert!(small.iter().all(|&b| b == 1) && after.iter().all(|&b| b == 3));
    }

    #[test]
    #[should_panic(expected = "reserved length")]
    fn writing_a_different_length_is_refused() {
        let mut arena = RecordArena::default();
        arena.record(10, |b| b.put_bytes(0, 9));
    }
}
