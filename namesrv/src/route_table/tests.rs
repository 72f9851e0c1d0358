use super::*;
use ringmq_protocol::body::TopicConfig;

fn topics(version: i64, list: &[(&str, i32)]) -> TopicConfigSerializeWrapper {
    TopicConfigSerializeWrapper {
        topic_config_table: list
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
            timestamp: 1000,
            counter: version,
            state_version: None,
        },
    }
}

fn reg(name: &str, addr: &str, id: i64, conn: u64, t: TopicConfigSerializeWrapper) -> Registration {
    Registration {
        cluster: "DefaultCluster".into(),
        broker_name: name.into(),
        broker_addr: addr.into(),
        broker_id: id,
        ha_server_addr: format!("{addr}-ha"),
        topics: t,
        filter_servers: Some(vec![]),
        connection: conn,
        timeout: None,
        enable_acting_master: None,
        zone_name: None,
    }
}

#[test]
fn two_masters_share_a_topic_and_each_serves_its_queues() {
    let now = Instant::now();
    let mut rt = RouteTable::new();
    rt.register(
        reg(
            "broker-a",
            "10.0.0.1:10911",
            0,
            1,
            topics(1, &[("T", 4), ("OnlyA", 2)]),
        ),
        now,
    );
    rt.register(
        reg("broker-b", "10.0.0.2:10911", 0, 2, topics(1, &[("T", 8)])),
        now,
    );
    let route = rt.route("T").unwrap();
    assert_eq!(route.broker_datas.len(), 2);
    let qa = route
        .queue_datas
        .iter()
        .find(|q| q.broker_name == "broker-a")
        .unwrap();
    let qb = route
        .queue_datas
        .iter()
        .find(|q| q.broker_name == "broker-b")
        .unwrap();
    assert_eq!((qa.write_queue_nums, qb.write_queue_nums), (4, 8));
    assert_eq!(route.broker_datas[0].broker_addrs[&0], "10.0.0.1:10911");
    assert_eq!(route.broker_datas[0].enable_acting_master, Some(false));
    assert_eq!(rt.route("OnlyA").unwrap().broker_datas.len(), 1);
    assert!(rt.route("Nope").is_none());
    assert_eq!(
        rt.cluster_info().cluster_addr_table["DefaultCluster"],
        ["broker-a", "broker-b"]
    );
    assert_eq!(rt.topics_of_cluster("DefaultCluster"), ["OnlyA", "T"]);
}

#[test]
fn a_slave_learns_its_master_and_adds_no_queues() {
    let now = Instant::now();
    let mut rt = RouteTable::new();
    let out = rt.register(
        reg("broker-a", "10.0.0.1:10911", 0, 1, topics(1, &[("T", 4)])),
        now,
    );
    assert_eq!(out, RegisterOutcome::default());
    let out = rt.register(
        reg(
            "broker-a",
            "10.0.0.9:10911",
            1,
            2,
            topics(1, &[("T", 4), ("SlaveOnly", 1)]),
        ),
        now,
    );
    assert_eq!(out.master_addr.as_deref(), Some("10.0.0.1:10911"));
    assert_eq!(out.ha_server_addr.as_deref(), Some("10.0.0.1:10911-ha"));
    assert!(rt.route("SlaveOnly").is_none());
    assert_eq!(rt.route("T").unwrap().broker_datas[0].broker_addrs.len(), 2);
}

#[test]
fn closing_the_registering_connection_drops_the_broker_and_its_topics() {
    let now = Instant::now();
    let mut rt = RouteTable::new();
    rt.register(
        reg("broker-a", "10.0.0.1:10911", 0, 1, topics(1, &[("T", 4)])),
        now,
    );
    rt.register(
        reg(
            "broker-b",
            "10.0.0.2:10911",
            0,
            2,
            topics(1, &[("T", 4), ("B", 1)]),
        ),
        now,
    );
    let gone = rt.connection_closed(2);
    assert_eq!(gone.len(), 1);
    let route = rt.route("T").unwrap();
    assert_eq!(route.broker_datas.len(), 1);
    assert_eq!(route.queue_datas.len(), 1);
    assert!(
        rt.route("B").is_none(),
        "a topic served by no broker has no route"
    );
    assert_eq!(rt.cluster_info().broker_addr_table.len(), 1);
    assert!(rt.connection_closed(99).is_empty());
}

