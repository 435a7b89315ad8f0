//! The sidecar's counters and gauges: one `prometheus-client` registry per sidecar, rendered in
//! the Prometheus text format on `/metrics`. Names are prefixed `personalize_ingest_`; labels are
//! low-cardinality (reason codes, shard ids).

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::render`].
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ShardLabels {
    shard: String,
}

/// Shared metrics of one sidecar.
#[derive(Debug)]
pub struct Metrics {
    pub records_in: Counter,
    /// Records read again after a restart and skipped: resolved before it.
    pub records_skipped: Counter,
    /// Resume bitmaps discarded because the first record read after the checkpoint was not the
    /// one they counted from: everything after the checkpoint's sequence number is sent again.
    pub resume_bitmaps_discarded: Counter,
    pub events_in: Counter,
    pub events_sent: Counter,
    pub put_events_calls: Counter,
    pub put_events_retries: Counter,
    pub get_records_calls: Counter,
    pub get_records_retries: Counter,
    pub checkpoints: Counter,
    dead_lettered: Family<ReasonLabels, Counter>,
    /// All dead-lettered records, every reason (not exported; see [`Metrics::dead_lettered_total`]).
    dead_lettered_all: Counter,
    lag_ms: Family<ShardLabels, Gauge>,
    registry: Registry,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("personalize_ingest");
        let m = Metrics {
            records_in: Counter::default(),
            records_skipped: Counter::default(),
            resume_bitmaps_discarded: Counter::default(),
            events_in: Counter::default(),
            events_sent: Counter::default(),
            put_events_calls: Counter::default(),
            put_events_retries: Counter::default(),
            get_records_calls: Counter::default(),
            get_records_retries: Counter::default(),
            checkpoints: Counter::default(),
            dead_lettered: Family::default(),
            dead_lettered_all: Counter::default(),
            lag_ms: Family::default(),
            registry: Registry::default(),
        };
        // Counters are registered without `_total`: the encoder appends it.
        let counters = [
            ("records_in", "Kinesis records read", &m.records_in),
            (
                "records_skipped",
                "records read again after a restart and skipped, resolved before it",
                &m.records_skipped,
            ),
            (
                "resume_bitmaps_discarded",
                "checkpoint bitmaps not trusted on resume (the first record read after the checkpoint was not the one they counted from)",
                &m.resume_bitmaps_discarded,
            ),
            ("events_in", "events decoded from records", &m.events_in),
            (
                "events_sent",
                "events accepted by PutEvents",
                &m.events_sent,
            ),
            (
                "put_events_calls",
                "PutEvents calls that succeeded",
                &m.put_events_calls,
            ),
            (
                "put_events_retries",
                "PutEvents calls retried after throttling or a server error",
                &m.put_events_retries,
            ),
            (
                "get_records_calls",
                "GetRecords calls",
                &m.get_records_calls,
            ),
            (
                "get_records_retries",
                "GetRecords calls retried",
                &m.get_records_retries,
            ),
            ("checkpoints", "checkpoints stored", &m.checkpoints),
        ];
        for (name, help, counter) in counters {
            registry.register(name, help, counter.clone());
        }
        registry.register(
            "dead_lettered",
            "records written to the dead-letter destination, by reason",
            m.dead_lettered.clone(),
        );
        registry.register(
            "millis_behind_latest",
            "GetRecords' MillisBehindLatest per shard",
            m.lag_ms.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    pub fn add(counter: &Counter, n: u64) {
        counter.inc_by(n);
    }

    pub fn get(counter: &Counter) -> u64 {
        counter.get()
    }

    pub fn dead_lettered(&self, reason: &'static str) {
        self.dead_lettered
            .get_or_create(&ReasonLabels { reason })
            .inc();
        self.dead_lettered_all.inc();
    }

    pub fn dead_lettered_total(&self) -> u64 {
        self.dead_lettered_all.get()
    }

    pub fn set_lag(&self, shard_id: &str, millis_behind_latest: i64) {
        self.lag_ms
            .get_or_create(&ShardLabels {
                shard: shard_id.to_owned(),
            })
            .set(millis_behind_latest);
    }

    pub fn forget_shard(&self, shard_id: &str) {
        self.lag_ms.remove(&ShardLabels {
            shard: shard_id.to_owned(),
        });
    }

    /// The Prometheus text exposition (version 0.0.4, [`CONTENT_TYPE`]).
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry);
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

    #[test]
    fn a_forgotten_shard_has_no_lag_sample() {
        let m = Metrics::default();
        m.set_lag("shardId-1", 250);
        m.forget_shard("shardId-1");
        assert!(!m.render().contains("shardId-1"));
    }
}
