//! The pure decisions about a Solution's versions: their order, when to train (first version,
//! after an import, on a cron schedule) and in which mode, and which version is promoted
//! through the offline-metrics gate. No I/O.

use std::collections::BTreeMap;
use std::str::FromStr;

use k8s_openapi::jiff::Timestamp;
use personalize_api::aws_status::{ACTIVE, CREATE_IN_PROGRESS, CREATE_PENDING, CREATE_STOPPING};
use personalize_api::solution::{Promotion, Retrain, SolutionVersionStatus, TrainingMode};

/// Orders versions newest first by creation time. Versions created within the same instant
/// (clock resolution) are ordered by when the operator first saw them: unknown ones first.
pub fn sort_newest_first(versions: &mut [SolutionVersionStatus], known: &[SolutionVersionStatus]) {
    let rank = |v: &SolutionVersionStatus| known.iter().position(|k| k.arn == v.arn).unwrap_or(0);
    let created = |v: &SolutionVersionStatus| {
        v.created
            .as_deref()
            .and_then(|c| Timestamp::from_str(c).ok())
    };
    let is_new = |v: &SolutionVersionStatus| !known.iter().any(|k| k.arn == v.arn);
    versions.sort_by(|a, b| {
        created(b)
            .cmp(&created(a))
            .then_with(|| is_new(b).cmp(&is_new(a)))
            .then_with(|| rank(a).cmp(&rank(b)))
    });
}

/// What to do about training now.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// Start a new version.
    Train {
        /// FULL or UPDATE.
        mode: TrainingMode,
        /// Why, for the event and condition.
        why: &'static str,
    },
    /// A version is being trained; wait for it.
    WaitForTraining(String),
    /// The interactions are not imported yet.
    WaitForData,
    /// Nothing to do.
    Idle,
}

/// Whether a version's status means work is in flight (training or stopping).
pub fn in_progress(status: Option<&str>) -> bool {
    matches!(
        status,
        Some(CREATE_PENDING | CREATE_IN_PROGRESS | CREATE_STOPPING)
    )
}

/// Decides whether to train: never while a version is in flight; the first version once data is
/// imported; then after a new import (`retrain.onImport`) or when the cron schedule has come due
/// since the newest version. UPDATE needs an ACTIVE FULL version to update, else FULL is used.
pub fn training_decision(
    versions: &[SolutionVersionStatus],
    imported: Option<&str>,
    trained_on_import: Option<&str>,
    retrain: Option<&Retrain>,
    now: Timestamp,
) -> Decision {
    if let Some(busy) = versions.iter().find(|v| in_progress(v.status.as_deref())) {
        return Decision::WaitForTraining(busy.arn.clone());
    }
    let Some(imported) = imported else {
        return Decision::WaitForData;
    };
    let Some(newest) = versions.first() else {
        return Decision::Train {
            mode: TrainingMode::Full,
            why: "first version",
        };
    };
    let Some(retrain) = retrain else {
        return Decision::Idle;
    };
    let has_full = versions
        .iter()
        .any(|v| v.status.as_deref() == Some(ACTIVE) && v.training_mode.as_deref() == Some("FULL"));
    let mode = if retrain.mode == TrainingMode::Update && has_full {
        TrainingMode::Update
    } else {
        TrainingMode::Full
    };
    if retrain.on_import && trained_on_import != Some(imported) {
        return Decision::Train {
            mode,
            why: "new data was imported",
        };
    }
    if let Some(schedule) = &retrain.schedule {
        let since = newest
            .created
            .as_deref()
            .and_then(|c| Timestamp::from_str(c).ok());
        if let Some(since) = since
            && schedule_due(schedule, since, now)
        {
            return Decision::Train {
                mode,
                why: "the retrain schedule came due",
            };
        }
    }
    Decision::Idle
}

/// Whether a 5-field cron schedule (UTC) has an occurrence after `since` and at or before `now`.
/// An unparsable schedule is never due (admission already checks its shape).
pub fn schedule_due(schedule: &str, since: Timestamp, now: Timestamp) -> bool {
    next_occurrence(schedule, since).is_some_and(|next| next <= now)
}

/// The first occurrence of a 5-field cron schedule (UTC) after `since`; none when unparsable.
pub fn next_occurrence(schedule: &str, since: Timestamp) -> Option<Timestamp> {
    let cron = croner::Cron::from_str(schedule).ok()?;
    let since = since.to_zoned(k8s_openapi::jiff::tz::TimeZone::UTC);
    cron.find_next_occurrence(&since, false)
        .ok()
        .map(|next| next.timestamp())
}

