//! Broker settings, under the key names of Java's `broker.conf` (`BrokerConfig`, `MessageStoreConfig`
//! and the `listenPort` of `NettyServerConfig`), with Java's defaults.
//!
//! A config file may be Java properties (what `mqbroker -c` reads) or TOML with the same camelCase
//! keys. Unknown keys are kept (GET_BROKER_CONFIG shows them) and warned about; a known key with an
//! invalid value is an error naming the key. Java skips a bad value silently; we refuse to start.

use crate::schedule::DelayLevels;
use crate::transaction::TransactionConfig;
use ringmq_storage::commitlog::{CommitLogConfig, FlushDiskType};
use ringmq_storage::shard::{RetentionPolicy, ShardConfig};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Java keys that tune thread pools, page-cache tricks or replication: nothing on a thread-per-core
/// master without slaves. Accepted without a warning and without effect.
const JAVA_ONLY_KEYS: &str = "\
    sendMessageThreadPoolNums putMessageFutureThreadPoolNums pullMessageThreadPoolNums \
    processReplyMessageThreadPoolNums queryMessageThreadPoolNums adminBrokerThreadPoolNums \
    clientManageThreadPoolNums consumerManageThreadPoolNums heartbeatThreadPoolNums \
    endTransactionThreadPoolNums sendThreadPoolQueueCapacity putThreadPoolQueueCapacity \
    pullThreadPoolQueueCapacity replyThreadPoolQueueCapacity queryThreadPoolQueueCapacity \
    clientManagerThreadPoolQueueCapacity consumerManagerThreadPoolQueueCapacity \
    heartbeatThreadPoolQueueCapacity endTransactionPoolQueueCapacity \
    useReentrantLockWhenPutMessage transientStorePoolEnable transientStorePoolSize \
    fastFailIfNoBufferInStorePool warmMapedFileEnable flushCommitLogLeastPages \
    flushCommitLogThoroughInterval flushCommitLogTimed commitIntervalCommitLog \
    commitCommitLogLeastPages commitCommitLogThoroughInterval osPageCacheBusyTimeOutMills \
    brokerIP2 haListenPort haMasterAddress serverWorkerThreads serverCallbackExecutorThreads \
    serverSelectorThreads serverOnewaySemaphoreValue serverAsyncSemaphoreValue \
    serverChannelMaxIdleTimeSeconds serverSocketSndBufSize serverSocketRcvBufSize \
    serverPooledByteBufAllocatorEnable useEpollNativeSelector";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("config key `{key}`: invalid value {value:?} (expected {expected})")]
    Invalid {
        key: String,
        value: String,
        expected: &'static str,
    },
    #[error("config key `{key}`: {value} is not supported: {reason}")]
    Unsupported {
        key: String,
        value: String,
        reason: &'static str,
    },
    #[error("cannot read config file {path}: {reason}")]
    File { path: PathBuf, reason: String },
    #[error("unknown config key `{key}`")]
    Unknown { key: String },
    #[error(
        "config key `{key}` takes effect only at start-up: change it in the broker's config file \
         and restart the broker"
    )]
    StartUpOnly { key: String },
}

/// Java's `brokerRole`. `SLAVE` is refused when the key is set: there is no replication yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrokerRole {
    AsyncMaster,
    /// Java waits for a slave's acknowledgement; with no replication this acts as ASYNC_MASTER.
    SyncMaster,
}

impl BrokerRole {
    pub fn as_str(self) -> &'static str {
        match self {
            BrokerRole::AsyncMaster => "ASYNC_MASTER",
            BrokerRole::SyncMaster => "SYNC_MASTER",
        }
    }
}

fn flush_type_name(t: FlushDiskType) -> &'static str {
    match t {
        FlushDiskType::AsyncFlush => "ASYNC_FLUSH",
        FlushDiskType::SyncFlush => "SYNC_FLUSH",
    }
}

