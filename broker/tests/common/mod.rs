//! Test harness: a name server in this process and the real broker binary.
#![allow(dead_code)]

use bytes::BytesMut;
use ringmq_namesrv::config::NamesrvConfig;
use ringmq_namesrv::kv_config::KvConfig;
use ringmq_protocol::{FrameDecoder, RemotingCommand, RequestCode};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A name server on its own executor thread in this process.
pub fn start_namesrv() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
            .spawn(move || async move {
                let config = NamesrvConfig {
                    listen_port: 0,
                    kv_config_path: PathBuf::new(),
                    ..NamesrvConfig::default()
                };
                ringmq_namesrv::server::run(config, KvConfig::in_memory(), move |addr| {
                    tx.send(addr.to_string()).unwrap()
                })
                .await
                .unwrap();
            })
            .unwrap()
            .join()
            .unwrap();
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("name server started")
}

pub struct Broker {
    pub addr: String,
    pub dir: PathBuf,
    child: Child,
}

impl Broker {
    /// Sends `signal` and waits for the process; keeps the store for a restart.
    pub fn stop(mut self, signal: i32) -> (PathBuf, std::process::ExitStatus) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as i32, signal) };
        let status = self.child.wait().unwrap();
        let dir = std::mem::take(&mut self.dir);
        (dir, status)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

pub fn start_broker(namesrv: &str, name: &str) -> Broker {
    start_broker_in(namesrv, name, fresh_dir(name), "ASYNC_FLUSH")
}

/// An empty directory for a broker named `name`.
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ringmq-broker-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Starts a broker on the store in `dir` (new or left by an earlier broker).
pub fn start_broker_in(namesrv: &str, name: &str, dir: PathBuf, flush: &str) -> Broker {
    start_broker_with(namesrv, name, dir, flush, "")
}

/// Like [`start_broker_in`], with `extra` lines added to its `broker.conf` (they win over the
/// defaults here). Every test broker runs two cores whatever the machine has, so requests cross
/// cores in every test.
pub fn start_broker_with(
    namesrv: &str,
    name: &str,
    dir: PathBuf,
    flush: &str,
    extra: &str,
) -> Broker {
    let conf = write_conf(namesrv, name, &dir, flush, extra);
    start_broker_from(&conf, dir)
}

/// Writes the `broker.conf` of a test broker into `dir` and returns its path.
fn write_conf(
    namesrv: &str,
    name: &str,
    dir: &std::path::Path,
    flush: &str,
    extra: &str,
) -> PathBuf {
    let conf = dir.join("broker.conf");
    std::fs::write(
        &conf,
        format!(
            "brokerClusterName=DefaultCluster\nbrokerName={name}\nbrokerIP1=127.0.0.1\nlistenPort=0\nnamesrvAddr={namesrv}\n\
             storePathRootDir={}\nmappedFileSizeCommitLog=67108864\nflushDiskType={flush}\ncores=2\n{extra}\n",
            dir.join("store").display()
        ),
    )
    .unwrap();
    conf
}

/// Like [`start_broker`], with the broker's log (its standard error) going to the file `log`
/// instead of the test's own, for a test to read.
pub fn start_broker_logged(
    namesrv: &str,
    name: &str,
    dir: PathBuf,
    log: &std::path::Path,
) -> Broker {
    let conf = write_conf(namesrv, name, &dir, "ASYNC_FLUSH", "");
    let log = std::fs::File::create(log).unwrap();
    spawn_broker(&conf, dir, Stdio::from(log))
}

/// Starts the broker binary with config file `conf`, its store in `dir`.
pub fn start_broker_from(conf: &std::path::Path, dir: PathBuf) -> Broker {
    spawn_broker(conf, dir, Stdio::inherit())
}

