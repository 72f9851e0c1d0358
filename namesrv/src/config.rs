//! Name server settings, under the key names of Java's `namesrv.properties`.
//!
//! A config file may be Java properties (`key=value`, what `mqnamesrv -c` reads) or TOML with the
//! same camelCase keys. Unknown keys are kept (GET_NAMESRV_CONFIG shows them, as Java does) and
//! warned about; a known key with an invalid value is an error naming the key.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Keys UPDATE_NAMESRV_CONFIG may not change (Java 5.x's built-in black list).
pub const UPDATE_BLACK_LIST: &[&str] = &[
    "configBlackList",
    "configStorePath",
    "kvConfigPath",
    "rocketmqHome",
];

/// Java tuning keys that mean nothing on a thread-per-core server: accepted without a warning.
const JAVA_ONLY_KEYS: &[&str] = &[
    "serverWorkerThreads",
    "serverCallbackExecutorThreads",
    "serverSelectorThreads",
    "serverOnewaySemaphoreValue",
    "serverAsyncSemaphoreValue",
    "serverChannelMaxIdleTimeSeconds",
    "serverSocketSndBufSize",
    "serverSocketRcvBufSize",
    "serverPooledByteBufAllocatorEnable",
    "useEpollNativeSelector",
    "clientRequestThreadPoolNums",
    "defaultThreadPoolNums",
    "clientRequestThreadPoolQueueCapacity",
    "defaultThreadPoolQueueCapacity",
    "productEnvName",
    "clusterTest",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("config key `{key}`: invalid value {value:?} (expected {expected})")]
    Invalid {
        key: String,
        value: String,
        expected: &'static str,
    },
    #[error("cannot read config file {path}: {reason}")]
    File { path: PathBuf, reason: String },
}

#[derive(Debug, Clone)]
pub struct NamesrvConfig {
    pub listen_port: u16,
    pub bind_address: IpAddr,
    pub rocketmq_home: String,
    pub kv_config_path: PathBuf,
    pub config_store_path: PathBuf,
    /// Put `orderTopicConf` (from the ORDER_TOPIC_CONFIG namespace) into routes.
    pub order_message_enable: bool,
    pub return_order_topic_config_to_broker: bool,
    pub enable_all_topic_list: bool,
    pub enable_topic_list: bool,
    /// How often silent brokers are looked for.
    pub scan_not_active_broker_interval: Duration,
    /// Largest frame accepted (Java's `com.rocketmq.remoting.frameMaxLength`).
    pub frame_max_length: usize,
    /// Keys we do not interpret, kept in file order.
    pub extra: Vec<(String, String)>,
}

impl Default for NamesrvConfig {
    fn default() -> Self {
        let home = std::env::var("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from("."));
        Self {
            listen_port: 9876,
            bind_address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            rocketmq_home: std::env::var("ROCKETMQ_HOME").unwrap_or_default(),
            kv_config_path: home.join("namesrv").join("kvConfig.json"),
            config_store_path: home.join("namesrv").join("namesrv.properties"),
            order_message_enable: false,
            return_order_topic_config_to_broker: true,
            enable_all_topic_list: true,
            enable_topic_list: true,
            scan_not_active_broker_interval: Duration::from_millis(5000),
            frame_max_length: ringmq_protocol::DEFAULT_MAX_FRAME_LEN,
            extra: Vec::new(),
        }
    }
}

fn parse_bool(key: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim() {
        t if t.eq_ignore_ascii_case("true") => Ok(true),
        f if f.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err(ConfigError::Invalid {
            key: key.into(),
            value: v.into(),
            expected: "true or false",
        }),
    }
}

fn parse_num<T: std::str::FromStr>(
    key: &str,
    v: &str,
    expected: &'static str,
) -> Result<T, ConfigError> {
    v.trim().parse().map_err(|_| ConfigError::Invalid {
        key: key.into(),
        value: v.into(),
        expected,
    })
}

impl NamesrvConfig {
    pub fn listen_addr(&self) -> SocketAddr {
        SocketAddr::new(self.bind_address, self.listen_port)
    }

