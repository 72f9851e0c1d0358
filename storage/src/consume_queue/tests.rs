use super::*;
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ringmq-cq-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Entry i of a test queue: records of 100 bytes back to back in `shard`'s log.
fn entry(shard: u32, i: u64) -> CqEntry {
    let commit_log_offset = CommitLogOffset::new(shard, i * 100);
    CqEntry {
        commit_log_offset,
        size: 100,
        tag_code: i as i64 - 3,
    }
}

/// Entries [from, to) of shard 0 at their offsets.
fn run(from: u64, to: u64) -> Vec<(QueueOffset, CqEntry)> {
    (from..to)
        .map(|i| (QueueOffset(i as i64), entry(0, i)))
        .collect()
}

/// A queue in `tmp` with `n` flushed entries of shard 0, four to a file.
fn filled(tmp: &TempDir, hot: usize, n: u64) -> ConsumeQueue {
    let mut cq = ConsumeQueue::open(&tmp.0, 4, hot).unwrap();
    for i in 0..n {
        assert_eq!(cq.append(entry(0, i)), QueueOffset(i as i64));
    }
    cq.flush().unwrap();
    cq
}

fn all(cq: &ConsumeQueue) -> Vec<(QueueOffset, CqEntry)> {
    cq.entries(cq.min_offset(), usize::MAX).unwrap()
}

fn offsets(cq: &ConsumeQueue) -> Vec<i64> {
    all(cq).iter().map(|(o, _)| o.0).collect()
}

fn bounds(cq: &ConsumeQueue) -> (i64, i64) {
    (cq.min_offset().0, cq.max_offset().0)
}

fn file_len(tmp: &TempDir, first_slot: u64) -> Option<u64> {
    let path = tmp.0.join(format!("{:020}", first_slot * SLOT));
    fs::metadata(path).ok().map(|m| m.len())
}

#[test]
fn entry_layout_is_big_endian_offset_size_tag() {
    let e = CqEntry {
        commit_log_offset: CommitLogOffset(0x0102),
        size: 0x0304,
        tag_code: -2,
    };
    let mut b = [0; CQ_ENTRY_SIZE];
    e.encode(&mut b);
    assert_eq!(
        b,
        [0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4, 255, 255, 255, 255, 255, 255, 255, 254]
    );
    assert_eq!(
        (CqEntry::decode(&b), e.end()),
        (Some(e), CommitLogOffset(0x0406))
    );
    assert_eq!(CqEntry::decode(&[0; CQ_ENTRY_SIZE]), None);
    HOLE.encode(&mut b);
    assert_eq!(CqEntry::decode(&b), None);
}

#[test]
fn append_get_entries_across_files_and_reopen() {
    let tmp = TempDir::new();
    let mut cq = ConsumeQueue::open(&tmp.0, 4, 16).unwrap();
    assert_eq!((bounds(&cq), cq.last_entry_end()), ((0, 0), None));
    for i in 0..10 {
        assert_eq!(cq.append(entry(0, i)), QueueOffset(i as i64));
    }
    assert_eq!(cq.get(QueueOffset(7)).unwrap(), Some(entry(0, 7)));
    assert_eq!(cq.get(QueueOffset(10)).unwrap(), None);
    assert_eq!(cq.get(QueueOffset(-1)).unwrap(), None);
    assert_eq!(cq.entries(QueueOffset(2), 5).unwrap(), run(2, 7));
    assert_eq!(cq.entries(QueueOffset(8), 100).unwrap(), run(8, 10));
    cq.flush().unwrap();
    cq.sync().unwrap();
    assert_eq!(
        [0, 4, 8].map(|s| file_len(&tmp, s)),
        [Some(80), Some(80), Some(40)]
    );
    cq.append(entry(0, 10));
    drop(cq);

    // The unflushed entry is gone; with no hot window every read goes to the files.
    for hot in [0, 16] {
        let cq = ConsumeQueue::open(&tmp.0, 4, hot).unwrap();
        assert_eq!((bounds(&cq), all(&cq)), ((0, 10), run(0, 10)));
        assert_eq!(cq.entries(QueueOffset(3), 6).unwrap(), run(3, 9));
        assert_eq!(cq.last_entry_end(), Some(CommitLogOffset::new(0, 1000)));
    }
    assert!(matches!(
        ConsumeQueue::open(&tmp.0, 3, 0),
        Err(StorageError::Corrupt { .. })
    ));
}