fn spawn_broker(conf: &std::path::Path, dir: PathBuf, log: Stdio) -> Broker {
    let mut child = Command::new(env!("CARGO_BIN_EXE_broker"))
        .arg("-c")
        .arg(conf)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.contains("boot success"),
        "broker did not start: {line:?}"
    );
    let addr = line
        .trim()
        .trim_end_matches("] boot success.")
        .rsplit(", ")
        .next()
        .unwrap()
        .to_owned();
    Broker { addr, dir, child }
}

/// A blocking client speaking our protocol crate.
pub struct Wire {
    pub stream: TcpStream,
    buf: BytesMut,
    opaque: i32,
    /// Requests the broker sent on this connection (NOTIFY_CONSUMER_IDS_CHANGED,
    /// RESET_CONSUMER_CLIENT_OFFSET, ...), oldest first, read while waiting for answers.
    pub from_broker: Vec<RemotingCommand>,
}

impl Wire {
    pub fn connect(addr: &str) -> Self {
        let stream = TcpStream::connect(addr).unwrap();
        // As the Java client does: a request written right after a oneway one would otherwise
        // wait for the broker's delayed ACK (40 ms).
        stream.set_nodelay(true).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        Wire {
            stream,
            buf: BytesMut::new(),
            opaque: 1,
            from_broker: Vec::new(),
        }
    }

    /// Sends a oneway request: no answer comes back.
    pub fn send_oneway(&mut self, cmd: &RemotingCommand) {
        self.stream.write_all(&cmd.to_bytes()).unwrap();
    }

    pub fn call(&mut self, mut cmd: RemotingCommand) -> RemotingCommand {
        cmd.opaque = self.opaque;
        self.opaque += 1;
        self.stream.write_all(&cmd.to_bytes()).unwrap();
        loop {
            if let Some(frame) = FrameDecoder::default().decode(&mut self.buf).unwrap() {
                // Requests the broker sends us are not the answer.
                if !frame.is_response() {
                    self.from_broker.push(frame);
                    continue;
                }
                assert_eq!(frame.opaque, cmd.opaque);
                return frame;
            }
            let mut chunk = [0u8; 65536];
            let n = self.stream.read(&mut chunk).unwrap();
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

pub fn fields(cmd: RequestCode, pairs: &[(&str, &str)]) -> RemotingCommand {
    let mut r = RemotingCommand::request(cmd, 0);
    for (k, v) in pairs {
        r.fields_mut().insert(*k, *v);
    }
    r
}

/// A SEND_MESSAGE_V2 of `body` to queue `queue` of `topic`, which the broker creates with four
/// queues if it does not exist (through TBW102, as a Java producer's first send does).
pub fn send_v2(
    wire: &mut Wire,
    topic: &str,
    queue: i32,
    properties: &str,
    body: &[u8],
) -> RemotingCommand {
    let h = ringmq_protocol::header::send::SendMessageRequestHeaderV2 {
        producer_group: "wire_producer".into(),
        topic: topic.into(),
        default_topic: "TBW102".into(),
        default_topic_queue_nums: 4,
        queue_id: queue,
        born_timestamp: 1,
        properties: Some(properties.into()),
        ..Default::default()
    };
    wire.call(
        RemotingCommand::request_with(RequestCode::SEND_MESSAGE_V2, 0, &h).with_body(body.to_vec()),
    )
}

/// The answer to a PULL_MESSAGE of up to 64 messages of `queue` of `topic` from `offset` for
/// `group`: not held, and with no subscription (every message).
pub fn pull_from(
    wire: &mut Wire,
    group: &str,
    topic: &str,
    queue: i32,
    offset: i64,
) -> RemotingCommand {
    let h = ringmq_protocol::header::pull::PullMessageRequestHeader {
        consumer_group: group.into(),
        topic: topic.into(),
        queue_id: queue,
        queue_offset: offset,
        max_msg_nums: 64,
        ..Default::default()
    };
    wire.call(RemotingCommand::request_with(
        RequestCode::PULL_MESSAGE,
        0,
        &h,
    ))
}

/// A push consumer's HEART_BEAT over `wire`: one member of `group` in `model` (`CLUSTERING` or
/// `BROADCASTING`), subscribed to `topic` with the tag `expression`.
pub fn consumer_heartbeat(
    wire: &mut Wire,
    group: &str,
    model: &str,
    topic: &str,
    expression: &str,
) {
    let subscription = ringmq_protocol::body::SubscriptionData {
        topic: topic.into(),
        sub_string: expression.into(),
        expression_type: Some("TAG".into()),
        ..Default::default()
    };
    consumer_heartbeat_with(wire, group, model, subscription);
}

/// A push consumer's HEART_BEAT over `wire` announcing `subscription`.
pub fn consumer_heartbeat_with(
    wire: &mut Wire,
    group: &str,
    model: &str,
    subscription: ringmq_protocol::body::SubscriptionData,
) {
    use ringmq_protocol::body::{ConsumerData, HeartbeatData};
    use ringmq_protocol::json::{self, JsonStyle};
    let hb = HeartbeatData {
        client_id: "wire-client".into(),
        consumer_data_set: vec![ConsumerData {
            group_name: group.into(),
            consume_type: "CONSUME_PASSIVELY".into(),
            message_model: model.into(),
            consume_from_where: "CONSUME_FROM_FIRST_OFFSET".into(),
            subscription_data_set: vec![subscription],
            unit_mode: false,
        }],
        ..Default::default()
    };
    let resp = wire.call(
        RemotingCommand::request(RequestCode::HEART_BEAT, 0)
            .with_body(json::to_vec(&hb, JsonStyle::Fastjson)),
    );
    assert_eq!(resp.code, 0, "heartbeat of {group}: {:?}", resp.remark);
}

/// The captured Java frame `name` (file name without `.bin`).
pub fn vector(name: &str) -> RemotingCommand {
    let path = vector_dir().join(format!("{name}.bin"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    RemotingCommand::decode(bytes.into()).unwrap()
}

/// Names of every captured frame.
pub fn vector_names() -> Vec<String> {
    std::fs::read_dir(vector_dir())
        .expect("the wire vectors beside the repository")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".bin"))
                .map(str::to_owned)
        })
        .collect()
}

fn vector_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/wire-vectors")
}