/// Whether a version's metrics pass the gate, given the currently promoted version's metrics.
pub fn passes_gate(
    candidate: &BTreeMap<String, f64>,
    promoted: Option<&BTreeMap<String, f64>>,
    gate: &Promotion,
) -> Result<(), String> {
    let key = gate.metric.as_str();
    let Some(&value) = candidate.get(key) else {
        return Err(format!("no {key} metric"));
    };
    if let Some(minimum) = gate.minimum
        && value < minimum
    {
        return Err(format!("{key} {value:.4} is below the minimum {minimum}"));
    }
    if let (Some(max_regression), Some(current)) =
        (gate.max_regression, promoted.and_then(|m| m.get(key)))
        && value < current - max_regression
    {
        return Err(format!(
            "{key} {value:.4} regresses more than {max_regression} from {current:.4}"
        ));
    }
    Ok(())
}

/// The promoted version: without a gate, the newest ACTIVE one; with a gate, the newest ACTIVE
/// version newer than the current promoted one that passes it (else the current one stays).
pub fn promoted_version(
    versions: &[SolutionVersionStatus],
    current: Option<&str>,
    gate: Option<&Promotion>,
) -> Option<String> {
    let active = versions
        .iter()
        .filter(|v| v.status.as_deref() == Some(ACTIVE));
    let Some(gate) = gate else {
        return active
            .map(|v| v.arn.clone())
            .next()
            .or_else(|| current.map(str::to_owned));
    };
    let current_metrics = current
        .and_then(|c| versions.iter().find(|v| v.arn == c))
        .map(|v| &v.metrics);
    for candidate in active {
        if Some(candidate.arn.as_str()) == current {
            break; // nothing newer passed
        }
        if passes_gate(&candidate.metrics, current_metrics, gate).is_ok() {
            return Some(candidate.arn.clone());
        }
    }
    current.map(str::to_owned)
}

