//! Settings changed while the broker runs: UPDATE_BROKER_CONFIG (`mqadmin updateBrokerConfig`).
//!
//! Java sets whatever it is sent on its config objects and rewrites its config file. A key read
//! only at start-up then changes nothing until a restart, and an unknown key or a bad value is
//! dropped without a word. Here an update is all or nothing:
//! - a key in [`LIVE_KEYS`] is read by the cores each time it is used, so it takes effect on
//!   every core at once;
//! - any other setting is refused with [`ConfigError::StartUpOnly`], as 5.x refuses the keys on
//!   its black list;
//! - a Java key that has no effect here (thread pools and the like) is accepted, as at start-up;
//! - an unknown key, or a value the key does not take, is refused, naming the key.
//!
//! The control core applies an update (see [`crate::handlers::broker_config`]): it saves it to
//! the config file first, so a save that fails changes nothing, then hands the new settings to
//! every core.

use super::{is_java_only_key, BrokerConfig, ConfigError};

/// Settings every core reads where it uses them, so a new value counts from the next request.
pub const LIVE_KEYS: &[&str] = &[
    "brokerPermission",
    "maxMessageSize",
    "waitTimeMillsInSendQueue",
    "longPollingEnable",
    "shortPollingTimeMills",
    "enablePropertyFilter",
    "litePullMessageEnable",
    "autoCreateSubscriptionGroup",
    "storeReplyMessageEnable",
    "rejectTransactionMessage",
    "transactionTimeOut",
    "transactionCheckMax",
    "transactionCheckInterval",
    "flushConsumerOffsetInterval",
    "registerNameServerPeriod",
];

/// `current` with `changes` made, or why the update is refused as a whole.
pub fn apply(
    current: &BrokerConfig,
    changes: &[(String, String)],
) -> Result<BrokerConfig, ConfigError> {
    let mut next = current.clone();
    for (key, value) in changes {
        if is_java_only_key(key) {
            continue;
        }
        if !LIVE_KEYS.contains(&key.as_str()) {
            return Err(if BrokerConfig::is_known_key(key) {
                ConfigError::StartUpOnly { key: key.clone() }
            } else {
                ConfigError::Unknown { key: key.clone() }
            });
        }
        next.set(key, value)?;
    }
    if next.check_largest_message_fits().is_err() {
        return Err(ConfigError::Invalid {
            key: "maxMessageSize".into(),
            value: next.max_message_size.to_string(),
            expected: "less than mappedFileSizeCommitLog",
        });
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn live_keys_change_and_java_only_keys_are_accepted() {
        let current = BrokerConfig::default();
        let next = apply(
            &current,
            &changes(&[
                ("brokerPermission", "4"),
                ("maxMessageSize", "1024"),
                ("longPollingEnable", "false"),
                ("sendMessageThreadPoolNums", "64"),
            ]),
        )
        .unwrap();
        assert_eq!(next.broker_permission, 4);
        assert_eq!(next.max_message_size, 1024);
        assert!(!next.long_polling_enable);
        assert_eq!(
            current.broker_permission, 6,
            "the current settings are not touched"
        );
    }

    #[test]
    fn every_live_key_is_a_setting() {
        for key in LIVE_KEYS {
            assert!(BrokerConfig::is_known_key(key), "{key}");
        }
    }

    #[test]
    fn an_update_is_refused_whole_naming_the_key() {
        let current = BrokerConfig::default();
        let refused = |pairs: &[(&str, &str)]| apply(&current, &changes(pairs)).unwrap_err();
        assert_eq!(
            refused(&[("brokerPermission", "4"), ("listenPort", "1")]),
            ConfigError::StartUpOnly {
                key: "listenPort".into()
            }
        );
        assert_eq!(
            refused(&[("brokerPermision", "4")]),
            ConfigError::Unknown {
                key: "brokerPermision".into()
            }
        );
        let bad = refused(&[("maxMessageSize", "1024"), ("brokerPermission", "9")]);
        assert!(
            matches!(&bad, ConfigError::Invalid { key, .. } if key == "brokerPermission"),
            "{bad}"
        );
        let too_big = refused(&[("maxMessageSize", &(2u64 << 30).to_string())]);
        assert!(
            matches!(&too_big, ConfigError::Invalid { key, .. } if key == "maxMessageSize"),
            "{too_big}"
        );
        assert!(
            refused(&[("flushDiskType", "SYNC_FLUSH")])
                .to_string()
                .contains("restart the broker"),
            "the remark says what to do"
        );
    }
}