#[test]
fn hot_window_keeps_unflushed_and_newest_only() {
    let tmp = TempDir::new();
    let mut cq = filled(&tmp, 2, 9);
    assert_eq!(cq.hot.len(), 2);
    for i in 9..12 {
        cq.append(entry(0, i));
    }
    assert_eq!(cq.hot.len(), 3, "the unflushed ones cover the newest two");
    for i in 0..12 {
        assert_eq!(cq.get(QueueOffset(i as i64)).unwrap(), Some(entry(0, i)));
    }
    assert_eq!(all(&cq), run(0, 12));
    cq.flush().unwrap();
    assert_eq!(cq.hot.len(), 2);
    let reopened = ConsumeQueue::open(&tmp.0, 4, 2).unwrap();
    assert_eq!(
        reopened.hot.capacity(),
        0,
        "a reopened queue starts with nothing in memory"
    );
    assert_eq!(all(&reopened), run(0, 12));
}

#[test]
fn a_full_window_keeps_its_size_as_it_slides() {
    let tmp = TempDir::new();
    let mut cq = filled(&tmp, 1024, 1024);
    let capacity = cq.hot.capacity();
    for i in 1024..3000 {
        cq.append(entry(0, i));
        if i % 100 == 0 {
            cq.flush().unwrap();
        }
    }
    // Pushing onto a full window before trimming it would double the allocation for good.
    assert_eq!((capacity, cq.hot.capacity()), (1024, 1024));
    cq.flush().unwrap();
    assert_eq!(all(&cq), run(0, 3000));
}

#[test]
fn an_idle_queue_gives_its_memory_back_and_still_reads_everything() {
    let tmp = TempDir::new();
    let mut cq = filled(&tmp, 8, 20);
    cq.append(entry(0, 20));
    // Idle means no append for more than `idle_after` checkpoints, and everything flushed.
    assert!(!cq.release_if_idle(1), "appended since the last checkpoint");
    assert!(!cq.release_if_idle(1), "only one idle checkpoint so far");
    assert!(
        !cq.release_if_idle(1),
        "an unflushed slot lives only in memory"
    );
    assert_eq!(cq.get(QueueOffset(20)).unwrap(), Some(entry(0, 20)));
    cq.flush().unwrap();
    assert!(cq.release_if_idle(1));
    assert_eq!(cq.hot.capacity(), 0);
    assert_eq!(all(&cq), run(0, 21), "read back from the files");
    // The next append makes it active again.
    cq.append(entry(0, 21));
    assert!(!cq.release_if_idle(0));
    assert_eq!(all(&cq), run(0, 22));
}

#[test]
fn truncate_after_keeps_entries_ending_at_the_cut() {
    let tmp = TempDir::new();
    let mut cq = filled(&tmp, 2, 10);
    cq.append(entry(0, 10));
    cq.truncate_after(CommitLogOffset::new(0, 1050)).unwrap();
    assert_eq!(bounds(&cq), (0, 10), "entry 10 ends at 1100");
    cq.truncate_after(CommitLogOffset::new(1, 0)).unwrap();
    assert_eq!(bounds(&cq), (0, 10), "other shards are not compared");
    cq.truncate_after(CommitLogOffset::new(0, 700)).unwrap();
    assert_eq!(
        (bounds(&cq), cq.last_entry_end()),
        ((0, 7), Some(CommitLogOffset::new(0, 700)))
    );
    assert_eq!(cq.get(QueueOffset(7)).unwrap(), None);
    assert_eq!(
        [0, 4, 8].map(|s| file_len(&tmp, s)),
        [Some(80), Some(60), None]
    );
    let mut cq = ConsumeQueue::open(&tmp.0, 4, 2).unwrap();
    assert_eq!((bounds(&cq), all(&cq)), ((0, 7), run(0, 7)));
    assert_eq!(cq.append(entry(0, 7)), QueueOffset(7));

    // A cut at a file boundary leaves the next file empty; one before everything empties it.
    cq.append(entry(0, 8));
    cq.flush().unwrap();
    cq.truncate_after(CommitLogOffset::new(0, 800)).unwrap();
    assert_eq!(file_len(&tmp, 8), Some(0));
    assert_eq!(bounds(&ConsumeQueue::open(&tmp.0, 4, 2).unwrap()), (0, 8));
    cq.truncate_after(CommitLogOffset::new(0, 0)).unwrap();
    assert_eq!((bounds(&cq), cq.last_entry_end()), ((0, 0), None));
    assert_eq!(bounds(&ConsumeQueue::open(&tmp.0, 4, 2).unwrap()), (0, 0));
}

