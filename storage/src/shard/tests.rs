use super::*;
use crate::commitlog::FlushDiskType;
use ringmq_protocol::message::properties::tag_hash_code;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ringmq-shard-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn run<F: std::future::Future<Output = ()> + 'static>(f: impl FnOnce() -> F + Send + 'static) {
    glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
        .spawn(move || async move { f().await })
        .expect("executor")
        .join()
        .expect("join");
}

fn config(flush: FlushDiskType) -> ShardConfig {
    ShardConfig {
        commit_log: CommitLogConfig {
            segment_size: 128 * 1024,
            flush_disk_type: flush,
            flush_interval: Duration::from_millis(10),
            tail_cache_bytes: 32 * 1024,
            max_unwritten_bytes: 1 << 20,
            write_batch_bytes: 64 * 1024,
            sync_flush_timeout: Duration::from_secs(5),
        },
        cq_entries_per_file: 64,
        cq_hot_window: 16,
        // Idle queues give their entries back after two checkpoints, so the tests also read
        // through released queues.
        cq_idle_release: Duration::ZERO,
        checkpoint_interval: Duration::from_millis(50),
        store_host: "127.0.0.2:10911".parse().unwrap(),
        // Applied by the tests themselves.
        retention: RetentionPolicy {
            check_interval: Duration::from_secs(3600),
            ..RetentionPolicy::default()
        },
        index_slots: 1024,
        index_entries_per_file: 4096,
    }
}

fn message(topic: &str, queue_id: i32, i: u32, tag: &str) -> MessageToStore {
    MessageToStore {
        topic: topic.into(),
        queue_id,
        body: Bytes::from(format!(
            "{topic}/{queue_id}/{i} {}",
            "x".repeat((i % 7) as usize * 100)
        )),
        properties: format!("TAGS\u{1}{tag}\u{2}KEYS\u{1}k{i}\u{2}"),
        flag: 0,
        sys_flag: 0,
        born_timestamp: 1_700_000_000_000 + i64::from(i),
        born_host: "10.0.0.1:5555".parse().unwrap(),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
    }
}

async fn read_all(shard: &Shard, topic: &str, queue_id: i32) -> Vec<StoredMessage> {
    let mut out = Vec::new();
    let mut from = QueueOffset(0);
    loop {
        let r = shard
            .read(topic, queue_id, from, 32, 1 << 20, |_| true)
            .unwrap();
        if r.status != ReadStatus::Found {
            break;
        }
        for rec in r.records {
            out.push(
                StoredMessage::decode(&rec.bytes().await.unwrap())
                    .unwrap()
                    .0,
            );
        }
        from = r.next_offset;
    }
    out
}

