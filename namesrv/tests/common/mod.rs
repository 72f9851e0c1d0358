//! Test harness: runs the real `namesrv` binary and talks to it over TCP.
#![allow(dead_code)]

use bytes::BytesMut;
use ringmq_protocol::body::{
    DataVersion, RegisterBrokerBody, TopicConfig, TopicConfigSerializeWrapper,
};
use ringmq_protocol::header::namesrv::RegisterBrokerRequestHeader;
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::{FrameDecoder, RemotingCommand, RequestCode, SerializeType};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

/// A running name server; killed (and its files removed) on drop.
pub struct Namesrv {
    pub addr: String,
    pub dir: PathBuf,
    child: Child,
}

impl Namesrv {
    pub fn start() -> Self {
        Self::start_with("")
    }

    /// Starts with extra `namesrv.properties` lines.
    pub fn start_with(extra_config: &str) -> Self {
        static SEQ: AtomicI32 = AtomicI32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "ringmq-ns-test-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self::start_in(dir, extra_config)
    }

    /// Starts on an existing store directory (to test what survives a restart).
    pub fn start_in(dir: PathBuf, extra_config: &str) -> Self {
        let config = dir.join("namesrv.properties");
        std::fs::write(
            &config,
            format!(
                "kvConfigPath={}\nlistenPort=0\n{extra_config}\n",
                dir.join("kvConfig.json").display()
            ),
        )
        .unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_namesrv"))
            .arg("-c")
            .arg(&config)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn namesrv");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .trim()
            .rsplit(' ')
            .next()
            .filter(|_| line.contains("boot success"))
            .unwrap_or_else(|| panic!("namesrv did not start: {line:?}"))
            .to_owned();
        Namesrv { addr, dir, child }
    }

    /// Stops the process, keeping its files.
    pub fn kill(mut self) -> PathBuf {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let dir = self.dir.clone();
        self.dir = PathBuf::new();
        dir
    }

    pub fn client(&self) -> WireClient {
        WireClient::connect(&self.addr)
    }
}

impl Drop for Namesrv {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !self.dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// A blocking remoting client over our own protocol crate.
pub struct WireClient {
    pub stream: TcpStream,
    buf: BytesMut,
    next_opaque: i32,
}

impl WireClient {
    pub fn connect(addr: &str) -> Self {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.set_nodelay(true).unwrap();
        WireClient {
            stream,
            buf: BytesMut::new(),
            next_opaque: 1,
        }
    }

    pub fn send(&mut self, cmd: &RemotingCommand) {
        self.stream.write_all(&cmd.to_bytes()).unwrap();
    }

    /// Reads one frame; `None` if the server closed the connection.
    pub fn read(&mut self) -> Option<RemotingCommand> {
        let decoder = FrameDecoder::default();
        loop {
            if let Some(cmd) = decoder.decode(&mut self.buf).unwrap() {
                return Some(cmd);
            }
            let mut chunk = [0u8; 65536];
            match self.stream.read(&mut chunk) {
                Ok(0) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return None,
                Err(e) => panic!("read: {e}"),
            }
        }
    }

    /// Sends `cmd` with a fresh opaque and returns its response.
    pub fn call(&mut self, mut cmd: RemotingCommand) -> RemotingCommand {
        cmd.opaque = self.next_opaque;
        self.next_opaque += 1;
        self.send(&cmd);
        let resp = self.read().expect("server closed the connection");
        assert_eq!(resp.opaque, cmd.opaque, "response to another request");
        assert!(resp.is_response());
        resp
    }

    pub fn request(
        &mut self,
        code: RequestCode,
        fields: &[(&str, &str)],
        serialize: SerializeType,
    ) -> RemotingCommand {
        let mut cmd = RemotingCommand::request(code, 0).with_serialize_type(serialize);
        for (k, v) in fields {
            cmd.fields_mut().insert(*k, *v);
        }
        self.call(cmd)
    }

    /// True once the server has closed this connection.
    pub fn is_closed_by_server(&mut self) -> bool {
        self.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut b = [0u8; 1];
        matches!(self.stream.read(&mut b), Ok(0) | Err(_))
    }
}

/// A registered broker; dropping it closes its connection (the broker "dies").
pub struct BrokerSession {
    pub client: WireClient,
}

pub fn register_command(
    cluster: &str,
    broker_name: &str,
    broker_addr: &str,
    broker_id: i64,
    topics: &[(&str, i32)],
    version: i64,
) -> RemotingCommand {
    let wrapper = TopicConfigSerializeWrapper {
        topic_config_table: topics
            .iter()
            .map(|(t, n)| {
                let config = TopicConfig {
                    topic_name: t.to_string(),
                    read_queue_nums: *n,
                    write_queue_nums: *n,
                    perm: 6,
                    topic_filter_type: "SINGLE_TAG".into(),
                    ..Default::default()
                };
                (t.to_string(), config)
            })
            .collect(),
        data_version: DataVersion {
            timestamp: 1_700_000_000_000,
            counter: version,
            state_version: None,
        },
    };
    let body = json::to_vec(
        &RegisterBrokerBody {
            topic_config_serialize_wrapper: wrapper,
            filter_server_list: vec![],
        },
        JsonStyle::Fastjson,
    );
    let header = RegisterBrokerRequestHeader {
        broker_name: broker_name.into(),
        broker_addr: broker_addr.into(),
        cluster_name: cluster.into(),
        ha_server_addr: format!("{broker_addr}-ha"),
        broker_id,
        compressed: Some(false),
        body_crc32: Some(ringmq_protocol::message::body_crc(&body) as i32),
        ..Default::default()
    };
    RemotingCommand::request_with(RequestCode::REGISTER_BROKER, 0, &header).with_body(body)
}

/// Registers a master broker over a fresh connection and keeps the connection open.
pub fn register_broker(
    ns_addr: &str,
    cluster: &str,
    broker_name: &str,
    broker_addr: &str,
    topics: &[(&str, i32)],
) -> BrokerSession {
    let mut client = WireClient::connect(ns_addr);
    let resp = client.call(register_command(
        cluster,
        broker_name,
        broker_addr,
        0,
        topics,
        1,
    ));
    assert_eq!(resp.code, 0, "register failed: {:?}", resp.remark);
    BrokerSession { client }
}

/// The captured Java frame `name` (without `.bin`).
pub fn wire_vector(name: &str) -> RemotingCommand {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/wire-vectors")
        .join(format!("{name}.bin"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    RemotingCommand::decode(bytes.into()).unwrap()
}
