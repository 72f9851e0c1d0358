use super::*;
use proptest::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ringmq-idx-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        TempDir(dir)
    }

    fn file(&self, seq: u64) -> PathBuf {
        self.0.join(format!("{seq:020}"))
    }

    fn files(&self) -> Vec<u64> {
        list_files(&self.0).unwrap()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// (key, offset, store time): what the caller finds reading a record.
type Put = (String, CommitLogOffset, i64);
type Puts = Vec<Put>;

/// Record `i` of the test log: 100 bytes each in shard 1.
fn off(i: u64) -> CommitLogOffset {
    CommitLogOffset::new(1, i * 100)
}

fn key(k: u64) -> String {
    format!("TopicTest#k{k}")
}

/// Puts records `range`, record i under key i % 4 stored at 1000 + i.
fn fill(idx: &mut MessageIndex, puts: &mut Puts, range: std::ops::Range<u64>) {
    for i in range {
        let p = (key(i % 4), off(i), 1000 + i as i64);
        idx.put(&p.0, p.1, p.2).unwrap();
        puts.push(p);
    }
}

/// What a lookup must return: puts whose key hashes like `key`, newest first, in the range,
/// equal offsets in a row once, at most `max`.
fn expected(puts: &[Put], key: &str, range: (i64, i64), max: usize) -> Vec<CommitLogOffset> {
    let mut out = Vec::new();
    for (k, o, t) in puts.iter().rev() {
        if out.len() < max
            && key_hash(k) == key_hash(key)
            && (range.0..=range.1).contains(t)
            && out.last() != Some(o)
        {
            out.push(*o);
        }
    }
    out
}

/// Checks every test key over the whole time range and a few windows.
fn check_all(idx: &MessageIndex, puts: &[Put]) {
    assert_eq!(idx.last_indexed(), puts.last().map(|p| p.1));
    for k in 0..5 {
        for (range, max) in [
            ((i64::MIN, i64::MAX), usize::MAX),
            ((1003, 1013), 100),
            ((1005, 1030), 2),
            ((1012, 1012), 1),
        ] {
            let got = idx.lookup(&key(k), range.0, range.1, max).unwrap();
            assert_eq!(
                got,
                expected(puts, &key(k), range, max),
                "key {k} in {range:?}, max {max}"
            );
        }
    }
}

#[test]
fn hash_and_layouts_are_pinned() {
    assert_eq!(
        ["", "a", "foobar"].map(key_hash),
        [0x811c_9dc5, 0xe40c_292c, 0xbf9c_f968]
    );
    let e = Entry {
        hash: 0x0102_0304,
        offset: CommitLogOffset(5),
        timestamp: -2,
        prev: 7,
    };
    let mut b = [0; ENTRY_SIZE];
    e.encode(&mut b);
    assert_eq!(
        b,
        [1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 5, 255, 255, 255, 255, 255, 255, 255, 254, 0, 0, 0, 7]
    );
    assert_eq!(Entry::decode(&b), e);
    let mut h = Header::empty(4, 8);
    h.add(&e);
    let mut b = h.encode();
    assert_eq!(
        (&b[..8], Header::decode(&b)),
        (&b"RMQI\0\x01\0\0"[..], Some(h))
    );
    assert_eq!((h.entry_pos(1), h.len()), (64 + 16, 64 + 16 + 24));
    b[17] ^= 1;
    assert_eq!(Header::decode(&b), None);
}

#[test]
fn lookup_filters_by_hash_time_and_max_newest_first() {
    let tmp = TempDir::new();
    let mut idx = MessageIndex::open(&tmp.0, 4, 1000).unwrap();
    // 17 keys share 4 slots; the last two also share their 32-bit hash.
    let mut keys: Vec<String> = (0..15).map(|k| format!("TopicA#k{k}")).collect();
    keys.extend(["TopicA#c82828".into(), "TopicA#c1457162".into()]);
    assert_eq!(key_hash(&keys[15]), key_hash(&keys[16]));
    let mut puts = Vec::new();
    for i in 0..300u64 {
        let p = (keys[i as usize % 17].clone(), off(i), 1000 + i as i64 / 2);
        idx.put(&p.0, p.1, p.2).unwrap();
        puts.push(p);
    }
    for key in &keys {
        let got = idx.lookup(key, 0, i64::MAX, usize::MAX).unwrap();
        // The caller's check: read each candidate record, keep those with this key.
        let kept: Vec<_> = got
            .iter()
            .copied()
            .filter(|o| puts[(o.local() / 100) as usize].0 == *key)
            .collect();
        let mine: Vec<_> = puts
            .iter()
            .rev()
            .filter(|p| p.0 == *key)
            .map(|p| p.1)
            .collect();
        assert_eq!(kept, mine);
        assert_eq!(
            got.len() > mine.len(),
            key.contains("#c"),
            "only colliding keys see others"
        );
        for (range, max) in [
            ((0, i64::MAX), 1000),
            ((1010, 1040), 100),
            ((1000, 1000), 5),
            ((1100, 2000), 3),
            ((0, 999), 9),
            ((1050, 1020), 9),
        ] {
            assert_eq!(
                idx.lookup(key, range.0, range.1, max).unwrap(),
                expected(&puts, key, range, max)
            );
        }
    }
    assert_eq!(idx.lookup("TopicA#k1", 0, i64::MAX, 0).unwrap(), vec![]);
    // Keys of one record come back as one candidate; a record indexed twice, too.
    for k in ["TopicA#x", "TopicA#x", "TopicA#y"] {
        idx.put(k, off(300), 2000).unwrap();
    }
    assert_eq!(
        idx.lookup("TopicA#x", 0, i64::MAX, 9).unwrap(),
        vec![off(300)]
    );
    assert!(matches!(
        idx.put("TopicA#z", off(299), 2000),
        Err(StorageError::Corrupt { .. })
    ));
    assert!(
        idx.put("TopicA#z", CommitLogOffset::new(2, 0), 2000)
            .is_err(),
        "other shard"
    );
}

#[test]
fn rotates_files_and_reopens_with_the_same_answers() {
    let tmp = TempDir::new();
    let mut idx = MessageIndex::open(&tmp.0, 3, 5).unwrap();
    let mut puts = Vec::new();
    fill(&mut idx, &mut puts, 0..23);
    assert_eq!(
        tmp.files(),
        [0, 1, 2, 3],
        "sealing writes a file; the active one waits"
    );
    check_all(&idx, &puts);
    idx.flush().unwrap();
    idx.sync().unwrap();
    assert_eq!(tmp.files(), [0, 1, 2, 3, 4]);
    assert_eq!(fs::metadata(tmp.file(4)).unwrap().len(), 64 + 12 + 3 * 24);
    let mut idx = MessageIndex::open(&tmp.0, 3, 5).unwrap();
    check_all(&idx, &puts);

    // 23 and 24 fill file 4, which is written when 25 seals it; 25.. are never flushed.
    fill(&mut idx, &mut puts, 23..30);
    check_all(&idx, &puts);
    drop(idx);
    let idx = MessageIndex::open(&tmp.0, 3, 5).unwrap();
    puts.truncate(25);
    check_all(&idx, &puts);
    assert_eq!(tmp.files(), [0, 1, 2, 3, 4]);

    // Another geometry reads the old files by their own and starts a new one.
    let mut idx = MessageIndex::open(&tmp.0, 7, 2).unwrap();
    fill(&mut idx, &mut puts, 25..28);
    idx.flush().unwrap();
    check_all(&idx, &puts);
    check_all(&MessageIndex::open(&tmp.0, 7, 2).unwrap(), &puts);
}

#[test]
fn truncate_after_cuts_across_files_and_survives_reopen() {
    let tmp = TempDir::new();
    let mut idx = MessageIndex::open(&tmp.0, 3, 5).unwrap();
    let mut puts = Vec::new();
    fill(&mut idx, &mut puts, 0..23);
    idx.flush().unwrap();
    for other in [CommitLogOffset::new(2, 0), off(22) + 1] {
        idx.truncate_after(other).unwrap();
        check_all(&idx, &puts);
    }
    idx.truncate_after(off(13)).unwrap();
    puts.truncate(13);
    check_all(&idx, &puts);
    assert_eq!(tmp.files(), [0, 1, 2]);
    let mut idx = MessageIndex::open(&tmp.0, 3, 5).unwrap();
    check_all(&idx, &puts);
    fill(&mut idx, &mut puts, 13..17);
    idx.flush().unwrap();
    check_all(&MessageIndex::open(&tmp.0, 3, 5).unwrap(), &puts);

    // At a file boundary the emptied file stays, empty; before everything, nothing is left.
    idx.truncate_after(off(10)).unwrap();
    puts.truncate(10);
    check_all(&idx, &puts);
    assert_eq!(tmp.files(), [0, 1, 2]);
    let mut idx = MessageIndex::open(&tmp.0, 3, 5).unwrap();
    check_all(&idx, &puts);
    idx.truncate_after(off(0)).unwrap();
    check_all(&idx, &[]);
    check_all(&MessageIndex::open(&tmp.0, 3, 5).unwrap(), &[]);
    puts.clear();
    fill(&mut idx, &mut puts, 0..7);
    idx.flush().unwrap();
    check_all(&MessageIndex::open(&tmp.0, 3, 5).unwrap(), &puts);
}

#[test]
fn delete_before_removes_whole_sealed_files_only() {
    let tmp = TempDir::new();
    let mut idx = MessageIndex::open(&tmp.0, 3, 5).unwrap();
    let mut puts = Vec::new();
    fill(&mut idx, &mut puts, 0..23);
    assert_eq!(
        idx.delete_before(CommitLogOffset::new(2, 0)).unwrap(),
        0,
        "other shard"
    );
    assert_eq!(idx.delete_before(off(4)).unwrap(), 0, "file 0 ends at 4");
    assert_eq!(idx.delete_before(off(7)).unwrap(), 1);
    assert_eq!(tmp.files(), [1, 2, 3]);
    assert_eq!(
        idx.delete_before(off(1000)).unwrap(),
        3,
        "not the active file"
    );
    assert_eq!(tmp.files(), [] as [u64; 0]);
    puts.drain(..20);
    check_all(&idx, &puts);
    idx.flush().unwrap();
    check_all(&MessageIndex::open(&tmp.0, 3, 5).unwrap(), &puts);

    // With the active file empty, the newest sealed one stays for last_indexed.
    fill(&mut idx, &mut puts, 23..30);
    idx.flush().unwrap();
    let mut idx = MessageIndex::open(&tmp.0, 3, 5).unwrap();
    assert_eq!(
        (tmp.files(), idx.delete_before(off(1000)).unwrap()),
        (vec![4, 5], 1)
    );
    puts.drain(..5);
    check_all(&idx, &puts);
}

#[test]
fn torn_newest_file_keeps_its_consistent_prefix() {
    let tmp = TempDir::new();
    let path = tmp.file(0);
    let mut puts = Vec::new();
    let mut idx = MessageIndex::open(&tmp.0, 3, 50).unwrap();
    fill(&mut idx, &mut puts, 0..20);
    idx.flush().unwrap();
    let header_at_20 = fs::read(&path).unwrap()[..HEADER_SIZE].to_vec();
    let entries = 64 + 12;
    let reopen = |puts: &Puts| {
        let idx = MessageIndex::open(&tmp.0, 3, 50).unwrap();
        check_all(&idx, puts);
        idx
    };

    // Entries written but not the header that commits them: the file is cut back.
    fill(&mut idx, &mut puts, 20..25);
    idx.flush().unwrap();
    drop(idx);
    let f = OpenOptions::new().write(true).open(&path).unwrap();
    f.write_all_at(&header_at_20, 0).unwrap();
    puts.truncate(20);
    drop(reopen(&puts));
    assert_eq!(fs::metadata(&path).unwrap().len(), entries + 20 * 24);

    // A cut inside entry 12 with a broken header: entries are checked one by one.
    f.set_len(entries + 12 * 24 + 7).unwrap();
    f.write_all_at(&[0xff], 17).unwrap();
    puts.truncate(12);
    let mut idx = reopen(&puts);
    fill(&mut idx, &mut puts, 12..20);
    idx.flush().unwrap();
    drop(idx);

    // An entry whose link does not fit ends the prefix, even under a good header.
    let mut idx = reopen(&puts);
    fill(&mut idx, &mut puts, 20..22);
    idx.flush().unwrap();
    drop(idx);
    f.write_all_at(&0xdeadu32.to_be_bytes(), entries + 22 * 24 - 4)
        .unwrap();
    puts.truncate(21);
    let mut idx = reopen(&puts);
    fill(&mut idx, &mut puts, 21..51);
    check_all(&idx, &puts);
    assert_eq!(tmp.files(), [0], "file 0 is written when 50 seals it");
    drop(idx);
    puts.truncate(50);

    // A slot table write lost: the newest file is full, so once its slots are rebuilt it is
    // sealed, and lookups read its slot table from disk.
    f.write_all_at(&[0; 12], 64).unwrap();
    drop(reopen(&puts));
    drop(reopen(&puts));
}

#[derive(Debug, Clone)]
enum Op {
    /// Key, records skipped (0: another key of the same record), milliseconds passed.
    Put(u8, u8, u8),
    Flush,
    Sync,
    Reopen,
    /// At a fraction (of 256) of the log written so far.
    Truncate(u8),
    Delete(u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => (0u8..6, 0u8..3, 0u8..3).prop_map(|(k, s, t)| Op::Put(k, s, t)),
        2 => Just(Op::Flush),
        1 => Just(Op::Sync),
        2 => Just(Op::Reopen),
        1 => any::<u8>().prop_map(Op::Truncate),
        1 => any::<u8>().prop_map(Op::Delete),
    ]
}

proptest! {
    #[test]
    fn behaves_like_a_vec(ops in prop::collection::vec(op(), 1..80), slots in 1u32..5, per_file in 1u32..6) {
        check(ops, slots, per_file as usize);
    }
}

/// Applies `ops` to an index and to a model: the puts, and how many each file holds.
fn check(ops: Vec<Op>, slots: u32, per_file: usize) {
    let tmp = TempDir::new();
    let mut idx = MessageIndex::open(&tmp.0, slots, per_file as u32).unwrap();
    let (mut puts, mut files, mut flushed): (Puts, Vec<usize>, usize) = (Vec::new(), vec![0], 0);
    let (mut pos, mut now) = (0u64, 1000i64);
    for op in ops {
        match op {
            Op::Put(k, skip, dt) => {
                (pos, now) = (pos + u64::from(skip) * 100, now + i64::from(dt));
                let p = (key(k.into()), CommitLogOffset::new(1, pos), now);
                idx.put(&p.0, p.1, p.2).unwrap();
                if files.last() == Some(&per_file) {
                    flushed = puts.len();
                    files.push(0);
                }
                *files.last_mut().unwrap() += 1;
                puts.push(p);
            }
            Op::Flush => {
                idx.flush().unwrap();
                flushed = puts.len();
            }
            Op::Sync => idx.sync().unwrap(),
            Op::Reopen => {
                drop(idx);
                idx = MessageIndex::open(&tmp.0, slots, per_file as u32).unwrap();
                let lost = puts.len() - flushed;
                assert!(lost <= *files.last().unwrap(), "sealed files are written");
                *files.last_mut().unwrap() -= lost;
                puts.truncate(flushed);
            }
            Op::Truncate(at) => {
                let end = CommitLogOffset::new(1, pos * u64::from(at) / 256);
                idx.truncate_after(end).unwrap();
                let mut cut = puts.iter().rev().take_while(|p| p.1 >= end).count();
                puts.truncate(puts.len() - cut);
                loop {
                    let last = files.last_mut().unwrap();
                    let n = cut.min(*last);
                    (*last, cut) = (*last - n, cut - n);
                    if cut == 0 {
                        break;
                    }
                    files.pop();
                }
                (flushed, pos) = (puts.len(), end.local());
            }
            Op::Delete(at) => {
                let min = CommitLogOffset::new(1, pos * u64::from(at) / 256);
                let sealed =
                    (files.len() - 1).saturating_sub(usize::from(files.last() == Some(&0)));
                let mut gone = 0;
                while gone < sealed && puts[files[gone] - 1].1 < min {
                    puts.drain(..files[gone]);
                    flushed -= files[gone];
                    gone += 1;
                }
                files.drain(..gone);
                assert_eq!(idx.delete_before(min).unwrap(), gone);
            }
        }
        check_all(&idx, &puts);
    }
}

#[test]
fn a_new_file_waits_for_the_files_before_it_to_be_durable() {
    let tmp = TempDir::new();
    let mut idx = MessageIndex::open(&tmp.0, 4, 4).unwrap();
    let mut puts = Vec::new();
    fill(&mut idx, &mut puts, 0..4);
    // The first file has nothing before it.
    assert!(!idx.must_sync_before_flush());
    idx.flush().unwrap();
    assert_eq!(tmp.files(), [0]);
    // The next entry starts a file while the full one is written but not yet synced.
    fill(&mut idx, &mut puts, 4..5);
    assert!(idx.must_sync_before_flush());
    // Made durable another way (the shard's syncfs): the flush has nothing left to wait for.
    idx.mark_synced();
    assert!(!idx.must_sync_before_flush());
    idx.flush().unwrap();
    assert_eq!(tmp.files(), [0, 1]);
    check_all(&idx, &puts);
}
