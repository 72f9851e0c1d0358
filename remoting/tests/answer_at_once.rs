//! Requests a service answers on the spot and requests it hands back to run as tasks share one
//! connection: each gets its own answer, matched by `opaque`, and a oneway request answered on
//! the spot gets none.

mod common;

use bytes::BytesMut;
use ringmq_protocol::{FrameDecoder, RemotingCommand, RequestCode, ResponseCode};
use ringmq_remoting::{AtOnce, Connection, Reply, Service};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::rc::Rc;
use std::time::Duration;

const AT_ONCE: RequestCode = RequestCode(7001);
const IN_A_TASK: RequestCode = RequestCode(7002);

/// Answers AT_ONCE in `answer_at_once`, everything else in `handle` after a short wait.
struct TwoPaths;

fn answer(req: &RemotingCommand, how: &str) -> Reply {
    RemotingCommand::response_to(req, ResponseCode::SUCCESS, Some(how.to_owned())).into()
}

impl Service for TwoPaths {
    fn answer_at_once(&self, _conn: &Rc<Connection>, req: RemotingCommand) -> AtOnce {
        if req.request_code() == AT_ONCE {
            AtOnce::Answered(Some(answer(&req, "at once")))
        } else {
            AtOnce::Later(req)
        }
    }

    async fn handle(&self, _conn: &Rc<Connection>, req: RemotingCommand) -> Option<Reply> {
        glommio::timer::sleep(Duration::from_millis(20)).await;
        Some(answer(&req, "in a task"))
    }
}

#[test]
fn answers_on_the_spot_and_from_tasks_share_a_connection_and_oneways_get_none() {
    let addr = common::start(|| TwoPaths);
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let oneway = RemotingCommand::request(AT_ONCE, 3).mark_oneway();
    // All in one write, so the server decodes them from one read.
    let mut burst = Vec::new();
    for cmd in [
        RemotingCommand::request(IN_A_TASK, 1),
        RemotingCommand::request(AT_ONCE, 2),
        oneway,
        RemotingCommand::request(AT_ONCE, 4),
        RemotingCommand::request(IN_A_TASK, 5),
    ] {
        burst.extend_from_slice(&cmd.to_bytes());
    }
    stream.write_all(&burst).unwrap();

    let mut answers = BTreeMap::new();
    let (mut buf, decoder, mut chunk) = (BytesMut::new(), FrameDecoder::new(1 << 20), [0u8; 4096]);
    while answers.len() < 4 {
        match decoder.decode(&mut buf).unwrap() {
            Some(frame) => {
                assert!(frame.is_response());
                answers.insert(frame.opaque, frame.remark.unwrap_or_default());
            }
            None => {
                let n = stream.read(&mut chunk).unwrap();
                assert!(n > 0, "connection closed with {answers:?}");
                buf.extend_from_slice(&chunk[..n]);
            }
        }
    }
    let want: BTreeMap<i32, String> = [
        (1, "in a task"),
        (2, "at once"),
        (4, "at once"),
        (5, "in a task"),
    ]
    .into_iter()
    .map(|(o, how)| (o, how.to_owned()))
    .collect();
    assert_eq!(answers, want);
    // Nothing more comes: the oneway request got no answer.
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let extra = stream.read(&mut chunk);
    assert!(
        buf.is_empty() && matches!(extra, Err(ref e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "an answer to the oneway request arrived: {extra:?}"
    );
}