/// How long until a retrain schedule next comes due after the newest version (at least 1 s).
pub fn until_next_retrain(
    schedule: &str,
    versions: &[SolutionVersionStatus],
    now: Timestamp,
) -> Option<std::time::Duration> {
    let since = versions.first()?.created.as_deref()?;
    let due = next_occurrence(schedule, Timestamp::from_str(since).ok()?)?;
    let wait = due.duration_since(now);
    Some(
        std::time::Duration::try_from(wait)
            .unwrap_or_default()
            .max(std::time::Duration::from_secs(1)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use personalize_api::solution::PromotionMetric;

    fn version(
        arn: &str,
        status: &str,
        mode: &str,
        created: &str,
        ndcg: Option<f64>,
    ) -> SolutionVersionStatus {
        SolutionVersionStatus {
            arn: arn.into(),
            status: Some(status.into()),
            training_mode: Some(mode.into()),
            created: Some(created.into()),
            failure_reason: None,
            metrics: ndcg
                .map(|v| {
                    BTreeMap::from([("normalized_discounted_cumulative_gain_at_10".to_owned(), v)])
                })
                .unwrap_or_default(),
        }
    }

    fn at(s: &str) -> Timestamp {
        Timestamp::from_str(s).expect("valid timestamp")
    }

    fn retrain(schedule: Option<&str>, on_import: bool, mode: TrainingMode) -> Retrain {
        Retrain {
            schedule: schedule.map(str::to_owned),
            on_import,
            mode,
        }
    }

    const NOW: &str = "2026-11-29T12:00:00Z";

    /// The decision at [`NOW`] given the versions, the imported revision, the revision trained
    /// on and the retrain policy.
    fn decide(
        versions: &[SolutionVersionStatus],
        imported: Option<&str>,
        trained: Option<&str>,
        retrain: Option<&Retrain>,
    ) -> Decision {
        training_decision(versions, imported, trained, retrain, at(NOW))
    }

    fn train(mode: TrainingMode, why: &'static str) -> Decision {
        Decision::Train { mode, why }
    }

    #[test]
    fn versions_created_in_the_same_second_put_the_newly_seen_one_first() {
        let old = version("zzz", "ACTIVE", "FULL", "2026-11-29T10:00:00Z", None);
        let new = version("aaa", "ACTIVE", "FULL", "2026-11-29T10:00:00Z", None);
        let earlier = version("mmm", "ACTIVE", "FULL", "2026-11-28T10:00:00Z", None);
        let mut listed = vec![earlier.clone(), old.clone(), new.clone()];
        sort_newest_first(&mut listed, &[old.clone(), earlier.clone()]);
        let arns: Vec<&str> = listed.iter().map(|v| v.arn.as_str()).collect();
        assert_eq!(arns, ["aaa", "zzz", "mmm"]);
    }

    #[test]
    fn first_version_waits_for_imported_data_then_trains_full() {
        assert_eq!(decide(&[], None, None, None), Decision::WaitForData);
        assert_eq!(
            decide(&[], Some("1"), None, None),
            train(TrainingMode::Full, "first version")
        );
    }

    #[test]
    fn never_trains_while_a_version_is_in_flight() {
        let versions = [version(
            "v2",
            "CREATE IN_PROGRESS",
            "FULL",
            "2026-11-29T11:00:00Z",
            None,
        )];
        let r = retrain(Some("* * * * *"), true, TrainingMode::Full);
        assert_eq!(
            decide(&versions, Some("2"), Some("1"), Some(&r)),
            Decision::WaitForTraining("v2".into())
        );
    }

    #[test]
    fn retrains_after_a_new_import_only_when_asked() {
        let versions = [version(
            "v1",
            "ACTIVE",
            "FULL",
            "2026-11-28T00:00:00Z",
            None,
        )];
        let on = retrain(None, true, TrainingMode::Update);
        let off = retrain(None, false, TrainingMode::Full);
        assert_eq!(
            decide(&versions, Some("2"), Some("1"), Some(&on)),
            train(TrainingMode::Update, "new data was imported")
        );
        assert_eq!(
            decide(&versions, Some("2"), Some("2"), Some(&on)),
            Decision::Idle
        );
        assert_eq!(
            decide(&versions, Some("2"), Some("1"), Some(&off)),
            Decision::Idle
        );
        assert_eq!(
            decide(&versions, Some("2"), Some("1"), None),
            Decision::Idle
        );
    }

    #[test]
    fn update_mode_falls_back_to_full_without_an_active_full_version() {
        let versions = [version(
            "v1",
            "CREATE FAILED",
            "FULL",
            "2026-11-28T00:00:00Z",
            None,
        )];
        let r = retrain(None, true, TrainingMode::Update);
        assert_eq!(
            decide(&versions, Some("2"), Some("1"), Some(&r)),
            train(TrainingMode::Full, "new data was imported")
        );
    }

    #[test]
    fn the_cron_schedule_comes_due_once_after_the_newest_version() {
        // Sundays at 03:00 UTC; 2026-11-29 is a Sunday.
        let r = retrain(Some("0 3 * * 0"), false, TrainingMode::Full);
        let before = [version(
            "v1",
            "ACTIVE",
            "FULL",
            "2026-11-28T00:00:00Z",
            None,
        )];
        assert_eq!(
            decide(&before, Some("1"), Some("1"), Some(&r)),
            train(TrainingMode::Full, "the retrain schedule came due")
        );
        let after = [version(
            "v2",
            "ACTIVE",
            "FULL",
            "2026-11-29T03:30:00Z",
            None,
        )];
        assert_eq!(
            decide(&after, Some("1"), Some("1"), Some(&r)),
            Decision::Idle
        );
        assert_eq!(
            next_occurrence("0 3 * * 0", at("2026-11-29T03:30:00Z")),
            Some(at("2026-12-06T03:00:00Z")),
            "the Sunday after"
        );
        assert!(!schedule_due(
            "not a cron",
            at("2026-01-01T00:00:00Z"),
            at(NOW)
        ));
    }

    fn gate(minimum: Option<f64>, max_regression: Option<f64>) -> Promotion {
        Promotion {
            metric: PromotionMetric::NormalizedDiscountedCumulativeGainAt10,
            minimum,
            max_regression,
        }
    }

    #[test]
    fn the_gate_checks_the_minimum_and_the_regression_against_the_promoted_version() {
        let m = |v: f64| {
            BTreeMap::from([("normalized_discounted_cumulative_gain_at_10".to_owned(), v)])
        };
        assert!(passes_gate(&m(0.12), None, &gate(Some(0.1), None)).is_ok());
        assert!(passes_gate(&m(0.08), None, &gate(Some(0.1), None)).is_err());
        assert!(passes_gate(&m(0.11), Some(&m(0.12)), &gate(None, Some(0.02))).is_ok());
        assert!(passes_gate(&m(0.09), Some(&m(0.12)), &gate(None, Some(0.02))).is_err());
        assert!(
            passes_gate(&BTreeMap::new(), None, &gate(None, None)).is_err(),
            "no metrics, no promotion"
        );
    }

    #[test]
    fn promotion_takes_the_newest_passing_version_and_otherwise_keeps_the_current_one() {
        let versions = [
            version("v3", "ACTIVE", "FULL", "2026-11-29T00:00:00Z", Some(0.05)),
            version("v2", "ACTIVE", "FULL", "2026-11-28T00:00:00Z", Some(0.13)),
            version("v1", "ACTIVE", "FULL", "2026-11-27T00:00:00Z", Some(0.12)),
        ];
        assert_eq!(
            promoted_version(&versions, Some("v1"), Some(&gate(Some(0.1), Some(0.02)))),
            Some("v2".into())
        );
        assert_eq!(
            promoted_version(&versions, Some("v2"), Some(&gate(Some(0.1), Some(0.02)))),
            Some("v2".into())
        );
        assert_eq!(
            promoted_version(&versions, None, None),
            Some("v3".into()),
            "no gate: newest ACTIVE"
        );
        let training = [version(
            "v4",
            "CREATE IN_PROGRESS",
            "FULL",
            "2026-11-30T00:00:00Z",
            None,
        )];
        assert_eq!(
            promoted_version(&training, Some("v2"), None),
            Some("v2".into())
        );
    }
}
