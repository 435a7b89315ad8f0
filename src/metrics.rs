//! The operator's Prometheus metrics, process-wide: reconciles, errors by category, in-flight
//! reconciles and time spent, by kind; AWS calls by operation and result; leadership.
//! One `prometheus-client` registry for the process, rendered in the Prometheus text format on
//! `/metrics` (see [`crate::http`]). Names are prefixed `personalize_operator_`; every label has a
//! small fixed set of values.

use std::sync::OnceLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::render`].
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    kind: String,
    category: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    operation: &'static str,
    result: &'static str,
}

/// Counters and gauges of one operator process, and the registry that renders them.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reconciles: Family<KindLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
    in_flight: Family<KindLabels, Gauge>,
    seconds: Family<KindLabels, Counter<f64>>,
    aws_calls: Family<CallLabels, Counter>,
    /// Every AWS call, all operations and results (not exported; see [`Metrics::aws_calls_total`]).
    aws_calls_all: Counter,
    leader: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("personalize_operator");
        let reconciles = Family::default();
        let errors = Family::default();
        let in_flight = Family::default();
        let seconds = Family::default();
        let aws_calls = Family::default();
        let leader = Gauge::default();
        // Counters are registered without `_total`: the encoder appends it.
        registry.register(
            "reconciles",
            "reconciles finished, by kind",
            reconciles.clone(),
        );
        registry.register(
            "reconcile_errors",
            "reconciles that ended in an error or a retry/terminal outcome, by kind and category",
            errors.clone(),
        );
        registry.register(
            "reconciles_in_flight",
            "reconciles running now, by kind",
            in_flight.clone(),
        );
        registry.register(
            "reconcile_seconds",
            "time spent reconciling, by kind",
            seconds.clone(),
        );
        registry.register(
            "aws_calls",
            "Personalize API calls, by operation and result (ok or the error kind)",
            aws_calls.clone(),
        );
        registry.register(
            "leader",
            "1 while this replica holds the leader lease (or runs without leader election)",
            leader.clone(),
        );
        Metrics {
            registry,
            reconciles,
            errors,
            in_flight,
            seconds,
            aws_calls,
            aws_calls_all: Counter::default(),
            leader,
        }
    }
}

/// The metrics of this process.
pub fn global() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::default)
}

/// Marks one reconcile of a kind as in flight until dropped; then counts it and its duration.
#[derive(Debug)]
pub struct InFlight<'a> {
    metrics: &'a Metrics,
    kind: KindLabels,
    started: std::time::Instant,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let m = self.metrics;
        m.in_flight.get_or_create(&self.kind).dec();
        m.reconciles.get_or_create(&self.kind).inc();
        m.seconds
            .get_or_create(&self.kind)
            .inc_by(self.started.elapsed().as_secs_f64());
    }
}

impl Metrics {
    /// Starts a reconcile of `kind`; it ends (and is counted) when the guard drops.
    pub fn reconcile(&self, kind: &str) -> InFlight<'_> {
        let kind = KindLabels {
            kind: kind.to_owned(),
        };
        self.in_flight.get_or_create(&kind).inc();
        InFlight {
            metrics: self,
            kind,
            started: std::time::Instant::now(),
        }
    }

    /// Counts a reconcile of `kind` that ended in an error of `category` (an AWS error kind,
    /// `Kubernetes`, `Finalizer`, or an outcome reason such as `InvalidInput`).
    pub fn error(&self, kind: &str, category: &'static str) {
        self.errors
            .get_or_create(&ErrorLabels {
                kind: kind.to_owned(),
                category,
            })
            .inc();
    }

    /// Counts one AWS call by operation and result (`ok` or the error kind).
    pub fn aws_call(&self, operation: &'static str, result: &'static str) {
        self.aws_calls
            .get_or_create(&CallLabels { operation, result })
            .inc();
        self.aws_calls_all.inc();
    }

    /// Records whether this replica leads (and so reconciles).
    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    /// Total AWS calls so far, all operations and results.
    pub fn aws_calls_total(&self) -> u64 {
        self.aws_calls_all.get()
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

    /// A family is rendered once it has a sample (the hand-written renderer also printed HELP
    /// and TYPE of empty families).
    #[test]
    fn keeps_the_metric_names_of_the_hand_written_renderer() {
        let m = Metrics::default();
        drop(m.reconcile("Solution"));
        m.error("Solution", "Throttled");
        m.aws_call("DescribeSolution", "ok");
        let text = m.render();
        for name in [
            "reconciles_total",
            "reconcile_errors_total",
            "reconciles_in_flight",
            "reconcile_seconds_total",
            "aws_calls_total",
            "leader",
        ] {
            assert!(
                text.contains(&format!("# TYPE personalize_operator_{name} ")),
                "{name} missing from:\n{text}"
            );
        }
        assert!(text.contains("personalize_operator_reconcile_seconds_total{kind=\"Solution\"} "));
    }
}