#[derive(Debug, Clone)]
pub struct BrokerConfig {
    pub broker_cluster_name: String,
    pub broker_name: String,
    /// Always 0 on a master: Java forces it, and so does [`BrokerConfig::validate`].
    pub broker_id: i64,
    /// `;`-separated `host:port` list; empty when unset (Java reads `NAMESRV_ADDR` then).
    pub namesrv_addr: String,
    pub listen_port: u16,
    /// The address advertised to the name server and written into every message id. Java picks
    /// the first non-loopback IPv4 address; we are loopback-first, so a broker never advertises an
    /// interface that clients may not reach by accident: configure brokerIP1 for anything else.
    pub broker_ip1: IpAddr,
    /// The interface the listener binds (5.x `NettyServerConfig.bindAddress`). Unset, the broker
    /// binds brokerIP1 when that is a loopback address and every interface otherwise. Set, it
    /// lets the advertised address differ from the bound one (behind NAT or a proxy).
    pub bind_address: Option<IpAddr>,
    pub rocketmq_home: String,
    /// Root of everything on disk: `config/` (topics, offsets) and the per-shard directories.
    pub store_path_root_dir: PathBuf,
    /// Java keeps the commit log in one directory. Our commit logs are per shard and live in the
    /// shard directories under `storePathRootDir`, so this is accepted only as a description:
    /// pointing it anywhere but `<storePathRootDir>/commitlog` is warned about and ignored.
    pub store_path_commit_log: Option<PathBuf>,
    pub flush_disk_type: FlushDiskType,
    pub broker_role: BrokerRole,
    pub broker_permission: i32,
    pub default_topic_queue_nums: i32,
    pub auto_create_topic_enable: bool,
    /// Whether the cluster-name topic is readable and writable (it always exists).
    pub cluster_topic_enable: bool,
    /// Whether the broker-name topic is readable and writable (it always exists).
    pub broker_topic_enable: bool,
    pub trace_topic_enable: bool,
    pub msg_trace_topic_name: String,
    pub auto_create_subscription_group: bool,
    pub max_message_size: usize,
    /// Local hours at which expired commit-log segments are deleted: `04` or `04;05`.
    pub delete_when: String,
    /// Hours a commit-log segment is kept after its last write.
    pub file_reserved_time: u32,
    /// Percent of the disk; Java clamps it to 10..=95 when used, and so do we.
    pub disk_max_used_space_ratio: u32,
    pub mapped_file_size_commit_log: u64,
    /// Bytes per consume-queue file; entries are 20 bytes (Java rounds up to a multiple of 20).
    pub mapped_file_size_consume_queue: u64,
    pub flush_interval_commit_log: Duration,
    pub sync_flush_timeout: Duration,
    pub flush_consumer_offset_interval: Duration,
    pub long_polling_enable: bool,
    pub short_polling_time_mills: Duration,
    pub enable_property_filter: bool,
    /// Whether the lite pull consumer's pulls (LITE_PULL_MESSAGE, which Java's 5.x
    /// `DefaultLitePullConsumer` sends) are served.
    pub lite_pull_message_enable: bool,
    /// Reply messages (request-reply) are stored as well as pushed to their requester.
    pub store_reply_message_enable: bool,
    /// Java clamps the period to 10..=60 s when scheduling; see [`Self::register_interval`].
    pub register_name_server_period: Duration,
    /// Longest a send waits for its turn before the broker answers SYSTEM_BUSY (flow control).
    pub wait_time_mills_in_send_queue: Duration,
    /// Delay of each delay level (delayed messages, consumer retries).
    pub message_delay_level: DelayLevels,
    /// Transactional messages: refused, and how open ones are checked (see
    /// [`crate::transaction`]).
    pub transactions: TransactionConfig,
    /// Executor cores to run on; 0 means every core.
    pub cores: usize,
    /// How long an idle executor spins before it sleeps (`spinBeforeParkMicros`, ours). A hop to
    /// a sleeping core costs a wake-up (~40 us here); spinning cuts that to ~10 us but burns the
    /// core while idle. 0 (the default) never spins.
    pub spin_before_park: Duration,
    /// Shard count for a store created now (an existing store keeps its own); 0 means one a core.
    pub shards: u32,
    /// Recent commit-log bytes kept in memory per shard for tailing consumers.
    pub tail_cache_bytes: usize,
    /// Keys we do not interpret, kept in file order.
    pub extra: Vec<(String, String)>,
    /// The file these settings were read from (`-c`); UPDATE_BROKER_CONFIG saves changes there,
    /// as Java does. Not a setting itself.
    pub source: Option<PathBuf>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        let home = std::env::var("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from("."));
        Self {
            broker_cluster_name: "DefaultCluster".into(),
            broker_name: host_name().unwrap_or_else(|| "broker-a".into()),
            broker_id: 0,
            namesrv_addr: std::env::var("NAMESRV_ADDR").unwrap_or_default(),
            listen_port: 10911,
            broker_ip1: IpAddr::V4(Ipv4Addr::LOCALHOST),
            bind_address: None,
            rocketmq_home: std::env::var("ROCKETMQ_HOME").unwrap_or_default(),
            store_path_root_dir: home.join("store"),
            store_path_commit_log: None,
            flush_disk_type: FlushDiskType::AsyncFlush,
            broker_role: BrokerRole::AsyncMaster,
            broker_permission: 6,
            default_topic_queue_nums: 8,
            auto_create_topic_enable: true,
            cluster_topic_enable: true,
            broker_topic_enable: true,
            trace_topic_enable: false,
            msg_trace_topic_name: "RMQ_SYS_TRACE_TOPIC".into(),
            auto_create_subscription_group: true,
            max_message_size: 4 << 20,
            delete_when: "04".into(),
            file_reserved_time: 72,
            disk_max_used_space_ratio: 75,
            mapped_file_size_commit_log: 1 << 30,
            mapped_file_size_consume_queue: 300_000 * 20,
            flush_interval_commit_log: Duration::from_millis(500),
            sync_flush_timeout: Duration::from_millis(5000),
            flush_consumer_offset_interval: Duration::from_millis(5000),
            long_polling_enable: true,
            short_polling_time_mills: Duration::from_millis(1000),
            enable_property_filter: false,
            lite_pull_message_enable: true,
            store_reply_message_enable: true,
            register_name_server_period: Duration::from_millis(30_000),
            wait_time_mills_in_send_queue: Duration::from_millis(200),
            message_delay_level: DelayLevels::default(),
            transactions: TransactionConfig::default(),
            cores: 0,
            spin_before_park: Duration::ZERO,
            shards: 0,
            tail_cache_bytes: CommitLogConfig::default().tail_cache_bytes,
            extra: Vec::new(),
            source: None,
        }
    }
}

