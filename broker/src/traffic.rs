//! What a core has stored and served: the counts behind GET_BROKER_RUNTIME_INFO (Java's
//! `StoreStatsService` and `BrokerStats`) and GET_TOPIC_STATS_INFO's `topicPutTps`.
//!
//! Every core counts its own traffic in plain cells, with no sharing: a send is counted on the
//! core that appended it, a pull on the core that answered it. A report asks every core for its
//! [`TrafficReport`] and adds them up. Rates come from a sample of the counters taken every second
//! and kept for ten minutes; the "this morning" and "yesterday morning" totals are the counters as
//! they stood when the local date last changed (Java's `BrokerStats.record()` at midnight), or at
//! start-up.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::ops::{Add, Sub};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The windows Java's `putTps` and `get*Tps` report, in this order: 10 s, 1 min, 10 min.
pub const RATE_WINDOWS: [Duration; 3] = [
    Duration::from_secs(10),
    Duration::from_secs(60),
    Duration::from_secs(600),
];
const SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// `topicPutTps` is the rate over the last minute, from a mark every 10 s (Java's minute stats).
const TOPIC_MARK_EVERY: u64 = 10;
const TOPIC_MARKS: usize = 7;

/// Running totals since the broker started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub put_msgs: u64,
    pub put_bytes: u64,
    /// Appends (whole send requests) that failed.
    pub put_failures: u64,
    /// Pulls answered with messages.
    pub pulls_found: u64,
    /// Pulls answered without any (after their hold, if they were held).
    pub pulls_missed: u64,
    /// Messages handed to consumers.
    pub msgs_out: u64,
}

/// Per-second rates over one window.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Rates {
    pub put: f64,
    pub found: f64,
    pub missed: f64,
    pub out: f64,
}

impl Rates {
    fn between(old: Counters, new: Counters, elapsed: Duration) -> Rates {
        let secs = elapsed.as_secs_f64();
        if secs <= 0.0 {
            return Rates::default();
        }
        let d = new - old;
        Rates {
            put: d.put_msgs as f64 / secs,
            found: d.pulls_found as f64 / secs,
            missed: d.pulls_missed as f64 / secs,
            out: d.msgs_out as f64 / secs,
        }
    }
}

/// `impl Trait for T` for each trait listed, applying its `op` field by field.
macro_rules! fieldwise {
    ($t:ident $fields:tt; $($tr:ident :: $method:ident => $op:ident),+) => {
        $(fieldwise!(@one $t $fields $tr $method $op);)+
    };
    (@one $t:ident { $($field:ident),+ } $tr:ident $method:ident $op:ident) => {
        impl $tr for $t {
            type Output = $t;
            fn $method(self, o: $t) -> $t {
                $t { $($field: self.$field.$op(o.$field)),+ }
            }
        }
    };
}

#[rustfmt::skip]
fieldwise!(
    Counters { put_msgs, put_bytes, put_failures, pulls_found, pulls_missed, msgs_out };
    Add::add => add, Sub::sub => saturating_sub
);
fieldwise!(Rates { put, found, missed, out }; Add::add => add);

/// One core's traffic, or the sum of several cores'.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrafficReport {
    pub totals: Counters,
    pub today_morning: Counters,
    pub yesterday_morning: Counters,
    /// One per [`RATE_WINDOWS`] entry.
    pub rates: [Rates; 3],
    /// The slowest append (a whole send request), since start.
    pub put_time_max: Duration,
    /// Bytes appended but not yet durable, over this core's shards.
    pub unflushed_bytes: u64,
    /// When the oldest stored message was stored (ms), over this core's shards.
    pub earliest_store_time: Option<i64>,
}

