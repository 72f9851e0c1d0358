//! Replies whose bodies are lists of buffers and file ranges reach a plain blocking client
//! byte-exact and in order, including when the client reads slowly and the socket fills up
//! mid-file (the path where the writer waits for room).

mod common;

use bytes::{Bytes, BytesMut};
use ringmq_protocol::{FrameDecoder, RemotingCommand, RequestCode, ResponseCode};
use ringmq_remoting::{BodyPart, Connection, FileRegion, Reply, Service};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

const FILE_LEN: usize = 3 * 1024 * 1024 + 17;
/// The in-memory part: large too, so the socket also fills while memory is being written.
const TAIL_LEN: usize = 2 * 1024 * 1024 + 5;

/// Deterministic bytes that differ at every offset, so a misplaced range shows.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Request field `from`/`len` picks a range of the file; the reply is
/// `[memory "head"] [file range] [two adjacent slices of one buffer]`.
struct Parts {
    file: Arc<std::fs::File>,
    tail: Bytes,
}

impl Service for Parts {
    async fn handle(&self, _conn: &Rc<Connection>, req: RemotingCommand) -> Option<Reply> {
        let field = |k: &str| -> usize { req.fields().get(k).unwrap().parse().unwrap() };
        let (from, len) = (field("from"), field("len"));
        let mut resp = RemotingCommand::response_to(&req, ResponseCode::SUCCESS, None);
        resp.body = Bytes::from_static(b"head");
        Some(Reply::with_parts(
            resp,
            vec![
                BodyPart::File(FileRegion::new(self.file.clone(), from as u64, len)),
                BodyPart::Memory(self.tail.slice(..10)),
                BodyPart::Memory(self.tail.slice(10..)),
            ],
        ))
    }
}

fn start(file_bytes: &[u8]) -> String {
    let path = std::env::temp_dir().join(format!("ringmq-reply-parts-{}", std::process::id()));
    std::fs::write(&path, file_bytes).unwrap();
    let file = Arc::new(std::fs::File::open(&path).unwrap());
    // Unlinked before any reply is sent: the open handle keeps the data readable, as a deleted
    // commit-log segment stays readable for replies already built from it.
    std::fs::remove_file(&path).unwrap();
    let tail = Bytes::from(noise(TAIL_LEN, 99));
    common::start(move || Parts { file, tail })
}

fn request(opaque: i32, from: usize, len: usize) -> Vec<u8> {
    let mut r = RemotingCommand::request(RequestCode(7000), opaque);
    r.fields_mut().insert("from", from.to_string());
    r.fields_mut().insert("len", len.to_string());
    r.to_bytes().to_vec()
}

#[test]
fn pipelined_replies_with_file_and_memory_parts_arrive_byte_exact_even_when_read_slowly() {
    let file_bytes = noise(FILE_LEN, 7);
    let tail = noise(TAIL_LEN, 99);
    let addr = start(&file_bytes);
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();

    // Whole file, a middle range, a tiny range, the last bytes: several MiB in flight at once.
    let ranges = [
        (0, FILE_LEN),
        (1000, 200_000),
        (5, 1),
        (FILE_LEN - 3, 3),
        (0, FILE_LEN),
    ];
    for (i, (from, len)) in ranges.iter().enumerate() {
        stream.write_all(&request(i as i32, *from, *len)).unwrap();
    }
    // Let the server fill the socket and hit EAGAIN before anything is read.
    std::thread::sleep(Duration::from_millis(300));

    let mut buf = BytesMut::new();
    let decoder = FrameDecoder::new(64 << 20);
    let mut chunk = vec![0u8; 4096];
    for (i, (from, len)) in ranges.iter().enumerate() {
        let frame = loop {
            if let Some(frame) = decoder.decode(&mut buf).unwrap() {
                break frame;
            }
            // Small reads keep the server's socket full for a while.
            let n = stream.read(&mut chunk).unwrap();
            assert!(n > 0, "connection closed after {i} replies");
            buf.extend_from_slice(&chunk[..n]);
        };
        assert_eq!(frame.opaque, i as i32, "replies keep their order");
        assert_eq!(frame.code, 0);
        let mut want = b"head".to_vec();
        want.extend_from_slice(&file_bytes[*from..from + len]);
        want.extend_from_slice(&tail);
        assert_eq!(frame.body.len(), want.len(), "reply {i}");
        assert!(frame.body[..] == want[..], "reply {i} differs");
    }
}

#[test]
fn a_region_past_the_end_of_its_file_closes_the_connection_instead_of_sending_a_short_frame() {
    let addr = start(&noise(1000, 3));
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(&request(1, 900, 500)).unwrap();
    let mut got = Vec::new();
    // The server writes the header and what the file has, then closes: the peer sees EOF
    // before the frame's declared length, never a frame that parses with the wrong body.
    stream.read_to_end(&mut got).unwrap();
    let declared = u32::from_be_bytes(got[..4].try_into().unwrap()) as usize;
    assert!(
        got.len() < declared + 4,
        "a frame was completed: {}",
        got.len()
    );
}
