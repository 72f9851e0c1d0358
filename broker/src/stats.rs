//! Named counters with minute, hour and day windows (Java's `BrokerStatsManager` and its
//! `StatsItem`s): what VIEW_BROKER_STATS_DATA reports to `mqadmin statsAll` and to the
//! Prometheus exporter. Each item counts a value (messages or bytes) and how many times it was
//! added to (requests); its windows are made of snapshots of both, taken every 10 s (kept for a
//! minute), every 10 minutes (an hour) and every hour (a day), as Java takes them. A window's
//! figures are the difference between its first and last snapshot.
//!
//! Every core keeps its own items for the traffic it serves, with no sharing; a view adds the
//! cores' windows up.

use crate::replica::Change;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};

/// Messages stored in a topic (key: the topic).
pub const TOPIC_PUT_NUMS: &str = "TOPIC_PUT_NUMS";
/// Bytes stored in a topic (key: the topic).
pub const TOPIC_PUT_SIZE: &str = "TOPIC_PUT_SIZE";
/// Messages a group pulled from a topic (key: `topic@group`).
pub const GROUP_GET_NUMS: &str = "GROUP_GET_NUMS";
/// Bytes a group pulled from a topic (key: `topic@group`).
pub const GROUP_GET_SIZE: &str = "GROUP_GET_SIZE";
/// Messages stored in the broker (key: the cluster name).
pub const BROKER_PUT_NUMS: &str = "BROKER_PUT_NUMS";
/// Messages pulled from the broker (key: the cluster name).
pub const BROKER_GET_NUMS: &str = "BROKER_GET_NUMS";

/// Seconds between two samplings (the minute window's step).
pub const SAMPLE_EVERY_SECS: u64 = 10;
/// Samplings between two hour-window snapshots (10 minutes).
const HOUR_STEP: u64 = 60;
/// Samplings between two day-window snapshots (an hour).
const DAY_STEP: u64 = 360;

/// A window: its length, in snapshots kept, and the step between them in milliseconds.
#[derive(Debug, Clone, Copy)]
enum Span {
    Minute,
    Hour,
    Day,
}

impl Span {
    const ALL: [Span; 3] = [Span::Minute, Span::Hour, Span::Day];

    /// Snapshots kept (one more than the steps the window spans), as Java keeps them.
    fn kept(self) -> usize {
        match self {
            Span::Minute => 7,
            Span::Hour => 7,
            Span::Day => 25,
        }
    }

