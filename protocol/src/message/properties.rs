//! Message properties: `name 0x01 value 0x02` pairs, and the names RocketMQ gives meaning to.

/// Space-separated business keys, indexed for QUERY_MESSAGE.
pub const KEYS: &str = "KEYS";
pub const TAGS: &str = "TAGS";
/// `false` for sends that need no flush before the answer.
pub const WAIT_STORE_MSG_OK: &str = "WAIT";
pub const DELAY_TIME_LEVEL: &str = "DELAY";
pub const RETRY_TOPIC: &str = "RETRY_TOPIC";
pub const REAL_TOPIC: &str = "REAL_TOPIC";
pub const REAL_QUEUE_ID: &str = "REAL_QID";
pub const TRANSACTION_PREPARED: &str = "TRAN_MSG";
pub const PRODUCER_GROUP: &str = "PGROUP";
pub const MIN_OFFSET: &str = "MIN_OFFSET";
pub const MAX_OFFSET: &str = "MAX_OFFSET";
pub const BUYER_ID: &str = "BUYER_ID";
pub const ORIGIN_MESSAGE_ID: &str = "ORIGIN_MESSAGE_ID";
pub const RECONSUME_TIME: &str = "RECONSUME_TIME";
pub const MAX_RECONSUME_TIMES: &str = "MAX_RECONSUME_TIMES";
/// The client-generated unique id (`MessageClientIDSetter`), indexed for lookups by id.
pub const UNIQ_CLIENT_MESSAGE_ID_KEYIDX: &str = "UNIQ_KEY";
pub const TRANSACTION_CHECK_TIMES: &str = "TRANSACTION_CHECK_TIMES";
pub const CHECK_IMMUNITY_TIME_IN_SECONDS: &str = "CHECK_IMMUNITY_TIME_IN_SECONDS";
/// Request-reply: the client id of the producer waiting for a reply.
pub const MESSAGE_REPLY_TO_CLIENT: &str = "REPLY_TO_CLIENT";
/// Request-reply: when the broker pushed the reply to its requester.
pub const PUSH_REPLY_TIME: &str = "PUSH_REPLY_TIME";
/// The half-queue offset of the half message a delayed check copy was made from.
pub const TRANSACTION_PREPARED_QUEUE_OFFSET: &str = "TRAN_PREPARED_QUEUE_OFFSET";
pub const CLUSTER: &str = "CLUSTER";
pub const MSG_REGION: &str = "MSG_REGION";
pub const TRACE_SWITCH: &str = "TRACE_ON";
pub const CONSUME_START_TIMESTAMP: &str = "CONSUME_START_TIME";

const NAME_VALUE_SEPARATOR: char = '\u{1}';
const PROPERTY_SEPARATOR: char = '\u{2}';

/// A message's properties in wire order.
///
/// Order is kept (a vector, not a map) so a property string decodes and re-encodes to the same
/// bytes; a dozen entries at most makes lookups by scan cheap.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Properties {
    entries: Vec<(String, String)>,
}

impl Properties {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `name\x01value\x02...`. Like Java, a pair without a separator is skipped.
    pub fn parse(text: &str) -> Self {
        let entries = text
            .split(PROPERTY_SEPARATOR)
            .filter_map(|pair| pair.split_once(NAME_VALUE_SEPARATOR))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        Self { entries }
    }

    /// The property string. Java writes a trailing separator after every pair.
    pub fn encode(&self) -> String {
        let mut s = String::with_capacity(
            self.entries
                .iter()
                .map(|(k, v)| k.len() + v.len() + 2)
                .sum(),
        );
        for (k, v) in &self.entries {
            s.push_str(k);
            s.push(NAME_VALUE_SEPARATOR);
            s.push_str(v);
            s.push(PROPERTY_SEPARATOR);
        }
        s
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        match self.entries.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((name, value)),
        }
    }

    pub fn remove(&mut self, name: &str) -> Option<String> {
        let i = self.entries.iter().position(|(k, _)| k == name)?;
        Some(self.entries.remove(i).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The message keys (`KEYS`, space-separated), empty ones dropped.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.get(KEYS)
            .unwrap_or("")
            .split(' ')
            .filter(|k| !k.is_empty())
    }

    pub fn tags(&self) -> Option<&str> {
        self.get(TAGS)
    }

    pub fn unique_key(&self) -> Option<&str> {
        self.get(UNIQ_CLIENT_MESSAGE_ID_KEYIDX)
    }
}

/// Java's `String.hashCode` over the tag text, which consume queues store as the tag code.
pub fn tag_hash_code(tag: &str) -> i64 {
    let mut h: i32 = 0;
    for unit in tag.encode_utf16() {
        h = h.wrapping_mul(31).wrapping_add(i32::from(unit));
    }
    i64::from(h)
}
