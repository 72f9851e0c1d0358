use super::*;
use bytes::BytesMut;
use ringmq_protocol::message::{body_crc, StoredMessage};
use std::cell::Cell;
use std::os::unix::fs::FileExt;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ringmq-cl-{name}-{}", std::process::id()));
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

fn small_config(flush: FlushDiskType) -> CommitLogConfig {
    CommitLogConfig {
        segment_size: 64 * 1024,
        flush_disk_type: flush,
        flush_interval: Duration::from_millis(20),
        tail_cache_bytes: 16 * 1024,
        max_unwritten_bytes: 1 << 20,
        write_batch_bytes: 32 * 1024,
        sync_flush_timeout: Duration::from_secs(5),
    }
}

/// ASYNC_FLUSH with batches of `write_batch_bytes`, and segments and memory for several.
fn large_batch_config(write_batch_bytes: usize, flush_interval: Duration) -> CommitLogConfig {
    CommitLogConfig {
        segment_size: 32 << 20,
        flush_interval,
        tail_cache_bytes: 16 << 20,
        max_unwritten_bytes: 16 << 20,
        write_batch_bytes,
        ..small_config(FlushDiskType::AsyncFlush)
    }
}

fn record(offset: CommitLogOffset, i: u32, body_len: usize) -> Bytes {
    let body = Bytes::from(vec![(i % 251) as u8; body_len]);
    let msg = StoredMessage {
        body_crc: body_crc(&body),
        queue_id: (i % 4) as i32,
        flag: 0,
        queue_offset: i64::from(i),
        commit_log_offset: offset.0,
        sys_flag: 0,
        born_timestamp: 1,
        born_host: "127.0.0.1:1".parse().unwrap(),
        store_timestamp: 2,
        store_host: "127.0.0.1:10911".parse().unwrap(),
        reconsume_times: 0,
        prepared_transaction_offset: 0,
        body,
        topic: "T".into(),
        properties: format!("i\u{1}{i}\u{2}"),
    };
    let mut out = BytesMut::new();
    msg.encode(&mut out).unwrap();
    out.freeze()
}

fn record_len(i: u32, body_len: usize) -> usize {
    record(CommitLogOffset(0), i, body_len).len()
}

async fn append_n(
    log: &CommitLog,
    from: u32,
    n: u32,
    body_len: usize,
) -> Vec<(CommitLogOffset, usize)> {
    let mut out = Vec::new();
    for i in from..from + n {
        let len = record_len(i, body_len);
        let (offset, ()) = log
            .append(len, |o, out| out.put_slice(&record(o, i, body_len)))
            .await
            .unwrap();
        out.push((offset, len));
    }
    out
}