#[test]
fn truncate_after_leaves_other_shards_in_place() {
    let tmp = TempDir::new();
    let mut cq = ConsumeQueue::open(&tmp.0, 4, 1).unwrap();
    for i in 0..3 {
        cq.append(entry(0, i));
        cq.append(entry(1, i));
    }
    cq.flush().unwrap();
    cq.truncate_after(entry(0, 1).end()).unwrap();
    assert_eq!(
        (bounds(&cq), offsets(&cq)),
        ((0, 6), vec![0, 1, 2, 3, 5]),
        "4 is a hole"
    );
    assert_eq!(cq.get(QueueOffset(4)).unwrap(), None);
    let pp = |cq: &ConsumeQueue, tag| cq.partition_point(|e| e.tag_code < tag).unwrap().0;
    assert_eq!(
        [-2, -1, 0].map(|tag| pp(&cq, tag)),
        [2, 4, 6],
        "the hole sides with 5"
    );
    let mut cq = ConsumeQueue::open(&tmp.0, 4, 1).unwrap();
    assert_eq!((bounds(&cq), offsets(&cq)), ((0, 6), vec![0, 1, 2, 3, 5]));

    // Dropping all of shard 1 ends the queue after shard 0's last entry.
    cq.truncate_after(CommitLogOffset::new(1, 0)).unwrap();
    assert_eq!((bounds(&cq), offsets(&cq)), ((0, 3), vec![0, 2]));
    assert_eq!(cq.last_entry_end(), Some(entry(0, 1).end()));
    let cq = ConsumeQueue::open(&tmp.0, 4, 1).unwrap();
    assert_eq!((bounds(&cq), offsets(&cq)), ((0, 3), vec![0, 2]));
}

#[test]
fn delete_before_drops_whole_files_only() {
    let tmp = TempDir::new();
    let mut cq = filled(&tmp, 2, 10);
    assert_eq!(
        cq.delete_before(CommitLogOffset::new(1, 1 << 40)).unwrap(),
        0,
        "other shard"
    );
    assert_eq!(
        cq.delete_before(CommitLogOffset::new(0, 500)).unwrap(),
        1,
        "file 1 has 400.."
    );
    assert_eq!((bounds(&cq), file_len(&tmp, 0)), ((4, 10), None));
    assert_eq!(cq.get(QueueOffset(3)).unwrap(), None);
    assert_eq!(cq.entries(QueueOffset(0), 3).unwrap(), run(4, 7));
    let mut cq = ConsumeQueue::open(&tmp.0, 4, 2).unwrap();
    assert_eq!(bounds(&cq), (4, 10));

    // The file with the last entry stays; offsets go on counting.
    assert_eq!(
        cq.delete_before(CommitLogOffset::new(0, 1 << 40)).unwrap(),
        1
    );
    assert_eq!(
        (bounds(&cq), cq.last_entry_end()),
        ((8, 10), Some(CommitLogOffset::new(0, 1000)))
    );
    assert_eq!(cq.append(entry(0, 10)), QueueOffset(10));
    cq.flush().unwrap();
    assert_eq!(bounds(&ConsumeQueue::open(&tmp.0, 4, 2).unwrap()), (8, 11));
}

#[test]
fn torn_last_file_ignores_the_partial_entry() {
    let tmp = TempDir::new();
    drop(filled(&tmp, 2, 6));
    let path = tmp.0.join(format!("{:020}", 4 * SLOT));
    let mut bytes = fs::read(&path).unwrap();
    bytes.extend_from_slice(&[7; 13]);
    fs::write(&path, &bytes).unwrap();
    let mut cq = ConsumeQueue::open(&tmp.0, 4, 2).unwrap();
    assert_eq!((bounds(&cq), all(&cq)), ((0, 6), run(0, 6)));
    cq.append(entry(0, 6));
    cq.flush().unwrap();
    assert_eq!(all(&ConsumeQueue::open(&tmp.0, 4, 2).unwrap()), run(0, 7));
}

