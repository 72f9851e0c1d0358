//! What can stop a benchmark, worded so the person running it knows what to do next.
//!
//! Failures of single requests during a run are not errors: they are counted by response code in
//! the report. These variants are the conditions under which no meaningful figure can be produced.

use ringmq_protocol::ResponseCode;

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("cannot reach the name server at {addr}: {reason} (is it running? pass its address with --namesrv)")]
    NamesrvUnreachable { addr: String, reason: String },

    #[error(
        "topic {topic:?} does not exist: the name server at {namesrv} answered TOPIC_NOT_EXIST \
         ({remark}). Create it first (add --create-topic, or `mqadmin updateTopic -n {namesrv} \
         -c DefaultCluster -t {topic} -w 8 -r 8`), or enable autoCreateTopicEnable on the broker \
         so producers can create it from TBW102"
    )]
    TopicNotExist {
        topic: String,
        namesrv: String,
        remark: String,
    },

    #[error("the name server at {addr} refused {what}: {code}: {remark}")]
    NamesrvRefused {
        addr: String,
        what: &'static str,
        code: ResponseCode,
        remark: String,
    },

    #[error("unusable route for topic {topic:?} from the name server at {namesrv}: {reason}")]
    BadRoute {
        topic: String,
        namesrv: String,
        reason: String,
    },

    #[error("cannot reach broker {broker} at {addr}: {reason}")]
    BrokerUnreachable {
        broker: String,
        addr: String,
        reason: String,
    },

    #[error("broker {broker} at {addr} refused {what}: {code}: {remark}")]
    BrokerRefused {
        broker: String,
        addr: String,
        what: String,
        code: ResponseCode,
        remark: String,
    },

    #[error("every send failed ({failures} sends, none succeeded), stopped early; the first failure was {first}: {remark}")]
    AllSendsFailed {
        failures: u64,
        first: String,
        remark: String,
    },

    #[error("invalid settings: {0}")]
    Settings(String),

    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },

    #[error("glommio executor: {0}")]
    Executor(String),
}

impl BenchError {
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        BenchError::Io {
            what: what.into(),
            source,
        }
    }
}