#[test]
fn a_full_batch_is_copied_in_turns_and_appends_made_meanwhile_wait_for_the_next() {
    let dir = temp_dir("turns");
    let d = dir.clone();
    run(move || async move {
        // Nothing makes the log's own flusher write: the batches are built here.
        let config = large_batch_config(8 << 20, Duration::from_secs(3600));
        let (log, _) = CommitLog::open(1, &d, config, None, |_| {}).await.unwrap();
        // ~6 MiB: copying it takes several turns of `COPY_TURN`.
        let first = append_n(&log, 0, 5500, 1000).await;
        let planned_end = first.last().map(|&(o, len)| o + len as u64).unwrap();
        let (mut pool, mut next_pool) = Default::default();
        let mut building = std::pin::pin!(flusher::build_batch(&log, &mut pool));
        let mut turns = 0;
        let mut appender = None;
        let batch = std::future::poll_fn(|cx| {
            let polled = std::future::Future::poll(building.as_mut(), cx);
            if polled.is_pending() {
                turns += 1;
                // Appends come in while the copy has given the core up.
                appender.get_or_insert_with(|| {
                    let log = log.clone();
                    glommio::spawn_local(async move { append_n(&log, 5500, 300, 1000).await })
                });
            }
            polled
        })
        .await
        .expect("a batch");
        assert!(turns >= 1, "a ~6 MiB copy never let anything else run");
        let late = appender.expect("spawned at the first turn").await;
        assert_eq!(
            batch.end, planned_end,
            "the batch is what was queued when it began"
        );
        // Everything is in the first segment, so a record's place in a batch's buffer is its
        // offset less the batch's position.
        for (i, &(offset, len)) in first.iter().enumerate() {
            let at = (offset.local() - batch.pos) as usize;
            assert_eq!(
                &batch.buf.as_bytes()[at..at + len],
                &record(offset, i as u32, 1000)[..],
                "record {i}"
            );
        }
        // The records appended during the copy make the next batch, which starts again at the
        // page the first one ended in.
        let next = flusher::build_batch(&log, &mut next_pool)
            .await
            .expect("a batch");
        assert_eq!(next.pos, planned_end.local() / 4096 * 4096);
        assert_eq!(
            next.end,
            late.last().map(|&(o, len)| o + len as u64).unwrap()
        );
        for (i, &(offset, len)) in late.iter().enumerate() {
            let at = (offset.local() - next.pos) as usize;
            assert_eq!(
                &next.buf.as_bytes()[at..at + len],
                &record(offset, 5500 + i as u32, 1000)[..],
                "late record {i}"
            );
        }
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn appends_roll_across_segments_and_read_back_from_cache_and_disk() {
    let dir = temp_dir("roll");
    run(move || async move {
        let (log, report) = CommitLog::open(
            1,
            &dir,
            small_config(FlushDiskType::AsyncFlush),
            None,
            |_| {},
        )
        .await
        .unwrap();
        assert_eq!(report.end, CommitLogOffset::new(1, 0));
        // ~1.2 KiB records into 64 KiB segments: several rolls.
        let written = append_n(&log, 0, 300, 1000).await;
        assert!(
            written.last().unwrap().0.local() > 4 * 64 * 1024,
            "expected several segments"
        );
        for (seg_start, _) in written.iter().filter(|(o, _)| o.local() % (64 * 1024) == 0) {
            assert_eq!(seg_start.shard(), 1);
        }
        log.flush().await.unwrap();
        for (i, (offset, len)) in written.iter().enumerate() {
            let bytes = log.read(*offset, *len).await.unwrap();
            let (msg, _) = StoredMessage::decode(&bytes).unwrap();
            assert_eq!(msg.commit_log_offset, offset.0);
            assert_eq!(msg.queue_offset, i as i64);
        }
        // The oldest records left the small tail cache and came from disk.
        assert!(log.cached(written[0].0, written[0].1).is_none());
        assert!(log.cached(written[299].0, written[299].1).is_some());
        log.close().await.unwrap();
    });
    std::fs::remove_dir_all(temp_dir("roll")).ok();
}

#[test]
fn reopening_recovers_every_record_in_order() {
    let dir = temp_dir("reopen");
    let d = dir.clone();
    run(move || async move {
        let (log, _) = CommitLog::open(0, &d, small_config(FlushDiskType::SyncFlush), None, |_| {})
            .await
            .unwrap();
        let written = append_n(&log, 0, 200, 700).await;
        log.wait_durable(log.write_pos()).await.unwrap();
        let end = log.write_pos();
        log.close().await.unwrap();
        drop(log);

        let seen = Rc::new(RefCell::new(Vec::new()));
        let s = seen.clone();
        let (log, report) = CommitLog::open(
            0,
            &d,
            small_config(FlushDiskType::SyncFlush),
            None,
            move |r| {
                s.borrow_mut().push((r.offset, r.size as usize));
            },
        )
        .await
        .unwrap();
        assert_eq!(report.end, end);
        assert!(report.cut.is_none(), "{:?}", report.cut);
        assert_eq!(*seen.borrow(), written);
        // Appends continue where the log ended, and survive another reopen.
        let more = append_n(&log, 200, 10, 700).await;
        assert_eq!(more[0].0, end);
        log.close().await.unwrap();
        drop(log);
        let count = Rc::new(Cell::new(0));
        let c = count.clone();
        let (log, _) = CommitLog::open(
            0,
            &d,
            small_config(FlushDiskType::SyncFlush),
            None,
            move |_| c.set(c.get() + 1),
        )
        .await
        .unwrap();
        assert_eq!(count.get(), 210);
        log.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_corrupt_record_cuts_the_log_exactly_there_and_stale_bytes_never_return() {
    let dir = temp_dir("corrupt");
    let d = dir.clone();
    run(move || async move {
        let (log, _) = CommitLog::open(0, &d, small_config(FlushDiskType::SyncFlush), None, |_| {})
            .await
            .unwrap();
        let written = append_n(&log, 0, 40, 300).await;
        log.close().await.unwrap();
        drop(log);

        // Flip one body byte of record 30 (inside the first segment).
        let (victim, _) = written[30];
        assert_eq!(victim.local() / (64 * 1024), 0);
        let seg = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(d.join(CommitLogSegment::file_name(CommitLogOffset(0))))
            .unwrap();
        let at = victim.local() + 200;
        let mut b = [0u8; 1];
        seg.read_exact_at(&mut b, at).unwrap();
        seg.write_all_at(&[b[0] ^ 0x40], at).unwrap();
        drop(seg);

        let count = Rc::new(Cell::new(0));
        let c = count.clone();
        let (log, report) = CommitLog::open(
            0,
            &d,
            small_config(FlushDiskType::SyncFlush),
            None,
            move |_| c.set(c.get() + 1),
        )
        .await
        .unwrap();
        assert_eq!(report.end, victim, "cut exactly at the corrupt record");
        assert_eq!(report.cut.as_ref().map(|(o, _)| *o), Some(victim));
        assert!(
            report.cut.as_ref().unwrap().1.contains("CRC"),
            "{:?}",
            report.cut
        );
        assert_eq!(count.get(), 30);

        // One short append after the cut, then reopen: records 31.. must not come back.
        let again = append_n(&log, 100, 1, 10).await;
        assert_eq!(again[0].0, victim);
        log.close().await.unwrap();
        drop(log);
        let count = Rc::new(Cell::new(0));
        let c = count.clone();
        let (log, report) = CommitLog::open(
            0,
            &d,
            small_config(FlushDiskType::SyncFlush),
            None,
            move |_| c.set(c.get() + 1),
        )
        .await
        .unwrap();
        assert_eq!(count.get(), 31);
        assert!(report.cut.is_none(), "{:?}", report.cut);
        log.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_log_truncated_mid_record_ends_before_that_record() {
    let dir = temp_dir("torn");
    let d = dir.clone();
    run(move || async move {
        let (log, _) = CommitLog::open(0, &d, small_config(FlushDiskType::SyncFlush), None, |_| {})
            .await
            .unwrap();
        let written = append_n(&log, 0, 20, 500).await;
        log.close().await.unwrap();
        drop(log);
        // Zero everything from the middle of record 12 on: a torn write.
        let (victim, len) = written[12];
        let seg = std::fs::OpenOptions::new()
            .write(true)
            .open(d.join(CommitLogSegment::file_name(CommitLogOffset(0))))
            .unwrap();
        let from = victim.local() + len as u64 / 2;
        seg.write_all_at(&vec![0u8; (64 * 1024 - from) as usize], from)
            .unwrap();
        drop(seg);
        let (log, report) =
            CommitLog::open(0, &d, small_config(FlushDiskType::SyncFlush), None, |_| {})
                .await
                .unwrap();
        assert_eq!(report.end, victim);
        assert!(report.cut.is_some());
        log.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn concurrent_sync_appends_share_flushes() {
    let dir = temp_dir("group");
    let d = dir.clone();
    run(move || async move {
        let (log, _) = CommitLog::open(0, &d, small_config(FlushDiskType::SyncFlush), None, |_| {})
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for t in 0..64u32 {
            let log = log.clone();
            tasks.push(glommio::spawn_local(async move {
                for i in 0..10 {
                    let n = t * 100 + i;
                    let len = record_len(n, 100);
                    let (o, ()) = log
                        .append(len, |o, out| out.put_slice(&record(o, n, 100)))
                        .await
                        .unwrap();
                    log.wait_durable(o + len as u64).await.unwrap();
                    assert!(log.durable_pos() >= (o + len as u64));
                }
            }));
        }
        for t in tasks {
            t.await;
        }
        let stats = log.stats();
        assert_eq!(stats.appends, 640);
        assert!(
            stats.syncs < 640 / 4,
            "group commit: {} syncs for 640 appends",
            stats.syncs
        );
        log.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn records_larger_than_two_batches_get_through_while_batches_are_copied_in_turns() {
    // Appends wait while a whole batch beyond the one being copied is queued: a record bigger
    // than two batches must still get in (once the copy is done), from several appenders, and
    // come back whole.
    let dir = temp_dir("huge");
    let d = dir.clone();
    run(move || async move {
        let config = large_batch_config(1 << 20, Duration::from_millis(20));
        let (log, _) = CommitLog::open(0, &d, config, None, |_| {}).await.unwrap();
        let body = 3 << 20;
        let appenders: Vec<_> = (0..2u32)
            .map(|t| {
                let log = log.clone();
                glommio::spawn_local(async move { append_n(&log, t * 100, 4, body).await })
            })
            .collect();
        let mut written = Vec::new();
        for (t, a) in appenders.into_iter().enumerate() {
            written.extend(
                a.await
                    .into_iter()
                    .enumerate()
                    .map(|(i, w)| (t * 100 + i, w)),
            );
        }
        log.flush().await.unwrap();
        for (n, (offset, len)) in written {
            let bytes = log.read(offset, len).await.unwrap();
            assert_eq!(bytes, record(offset, n as u32, body), "record {n}");
        }
        log.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn oversized_records_are_refused() {
    let dir = temp_dir("big");
    let d = dir.clone();
    run(move || async move {
        let (log, _) =
            CommitLog::open(0, &d, small_config(FlushDiskType::AsyncFlush), None, |_| {})
                .await
                .unwrap();
        let err = log.append(70_000, |_, _| ()).await.unwrap_err();
        assert!(matches!(err, StorageError::RecordTooLarge { .. }), "{err}");
        log.close().await.unwrap();
    });
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_segment_is_not_punched_out_while_a_reply_still_sends_from_it() {
    run(|| async {
        let dir = temp_dir("sendable");
        std::fs::create_dir_all(&dir).unwrap();
        let seg = Rc::new(
            CommitLogSegment::create(&dir, CommitLogOffset(0), 64 * 1024)
                .await
                .unwrap(),
        );
        let mut page = seg.alloc(4096);
        page.as_bytes_mut().fill(0xAB);
        seg.write_at(page, 0).await.unwrap();
        // A pull reply holding a range of the segment, not yet on the socket.
        let held = seg.sendable();
        let removing = {
            let seg = seg.clone();
            glommio::spawn_local(async move { seg.remove().await })
        };
        glommio::timer::sleep(Duration::from_millis(200)).await;
        let mut buf = [0u8; 16];
        held.read_exact_at(&mut buf, 100).unwrap();
        assert_eq!(buf, [0xAB; 16], "the held range still reads as written");
        assert!(seg.path().exists(), "removal waits for the holder");
        drop(held);
        removing.await.unwrap();
        assert!(!seg.path().exists());
        let _ = std::fs::remove_dir_all(&dir);
    });
}