    fn step_ms(self) -> i64 {
        match self {
            Span::Minute => 10_000,
            Span::Hour => 600_000,
            Span::Day => 3_600_000,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Snapshot {
    at_ms: i64,
    times: u64,
    value: u64,
}

/// One window's figures on one core, or added up over several.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Window {
    /// What was added in the window.
    pub sum: u64,
    /// `sum` per second.
    pub tps: f64,
    /// How many additions made `sum`.
    pub times: u64,
}

impl Window {
    pub fn merge(&mut self, o: Window) {
        self.sum += o.sum;
        self.tps += o.tps;
        self.times += o.times;
    }

    /// Average added per addition (Java's `avgpt`).
    pub fn average(&self) -> f64 {
        if self.times == 0 {
            0.0
        } else {
            self.sum as f64 / self.times as f64
        }
    }
}

#[derive(Default)]
struct Item {
    value: u64,
    times: u64,
    /// Minute, hour and day snapshots, oldest first.
    spans: [VecDeque<Snapshot>; 3],
}

impl Item {
    fn snapshot(&mut self, span: Span, now_ms: i64) {
        let list = &mut self.spans[span as usize];
        if list.is_empty() {
            // Java starts each window one step back from zero, so the first figures count.
            list.push_back(Snapshot {
                at_ms: now_ms - span.step_ms(),
                times: 0,
                value: 0,
            });
        }
        list.push_back(Snapshot {
            at_ms: now_ms,
            times: self.times,
            value: self.value,
        });
        while list.len() > span.kept() {
            list.pop_front();
        }
    }

    fn window(&self, span: Span) -> Window {
        let list = &self.spans[span as usize];
        let (Some(first), Some(last)) = (list.front(), list.back()) else {
            return Window::default();
        };
        let sum = last.value - first.value;
        let elapsed_ms = last.at_ms - first.at_ms;
        Window {
            sum,
            tps: if elapsed_ms > 0 {
                sum as f64 * 1000.0 / elapsed_ms as f64
            } else {
                0.0
            },
            times: last.times - first.times,
        }
    }
}

/// A core's stats items, by name, then key.
#[derive(Default)]
pub struct BrokerStats {
    items: RefCell<HashMap<&'static str, HashMap<String, Item>>>,
    samplings: Cell<u64>,
    /// Where `topic@group` keys are built, so a pull that finds its items allocates nothing.
    key: RefCell<String>,
}

impl BrokerStats {
    /// Adds `value` to item (`name`, `key`), counting one more addition of `times`.
    pub fn add(&self, name: &'static str, key: &str, value: u64, times: u64) {
        let mut items = self.items.borrow_mut();
        let named = items.entry(name).or_default();
        // Looked up by the borrowed key first: the common case allocates nothing.
        let item = match named.get_mut(key) {
            Some(item) => item,
            None => named.entry(key.to_owned()).or_default(),
        };
        item.value += value;
        item.times += times;
    }

    /// A send stored `msgs` messages of `bytes` in `topic` (Java counts one request).
    pub fn put(&self, cluster: &str, topic: &str, msgs: u64, bytes: u64) {
        self.add(TOPIC_PUT_NUMS, topic, msgs, 1);
        self.add(TOPIC_PUT_SIZE, topic, bytes, 1);
        self.add(BROKER_PUT_NUMS, cluster, msgs, 1);
    }

    /// A pull of `group` found `msgs` messages of `bytes` in `topic`.
    pub fn got(&self, cluster: &str, topic: &str, group: &str, msgs: u64, bytes: u64) {
        let mut key = self.key.borrow_mut();
        key.clear();
        key.extend([topic, "@", group]);
        self.add(GROUP_GET_NUMS, &key, msgs, 1);
        self.add(GROUP_GET_SIZE, &key, bytes, 1);
        self.add(BROKER_GET_NUMS, cluster, msgs, 1);
    }

    /// Drops what was counted for a deleted topic: its puts, and every group's pulls of it.
    pub fn forget_topic(&self, topic: &str) {
        let pulls_of = format!("{topic}@");
        self.retain(|name, key| match name {
            TOPIC_PUT_NUMS | TOPIC_PUT_SIZE => key != topic,
            GROUP_GET_NUMS | GROUP_GET_SIZE => !key.starts_with(&pulls_of),
            _ => true,
        });
    }

    /// Drops what was counted for a deleted consumer group: its pulls of every topic.
    pub fn forget_group(&self, group: &str) {
        let pulls_by = format!("@{group}");
        self.retain(|name, key| match name {
            GROUP_GET_NUMS | GROUP_GET_SIZE => !key.ends_with(&pulls_by),
            _ => true,
        });
    }

    /// Forgets the topics a change of the topic table deletes.
    pub fn forget_deleted_topics(&self, changes: &[crate::topics::TopicChange]) {
        for change in changes {
            if let Change::Delete(topic) = change {
                self.forget_topic(topic);
            }
        }
    }

    /// Forgets the groups a change of the subscription groups deletes.
    pub fn forget_deleted_groups(&self, changes: &[crate::groups::GroupChange]) {
        for change in changes {
            if let Change::Delete(group) = change {
                self.forget_group(group);
            }
        }
    }

    fn retain(&self, keep: impl Fn(&str, &str) -> bool) {
        for (name, items) in self.items.borrow_mut().iter_mut() {
            items.retain(|key, _| keep(name, key));
        }
    }

    /// Takes the minute snapshots (call every [`SAMPLE_EVERY_SECS`]), and the hour and day
    /// ones when their turn comes.
    pub fn sample(&self, now_ms: i64) {
        let n = self.samplings.get();
        self.samplings.set(n + 1);
        for item in self
            .items
            .borrow_mut()
            .values_mut()
            .flat_map(|m| m.values_mut())
        {
            item.snapshot(Span::Minute, now_ms);
            if n.is_multiple_of(HOUR_STEP) {
                item.snapshot(Span::Hour, now_ms);
            }
            if n.is_multiple_of(DAY_STEP) {
                item.snapshot(Span::Day, now_ms);
            }
        }
    }

    /// The minute, hour and day windows of item (`name`, `key`), if this core has it.
    pub fn view(&self, name: &str, key: &str) -> Option<[Window; 3]> {
        let items = self.items.borrow();
        let item = items.get(name)?.get(key)?;
        Some(Span::ALL.map(|span| item.window(span)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_differences_of_their_snapshots() {
        let stats = BrokerStats::default();
        assert_eq!(stats.view(TOPIC_PUT_NUMS, "T"), None);
        stats.add(TOPIC_PUT_NUMS, "T", 30, 1);
        stats.add(TOPIC_PUT_NUMS, "T", 10, 1);
        stats.add(TOPIC_PUT_NUMS, "U", 5, 1);
        // The first sampling starts each window one step back from zero.
        stats.sample(100_000);
        let [minute, hour, day] = stats.view(TOPIC_PUT_NUMS, "T").unwrap();
        assert_eq!((minute.sum, minute.times), (40, 2));
        assert!((minute.tps - 4.0).abs() < 1e-9, "{minute:?}"); // 40 over 10 s
        assert!((minute.average() - 20.0).abs() < 1e-9);
        assert_eq!((hour.sum, day.sum), (40, 40));
        // Ten seconds later, ten more: the minute window spans both samplings.
        stats.add(TOPIC_PUT_NUMS, "T", 10, 1);
        stats.sample(110_000);
        let [minute, hour, _] = stats.view(TOPIC_PUT_NUMS, "T").unwrap();
        assert_eq!((minute.sum, minute.times), (50, 3));
        assert!((minute.tps - 2.5).abs() < 1e-9, "{minute:?}"); // 50 over 20 s
        assert_eq!(hour.sum, 40, "the hour window moves every 10 minutes");
        // After more than a minute of samplings the oldest ones are dropped.
        for i in 2..=8 {
            stats.sample(100_000 + i * 10_000);
        }
        let [minute, hour, _] = stats.view(TOPIC_PUT_NUMS, "T").unwrap();
        assert_eq!(minute.sum, 0, "nothing added in the last minute");
        assert_eq!(hour.sum, 40);
        assert_eq!(stats.view(TOPIC_PUT_NUMS, "U").unwrap()[0].sum, 0);
    }

    #[test]
    fn deleted_topics_and_groups_are_forgotten() {
        let stats = BrokerStats::default();
        stats.put("C", "T", 1, 1);
        stats.put("C", "T2", 1, 1);
        stats.got("C", "T", "G", 1, 1);
        stats.got("C", "T2", "G", 1, 1);
        stats.got("C", "T2", "H", 1, 1);
        stats.forget_topic("T");
        assert!(stats.view(TOPIC_PUT_NUMS, "T").is_none());
        assert!(stats.view(GROUP_GET_NUMS, "T@G").is_none());
        assert!(stats.view(TOPIC_PUT_SIZE, "T2").is_some());
        stats.forget_group("G");
        assert!(stats.view(GROUP_GET_SIZE, "T2@G").is_none());
        assert!(stats.view(GROUP_GET_NUMS, "T2@H").is_some());
        assert!(
            stats.view(BROKER_PUT_NUMS, "C").is_some(),
            "the broker's own stay"
        );
    }

    #[test]
    fn cores_add_up() {
        let mut all = Window::default();
        all.merge(Window {
            sum: 10,
            tps: 1.0,
            times: 2,
        });
        all.merge(Window {
            sum: 20,
            tps: 2.0,
            times: 3,
        });
        assert_eq!((all.sum, all.times), (30, 5));
        assert!((all.tps - 3.0).abs() < 1e-9);
        assert!((all.average() - 6.0).abs() < 1e-9);
    }
}