/// The host name, Java's default `brokerName`.
fn host_name() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is valid for writes of its whole length, which is what we pass.
    if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0)?;
    let name = std::str::from_utf8(&buf[..end]).ok()?.trim();
    (!name.is_empty()).then(|| name.to_owned())
}

pub fn is_java_only_key(key: &str) -> bool {
    JAVA_ONLY_KEYS.split_whitespace().any(|j| j == key)
}

fn invalid(key: &str, value: &str, expected: &'static str) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        value: value.into(),
        expected,
    }
}

fn parse_bool(key: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim() {
        t if t.eq_ignore_ascii_case("true") => Ok(true),
        f if f.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(invalid(key, v, "true or false")),
    }
}

fn parse_num<T: std::str::FromStr>(
    key: &str,
    v: &str,
    expected: &'static str,
) -> Result<T, ConfigError> {
    v.trim().parse().map_err(|_| invalid(key, v, expected))
}

/// A number within `range`.
fn parse_in<T>(
    key: &str,
    v: &str,
    range: std::ops::RangeInclusive<T>,
    expected: &'static str,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd,
{
    let n: T = parse_num(key, v, expected)?;
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(invalid(key, v, expected))
    }
}

fn parse_millis(key: &str, v: &str) -> Result<Duration, ConfigError> {
    parse_num(key, v, "milliseconds").map(Duration::from_millis)
}

/// `04` or `04;05`: hours of the day.
fn parse_hours(key: &str, v: &str) -> Result<Vec<u8>, ConfigError> {
    v.split(';')
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(|h| parse_in(key, h, 0..=23, "hours 0-23 separated by `;`"))
        .collect()
}

