//! The operator's Prometheus metrics, process-wide: reconciles, errors by category, in-flight
//! reconciles and time spent, by kind; AWS calls by operation and result; leadership.
//! Rendered in the text exposition format on `/metrics` (see [`crate::http`]). Names are
//! prefixed `personalize_operator_`; every label has a small fixed set of values.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Counters and gauges of one operator process.
#[derive(Debug, Default)]
pub struct Metrics {
    reconciles: Mutex<BTreeMap<String, u64>>,
    errors: Mutex<BTreeMap<(String, &'static str), u64>>,
    in_flight: Mutex<BTreeMap<String, i64>>,
    seconds: Mutex<BTreeMap<String, f64>>,
    aws_calls: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    leader: AtomicBool,
}

/// The metrics of this process.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Marks one reconcile of a kind as in flight until dropped; then counts it and its duration.
#[derive(Debug)]
pub struct InFlight<'a> {
    metrics: &'a Metrics,
    kind: String,
    started: std::time::Instant,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        *lock(&self.metrics.in_flight)
            .entry(self.kind.clone())
            .or_default() -= 1;
        *lock(&self.metrics.reconciles)
            .entry(self.kind.clone())
            .or_default() += 1;
        *lock(&self.metrics.seconds)
            .entry(self.kind.clone())
            .or_default() += self.started.elapsed().as_secs_f64();
    }
}

impl Metrics {
    /// Starts a reconcile of `kind`; it ends (and is counted) when the guard drops.
    pub fn reconcile(&self, kind: &str) -> InFlight<'_> {
        *lock(&self.in_flight).entry(kind.to_owned()).or_default() += 1;
        InFlight {
            metrics: self,
            kind: kind.to_owned(),
            started: std::time::Instant::now(),
        }
    }

    /// Counts a reconcile of `kind` that ended in an error of `category` (an AWS error kind,
    /// `Kubernetes`, `Finalizer`, or an outcome reason such as `InvalidInput`).
    pub fn error(&self, kind: &str, category: &'static str) {
        *lock(&self.errors)
            .entry((kind.to_owned(), category))
            .or_default() += 1;
    }

    /// Counts one AWS call by operation and result (`ok` or the error kind).
    pub fn aws_call(&self, operation: &'static str, result: &'static str) {
        *lock(&self.aws_calls)
            .entry((operation, result))
            .or_default() += 1;
    }

    /// Records whether this replica leads (and so reconciles).
    pub fn set_leader(&self, leading: bool) {
        self.leader.store(leading, Ordering::Relaxed);
    }

    /// Total AWS calls so far, all operations and results.
    pub fn aws_calls_total(&self) -> u64 {
        lock(&self.aws_calls).values().sum()
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        family(
            &mut out,
            "reconciles_total",
            "counter",
            "reconciles finished, by kind",
            lock(&self.reconciles)
                .iter()
                .map(|(kind, n)| (format!("kind=\"{kind}\""), n.to_string())),
        );
        family(
            &mut out,
            "reconcile_errors_total",
            "counter",
            "reconciles that ended in an error or a retry/terminal outcome, by kind and category",
            lock(&self.errors).iter().map(|((kind, category), n)| {
                (
                    format!("kind=\"{kind}\",category=\"{category}\""),
                    n.to_string(),
                )
            }),
        );
        family(
            &mut out,
            "reconciles_in_flight",
            "gauge",
            "reconciles running now, by kind",
            lock(&self.in_flight)
                .iter()
                .map(|(kind, n)| (format!("kind=\"{kind}\""), n.to_string())),
        );
        family(
            &mut out,
            "reconcile_seconds_total",
            "counter",
            "time spent reconciling, by kind",
            lock(&self.seconds)
                .iter()
                .map(|(kind, s)| (format!("kind=\"{kind}\""), format!("{s:.6}"))),
        );
        family(
            &mut out,
            "aws_calls_total",
            "counter",
            "Personalize API calls, by operation and result (ok or the error kind)",
            lock(&self.aws_calls).iter().map(|((op, result), n)| {
                (
                    format!("operation=\"{op}\",result=\"{result}\""),
                    n.to_string(),
                )
            }),
        );
        let leader = u8::from(self.leader.load(Ordering::Relaxed));
        family(
            &mut out,
            "leader",
            "gauge",
            "1 while this replica holds the leader lease (or runs without leader election)",
            [(String::new(), leader.to_string())].into_iter(),
        );
        out
    }
}

fn family(
    out: &mut String,
    name: &str,
    type_: &str,
    help: &str,
    samples: impl Iterator<Item = (String, String)>,
) {
    let _ = writeln!(out, "# HELP personalize_operator_{name} {help}");
    let _ = writeln!(out, "# TYPE personalize_operator_{name} {type_}");
    for (labels, value) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "personalize_operator_{name} {value}");
        } else {
            let _ = writeln!(out, "personalize_operator_{name}{{{labels}}} {value}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_reconciles_errors_and_aws_calls() {
        let m = Metrics::default();
        {
            let _a = m.reconcile("Campaign");
            let _b = m.reconcile("Campaign");
            assert!(
                m.render()
                    .contains("reconciles_in_flight{kind=\"Campaign\"} 2")
            );
        }
        m.error("Campaign", "Throttled");
        m.aws_call("DescribeCampaign", "ok");
        m.aws_call("DescribeCampaign", "ok");
        m.aws_call("CreateCampaign", "InvalidInput");
        m.set_leader(true);
        let text = m.render();
        assert!(text.contains("personalize_operator_reconciles_total{kind=\"Campaign\"} 2"));
        assert!(text.contains("personalize_operator_reconciles_in_flight{kind=\"Campaign\"} 0"));
        assert!(text.contains(
            "personalize_operator_reconcile_errors_total{kind=\"Campaign\",category=\"Throttled\"} 1"
        ));
        assert!(text.contains(
            "personalize_operator_aws_calls_total{operation=\"DescribeCampaign\",result=\"ok\"} 2"
        ));
        assert!(text.contains("personalize_operator_leader 1"));
        assert!(text.contains("# TYPE personalize_operator_aws_calls_total counter"));
        assert_eq!(m.aws_calls_total(), 3);
    }
}