impl TrafficReport {
    pub fn merge(&mut self, o: TrafficReport) {
        self.totals = self.totals + o.totals;
        self.today_morning = self.today_morning + o.today_morning;
        self.yesterday_morning = self.yesterday_morning + o.yesterday_morning;
        for (mine, theirs) in self.rates.iter_mut().zip(o.rates) {
            *mine = *mine + theirs;
        }
        self.put_time_max = self.put_time_max.max(o.put_time_max);
        self.unflushed_bytes += o.unflushed_bytes;
        self.earliest_store_time = match (self.earliest_store_time, o.earliest_store_time) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// A core's counters and their history.
pub struct Traffic {
    booted: SystemTime,
    now: Cell<Counters>,
    put_time_max: Cell<Duration>,
    /// (when, counters), one a second, the newest last, ten minutes and one sample long.
    samples: RefCell<VecDeque<(Instant, Counters)>>,
    topic_puts: RefCell<HashMap<String, u64>>,
    /// (when, topic_puts), one every 10 s, the newest last.
    topic_marks: RefCell<VecDeque<(Instant, HashMap<String, u64>)>>,
    /// (local day number, counters at its start, counters at the previous day's start).
    mornings: Cell<(i64, Counters, Counters)>,
    ticks: Cell<u64>,
    /// Per-topic and per-group windows (VIEW_BROKER_STATS_DATA).
    pub stats: crate::stats::BrokerStats,
}

impl Default for Traffic {
    fn default() -> Self {
        Self::new()
    }
}

impl Traffic {
    pub fn new() -> Self {
        let start = Instant::now();
        Self {
            booted: SystemTime::now(),
            now: Cell::new(Counters::default()),
            put_time_max: Cell::new(Duration::ZERO),
            samples: RefCell::new(VecDeque::from([(start, Counters::default())])),
            topic_puts: RefCell::new(HashMap::new()),
            topic_marks: RefCell::new(VecDeque::from([(start, HashMap::new())])),
            mornings: Cell::new((
                local_day(SystemTime::now()),
                Counters::default(),
                Counters::default(),
            )),
            ticks: Cell::new(0),
            stats: crate::stats::BrokerStats::default(),
        }
    }

    /// When this core started counting (its broker's start, give or take the shards' opening).
    pub fn booted(&self) -> SystemTime {
        self.booted
    }

    fn update(&self, f: impl FnOnce(&mut Counters)) {
        let mut c = self.now.get();
        f(&mut c);
        self.now.set(c);
    }

    /// A send request stored `msgs` messages of `bytes` in `topic`, taking `took`.
    pub fn stored(&self, topic: &str, msgs: u64, bytes: u64, took: Duration) {
        self.update(|c| {
            c.put_msgs += msgs;
            c.put_bytes += bytes;
        });
        self.put_time_max.set(self.put_time_max.get().max(took));
        let mut topics = self.topic_puts.borrow_mut();
        match topics.get_mut(topic) {
            Some(n) => *n += msgs,
            None => {
                topics.insert(topic.to_owned(), msgs);
            }
        }
    }

    pub fn store_failed(&self) {
        self.update(|c| c.put_failures += 1);
    }

    /// A pull was answered with `msgs` messages (0: nothing found).
    pub fn pulled(&self, msgs: u64) {
        self.update(|c| {
            if msgs > 0 {
                c.pulls_found += 1;
                c.msgs_out += msgs;
            } else {
                c.pulls_missed += 1;
            }
        });
    }

    pub fn totals(&self) -> Counters {
        self.now.get()
    }

    /// Takes this second's sample (and every 10 s the topics'), and moves the morning marks
    /// when the local date has changed.
    pub fn sample(&self, at: Instant, wall: SystemTime) {
        let now = self.now.get();
        {
            let mut samples = self.samples.borrow_mut();
            samples.push_back((at, now));
            let keep = (RATE_WINDOWS[2].as_secs() / SAMPLE_EVERY.as_secs()) as usize + 1;
            while samples.len() > keep {
                samples.pop_front();
            }
        }
        let ticks = self.ticks.get() + 1;
        self.ticks.set(ticks);
        if ticks.is_multiple_of(TOPIC_MARK_EVERY) {
            let mut marks = self.topic_marks.borrow_mut();
            marks.push_back((at, self.topic_puts.borrow().clone()));
            while marks.len() > TOPIC_MARKS {
                marks.pop_front();
            }
        }
        if (ticks - 1).is_multiple_of(crate::stats::SAMPLE_EVERY_SECS) {
            let wall_ms = wall
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64);
            self.stats.sample(wall_ms);
        }
        let (day, today, _) = self.mornings.get();
        let current = local_day(wall);
        if current != day {
            self.mornings.set((current, now, today));
        }
    }

    /// Messages put into `topic` per second over the last minute (or since start, if sooner).
    pub fn topic_put_tps(&self, topic: &str, at: Instant) -> f64 {
        let total = self.topic_puts.borrow().get(topic).copied().unwrap_or(0);
        let marks = self.topic_marks.borrow();
        let Some((then, old)) = marks.front() else {
            return 0.0;
        };
        let secs = at.saturating_duration_since(*then).as_secs_f64();
        if secs <= 0.0 {
            return 0.0;
        }
        total.saturating_sub(old.get(topic).copied().unwrap_or(0)) as f64 / secs
    }

    /// This core's report at `at` (shard figures left for the caller).
    pub fn report(&self, at: Instant) -> TrafficReport {
        let now = self.now.get();
        let samples = self.samples.borrow();
        let rates = RATE_WINDOWS.map(|window| {
            // The oldest sample inside the window; the oldest one kept if the broker is younger.
            let from = samples
                .iter()
                .find(|(t, _)| at.saturating_duration_since(*t) <= window)
                .or(samples.front());
            match from {
                Some((t, old)) => Rates::between(*old, now, at.saturating_duration_since(*t)),
                None => Rates::default(),
            }
        });
        let (_, today, yesterday) = self.mornings.get();
        TrafficReport {
            totals: now,
            today_morning: today,
            yesterday_morning: yesterday,
            rates,
            put_time_max: self.put_time_max.get(),
            unflushed_bytes: 0,
            earliest_store_time: None,
        }
    }
}

// Gathering every core's report: traffic is counted where it happens, so a report asks them all.
impl crate::core::BrokerCore {
    /// Every core's traffic added up.
    pub async fn traffic_report(&self) -> TrafficReport {
        let mut all = self.traffic_here().await;
        for (core, answer) in self.mesh.ask_all(|| crate::hops::Ask::Traffic).await {
            match answer {
                Ok(crate::hops::Answer::Traffic(r)) => all.merge(r),
                Ok(_) => log::warn!("core {core} answered a traffic ask with something else"),
                Err(e) => log::warn!("no traffic report from core {core}: {e}"),
            }
        }
        all
    }