/// `bool`: shard 3 instead of 2; `u8`: a fraction (of 256) of that shard's log.
#[derive(Debug, Clone)]
enum Op {
    Append(bool, u32),
    Flush,
    Sync,
    Reopen,
    /// An idle checkpoint: in-memory slots are given back (only when all are flushed).
    Release,
    Truncate(bool, u8),
    Delete(bool, u8),
    Read(u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    let other = || prop::bool::weighted(0.25);
    prop_oneof![
        8 => (other(), 1u32..500).prop_map(|(o, n)| Op::Append(o, n)),
        2 => Just(Op::Flush),
        1 => Just(Op::Sync),
        1 => Just(Op::Reopen),
        1 => Just(Op::Release),
        1 => (other(), any::<u8>()).prop_map(|(o, at)| Op::Truncate(o, at)),
        1 => (other(), 128u8..).prop_map(|(o, at)| Op::Delete(o, at)),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::Read(a, b)),
    ]
}

/// Every offset ever assigned (None: a hole), the first available one and the flushed count.
struct Model {
    slots: Vec<Option<CqEntry>>,
    min: usize,
    flushed: usize,
}

impl Model {
    fn first_from(&self, i: usize) -> usize {
        (i..self.slots.len())
            .find(|&i| self.slots[i].is_some())
            .unwrap_or(self.slots.len())
    }

    fn newest(&self, from: usize, to: usize) -> Option<CqEntry> {
        self.slots[from.min(to)..to]
            .iter()
            .rev()
            .flatten()
            .next()
            .copied()
    }
}

proptest! {
    #[test]
    fn behaves_like_a_vec(
        ops in prop::collection::vec(op(), 1..80),
        per_file in 1usize..6,
        hot in 0usize..5,
    ) {
        check(ops, per_file, hot)?;
    }
}

