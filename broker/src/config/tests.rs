use super::*;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ringmq-brcfg-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Shaped like `conf/2m-noslave/broker-a.properties` plus the keys an operator usually adds.
const JAVA_BROKER_CONF: &str = "\
# Licensed to the Apache Software Foundation (ASF) ...
brokerClusterName=DefaultCluster
brokerName=broker-a
brokerId=0
deleteWhen=04
fileReservedTime=48
brokerRole=ASYNC_MASTER
flushDiskType=ASYNC_FLUSH
namesrvAddr=127.0.0.1:9876;192.168.0.2:9876
brokerIP1=192.168.0.1
listenPort=10911
storePathRootDir=/data/rocketmq/store
storePathCommitLog=/data/rocketmq/store/commitlog
autoCreateTopicEnable=false
sendMessageThreadPoolNums=16
useReentrantLockWhenPutMessage=true
waitTimeMillsInSendQueue=1000
transientStorePoolEnable=false
maxMessageSize=65536
aclEnable=false
";

#[test]
fn defaults_follow_java() {
    let c = BrokerConfig::default();
    assert_eq!(c.broker_cluster_name, "DefaultCluster");
    assert_eq!(c.broker_addr(), "127.0.0.1:10911");
    assert_eq!(c.listen_addr().to_string(), "127.0.0.1:10911");
    assert_eq!(c.default_topic_queue_nums, 8);
    assert_eq!(c.max_message_size, 4 * 1024 * 1024);
    assert_eq!(c.delete_when_hours(), vec![4]);
    assert_eq!(c.mapped_file_size_consume_queue, 6_000_000);
    assert_eq!(c.shard_config().cq_entries_per_file, 300_000);
    assert_eq!(c.commit_log_config().segment_size, 1 << 30);
    assert_eq!(
        c.retention_policy().file_reserved_time,
        Duration::from_secs(72 * 3600)
    );
    assert_eq!(c.register_interval(), Duration::from_secs(30));
    assert!(!c.broker_name.is_empty());
    assert!(c.store_path_commit_log().ends_with("store/commitlog"));
}