    /// This core's traffic and its shards' figures.
    pub async fn traffic_here(&self) -> TrafficReport {
        let mut r = self.traffic.report(Instant::now());
        for shard in self.owned_shards() {
            let log = shard.commit_log();
            r.unflushed_bytes += (log.write_pos().0 - log.durable_pos().0).max(0) as u64;
            if let Some(t) = shard.earliest_store_time().await {
                r.earliest_store_time = Some(r.earliest_store_time.map_or(t, |e| e.min(t)));
            }
        }
        r
    }
}

/// Samples a core's traffic every second until the core closes.
pub async fn keep_sampling(core: std::rc::Weak<crate::core::BrokerCore>) {
    crate::core::BrokerCore::every(
        core,
        |_| SAMPLE_EVERY,
        |c| async move {
            c.traffic.sample(Instant::now(), SystemTime::now());
        },
    )
    .await;
}

/// Days since the epoch in local time.
fn local_day(now: SystemTime) -> i64 {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as libc::time_t;
    // SAFETY: all-zero is a valid `tm` (integers and a null zone pointer).
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: localtime_r writes into `tm` only.
    let offset = if unsafe { libc::localtime_r(&secs, &mut tm) }.is_null() {
        0
    } else {
        tm.tm_gmtoff
    };
    (secs as i64 + offset).div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first sample is taken when `Traffic` is made, a moment before the test's clock starts.
    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 0.01
    }

    #[test]
    fn rates_cover_each_window_and_cores_add_up() {
        let t = Traffic::new();
        let start = Instant::now();
        let wall = SystemTime::now();
        // 100 messages a second for 30 s, then 20 s of quiet; one pull found each second.
        for s in 1..=50u64 {
            if s <= 30 {
                t.stored("T", 100, 100 * 1024, Duration::from_millis(s));
                t.pulled(100);
            } else {
                t.pulled(0);
            }
            t.sample(start + Duration::from_secs(s), wall);
        }
        let at = start + Duration::from_secs(50);
        let r = t.report(at);
        assert_eq!(r.totals.put_msgs, 3000);
        assert_eq!(r.totals.put_bytes, 3000 * 1024);
        assert_eq!((r.totals.pulls_found, r.totals.pulls_missed), (30, 20));
        assert_eq!(r.put_time_max, Duration::from_millis(30));
        // The last 10 s were quiet; over a minute (here: the 50 s since start) 60/s.
        assert_eq!(r.rates[0].put, 0.0);
        assert_eq!(r.rates[0].missed, 1.0);
        assert!(close(r.rates[1].put, 60.0), "{:?}", r.rates);
        assert!(close(r.rates[2].out, 60.0), "{:?}", r.rates);
        // Marks every 10 s: the oldest kept is from the start (7 marks cover 60 s), 3000 puts
        // since.
        assert!(close(t.topic_put_tps("T", at), 60.0));
        assert_eq!(t.topic_put_tps("other", at), 0.0);

        let mut sum = r.clone();
        sum.merge(r.clone());
        assert_eq!(sum.totals.put_msgs, 6000);
        assert!(close(sum.rates[1].put, 120.0));
        assert_eq!(sum.put_time_max, r.put_time_max);
    }

    #[test]
    fn the_morning_marks_move_when_the_day_changes() {
        let t = Traffic::new();
        let start = Instant::now();
        let today = SystemTime::now();
        t.stored("T", 5, 5, Duration::ZERO);
        t.sample(start, today);
        assert_eq!(t.report(start).today_morning.put_msgs, 0);
        let tomorrow = today + Duration::from_secs(86_400);
        t.sample(start, tomorrow);
        t.stored("T", 2, 2, Duration::ZERO);
        let r = t.report(start);
        assert_eq!(r.today_morning.put_msgs, 5);
        assert_eq!(r.yesterday_morning.put_msgs, 0);
        assert_eq!(r.totals.put_msgs - r.today_morning.put_msgs, 2);
    }
}
