//! Setting the broker up: UPDATE_AND_CREATE_TOPIC, GET_ALL_TOPIC_CONFIG, DELETE_TOPIC_IN_BROKER,
//! GET_BROKER_CONFIG.

use super::{ok, Handled, Refusal};
use crate::core::BrokerCore;
use ringmq_protocol::header::admin::*;
use ringmq_protocol::json::{self, JsonStyle};
use ringmq_protocol::{RemotingCommand, RequestCode, ResponseCode};

pub async fn handle(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    match req.request_code() {
        RequestCode::UPDATE_AND_CREATE_TOPIC => {
            let h: CreateTopicRequestHeader = req.header()?;
            let mut config = crate::topics::topic_config(&h.topic, h.write_queue_nums, h.perm);
            config.read_queue_nums = h.read_queue_nums;
            config.topic_filter_type = h.topic_filter_type.clone();
            config.topic_sys_flag = h.topic_sys_flag.unwrap_or(0);
            config.order = h.order;
            core.topics
                .borrow_mut()
                .create_or_update(config)
                .map_err(|e| Refusal::new(e.response_code(), e.to_string()))?;
            core.topics_changed.notify();
            // Java answers SUCCESS with its placeholder remark still set; the admin tool shows it.
            Ok(ok(req).with_remark("not set any response code"))
        }
        RequestCode::GET_ALL_TOPIC_CONFIG => {
            let wrapper = core.topics.borrow().wrapper();
            Ok(ok(req).with_body(json::to_vec(&wrapper, JsonStyle::Fastjson)))
        }
        RequestCode::DELETE_TOPIC_IN_BROKER => {
            let h: DeleteTopicRequestHeader = req.header()?;
            core.topics.borrow_mut().delete(&h.topic);
            core.topics_changed.notify();
            Ok(ok(req))
        }
        RequestCode::GET_BROKER_CONFIG => {
            Ok(ok(req).with_body(core.config.to_properties().into_bytes()))
        }
        other => Err(Refusal::new(
            ResponseCode::REQUEST_CODE_NOT_SUPPORTED,
            format!(" request type {} not supported", other.0),
        )),
    }
}