#[test]
fn puts_read_back_in_queue_order_with_offsets_matching_message_ids() {
    let dir = temp_dir("roundtrip");
    let d = dir.clone();
    run(move || async move {
        let (shard, _) = Shard::open(2, &d, config(FlushDiskType::AsyncFlush))
            .await
            .unwrap();
        let mut results = Vec::new();
        for i in 0..300u32 {
            let q = (i % 3) as i32;
            let r = shard.put(message("Orders", q, i, "TagA")).await.unwrap();
            results.push((q, r));
        }
        for q in 0..3 {
            assert_eq!(shard.max_offset("Orders", q), QueueOffset(100));
            let msgs = read_all(&shard, "Orders", q).await;
            assert_eq!(msgs.len(), 100);
            let puts: Vec<&PutResult> = results
                .iter()
                .filter(|(qq, _)| *qq == q)
                .map(|(_, r)| r)
                .collect();
            for (n, (m, r)) in msgs.iter().zip(puts).enumerate() {
                assert_eq!(m.queue_offset, n as i64);
                assert_eq!(
                    m.commit_log_offset, r.offset.0,
                    "read offset matches the put"
                );
                assert_eq!(m.msg_id().commit_log_offset, r.offset.0);
                assert_eq!(m.msg_id().store_host, "127.0.0.2:10911".parse().unwrap());
                assert!(m.crc_matches());
                // The message id leads back to the same record.
                let by_id = shard.read_at(r.offset).await.unwrap();
                assert_eq!(by_id, *m);
            }
        }
        assert!(
            shard
                .read_at(CommitLogOffset(results[5].1.offset.0 + 1))
                .await
                .is_err(),
            "an offset inside a record is no id"
        );
        shard.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn tag_filtering_happens_on_the_consume_queue() {
    let dir = temp_dir("tags");
    let d = dir.clone();
    run(move || async move {
        let (shard, _) = Shard::open(0, &d, config(FlushDiskType::AsyncFlush))
            .await
            .unwrap();
        for i in 0..40u32 {
            shard
                .put(message("T", 0, i, if i % 4 == 0 { "TagA" } else { "TagB" }))
                .await
                .unwrap();
        }
        let want = tag_hash_code("TagA");
        let r = shard
            .read("T", 0, QueueOffset(0), 32, 1 << 20, |code| code == want)
            .unwrap();
        assert_eq!(r.status, ReadStatus::Found);
        assert_eq!(r.records.len(), 10);
        // Entries skipped by the filter still advance the next offset (Java does the same).
        assert_eq!(r.next_offset, QueueOffset(40));
        let none = shard
            .read("T", 0, QueueOffset(1), 2, 1 << 20, |code| {
                code == tag_hash_code("TagC")
            })
            .unwrap();
        assert_eq!(none.status, ReadStatus::NoMatchedMessage);
        assert!(none.next_offset > QueueOffset(1));
        shard.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn read_statuses_follow_java() {
    let dir = temp_dir("status");
    let d = dir.clone();
    run(move || async move {
        let (shard, _) = Shard::open(0, &d, config(FlushDiskType::AsyncFlush))
            .await
            .unwrap();
        assert_eq!(
            shard
                .read("T", 0, QueueOffset(0), 1, 1024, |_| true)
                .unwrap()
                .status,
            ReadStatus::NoMatchedLogicQueue
        );
        for i in 0..5 {
            shard.put(message("T", 0, i, "A")).await.unwrap();
        }
        let at = |o| {
            shard
                .read("T", 0, QueueOffset(o), 32, 1 << 20, |_| true)
                .unwrap()
        };
        assert_eq!(at(5).status, ReadStatus::OffsetOverflowOne);
        assert_eq!(at(9).status, ReadStatus::OffsetOverflowBadly);
        assert_eq!(at(9).next_offset, QueueOffset(5));
        assert_eq!(at(2).records.len(), 3);
        // max_bytes bounds a read (but always returns at least one message).
        let small = shard.read("T", 0, QueueOffset(0), 32, 1, |_| true).unwrap();
        assert_eq!(small.records.len(), 1);
        shard.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

/// Puts messages `range` of `topic`, alternating between queues 0 and 1.
async fn put_alternating(shard: &Shard, topic: &str, range: std::ops::Range<u32>) {
    for i in range {
        shard
            .put(message(topic, (i % 2) as i32, i, "A"))
            .await
            .unwrap();
    }
}

#[test]
fn reopening_rebuilds_consume_queues_from_the_log() {
    let dir = temp_dir("reopen");
    let d = dir.clone();
    run(move || async move {
        // No checkpoint after the one taken at open: the queues' entries exist only in memory.
        let mut cfg = config(FlushDiskType::SyncFlush);
        cfg.checkpoint_interval = Duration::from_secs(3600);
        let (shard, _) = Shard::open(0, &d, cfg.clone()).await.unwrap();
        put_alternating(&shard, "T", 0..150).await;
        let before = (
            read_all(&shard, "T", 0).await,
            read_all(&shard, "T", 1).await,
        );
        // Gone without a clean close: nothing of the queues reached disk; recovery rebuilds them.
        drop(shard);
        let on_disk: u64 = walk_sizes(&d.join("consumequeue"));
        assert_eq!(
            on_disk, 0,
            "consume queues were not written before the 'crash'"
        );
        let (shard, report) = Shard::open(0, &d, cfg).await.unwrap();
        assert!(report.cut.is_none());
        assert_eq!(shard.max_offset("T", 0), QueueOffset(75));
        let after = (
            read_all(&shard, "T", 0).await,
            read_all(&shard, "T", 1).await,
        );
        assert_eq!(after, before);
        // Appends continue the queue offsets.
        let r = shard.put(message("T", 0, 999, "A")).await.unwrap();
        assert_eq!(r.queue_offset, QueueOffset(75));
        shard.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn search_by_timestamp_finds_the_first_message_at_or_after() {
    let dir = temp_dir("search");
    let d = dir.clone();
    run(move || async move {
        let (shard, _) = Shard::open(0, &d, config(FlushDiskType::AsyncFlush))
            .await
            .unwrap();
        let mut stamps = Vec::new();
        for i in 0..30u32 {
            stamps.push(
                shard
                    .put(message("T", 0, i, "A"))
                    .await
                    .unwrap()
                    .store_timestamp,
            );
            if i % 10 == 9 {
                glommio::timer::sleep(Duration::from_millis(5)).await;
            }
        }
        for (i, ts) in stamps.iter().enumerate() {
            let found = shard.search_offset_by_timestamp("T", 0, *ts).await.unwrap();
            let first = stamps.iter().position(|t| t >= ts).unwrap();
            assert_eq!(found, QueueOffset(first as i64), "message {i}");
        }
        assert_eq!(
            shard
                .search_offset_by_timestamp("T", 0, i64::MAX)
                .await
                .unwrap(),
            QueueOffset(30)
        );
        assert_eq!(
            shard.search_offset_by_timestamp("T", 0, 0).await.unwrap(),
            QueueOffset(0)
        );
        shard.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

fn walk_sizes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| {
            if e.path().is_dir() {
                walk_sizes(&e.path())
            } else {
                e.metadata().map_or(0, |m| m.len())
            }
        })
        .sum()
}

#[test]
fn retention_deletes_expired_segments_and_moves_queue_minimums() {
    let dir = temp_dir("retention");
    let d = dir.clone();
    run(move || async move {
        let mut cfg = config(FlushDiskType::AsyncFlush);
        cfg.retention.delete_when = (0..24).collect(); // any hour
        cfg.retention.file_reserved_time = Duration::from_secs(3600);
        let (shard, _) = Shard::open(0, &d, cfg).await.unwrap();
        // ~1 KiB messages into 128 KiB segments: several sealed segments.
        let mut puts = Vec::new();
        for i in 0..600u32 {
            puts.push(
                shard
                    .put(message("T", (i % 2) as i32, 6, "A"))
                    .await
                    .unwrap(),
            );
        }
        shard.commit_log().flush().await.unwrap();
        let sealed = shard.commit_log().sealed_segments();
        assert!(sealed.len() >= 3, "{} sealed segments", sealed.len());
        // Nothing is old enough yet.
        assert_eq!(shard.enforce_retention(SystemTime::now()).await.unwrap(), 0);
        // Age the two oldest segments past the reserved time.
        let old = SystemTime::now() - Duration::from_secs(7200);
        for seg in &sealed[..2] {
            std::fs::File::options()
                .write(true)
                .open(seg.path())
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        let boundary = sealed[1].end();
        assert_eq!(shard.enforce_retention(SystemTime::now()).await.unwrap(), 2);
        assert_eq!(shard.commit_log().min_offset(), boundary);
        assert!(!sealed[0].path().exists() && !sealed[1].path().exists());
        // Queue minimums moved past the deleted records; older offsets are too small now.
        for q in 0..2 {
            let min = shard.min_offset("T", q);
            assert!(min.0 > 0, "queue {q} min offset did not move");
            let r = shard
                .read("T", q, QueueOffset(0), 1, 1 << 20, |_| true)
                .unwrap();
            assert_eq!(r.status, ReadStatus::OffsetTooSmall);
            let r = shard.read("T", q, min, 1, 1 << 20, |_| true).unwrap();
            assert_eq!(r.status, ReadStatus::Found);
            let m = StoredMessage::decode(&r.records[0].bytes().await.unwrap())
                .unwrap()
                .0;
            assert!(
                m.commit_log_offset >= boundary.0
                    || CommitLogOffset(m.commit_log_offset) + r.records[0].len() as u64 > boundary
            );
        }
        // Appends go on.
        shard.put(message("T", 0, 1, "A")).await.unwrap();
        shard.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn appends_are_refused_while_the_disk_is_above_the_hard_limit() {
    let dir = temp_dir("diskfull");
    let d = dir.clone();
    run(move || async move {
        let mut cfg = config(FlushDiskType::SyncFlush);
        cfg.retention.disk_refuse_ratio = 0; // any usage counts as full
        cfg.retention.delete_when = vec![];
        cfg.retention.disk_max_used_space_ratio = 101;
        cfg.retention.disk_clean_forcibly_ratio = 101;
        let (shard, _) = Shard::open(0, &d, cfg).await.unwrap();
        let acked = shard.put(message("T", 0, 1, "A")).await.unwrap();
        shard.enforce_retention(SystemTime::now()).await.unwrap();
        let err = shard.put(message("T", 0, 2, "A")).await.unwrap_err();
        assert!(matches!(err, StorageError::DiskFull { .. }), "{err}");
        assert!(err.to_string().contains("disk full"), "{err}");
        // What was acknowledged before is intact.
        assert_eq!(shard.read_at(acked.offset).await.unwrap().queue_offset, 0);
        shard.commit_log().set_disk_full(None);
        assert_eq!(
            shard
                .put(message("T", 0, 3, "A"))
                .await
                .unwrap()
                .queue_offset,
            QueueOffset(1)
        );
        shard.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn messages_are_found_by_key_and_unique_key_across_restarts() {
    let dir = temp_dir("query");
    let d = dir.clone();
    run(move || async move {
        let mut cfg = config(FlushDiskType::SyncFlush);
        cfg.checkpoint_interval = Duration::from_secs(3600); // the index is rebuilt, not loaded
        cfg.index_slots = 8; // force hash collisions
        cfg.index_entries_per_file = 64;
        let (shard, _) = Shard::open(0, &d, cfg.clone()).await.unwrap();
        let mut stamps = Vec::new();
        for i in 0..100u32 {
            let mut m = message(if i % 2 == 0 { "Even" } else { "Odd" }, 0, i, "A");
            m.properties = format!("KEYS\u{1}k{} shared\u{2}UNIQ_KEY\u{1}U{i:04}\u{2}", i % 10);
            stamps.push(shard.put(m).await.unwrap().store_timestamp);
        }
        let check = |found: &Vec<StoredMessage>, want: &[u32]| {
            let mut got: Vec<u32> = found
                .iter()
                .map(|m| {
                    String::from_utf8_lossy(&m.body)
                        .split('/')
                        .nth(2)
                        .unwrap()
                        .split(' ')
                        .next()
                        .unwrap()
                        .parse()
                        .unwrap()
                })
                .collect();
            got.sort();
            assert_eq!(got, want);
        };
        let all = (0, i64::MAX);
        check(
            &shard
                .query_by_key("Even", "k4", 100, all.0, all.1)
                .await
                .unwrap(),
            &[4, 14, 24, 34, 44, 54, 64, 74, 84, 94],
        );
        check(
            &shard
                .query_by_key("Odd", "k4", 100, all.0, all.1)
                .await
                .unwrap(),
            &[],
        );
        check(
            &shard
                .query_by_key("Odd", "U0037", 32, all.0, all.1)
                .await
                .unwrap(),
            &[37],
        );
        assert_eq!(
            shard
                .query_by_key("Even", "shared", 5, all.0, all.1)
                .await
                .unwrap()
                .len(),
            5
        );
        // Newest first.
        let newest = shard
            .query_by_key("Even", "shared", 1, all.0, all.1)
            .await
            .unwrap();
        check(&newest, &[98]);
        // A time range that ends before the messages were stored finds nothing.
        assert!(shard
            .query_by_key("Even", "k4", 100, 0, stamps[0] - 1)
            .await
            .unwrap()
            .is_empty());

        drop(shard);
        let (shard, _) = Shard::open(0, &d, cfg).await.unwrap();
        check(
            &shard
                .query_by_key("Even", "k4", 100, all.0, all.1)
                .await
                .unwrap(),
            &[4, 14, 24, 34, 44, 54, 64, 74, 84, 94],
        );
        check(
            &shard
                .query_by_key("Odd", "U0099", 32, all.0, all.1)
                .await
                .unwrap(),
            &[99],
        );
        shard.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_put_that_finds_no_room_in_time_is_refused_and_stores_nothing() {
    let dir = temp_dir("busy");
    let d = dir.clone();
    run(move || async move {
        let mut cfg = config(FlushDiskType::AsyncFlush);
        // The writer holds back (no full batch, no interval): appends fill the unwritten budget.
        cfg.commit_log.flush_interval = Duration::from_secs(3600);
        cfg.commit_log.write_batch_bytes = 1 << 20;
        cfg.commit_log.max_unwritten_bytes = 16 * 1024;
        let (shard, _) = Shard::open(0, &d, cfg).await.unwrap();
        let mut stored = 0;
        loop {
            match shard
                .put_within(message("T", 0, 6, "A"), Some(Duration::from_millis(50)))
                .await
            {
                Ok(_) => stored += 1,
                Err(StorageError::Busy { waited }) => {
                    assert!(waited >= Duration::from_millis(50));
                    break;
                }
                Err(e) => panic!("{e}"),
            }
            assert!(stored < 1000, "the budget never filled");
        }
        assert_eq!(
            shard.max_offset("T", 0),
            QueueOffset(stored),
            "the refused message was not stored"
        );
        // Once the writer catches up there is room again.
        shard.commit_log().flush().await.unwrap();
        let r = shard
            .put_within(message("T", 0, 6, "A"), Some(Duration::from_millis(50)))
            .await
            .unwrap();
        assert_eq!(r.queue_offset, QueueOffset(stored));
        shard.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_periodic_checkpoint_asked_for_during_close_leaves_the_clean_mark() {
    let dir = temp_dir("close-mark");
    let d = dir.clone();
    run(move || async move {
        // No periodic checkpoint of its own: the only one under way below is close's.
        let mut cfg = config(FlushDiskType::SyncFlush);
        cfg.checkpoint_interval = Duration::from_secs(3600);
        let (shard, _) = Shard::open(0, &d, cfg).await.unwrap();
        shard.put(message("T", 0, 1, "a")).await.unwrap();
        let closing = glommio::spawn_local({
            let shard = shard.clone();
            async move { shard.close().await }
        });
        // `close` is writing its clean checkpoint; the periodic one comes round meanwhile.
        while shard.checkpoint_turn.available() > 0 {
            glommio::executor().yield_now().await;
        }
        shard.write_checkpoint(false).await.unwrap();
        closing.await.unwrap();
        let (_, checkpoint) = CheckpointFile::open(&d).unwrap();
        assert!(
            checkpoint.unwrap().clean_shutdown,
            "a checkpoint after close undid its clean mark"
        );
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_deleted_topic_stays_deleted_across_a_crash_and_starts_again_at_zero() {
    let dir = temp_dir("delete-topic");
    let d = dir.clone();
    run(move || async move {
        // Only the checkpoints this test asks for (and the one the deletion writes).
        let mut cfg = config(FlushDiskType::SyncFlush);
        cfg.checkpoint_interval = Duration::from_secs(3600);
        let (shard, _) = Shard::open(0, &d, cfg.clone()).await.unwrap();
        put_alternating(&shard, "Gone", 0..40).await;
        for i in 0..10u32 {
            shard.put(message("Kept", 0, i, "A")).await.unwrap();
        }
        // Some of the topic's entries on disk, the rest only in memory past the checkpoint:
        // a recovery starting there would dispatch them again.
        shard.write_checkpoint(false).await.unwrap();
        put_alternating(&shard, "Gone", 40..50).await;
        assert_eq!(shard.delete_topic("Gone").await.unwrap(), 2);
        assert_eq!(shard.delete_topic("Gone").await.unwrap(), 0);
        assert!(!d.join("consumequeue").join("Gone").exists());
        let r = shard.read("Gone", 0, QueueOffset(0), 32, 1 << 20, |_| true);
        assert_eq!(r.unwrap().status, ReadStatus::NoMatchedLogicQueue);
        assert_eq!(shard.max_offset("Gone", 0), QueueOffset(0));

        // Created again under the same name: new queues from offset 0.
        for i in 0..3u32 {
            let r = shard.put(message("Gone", 0, 100 + i, "B")).await.unwrap();
            assert_eq!(r.queue_offset, QueueOffset(i64::from(i)));
        }
        let fresh = read_all(&shard, "Gone", 0).await;

        // Gone without a clean close.
        drop(shard);
        let (shard, _) = Shard::open(0, &d, cfg).await.unwrap();
        assert_eq!(shard.max_offset("Gone", 0), QueueOffset(3));
        assert_eq!(shard.max_offset("Gone", 1), QueueOffset(0));
        let after = read_all(&shard, "Gone", 0).await;
        assert_eq!(after, fresh);
        assert!(after.iter().all(|m| m.body.starts_with(b"Gone/0/10")));
        assert_eq!(read_all(&shard, "Kept", 0).await.len(), 10);
        shard.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn queues_whose_records_all_expired_are_deleted_on_request() {
    let dir = temp_dir("expired-queues");
    let d = dir.clone();
    run(move || async move {
        let mut cfg = config(FlushDiskType::AsyncFlush);
        cfg.retention.delete_when = (0..24).collect(); // any hour
        cfg.retention.file_reserved_time = Duration::from_secs(3600);
        let (shard, _) = Shard::open(0, &d, cfg).await.unwrap();
        // "Old" and "Spared" are written only at the start, into the first segment; "Live" goes
        // on into later ones.
        for i in 0..20u32 {
            shard.put(message("Old", 0, 6, "A")).await.unwrap();
            shard.put(message("Spared", 0, i, "A")).await.unwrap();
        }
        for _ in 0..600u32 {
            shard.put(message("Live", 1, 6, "A")).await.unwrap();
        }
        shard.commit_log().flush().await.unwrap();
        // Every record is still there: nothing to delete.
        assert_eq!(shard.delete_expired_queues(|_| false).await.unwrap(), 0);

        let sealed = shard.commit_log().sealed_segments();
        std::fs::File::options()
            .write(true)
            .open(sealed[0].path())
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(7200))
            .unwrap();
        assert_eq!(shard.enforce_retention(SystemTime::now()).await.unwrap(), 1);
        assert_eq!(
            shard
                .delete_expired_queues(|t| t == "Spared")
                .await
                .unwrap(),
            1
        );
        assert_eq!(shard.max_offset("Old", 0), QueueOffset(0));
        assert!(!d.join("consumequeue").join("Old").exists());
        assert_eq!(shard.max_offset("Spared", 0), QueueOffset(20));
        assert_eq!(shard.max_offset("Live", 1), QueueOffset(600));
        assert_eq!(
            shard.topics().into_iter().collect::<Vec<_>>(),
            ["Live", "Spared"]
        );
        let r = shard.put(message("Old", 0, 1, "A")).await.unwrap();
        assert_eq!(r.queue_offset, QueueOffset(0));
        shard.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn an_idle_queue_gives_its_entries_back_at_checkpoints_and_still_reads_in_full() {
    let dir = temp_dir("idle-release");
    let d = dir.clone();
    run(move || async move {
        // Checkpoints only when the test takes them; idle after two of them (the test config).
        let mut cfg = config(FlushDiskType::AsyncFlush);
        cfg.checkpoint_interval = Duration::from_secs(3600);
        let (shard, _) = Shard::open(0, &d, cfg).await.unwrap();
        for i in 0..40 {
            shard.put(message("Idle", 0, i, "a")).await.unwrap();
            shard.put(message("Busy", 0, i, "a")).await.unwrap();
        }
        assert_eq!(
            shard.resident_entries("Idle", 0),
            Some(40),
            "none written out yet"
        );
        shard.write_checkpoint(false).await.unwrap();
        assert_eq!(
            shard.resident_entries("Idle", 0),
            Some(16),
            "the window once written"
        );
        shard.put(message("Busy", 0, 40, "a")).await.unwrap();
        shard.write_checkpoint(false).await.unwrap();
        assert_eq!(shard.resident_entries("Idle", 0), Some(0), "released");
        assert_eq!(
            shard.resident_entries("Busy", 0),
            Some(16),
            "appended to: kept"
        );

        let idle = read_all(&shard, "Idle", 0).await;
        let bodies: Vec<_> = idle.iter().map(|m| m.body.clone()).collect();
        let want: Vec<_> = (0..40).map(|i| message("Idle", 0, i, "a").body).collect();
        assert_eq!(bodies, want, "every message read back through the files");
        let put = shard.put(message("Idle", 0, 40, "a")).await.unwrap();
        assert_eq!(put.queue_offset, QueueOffset(40));
        assert_eq!(shard.resident_entries("Idle", 0), Some(1));
        assert_eq!(read_all(&shard, "Idle", 0).await.len(), 41);
        shard.close().await.unwrap();
    });
    let _ = std::fs::remove_dir_all(&dir);
}