/// A runtime for the third-party rocketmq-client-rust and its client runtime, named `name`.
pub fn client_runtime(
    name: &str,
) -> (
    rocketmq_runtime::RuntimeOwner,
    std::sync::Arc<rocketmq_client_rust::ClientRuntime>,
) {
    let owner = rocketmq_runtime::RuntimeOwner::plan(rocketmq_runtime::RuntimeConfig {
        thread_name: name.into(),
        ..Default::default()
    })
    .unwrap()
    .build()
    .unwrap();
    let runtime = rocketmq_client_rust::ClientRuntime::try_new(
        owner.root_context().component("client"),
        rocketmq_client_rust::ClientRuntimeConfig::default(),
        rocketmq_client_rust::TelemetryHandle::noop(),
    )
    .unwrap();
    (owner, runtime)
}

/// Polls `done` every 50 ms; fails the test after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until the name server routes `topic`.
pub fn wait_for_route(namesrv: &str, topic: &str) {
    let mut wire = Wire::connect(namesrv);
    wait_until(
        &format!("a route for {topic}"),
        Duration::from_secs(10),
        || {
            wire.call(fields(
                RequestCode::GET_ROUTEINFO_BY_TOPIC,
                &[("topic", topic)],
            ))
            .code
                == 0
        },
    );
}

/// A started third-party producer of `group`.
pub fn start_producer(
    owner: &rocketmq_runtime::RuntimeOwner,
    runtime: &std::sync::Arc<rocketmq_client_rust::ClientRuntime>,
    namesrv: &str,
    group: &str,
) -> rocketmq_client_rust::DefaultMQProducer {
    let (rt, ns, group) = (runtime.clone(), namesrv.to_owned(), group.to_owned());
    owner.block_on(async move {
        let mut p = rocketmq_client_rust::DefaultMQProducer::builder(rt)
            .producer_group(group)
            .name_server_addr(ns.as_str())
            .build();
        p.start().await.expect("producer start");
        p
    })
}

