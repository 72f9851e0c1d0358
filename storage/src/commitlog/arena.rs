//! Where appended records live in memory: records are encoded in place into 1 MiB chunks, and
//! each record is a `Bytes` view of its chunk (no allocation, no copy per record).
//!
//! A record's bytes are shared by the flusher's queue, the tail cache and readers; a chunk is
//! freed when the last view into it goes. Allocating a fresh chunk for every MiB would fault its
//! pages in again each time (and make the allocator grow and trim its heap), so used-up chunks are
//! kept in arrival order and the oldest is reused as soon as nothing points into it any more: the
//! tail cache drops records oldest first, so in steady state the oldest chunk is the one that
//! frees up.
//!
//! A reader may hold on to an old record for long (a pull response waiting on a consumer that
//! stopped reading). Its chunk then cannot be reused, and must not stop the chunks behind it from
//! being reused either: the arena remembers only as many used-up chunks as the tail cache can
//! hold, plus a few, and forgets the oldest beyond that. A forgotten chunk is freed by whoever
//! drops its last record.

use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;

/// Size of a chunk; a record larger than this gets a chunk of its own size.
const CHUNK: usize = 1 << 20;
/// Used-up chunks remembered beyond those the tail cache holds.
const SPARE_RETIRED: usize = 4;

pub(super) struct RecordArena {
    /// Free space of the chunk being filled (its filled part has been split off as records).
    current: BytesMut,
    /// `current` is a standard chunk, worth reusing (not a large record's own buffer).
    current_is_chunk: bool,
    /// Used-up standard chunks, oldest first.
    retired: VecDeque<BytesMut>,
    /// Changes whenever `current` does (a reused chunk gets a new id too).
    chunk_id: u64,
    /// Most chunks kept in `retired`.
    max_retired: usize,
    /// Standard chunks allocated so far (not reused ones).
    chunks_allocated: u64,
}

impl RecordArena {
    /// An arena for a log whose tail cache keeps `tail_cache_bytes` of recent records.
    pub(super) fn new(tail_cache_bytes: usize) -> Self {
        Self {
            current: BytesMut::new(),
            current_is_chunk: false,
            retired: VecDeque::new(),
            chunk_id: 0,
            max_retired: tail_cache_bytes.div_ceil(CHUNK) + SPARE_RETIRED,
            chunks_allocated: 0,
        }
    }

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
        }
        if len > CHUNK {
            self.current = BytesMut::with_capacity(len);
            return;
        }
        self.current_is_chunk = true;
        while let Some(oldest) = self.retired.front_mut() {
            // Succeeds only when no record of that chunk is referenced any more; then the whole
            // chunk is free space again, without allocating.
            if oldest.try_reclaim(CHUNK) {
                self.current = self.retired.pop_front().expect("front exists");
                return;
            }
            if self.retired.len() <= self.max_retired {
                break;
            }
            // Older than anything the tail cache holds, so a reader pins it: forget it.
            self.retired.pop_front();
        }
        self.chunks_allocated += 1;
        self.current = BytesMut::with_capacity(CHUNK);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BufMut;
    use std::collections::VecDeque;

    fn put(arena: &mut RecordArena, len: usize, byte: u8) -> Bytes {
        arena.record(len, |b| b.put_bytes(byte, len)).0
    }

    /// Appends `chunks` chunks' worth of 1 KiB records, keeping the newest `cached` records
    /// alive as the tail cache would; returns how many chunks the arena allocated meanwhile.
    fn append_through_a_cache(arena: &mut RecordArena, chunks: usize, cached: usize) -> u64 {
        let before = arena.chunks_allocated;
        let mut cache = VecDeque::new();
        for _ in 0..chunks * 1024 {
            cache.push_back(put(arena, 1024, 0xee));
            if cache.len() > cached {
                cache.pop_front();
            }
        }
        arena.chunks_allocated - before
    }

    #[test]
    fn used_up_chunks_are_reused_once_the_cache_lets_go_of_them() {
        let mut arena = RecordArena::new(4 * CHUNK);
        // Forty chunks of records through a cache of four chunks' worth.
        let allocations = append_through_a_cache(&mut arena, 40, 4 * 1024);
        // The cache's four, the one being filled, and one being let go.
        assert!(allocations <= 6, "{allocations} chunks allocated");
    }

    #[test]
    fn a_record_held_by_a_reader_pins_its_chunk_and_nothing_else() {
        let mut arena = RecordArena::new(4 * CHUNK);
        let mut kept = Vec::new();
        // Keep every record of the first chunk alive, as a slow reader would.
        for i in 0..1024 {
            kept.push(put(&mut arena, 1024, (i % 251) as u8));
        }
        // Many more chunks' worth go through a small cache meanwhile: the pinned chunk is never
        // written over, and it does not stop the others from being reused (remembering every
        // chunk behind it would grow the arena by a chunk per MiB appended).
        let allocations = append_through_a_cache(&mut arena, 100, 4 * 1024);
        assert!(
            allocations <= (4 + SPARE_RETIRED + 2) as u64,
            "{allocations} chunks allocated while one was pinned"
        );
        for (i, r) in kept.iter().enumerate() {
            assert!(
                r.iter().all(|&b| b == (i % 251) as u8),
                "record {i} changed"
            );
        }
    }

    #[test]
    fn a_record_larger_than_a_chunk_gets_its_own_buffer() {
        let mut arena = RecordArena::new(4 * CHUNK);
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
        let mut arena = RecordArena::new(4 * CHUNK);
        arena.record(10, |b| b.put_bytes(0, 9));
    }
}
