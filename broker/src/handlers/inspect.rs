//! The admin's read-only questions about one topic, group or the producers (5.x
//! `DefaultMQAdminExt` and the dashboard ask them): GET_TOPIC_CONFIG, QUERY_TOPICS_BY_CONSUMER,
//! QUERY_SUBSCRIPTION_BY_CONSUMER, QUERY_CONSUME_TIME_SPAN, GET_ALL_PRODUCER_INFO.
//!
//! The ones that read the client registry run on the control core (see [`crate::service`]);
//! the others gather what they need from every core ([`crate::survey`]).

use super::{ok, Handled, Refusal};
use crate::core::BrokerCore;
use ringmq_protocol::body::{QueryConsumeTimeSpanBody, QuerySubscriptionResponseBody, TopicList};
use ringmq_protocol::header::admin::*;
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};
use std::time::Instant;

pub async fn handle(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    match req.request_code() {
        RequestCode::GET_TOPIC_CONFIG => {
            let h: GetTopicConfigRequestHeader = req.header()?;
            let Some(mut config) = core.topics.borrow().get(&h.topic).cloned() else {
                return Err(Refusal::new(
                    ResponseCode::TOPIC_NOT_EXIST,
                    format!("No topic in this broker. topic: {}", h.topic),
                ));
            };
            // Java's `TopicConfigAndQueueMapping`: the config, and a static topic's queue
            // mapping, which we do not have (an absent field). This is a 5.x request, and 5.x
            // always writes `attributes`, empty or not; its clients expect the field.
            config.attributes.get_or_insert_with(Default::default);
            Ok(ok(req).with_body(json::to_vec(&config, JsonStyle::Fastjson)))
        }
        RequestCode::QUERY_TOPICS_BY_CONSUMER => {
            let h: QueryTopicsByConsumerRequestHeader = req.header()?;
            let list = TopicList {
                topic_list: core.topics_of_group(&h.group).await.into_iter().collect(),
                broker_addr: Some(core.config().broker_addr()),
            };
            Ok(ok(req).with_body(json::to_vec(&list, JsonStyle::Fastjson)))
        }
        RequestCode::QUERY_SUBSCRIPTION_BY_CONSUMER => {
            let h: QuerySubscriptionByConsumerRequestHeader = req.header()?;
            let topic = h.topic.unwrap_or_default();
            let subscription_data = core
                .control()?
                .clients
                .borrow()
                .subscription(&h.group, &topic);
            let body = QuerySubscriptionResponseBody {
                subscription_data,
                group: h.group,
                topic,
            };
            Ok(ok(req).with_body(json::to_vec(&body, JsonStyle::Fastjson)))
        }
        RequestCode::QUERY_CONSUME_TIME_SPAN => {
            let h: QueryConsumeTimeSpanRequestHeader = req.header()?;
            if core.topics.borrow().get(&h.topic).is_none() {
                return Err(Refusal::new(
                    ResponseCode::TOPIC_NOT_EXIST,
                    format!("topic[{}] not exist", h.topic),
                ));
            }
            let body = QueryConsumeTimeSpanBody {
                consume_time_span_set: core.consume_time_spans(&h.group, &h.topic).await?,
            };
            Ok(ok(req).with_body(json::to_vec(&body, JsonStyle::Fastjson)))
        }
        RequestCode::GET_ALL_PRODUCER_INFO => {
            let table = core
                .control()?
                .clients
                .borrow()
                .producer_table(Instant::now(), crate::persist::now_millis());
            Ok(ok(req).with_body(json::to_vec(&table, JsonStyle::Fastjson)))
        }
        other => Err(Refusal::new(
            ResponseCode::REQUEST_CODE_NOT_SUPPORTED,
            format!(" request type {} not supported", other.0),
        )),
    }
}