#[test]
fn java_broker_conf_loads() {
    let dir = temp_dir("java");
    let path = dir.join("broker-a.properties");
    std::fs::write(&path, JAVA_BROKER_CONF).unwrap();
    let c = BrokerConfig::from_file(&path).unwrap();
    assert_eq!(c.broker_name, "broker-a");
    assert_eq!(c.file_reserved_time, 48);
    assert_eq!(c.broker_role, BrokerRole::AsyncMaster);
    assert_eq!(
        c.namesrv_addrs(),
        vec!["127.0.0.1:9876".to_string(), "192.168.0.2:9876".to_string()]
    );
    assert_eq!(c.broker_addr(), "192.168.0.1:10911");
    assert_eq!(c.listen_addr().to_string(), "0.0.0.0:10911");
    assert!(!c.auto_create_topic_enable);
    assert_eq!(c.wait_time_mills_in_send_queue, Duration::from_secs(1));
    assert_eq!(c.store_path_root_dir, PathBuf::from("/data/rocketmq/store"));
    assert_eq!(c.config_dir(), PathBuf::from("/data/rocketmq/store/config"));
    // Thread-pool keys are accepted silently; a key nobody knows is kept.
    assert_eq!(
        c.extra,
        vec![("aclEnable".to_string(), "false".to_string())]
    );
    let props = c.to_properties();
    assert!(props.contains("maxMessageSize=65536\n"), "{props}");
    assert!(!props.contains("sendMessageThreadPoolNums"), "{props}");

    // What entries() prints loads back to the same settings.
    std::fs::write(&path, &props).unwrap();
    let again = BrokerConfig::from_file(&path).unwrap();
    assert_eq!(again.entries(), c.entries());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bind_address_decouples_the_listener_from_the_advertised_address() {
    let mut c = BrokerConfig::default();
    c.set("brokerIP1", "127.0.0.2").unwrap();
    c.set("bindAddress", "127.0.0.1").unwrap();
    assert_eq!(c.broker_addr(), "127.0.0.2:10911");
    assert_eq!(c.listen_addr().to_string(), "127.0.0.1:10911");
    let err = c.set("bindAddress", "localhost").unwrap_err().to_string();
    assert!(err.contains("bindAddress"), "{err}");
}

#[test]
fn toml_sets_the_same_keys() {
    let dir = temp_dir("toml");
    let path = dir.join("broker.toml");
    std::fs::write(
        &path,
        "brokerName = \"broker-b\"\nlistenPort = 20911\nflushDiskType = \"SYNC_FLUSH\"\n\
         deleteWhen = \"04;05\"\nshards = 8\ncores = 2\ntailCacheBytes = 1048576\n\
         diskMaxUsedSpaceRatio = 99\nmappedFileSizeCommitLog = 67108864\n",
    )
    .unwrap();
    let c = BrokerConfig::from_file(&path).unwrap();
    assert_eq!(c.broker_name, "broker-b");
    assert_eq!(c.listen_port, 20911);
    assert_eq!(c.flush_disk_type, FlushDiskType::SyncFlush);
    assert_eq!(c.delete_when_hours(), vec![4, 5]);
    assert_eq!((c.shards, c.cores), (8, 2));
    let shard = c.shard_config();
    assert_eq!(shard.commit_log.segment_size, 64 << 20);
    assert_eq!(shard.commit_log.tail_cache_bytes, 1 << 20);
    assert_eq!(shard.commit_log.flush_disk_type, FlushDiskType::SyncFlush);
    assert_eq!(shard.retention.delete_when, vec![4, 5]);
    assert_eq!(shard.retention.disk_max_used_space_ratio, 95, "clamped");
    assert_eq!(shard.store_host, "127.0.0.1:20911".parse().unwrap());

    std::fs::write(&path, "brokerName = [1]\n").unwrap();
    assert!(matches!(
        BrokerConfig::from_file(&path),
        Err(ConfigError::File { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn invalid_values_name_the_key() {
    let mut c = BrokerConfig::default();
    for (key, value) in [
        ("listenPort", "ninety"),
        ("brokerIP1", "broker.example.com"),
        ("flushDiskType", "SOMETIMES"),
        ("deleteWhen", "4;25"),
        ("deleteWhen", ""),
        ("autoCreateTopicEnable", "yes"),
        ("mappedFileSizeCommitLog", "1000"),
        ("namesrvAddr", "127.0.0.1"),
        ("brokerPermission", "8"),
        ("defaultTopicQueueNums", "0"),
        ("brokerName", " "),
    ] {
        let err = c.set(key, value).unwrap_err();
        assert!(err.to_string().contains(key), "{key}: {err}");
    }
    assert!(c.set("namesrvAddr", "").unwrap());
    assert!(c.namesrv_addrs().is_empty());

    c.set("maxMessageSize", "4194304").unwrap();
    c.set("mappedFileSizeCommitLog", "4096").unwrap();
    let err = c.validate().unwrap_err();
    assert!(err.to_string().contains("mappedFileSizeCommitLog"), "{err}");
}

#[test]
fn slave_is_refused_and_master_id_is_zero() {
    let dir = temp_dir("slave");
    let path = dir.join("broker-a-s.properties");
    std::fs::write(&path, "brokerId=1\nbrokerRole=SLAVE\n").unwrap();
    let err = BrokerConfig::from_file(&path).unwrap_err();
    assert!(
        matches!(&err, ConfigError::Unsupported { key, .. } if key == "brokerRole"),
        "{err}"
    );
    assert!(err.to_string().contains("masters only"), "{err}");

    std::fs::write(&path, "brokerId=1\nbrokerRole=SYNC_MASTER\n").unwrap();
    let c = BrokerConfig::from_file(&path).unwrap();
    assert_eq!((c.broker_role, c.broker_id), (BrokerRole::SyncMaster, 0));
    std::fs::remove_dir_all(&dir).unwrap();
}