/// Applies `ops` to a queue and to the model, comparing everything after each step.
fn check(ops: Vec<Op>, per_file: usize, hot: usize) -> std::result::Result<(), TestCaseError> {
    let tmp = TempDir::new();
    let mut cq = ConsumeQueue::open(&tmp.0, per_file as u64, hot).unwrap();
    let mut m = Model {
        slots: Vec::new(),
        min: 0,
        flushed: 0,
    };
    let (mut log_end, mut seq) = ([0u64; 2], 0);
    for op in ops {
        match op {
            Op::Append(other, size) => {
                let (shard, pos) = (u32::from(other) + 2, &mut log_end[usize::from(other)]);
                let e = CqEntry {
                    commit_log_offset: CommitLogOffset::new(shard, *pos),
                    size,
                    tag_code: seq,
                };
                prop_assert_eq!(cq.append(e), QueueOffset(m.slots.len() as i64));
                m.slots.push(Some(e));
                (*pos, seq) = (*pos + u64::from(size), seq + 1);
            }
            Op::Flush => {
                cq.flush().unwrap();
                m.flushed = m.slots.len();
            }
            Op::Sync => cq.sync().unwrap(),
            Op::Release => {
                let released = cq.release_if_idle(0);
                prop_assert!(
                    !released || m.flushed == m.slots.len(),
                    "unflushed slots kept"
                );
            }
            Op::Reopen => {
                drop(cq);
                cq = ConsumeQueue::open(&tmp.0, per_file as u64, hot).unwrap();
                m.slots.truncate(m.flushed);
                let max = cq.max_offset().0 as usize;
                match m
                    .slots
                    .get(m.min..)
                    .unwrap_or_default()
                    .iter()
                    .rposition(Option::is_some)
                {
                    Some(newest) => {
                        prop_assert_eq!(max, m.min + newest + 1, "trailing holes are cut")
                    }
                    // Where a queue of holes ends depends on which files they are in.
                    None => {
                        prop_assert!(max <= m.flushed && m.slots[max..].iter().all(Option::is_none))
                    }
                }
                m.slots.truncate(max);
                (m.flushed, m.min) = (max, m.first_from(m.min));
            }
            Op::Truncate(other, at) => {
                let (shard, pos) = (u32::from(other) + 2, &mut log_end[usize::from(other)]);
                *pos = *pos * u64::from(at) / 256;
                let cut = CommitLogOffset::new(shard, *pos);
                cq.truncate_after(cut).unwrap();
                for slot in &mut m.slots[m.min..] {
                    if slot.is_some_and(|e| e.commit_log_offset.shard() == shard && e.end() > cut) {
                        *slot = None;
                    }
                }
                while m.slots.len() > m.min && m.slots.last() == Some(&None) {
                    m.slots.pop();
                }
                (m.min, m.flushed) = (m.first_from(m.min), m.flushed.min(m.slots.len()));
            }
            Op::Delete(other, at) => {
                let shard = u32::from(other) + 2;
                let cut =
                    CommitLogOffset::new(shard, log_end[usize::from(other)] * u64::from(at) / 256);
                let removed = cq.delete_before(cut).unwrap();
                let (first, mut file) = (m.min / per_file, m.min / per_file);
                let last_file = m.slots.len().saturating_sub(1) / per_file;
                if m.min < m.slots.len() && file < last_file {
                    m.flushed = m.slots.len(); // flushed before dropping anything
                }
                while m.min < m.slots.len() && file < last_file {
                    let newest = m.newest((file * per_file).max(m.min), (file + 1) * per_file);
                    if newest.is_some_and(|e| {
                        e.commit_log_offset.shard() != shard || e.commit_log_offset >= cut
                    }) {
                        break;
                    }
                    file += 1;
                }
                prop_assert_eq!(removed, file - first);
                if removed > 0 {
                    m.min = m.first_from(file * per_file);
                }
            }
            Op::Read(from, n) => {
                let got = cq
                    .entries(QueueOffset(i64::from(from) % 70), n.into())
                    .unwrap();
                let from = (usize::from(from) % 70).max(m.min);
                let want: Vec<_> = (from..m.slots.len().min(from + usize::from(n)))
                    .filter_map(|i| m.slots[i].map(|e| (QueueOffset(i as i64), e)))
                    .collect();
                prop_assert_eq!(got, want);
            }
        }
        prop_assert_eq!(bounds(&cq), (m.min as i64, m.slots.len() as i64));
        prop_assert_eq!(
            cq.last_entry_end(),
            m.newest(m.min, m.slots.len()).map(|e| e.end())
        );
        for i in 0..m.slots.len() + 2 {
            let want = if i < m.min {
                None
            } else {
                m.slots.get(i).copied().flatten()
            };
            prop_assert_eq!(cq.get(QueueOffset(i as i64)).unwrap(), want);
        }
        // Holes side with the entry after them.
        let k = seq / 2;
        let mut want = (m.min..m.slots.len())
            .find(|&i| m.slots[i].is_some_and(|e| e.tag_code >= k))
            .unwrap_or(m.slots.len());
        while want > m.min && m.slots[want - 1].is_none() {
            want -= 1;
        }
        prop_assert_eq!(
            cq.partition_point(|e| e.tag_code < k).unwrap(),
            QueueOffset(want as i64)
        );
    }
    Ok(())
}

#[test]
fn moving_the_minimum_past_unflushed_entries_keeps_the_queue_end() {
    // Retention can expire every entry of a queue before a checkpoint flushed any of them.
    let dir = TempDir::new();
    let mut cq = ConsumeQueue::create(&dir.0, 64, 4);
    for i in 0..10 {
        cq.append(entry(0, i));
    }
    let min = cq
        .correct_min_offset(CommitLogOffset::new(0, 10 * 100))
        .unwrap();
    assert_eq!(min, QueueOffset(10));
    cq.flush().unwrap();
    drop(cq);
    let cq = ConsumeQueue::open(&dir.0, 64, 4).unwrap();
    assert_eq!(cq.max_offset(), QueueOffset(10), "the queue's end survives");
    assert_eq!(cq.last_entry_end(), Some(CommitLogOffset::new(0, 1000)));
}
