//! The sidecar's counters and gauges, rendered in the Prometheus text format on `/metrics`.
//! Names are prefixed `personalize_ingest_`; labels are low-cardinality (reason codes, shard ids).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Shared metrics of one sidecar.
#[derive(Debug, Default)]
pub struct Metrics {
    pub records_in: AtomicU64,
    /// Records read again after a restart and skipped: resolved before it.
    pub records_skipped: AtomicU64,
    /// Resume bitmaps discarded because the first record read after the checkpoint was not the
    /// one they counted from: everything after the checkpoint's sequence number is sent again.
    pub resume_bitmaps_discarded: AtomicU64,
    pub events_in: AtomicU64,
    pub events_sent: AtomicU64,
    pub put_events_calls: AtomicU64,
    pub put_events_retries: AtomicU64,
    pub get_records_calls: AtomicU64,
    pub get_records_retries: AtomicU64,
    pub checkpoints: AtomicU64,
    dead_lettered: Mutex<BTreeMap<&'static str, u64>>,
    lag_ms: Mutex<BTreeMap<String, i64>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Metrics {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    pub fn dead_lettered(&self, reason: &'static str) {
        *lock(&self.dead_lettered).entry(reason).or_default() += 1;
    }

    pub fn dead_lettered_total(&self) -> u64 {
        lock(&self.dead_lettered).values().sum()
    }

    pub fn set_lag(&self, shard_id: &str, millis_behind_latest: i64) {
        lock(&self.lag_ms).insert(shard_id.to_owned(), millis_behind_latest);
    }

    pub fn forget_shard(&self, shard_id: &str) {
        lock(&self.lag_ms).remove(shard_id);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters = [
            ("records_in_total", "Kinesis records read", &self.records_in),
            (
                "records_skipped_total",
                "records read again after a restart and skipped, resolved before it",
                &self.records_skipped,
            ),
            (
                "resume_bitmaps_discarded_total",
                "checkpoint bitmaps not trusted on resume (the first record read after the checkpoint was not the one they counted from)",
                &self.resume_bitmaps_discarded,
            ),
            (
                "events_in_total",
                "events decoded from records",
                &self.events_in,
            ),
            (
                "events_sent_total",
                "events accepted by PutEvents",
                &self.events_sent,
            ),
            (
                "put_events_calls_total",
                "PutEvents calls that succeeded",
                &self.put_events_calls,
            ),
            (
                "put_events_retries_total",
                "PutEvents calls retried after throttling or a server error",
                &self.put_events_retries,
            ),
            (
                "get_records_calls_total",
                "GetRecords calls",
                &self.get_records_calls,
            ),
            (
                "get_records_retries_total",
                "GetRecords calls retried",
                &self.get_records_retries,
            ),
            ("checkpoints_total", "checkpoints stored", &self.checkpoints),
        ];
        for (name, help, counter) in counters {
            let _ = writeln!(out, "# HELP personalize_ingest_{name} {help}");
            let _ = writeln!(out, "# TYPE personalize_ingest_{name} counter");
            let _ = writeln!(out, "personalize_ingest_{name} {}", Self::get(counter));
        }
        let _ = writeln!(
            out,
            "# HELP personalize_ingest_dead_lettered_total records written to the dead-letter destination, by reason"
        );
        let _ = writeln!(out, "# TYPE personalize_ingest_dead_lettered_total counter");
        for (reason, n) in lock(&self.dead_lettered).iter() {
            let _ = writeln!(
                out,
                "personalize_ingest_dead_lettered_total{{reason=\"{reason}\"}} {n}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP personalize_ingest_millis_behind_latest GetRecords' MillisBehindLatest per shard"
        );
        let _ = writeln!(out, "# TYPE personalize_ingest_millis_behind_latest gauge");
        for (shard, lag) in lock(&self.lag_ms).iter() {
            let _ = writeln!(
                out,
                "personalize_ingest_millis_behind_latest{{shard=\"{shard}\"}} {lag}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_reasons_and_lag() {
        let m = Metrics::default();
        Metrics::add(&m.events_sent, 3);
        Metrics::add(&m.records_skipped, 5);
        Metrics::add(&m.resume_bitmaps_discarded, 1);
        m.dead_lettered("TooLarge");
        m.dead_lettered("TooLarge");
        m.set_lag("shardId-1", 250);
        let text = m.render();
        assert!(text.contains("personalize_ingest_events_sent_total 3\n"));
        assert!(text.contains("personalize_ingest_records_skipped_total 5\n"));
        assert!(text.contains("personalize_ingest_resume_bitmaps_discarded_total 1\n"));
        assert!(text.contains("personalize_ingest_dead_lettered_total{reason=\"TooLarge\"} 2\n"));
        assert!(
            text.contains("personalize_ingest_millis_behind_latest{shard=\"shardId-1\"} 250\n")
        );
        assert_eq!(m.dead_lettered_total(), 2);
    }
}
