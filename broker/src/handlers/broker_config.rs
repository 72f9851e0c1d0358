//! The broker's settings over the wire: GET_BROKER_CONFIG (`mqadmin getBrokerConfig`) and
//! UPDATE_BROKER_CONFIG (`mqadmin updateBrokerConfig`; what may change, and how, is in
//! [`crate::config::live`]).

use super::{ok, Handled, Refusal};
use crate::clients::ClientAddr;
use crate::config::{live, ConfigError};
use crate::core::BrokerCore;
use crate::hops::Ask;
use crate::persist::write_atomically;
use ringmq_protocol::{RemotingCommand, ResponseCode};
use ringmq_remoting::properties;
use std::path::PathBuf;

/// Every setting in force, as properties text.
pub fn get(core: &BrokerCore, req: &RemotingCommand) -> Handled {
    Ok(ok(req).with_body(core.config().to_properties().into_bytes()))
}

/// Runs on the control core, one update at a time: checks the whole update, saves it to the
/// config file the broker was started with, then puts it in force on every core. A change of
/// `brokerPermission` is registered with the name servers at once, as Java does, so clients stop
/// routing sends (or pulls) to a broker being drained.
pub async fn update(core: &BrokerCore, client: &ClientAddr, req: &RemotingCommand) -> Handled {
    let control = core.control()?;
    // Java answers SUCCESS to an update without a body, and so do we.
    if req.body.is_empty() {
        return Ok(ok(req));
    }
    let text = std::str::from_utf8(&req.body).map_err(|_| {
        Refusal::new(
            ResponseCode::SYSTEM_ERROR,
            "the body is not UTF-8 text: send the settings as `key=value` lines",
        )
    })?;
    let changes = properties::parse(text);
    if changes.is_empty() {
        return Ok(ok(req));
    }
    let _turn = control.config_turn.acquire_permit(1).await;
    let next = live::apply(&core.config(), &changes).map_err(refused)?;
    match next.source.clone() {
        Some(path) => save(path, changes.clone()).await?,
        None => log::info!(
            "the broker was started without a config file (-c): this update lasts until it stops"
        ),
    }
    log::info!("settings updated by {}: {changes:?}", client.peer);
    core.replace_config(next.clone());
    core.update_copies("the broker config", || {
        Ask::ReplaceConfig(Box::new(next.clone()))
    })
    .await;
    if changes.iter().any(|(k, _)| k == "brokerPermission") {
        core.topics.borrow_mut().new_version();
        control.topics_changed.notify();
    }
    Ok(ok(req))
}

/// NO_PERMISSION for a setting that cannot change while the broker runs (5.x answers its black
/// list so), SYSTEM_ERROR for the rest.
fn refused(e: ConfigError) -> Refusal {
    let code = match e {
        ConfigError::StartUpOnly { .. } => ResponseCode::NO_PERMISSION,
        _ => ResponseCode::SYSTEM_ERROR,
    };
    Refusal::new(code, e.to_string())
}

/// Sets `changes` in the config file, keeping the rest of it, on a blocking thread: the write
/// is atomic (temp file, fsync, rename; the old file stays as `.bak`).
async fn save(path: PathBuf, changes: Vec<(String, String)>) -> Result<(), Refusal> {
    let shown = path.display().to_string();
    glommio::executor()
        .spawn_blocking(move || {
            let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
            let updated = properties::update_text(&path, &text, &changes)?;
            write_atomically(&path, updated.as_bytes()).map_err(|e| e.to_string())
        })
        .await
        .map_err(|why| {
            Refusal::new(
                ResponseCode::SYSTEM_ERROR,
                format!("cannot save the update to {shown}: {why}; nothing was changed"),
            )
        })
}