    /// Applies one setting. Returns `false` for a key this server does not know.
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool, ConfigError> {
        match key {
            "listenPort" => self.listen_port = parse_num(key, value, "a port number")?,
            "bindAddress" => self.bind_address = parse_num(key, value, "an IP address")?,
            "rocketmqHome" => self.rocketmq_home = value.trim().to_owned(),
            "kvConfigPath" => self.kv_config_path = PathBuf::from(value.trim()),
            "configStorePath" => self.config_store_path = PathBuf::from(value.trim()),
            "orderMessageEnable" => self.order_message_enable = parse_bool(key, value)?,
            "returnOrderTopicConfigToBroker" => {
                self.return_order_topic_config_to_broker = parse_bool(key, value)?
            }
            "enableAllTopicList" => self.enable_all_topic_list = parse_bool(key, value)?,
            "enableTopicList" => self.enable_topic_list = parse_bool(key, value)?,
            "scanNotActiveBrokerInterval" => {
                let ms: u64 = parse_num(key, value, "milliseconds")?;
                if ms == 0 {
                    return Err(ConfigError::Invalid {
                        key: key.into(),
                        value: value.into(),
                        expected: "at least 1 ms",
                    });
                }
                self.scan_not_active_broker_interval = Duration::from_millis(ms);
            }
            "frameMaxLength" => {
                let n: usize = parse_num(key, value, "a byte count")?;
                if n < 1024 {
                    return Err(ConfigError::Invalid {
                        key: key.into(),
                        value: value.into(),
                        expected: "at least 1024",
                    });
                }
                self.frame_max_length = n;
            }
            k if JAVA_ONLY_KEYS.contains(&k) => {}
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

    /// Every setting as `(key, value)`, sorted by key (what GET_NAMESRV_CONFIG returns).
    pub fn entries(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = vec![
            ("listenPort".into(), self.listen_port.to_string()),
            ("bindAddress".into(), self.bind_address.to_string()),
            ("rocketmqHome".into(), self.rocketmq_home.clone()),
            (
                "kvConfigPath".into(),
                self.kv_config_path.display().to_string(),
            ),
            (
                "configStorePath".into(),
                self.config_store_path.display().to_string(),
            ),
            (
                "orderMessageEnable".into(),
                self.order_message_enable.to_string(),
            ),
            (
                "returnOrderTopicConfigToBroker".into(),
                self.return_order_topic_config_to_broker.to_string(),
            ),
            (
                "enableAllTopicList".into(),
                self.enable_all_topic_list.to_string(),
            ),
            ("enableTopicList".into(), self.enable_topic_list.to_string()),
            (
                "scanNotActiveBrokerInterval".into(),
                self.scan_not_active_broker_interval.as_millis().to_string(),
            ),
            ("frameMaxLength".into(), self.frame_max_length.to_string()),
        ];
        out.extend(self.extra.iter().cloned());
        out.sort();
        out
    }

    /// The settings as properties text, `key=value` per line.
    pub fn to_properties(&self) -> String {
        ringmq_remoting::properties::render(&self.entries())
    }

    /// Loads `path` (TOML if it ends in `.toml`, else Java properties) over the defaults.
    /// The file becomes the `configStorePath`, as with Java's `mqnamesrv -c`.
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let pairs =
            ringmq_remoting::properties::read_file(path).map_err(|reason| ConfigError::File {
                path: path.to_owned(),
                reason,
            })?;
        let mut config = NamesrvConfig {
            config_store_path: path.to_owned(),
            ..Default::default()
        };
        for (k, v) in pairs {
            if !config.set(&k, &v)? {
                log::warn!("{}: unknown key `{k}` ignored", path.display());
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_and_toml_set_the_same_keys() {
        let dir = std::env::temp_dir().join(format!("ringmq-nscfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let props = dir.join("namesrv.properties");
        std::fs::write(
            &props,
            "listenPort=19876\norderMessageEnable = true\nserverWorkerThreads=8\nmyKey=x\n",
        )
        .unwrap();
        let c = NamesrvConfig::from_file(&props).unwrap();
        assert_eq!(c.listen_port, 19876);
        assert!(c.order_message_enable);
        assert_eq!(c.config_store_path, props);
        assert_eq!(c.extra, vec![("myKey".to_string(), "x".to_string())]);
        assert!(c.to_properties().contains("myKey=x\n"));

        let toml = dir.join("namesrv.toml");
        std::fs::write(
            &toml,
            "listenPort = 19877\nbindAddress = \"0.0.0.0\"\nscanNotActiveBrokerInterval = 100\n",
        )
        .unwrap();
        let c = NamesrvConfig::from_file(&toml).unwrap();
        assert_eq!(c.listen_addr(), "0.0.0.0:19877".parse().unwrap());
        assert_eq!(
            c.scan_not_active_broker_interval,
            Duration::from_millis(100)
        );

        std::fs::write(&props, "listenPort=ninety\n").unwrap();
        let err = NamesrvConfig::from_file(&props).unwrap_err();
        assert!(err.to_string().contains("listenPort"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