#[test]
fn silent_brokers_expire_after_their_timeout_not_before() {
    let start = Instant::now();
    let mut rt = RouteTable::new();
    rt.register(
        reg("broker-a", "10.0.0.1:10911", 0, 7, topics(1, &[("T", 4)])),
        start,
    );
    let mut short = reg("broker-b", "10.0.0.2:10911", 0, 8, topics(1, &[("T", 4)]));
    short.timeout = Some(Duration::from_secs(10));
    rt.register(short, start);
    assert!(rt.expire(start + Duration::from_secs(10)).is_empty());
    let expired = rt.expire(start + Duration::from_secs(11));
    assert_eq!(
        expired,
        vec![(
            BrokerKey {
                cluster: "DefaultCluster".into(),
                addr: "10.0.0.2:10911".into()
            },
            8
        )]
    );
    // A heartbeat keeps broker-a alive past the default 120 s.
    let key = BrokerKey {
        cluster: "DefaultCluster".into(),
        addr: "10.0.0.1:10911".into(),
    };
    rt.touch(&key, start + Duration::from_secs(100));
    assert!(rt.expire(start + Duration::from_secs(200)).is_empty());
    assert_eq!(rt.expire(start + Duration::from_secs(221)).len(), 1);
    assert!(rt.route("T").is_none());
}

#[test]
fn queue_data_follows_the_data_version() {
    let now = Instant::now();
    let mut rt = RouteTable::new();
    rt.register(
        reg("broker-a", "10.0.0.1:10911", 0, 1, topics(1, &[("T", 4)])),
        now,
    );
    assert_eq!(rt.wipe_write_perm("broker-a"), 1);
    assert_eq!(rt.route("T").unwrap().queue_datas[0].perm, 4);
    // Same version: the periodic re-registration does not undo the wipe.
    rt.register(
        reg("broker-a", "10.0.0.1:10911", 0, 1, topics(1, &[("T", 4)])),
        now,
    );
    assert_eq!(rt.route("T").unwrap().queue_datas[0].perm, 4);
    // A new version (the broker changed its topics) is applied.
    rt.register(
        reg("broker-a", "10.0.0.1:10911", 0, 1, topics(2, &[("T", 16)])),
        now,
    );
    let q = &rt.route("T").unwrap().queue_datas[0];
    assert_eq!((q.perm, q.write_queue_nums), (6, 16));
    assert_eq!(rt.add_write_perm("broker-a"), 1);
    assert_eq!(rt.wipe_write_perm("nobody"), 0);
}

#[test]
fn an_address_changing_role_keeps_one_entry() {
    let now = Instant::now();
    let mut rt = RouteTable::new();
    rt.register(
        reg("broker-a", "10.0.0.1:10911", 1, 1, topics(1, &[("T", 4)])),
        now,
    );
    rt.register(
        reg("broker-a", "10.0.0.1:10911", 0, 1, topics(1, &[("T", 4)])),
        now,
    );
    let addrs = &rt.cluster_info().broker_addr_table["broker-a"].broker_addrs;
    assert_eq!(addrs.len(), 1);
    assert_eq!(addrs[&0], "10.0.0.1:10911");
}

#[test]
fn delete_topic_everywhere_or_in_one_cluster() {
    let now = Instant::now();
    let mut rt = RouteTable::new();
    rt.register(
        reg(
            "broker-a",
            "10.0.0.1:10911",
            0,
            1,
            topics(1, &[("T", 4), ("U", 1)]),
        ),
        now,
    );
    let mut other = reg("broker-x", "10.0.1.1:10911", 0, 2, topics(1, &[("T", 4)]));
    other.cluster = "Other".into();
    rt.register(other, now);
    rt.delete_topic("T", Some("Other"));
    assert_eq!(rt.route("T").unwrap().broker_datas.len(), 1);
    rt.delete_topic("T", Some("NoSuchCluster"));
    assert!(rt.route("T").is_some());
    rt.delete_topic("T", None);
    assert!(rt.route("T").is_none());
    assert_eq!(rt.all_topics(), ["U"]);
}

#[test]
fn query_data_version_reports_changes_and_keeps_alive() {
    let start = Instant::now();
    let mut rt = RouteTable::new();
    rt.register(
        reg("broker-a", "10.0.0.1:10911", 0, 1, topics(1, &[("T", 4)])),
        start,
    );
    let key = BrokerKey {
        cluster: "DefaultCluster".into(),
        addr: "10.0.0.1:10911".into(),
    };
    let same = DataVersion {
        timestamp: 1000,
        counter: 1,
        state_version: None,
    };
    let (changed, stored) = rt.query_data_version(&key, &same, start + Duration::from_secs(100));
    assert!(!changed);
    assert_eq!(stored, Some(same.clone()));
    let newer = DataVersion { counter: 2, ..same };
    assert!(rt.query_data_version(&key, &newer, start).0);
    assert!(rt.expire(start + Duration::from_secs(200)).is_empty());
    let unknown = BrokerKey {
        cluster: "DefaultCluster".into(),
        addr: "nowhere:1".into(),
    };
    assert_eq!(rt.query_data_version(&unknown, &newer, start), (true, None));
}