/// The third-party client's admin (Java's `DefaultMQAdminExt`), started against `namesrv`.
pub fn start_admin(
    owner: &rocketmq_runtime::RuntimeOwner,
    runtime: &std::sync::Arc<rocketmq_client_rust::ClientRuntime>,
    namesrv: &str,
) -> rocketmq_client_rust::DefaultMQAdminExt {
    let (rt, ns) = (runtime.clone(), namesrv.to_owned());
    owner.block_on(async move {
        let mut admin = rocketmq_client_rust::DefaultMQAdminExt::new(rt);
        admin.set_namesrv_addr(ns.as_str());
        admin.start().await.expect("admin start");
        admin
    })
}

/// A concurrent listener that keeps the body of every message it is handed, as text.
pub struct Bodies(pub std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl rocketmq_client_rust::MessageListenerConcurrently for Bodies {
    fn consume_message(
        &self,
        msgs: &[&rocketmq_model::common::message::message_ext::MessageExt],
        _: &rocketmq_client_rust::ConsumeConcurrentlyContext,
    ) -> rocketmq_client_rust::ClientResult<rocketmq_client_rust::ConsumeConcurrentlyStatus> {
        let mut seen = self.0.lock().unwrap();
        seen.extend(
            msgs.iter()
                .map(|m| String::from_utf8_lossy(&body_of(m)).into_owned()),
        );
        Ok(rocketmq_client_rust::ConsumeConcurrentlyStatus::ConsumeSuccess)
    }
}

/// A started third-party push consumer of `group` on `topic`, and the bodies it receives.
pub fn start_body_consumer(
    owner: &rocketmq_runtime::RuntimeOwner,
    runtime: &std::sync::Arc<rocketmq_client_rust::ClientRuntime>,
    namesrv: &str,
    group: &str,
    topic: &str,
    selector: rocketmq_client_rust::MessageSelector,
) -> (
    rocketmq_client_rust::DefaultMQPushConsumer,
    std::sync::Arc<std::sync::Mutex<Vec<String>>>,
) {
    use rocketmq_client_rust::MQPushConsumer;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (rt, ns, s) = (runtime.clone(), namesrv.to_owned(), seen.clone());
    let (group, topic) = (group.to_owned(), topic.to_owned());
    let consumer = owner.block_on(async move {
        let mut c = rocketmq_client_rust::DefaultMQPushConsumer::builder(rt)
            .consumer_group(group)
            .name_server_addr(ns)
            .build();
        c.subscribe_with_selector(&topic, Some(selector))
            .await
            .expect("subscribe");
        c.register_message_listener_concurrently(Bodies(s));
        c.start().await.expect("consumer start");
        c
    });
    (consumer, seen)
}

/// A message's body as the third-party consumer hands it over (decompressed).
pub fn body_of(m: &rocketmq_model::common::message::message_ext::MessageExt) -> Vec<u8> {
    m.body().map(|b| b.to_vec()).unwrap_or_default()
}

/// Deterministic bytes that do not compress and differ at every offset (xorshift; `seed` must
/// not be 0).
pub fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect()
}

/// `group`'s committed offsets on `topic` at the broker, summed over queues `0..queues` (a queue
/// without one counts 0).
pub fn committed_total(broker: &str, group: &str, topic: &str, queues: i32) -> i64 {
    let mut wire = Wire::connect(broker);
    (0..queues)
        .filter_map(|q| {
            let answer = wire.call(fields(
                RequestCode::QUERY_CONSUMER_OFFSET,
                &[
                    ("consumerGroup", group),
                    ("topic", topic),
                    ("queueId", &q.to_string()),
                ],
            ));
            answer.fields().get("offset")?.parse::<i64>().ok()
        })
        .sum()
}