fn check_namesrv_addr(key: &str, v: &str) -> Result<(), ConfigError> {
    let expected = "`host:port` addresses separated by `;`";
    for addr in v.split(';').map(str::trim).filter(|a| !a.is_empty()) {
        match addr.rsplit_once(':') {
            Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {}
            _ => return Err(invalid(key, v, expected)),
        }
    }
    Ok(())
}

impl BrokerConfig {
    /// `brokerIP1:listenPort`, the address clients and the name server are given.
    pub fn broker_addr(&self) -> String {
        self.store_host().to_string()
    }

    /// The broker's address as the store records it in every message.
    pub fn store_host(&self) -> SocketAddr {
        SocketAddr::new(self.broker_ip1, self.listen_port)
    }

    /// `bindAddress:listenPort`, where the listener binds (see [`BrokerConfig::bind_address`]).
    pub fn listen_addr(&self) -> SocketAddr {
        let ip = self
            .bind_address
            .unwrap_or(if self.broker_ip1.is_loopback() {
                self.broker_ip1
            } else {
                IpAddr::V4(Ipv4Addr::UNSPECIFIED)
            });
        SocketAddr::new(ip, self.listen_port)
    }

    pub fn namesrv_addrs(&self) -> Vec<String> {
        self.namesrv_addr
            .split(';')
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// `deleteWhen` as hours (checked when set, so this never fails).
    pub fn delete_when_hours(&self) -> Vec<u8> {
        parse_hours("deleteWhen", &self.delete_when).unwrap_or_else(|_| vec![4])
    }

    /// Where Java would keep the commit log.
    pub fn store_path_commit_log(&self) -> PathBuf {
        self.store_path_commit_log
            .clone()
            .unwrap_or_else(|| self.store_path_root_dir.join("commitlog"))
    }

    /// `<storePathRootDir>/config`, where topics and offsets are kept.
    pub fn config_dir(&self) -> PathBuf {
        self.store_path_root_dir.join("config")
    }

    /// How often to register with the name servers: the period clamped to 10..=60 s, as Java does.
    pub fn register_interval(&self) -> Duration {
        self.register_name_server_period
            .clamp(Duration::from_secs(10), Duration::from_secs(60))
    }

    pub fn commit_log_config(&self) -> CommitLogConfig {
        CommitLogConfig {
            segment_size: self.mapped_file_size_commit_log,
            flush_disk_type: self.flush_disk_type,
            flush_interval: self.flush_interval_commit_log,
            tail_cache_bytes: self.tail_cache_bytes,
            sync_flush_timeout: self.sync_flush_timeout,
            ..CommitLogConfig::default()
        }
    }

    pub fn retention_policy(&self) -> RetentionPolicy {
        RetentionPolicy {
            file_reserved_time: Duration::from_secs(u64::from(self.file_reserved_time) * 3600),
            delete_when: self.delete_when_hours(),
            disk_max_used_space_ratio: self.disk_max_used_space_ratio.clamp(10, 95),
            ..RetentionPolicy::default()
        }
    }

    /// Settings of every shard of the store.
    pub fn shard_config(&self) -> ShardConfig {
        ShardConfig {
            commit_log: self.commit_log_config(),
            cq_entries_per_file: self.mapped_file_size_consume_queue.div_ceil(20),
            store_host: self.store_host(),
            retention: self.retention_policy(),
            ..ShardConfig::default()
        }
    }

    /// Applies one setting. Returns `false` for a key this broker does not know (it is kept).
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        let v = value.trim();
        match key {
            "brokerClusterName" => self.broker_cluster_name = non_empty(key, v)?,
            "brokerName" => self.broker_name = non_empty(key, v)?,
            "brokerId" => self.broker_id = parse_in(key, v, 0..=i64::MAX, "a broker id >= 0")?,
            "namesrvAddr" => {
                check_namesrv_addr(key, v)?;
                self.namesrv_addr = v.to_owned();
            }
            // 0 lets the kernel pick a free port (tests); the broker registers the real one.
            "listenPort" => self.listen_port = parse_in(key, v, 0..=65535, "a port number")?,
            "brokerIP1" => {
                self.broker_ip1 = parse_num(key, v, "an IP address (host names are not resolved)")?
            }
            "bindAddress" => {
                self.bind_address = match v {
                    "" => None,
                    v => Some(parse_num(
                        key,
                        v,
                        "an IP address (host names are not resolved)",
                    )?),
                }
            }
            "rocketmqHome" => self.rocketmq_home = v.to_owned(),
            "storePathRootDir" => self.store_path_root_dir = PathBuf::from(non_empty(key, v)?),
            "storePathCommitLog" => {
                self.store_path_commit_log = (!v.is_empty()).then(|| PathBuf::from(v))
            }
            "flushDiskType" => {
                self.flush_disk_type = match v.to_ascii_uppercase().as_str() {
                    "ASYNC_FLUSH" => FlushDiskType::AsyncFlush,
                    "SYNC_FLUSH" => FlushDiskType::SyncFlush,
                    _ => return Err(invalid(key, value, "ASYNC_FLUSH or SYNC_FLUSH")),
                }
            }
            "brokerRole" => {
                self.broker_role = match v.to_ascii_uppercase().as_str() {
                    "ASYNC_MASTER" => BrokerRole::AsyncMaster,
                    "SYNC_MASTER" => BrokerRole::SyncMaster,
                    "SLAVE" => {
                        return Err(ConfigError::Unsupported {
                            key: key.into(),
                            value: v.into(),
                            reason: "RingMQ brokers run as masters only (no replication yet); \
                                     use ASYNC_MASTER",
                        })
                    }
                    _ => return Err(invalid(key, value, "ASYNC_MASTER or SYNC_MASTER")),
                }
            }
            "brokerPermission" => {
                self.broker_permission = parse_in(key, v, 0..=7, "permission bits 0-7 (6 = RW)")?
            }
            "defaultTopicQueueNums" => {
                self.default_topic_queue_nums = parse_in(key, v, 1..=65535, "a queue count >= 1")?
            }
            "autoCreateTopicEnable" => self.auto_create_topic_enable = parse_bool(key, v)?,
            "clusterTopicEnable" => self.cluster_topic_enable = parse_bool(key, v)?,
            "brokerTopicEnable" => self.broker_topic_enable = parse_bool(key, v)?,
            "traceTopicEnable" => self.trace_topic_enable = parse_bool(key, v)?,
            "msgTraceTopicName" => self.msg_trace_topic_name = non_empty(key, v)?,
            "autoCreateSubscriptionGroup" => {
                self.auto_create_subscription_group = parse_bool(key, v)?
            }
            "maxMessageSize" => {
                self.max_message_size = parse_in(key, v, 1..=usize::MAX, "a byte count >= 1")?
            }
            "deleteWhen" => {
                if parse_hours(key, v)?.is_empty() {
                    return Err(invalid(key, value, "hours 0-23 separated by `;`"));
                }
                self.delete_when = v.to_owned();
            }
            "fileReservedTime" => self.file_reserved_time = parse_num(key, v, "hours")?,
            "diskMaxUsedSpaceRatio" => {
                self.disk_max_used_space_ratio = parse_in(key, v, 0..=100, "a percentage")?
            }
            "mappedFileSizeCommitLog" => {
                let n: u64 = parse_num(key, v, "a byte count")?;
                if n < 4096 || n & 4095 != 0 {
                    return Err(invalid(key, value, "a multiple of 4096 bytes"));
                }
                self.mapped_file_size_commit_log = n;
            }
            "mappedFileSizeConsumeQueue" => {
                self.mapped_file_size_consume_queue =
                    parse_in(key, v, 20..=u64::MAX, "a byte count >= 20")?
            }
            "flushIntervalCommitLog" => self.flush_interval_commit_log = parse_millis(key, v)?,
            "syncFlushTimeout" => self.sync_flush_timeout = parse_millis(key, v)?,
            "flushConsumerOffsetInterval" => {
                self.flush_consumer_offset_interval = parse_millis(key, v)?
            }
            "longPollingEnable" => self.long_polling_enable = parse_bool(key, v)?,
            "shortPollingTimeMills" => self.short_polling_time_mills = parse_millis(key, v)?,
            "enablePropertyFilter" => self.enable_property_filter = parse_bool(key, v)?,
            "litePullMessageEnable" => self.lite_pull_message_enable = parse_bool(key, v)?,
            "storeReplyMessageEnable" => self.store_reply_message_enable = parse_bool(key, v)?,
            "registerNameServerPeriod" => self.register_name_server_period = parse_millis(key, v)?,
            "waitTimeMillsInSendQueue" => {
                self.wait_time_mills_in_send_queue = parse_millis(key, v)?
            }
            "messageDelayLevel" => {
                self.message_delay_level = DelayLevels::parse(v).map_err(|_| {
                    invalid(
                        key,
                        value,
                        "whole-number delays in s, m, h or d, like `1s 5s 1m 2h`",
                    )
                })?
            }
            "rejectTransactionMessage" => self.transactions.reject = parse_bool(key, v)?,
            "transactionTimeOut" => self.transactions.time_out = parse_millis(key, v)?,
            "transactionCheckMax" => {
                self.transactions.check_max = parse_in(key, v, 1..=i32::MAX, "a count >= 1")?
            }
            "transactionCheckInterval" => self.transactions.check_interval = parse_millis(key, v)?,
            "cores" => self.cores = parse_num(key, v, "a core count (0 = all)")?,
            "spinBeforeParkMicros" => {
                self.spin_before_park =
                    parse_num(key, v, "microseconds").map(Duration::from_micros)?
            }
            "shards" => {
                let most = ringmq_storage::offset::MAX_SHARDS;
                self.shards = parse_in(key, v, 0..=most, "a shard count (0 = one a core)")?
            }
            "tailCacheBytes" => self.tail_cache_bytes = parse_num(key, v, "a byte count")?,
            k if is_java_only_key(k) => {}
            _ => {
                match self.extra.iter_mut().find(|(k, _)| k == key) {
                    Some(slot) => slot.1 = value.to_owned(),
                    None => self.extra.push((key.to_owned(), value.to_owned())),
                }
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Checks what involves several keys, once all are set: a master's id is 0 (Java forces it),
    /// a segment must hold the largest message, the commit log cannot be moved, and the name
    /// server list is well formed.
    pub fn validate(&mut self) -> Result<(), ConfigError> {
        // The default comes from NAMESRV_ADDR, which `set` never saw.
        check_namesrv_addr("namesrvAddr", &self.namesrv_addr)?;
        if self.broker_id != 0 {
            log::warn!(
                "brokerId={} ignored: a master's id is always 0",
                self.broker_id
            );
            self.broker_id = 0;
        }
        self.check_largest_message_fits()?;
        let java_default = self.store_path_root_dir.join("commitlog");
        if let Some(path) = &self.store_path_commit_log {
            if *path != java_default {
                log::warn!(
                    "storePathCommitLog={} ignored: commit logs live in the shard directories \
                     under storePathRootDir={}",
                    path.display(),
                    self.store_path_root_dir.display()
                );
            }
        }
        Ok(())
    }

    /// A commit-log segment must hold the largest message.
    pub fn check_largest_message_fits(&self) -> Result<(), ConfigError> {
        if self.mapped_file_size_commit_log <= self.max_message_size as u64 {
            return Err(invalid(
                "mappedFileSizeCommitLog",
                &self.mapped_file_size_commit_log.to_string(),
                "more than maxMessageSize",
            ));
        }
        Ok(())
    }

    /// Whether `key` is a setting this broker reads, or a Java one it accepts without effect.
    pub fn is_known_key(key: &str) -> bool {
        is_java_only_key(key) || Self::default().entries().iter().any(|(k, _)| k == key)
    }

    /// Every setting as `(key, value)`, sorted by key (what GET_BROKER_CONFIG returns).
    pub fn entries(&self) -> Vec<(String, String)> {
        macro_rules! pairs {
            ($($key:literal => $value:expr,)*) => { vec![$(($key.to_owned(), $value.to_string()),)*] };
        }
        let mut out = pairs! {
            "brokerClusterName" => self.broker_cluster_name,
            "brokerName" => self.broker_name,
            "brokerId" => self.broker_id,
            "namesrvAddr" => self.namesrv_addr,
            "listenPort" => self.listen_port,
            "brokerIP1" => self.broker_ip1,
            "bindAddress" => self.listen_addr().ip(),
            "rocketmqHome" => self.rocketmq_home,
            "storePathRootDir" => self.store_path_root_dir.display(),
            "storePathCommitLog" => self.store_path_commit_log().display(),
            "flushDiskType" => flush_type_name(self.flush_disk_type),
            "brokerRole" => self.broker_role.as_str(),
            "brokerPermission" => self.broker_permission,
            "defaultTopicQueueNums" => self.default_topic_queue_nums,
            "autoCreateTopicEnable" => self.auto_create_topic_enable,
            "clusterTopicEnable" => self.cluster_topic_enable,
            "brokerTopicEnable" => self.broker_topic_enable,
            "traceTopicEnable" => self.trace_topic_enable,
            "msgTraceTopicName" => self.msg_trace_topic_name,
            "autoCreateSubscriptionGroup" => self.auto_create_subscription_group,
            "maxMessageSize" => self.max_message_size,
            "deleteWhen" => self.delete_when,
            "fileReservedTime" => self.file_reserved_time,
            "diskMaxUsedSpaceRatio" => self.disk_max_used_space_ratio,
            "mappedFileSizeCommitLog" => self.mapped_file_size_commit_log,
            "mappedFileSizeConsumeQueue" => self.mapped_file_size_consume_queue,
            "flushIntervalCommitLog" => self.flush_interval_commit_log.as_millis(),
            "syncFlushTimeout" => self.sync_flush_timeout.as_millis(),
            "flushConsumerOffsetInterval" => self.flush_consumer_offset_interval.as_millis(),
            "longPollingEnable" => self.long_polling_enable,
            "shortPollingTimeMills" => self.short_polling_time_mills.as_millis(),
            "enablePropertyFilter" => self.enable_property_filter,
            "litePullMessageEnable" => self.lite_pull_message_enable,
            "storeReplyMessageEnable" => self.store_reply_message_enable,
            "registerNameServerPeriod" => self.register_name_server_period.as_millis(),
            "waitTimeMillsInSendQueue" => self.wait_time_mills_in_send_queue.as_millis(),
            "messageDelayLevel" => self.message_delay_level,
            "rejectTransactionMessage" => self.transactions.reject,
            "transactionTimeOut" => self.transactions.time_out.as_millis(),
            "transactionCheckMax" => self.transactions.check_max,
            "transactionCheckInterval" => self.transactions.check_interval.as_millis(),
            "cores" => self.cores,
            "spinBeforeParkMicros" => self.spin_before_park.as_micros(),
            "shards" => self.shards,
            "tailCacheBytes" => self.tail_cache_bytes,
        };
        out.extend(self.extra.iter().cloned());
        out.sort();
        out
    }

    /// The settings as properties text, `key=value` per line.
    pub fn to_properties(&self) -> String {
        ringmq_remoting::properties::render(&self.entries())
    }

    /// Loads `path` (TOML if it ends in `.toml`, else Java properties) over the defaults, then
    /// [`validate`](Self::validate)s the result.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let pairs =
            ringmq_remoting::properties::read_file(path).map_err(|reason| ConfigError::File {
                path: path.to_owned(),
                reason,
            })?;
        let mut config = BrokerConfig::default();
        for (k, v) in pairs {
            if !config.set(&k, &v)? {
                log::warn!("{}: unknown key `{k}` kept, no effect", path.display());
            }
        }
        config.validate()?;
        config.source = Some(path.to_owned());
        Ok(config)
    }
}

fn non_empty(key: &str, v: &str) -> Result<String, ConfigError> {
    if v.is_empty() {
        Err(invalid(key, v, "a non-empty value"))
    } else {
        Ok(v.to_owned())
    }
}

pub mod live;

#[cfg(test)]
mod tests;
