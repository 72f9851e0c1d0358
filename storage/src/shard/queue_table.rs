//! The shard's consume queues, found by (topic, queue id).
//!
//! Every put, pull and offset query looks a queue up by a borrowed topic name. A map keyed by
//! `(String, i32)` can only be searched with an owned key, so each lookup allocated a copy of
//! the topic; here topics map to their queues, and a `&str` finds its topic directly. Topic
//! names are shared (`Rc<str>`), so listing the keys, which checkpoints do every second, copies
//! no strings.

use crate::consume_queue::ConsumeQueue;
use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::rc::Rc;

/// A queue's name: its topic and queue id.
pub(super) type QueueKey = (Rc<str>, i32);

#[derive(Default)]
pub(super) struct QueueTable {
    /// A topic appears here only while it has at least one queue.
    topics: HashMap<Rc<str>, BTreeMap<i32, ConsumeQueue>>,
    len: usize,
}

impl QueueTable {
    pub(super) fn get(&self, topic: &str, queue_id: i32) -> Option<&ConsumeQueue> {
        self.topics.get(topic)?.get(&queue_id)
    }

    pub(super) fn get_mut(&mut self, topic: &str, queue_id: i32) -> Option<&mut ConsumeQueue> {
        self.topics.get_mut(topic)?.get_mut(&queue_id)
    }

    /// The queue, made by `make` if the table has none yet; an error from `make` adds nothing.
    pub(super) fn get_or_try_insert<E>(
        &mut self,
        topic: &str,
        queue_id: i32,
        make: impl FnOnce() -> Result<ConsumeQueue, E>,
    ) -> Result<&mut ConsumeQueue, E> {
        // Looked up twice even on a hit (the borrow checker cannot yet return a borrow taken in
        // one branch and insert in the other), but by `&str`: a hit needs no owned topic name.
        if self.get(topic, queue_id).is_none() {
            let cq = make()?;
            self.insert(topic, queue_id, cq);
        }
        Ok(self
            .get_mut(topic, queue_id)
            .expect("present or inserted just above"))
    }

    /// The queue, made by `make` if the table has none yet.
    pub(super) fn get_or_insert_with(
        &mut self,
        topic: &str,
        queue_id: i32,
        make: impl FnOnce() -> ConsumeQueue,
    ) -> &mut ConsumeQueue {
        match self.get_or_try_insert(topic, queue_id, || Ok::<_, Infallible>(make())) {
            Ok(cq) => cq,
        }
    }

    /// Adds a queue, replacing one of the same name.
    pub(super) fn insert(&mut self, topic: &str, queue_id: i32, cq: ConsumeQueue) {
        let queues = match self.topics.get_mut(topic) {
            Some(queues) => queues,
            None => self.topics.entry(Rc::from(topic)).or_default(),
        };
        if queues.insert(queue_id, cq).is_none() {
            self.len += 1;
        }
    }

    pub(super) fn remove(&mut self, topic: &str, queue_id: i32) -> Option<ConsumeQueue> {
        let queues = self.topics.get_mut(topic)?;
        let cq = queues.remove(&queue_id)?;
        if queues.is_empty() {
            self.topics.remove(topic);
        }
        self.len -= 1;
        Some(cq)
    }

    /// Every queue's name, for walks that give way to other work between queues (and so cannot
    /// hold a borrow of the table across them).
    pub(super) fn keys(&self) -> Vec<QueueKey> {
        self.iter().map(|(t, q, _)| (Rc::clone(t), q)).collect()
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&Rc<str>, i32, &ConsumeQueue)> {
        self.topics
            .iter()
            .flat_map(|(t, queues)| queues.iter().map(move |(q, cq)| (t, *q, cq)))
    }

    pub(super) fn values_mut(&mut self) -> impl Iterator<Item = &mut ConsumeQueue> {
        self.topics.values_mut().flat_map(BTreeMap::values_mut)
    }

    /// The topics with at least one queue.
    pub(super) fn topics(&self) -> impl Iterator<Item = &str> {
        self.topics.keys().map(|t| &**t)
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn queue(name: &str) -> ConsumeQueue {
        ConsumeQueue::create(Path::new("/nonexistent").join(name).as_path(), 4, 4)
    }

    fn names(table: &QueueTable) -> Vec<(String, i32)> {
        let mut keys: Vec<_> = table
            .keys()
            .into_iter()
            .map(|(t, q)| (t.to_string(), q))
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn finds_queues_by_borrowed_names_and_forgets_empty_topics() {
        let mut table = QueueTable::default();
        table.insert("a", 0, queue("a0"));
        table.insert("a", 1, queue("a1"));
        table.insert("b", 0, queue("b0"));
        table.insert("a", 1, queue("a1-again"));
        assert_eq!(table.len(), 3, "a replaced queue is counted once");
        assert_eq!(
            table.get("a", 1).map(|cq| cq.dir().to_owned()),
            Some(Path::new("/nonexistent/a1-again").to_owned())
        );
        assert!(table.get("a", 2).is_none() && table.get("c", 0).is_none());
        assert_eq!(
            names(&table),
            [("a".into(), 0), ("a".into(), 1), ("b".into(), 0)]
        );

        assert!(table.remove("a", 0).is_some());
        assert!(table.remove("a", 0).is_none());
        assert!(table.remove("b", 0).is_some());
        let topics: Vec<&str> = table.topics().collect();
        assert_eq!(topics, ["a"], "b lost its last queue");
        assert_eq!((table.len(), table.values_mut().count()), (1, 1));
    }

    #[test]
    fn a_failed_make_adds_nothing() {
        let mut table = QueueTable::default();
        let made: Result<&mut ConsumeQueue, &str> = table.get_or_try_insert("t", 3, || Err("disk"));
        assert_eq!(made.err(), Some("disk"));
        assert_eq!((table.len(), table.topics().count()), (0, 0));
        let mut calls = 0;
        for _ in 0..2 {
            table
                .get_or_try_insert("t", 3, || {
                    calls += 1;
                    Ok::<_, ()>(queue("t3"))
                })
                .unwrap();
        }
        assert_eq!((calls, table.len()), (1, 1), "made once, then found");
    }
}
