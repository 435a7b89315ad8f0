//! Request metrics by operation and outcome, rendered in the Prometheus text format at
//! `/metrics`. Labels are bounded: operation names come from a fixed list, outcomes from error
//! codes; never ARNs or names.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Latency histogram bucket bounds in seconds.
const BUCKETS: [f64; 11] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

/// Both maps, keyed by static names: recording allocates nothing and takes one lock.
#[derive(Default)]
struct Inner {
    requests: BTreeMap<(&'static str, &'static str), u64>,
    latency: BTreeMap<&'static str, Histogram>,
}

/// Counters and latency histograms.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Metrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records one request.
    pub fn record(&self, op: &'static str, outcome: &'static str, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let mut inner = self.lock();
        *inner.requests.entry((op, outcome)).or_default() += 1;
        let h = inner.latency.entry(op).or_default();
        for (count, bound) in h.counts.iter_mut().zip(BUCKETS) {
            if secs <= bound {
                *count += 1;
            }
        }
        h.sum += secs;
        h.count += 1;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str(
            "# HELP personalize_local_requests_total Requests by operation and outcome.\n",
        );
        out.push_str("# TYPE personalize_local_requests_total counter\n");
        let inner = self.lock();
        for ((op, outcome), n) in &inner.requests {
            let _ = writeln!(
                out,
                "personalize_local_requests_total{{operation=\"{op}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        out.push_str(
            "# HELP personalize_local_request_duration_seconds Request latency by operation.\n",
        );
        out.push_str("# TYPE personalize_local_request_duration_seconds histogram\n");
        for (op, h) in &inner.latency {
            for (bound, n) in BUCKETS.iter().zip(&h.counts) {
                let _ = writeln!(
                    out,
                    "personalize_local_request_duration_seconds_bucket{{operation=\"{op}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "personalize_local_request_duration_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "personalize_local_request_duration_seconds_sum{{operation=\"{op}\"}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "personalize_local_request_duration_seconds_count{{operation=\"{op}\"}} {}",
                h.count
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_histograms() {
        let m = Metrics::default();
        m.record("PutEvents", "ok", Duration::from_millis(2));
        m.record(
            "PutEvents",
            "InvalidInputException",
            Duration::from_millis(2),
        );
        let text = m.render();
        assert!(text.contains(
            "personalize_local_requests_total{operation=\"PutEvents\",outcome=\"ok\"} 1"
        ));
        assert!(text.contains(
            "personalize_local_request_duration_seconds_count{operation=\"PutEvents\"} 2"
        ));
    }
}
