//! What one reconcile concluded, and the pure decisions that follow from it: the conditions
//! written to status and when to look again.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;
use personalize_api::conditions::{READY, REFERENCES_RESOLVED, SYNCED, TERMINAL};

/// The result of reconciling one object.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// AWS matches the spec and the resource is ACTIVE.
    Ready {
        /// A one-line summary for the Ready condition.
        message: String,
    },
    /// AWS is working (creating, training, updating, importing): look again soon.
    Progressing {
        /// CamelCase reason.
        reason: &'static str,
        /// What is happening, for a person.
        message: String,
    },
    /// A referenced object is missing or not ready yet; its change wakes this one.
    WaitingForReference {
        /// CamelCase reason.
        reason: &'static str,
        /// Which reference, and what it lacks.
        message: String,
    },
    /// Nothing will happen until the spec changes (invalid input, CREATE FAILED, ...).
    Terminal {
        /// CamelCase reason.
        reason: &'static str,
        /// What went wrong and what to change.
        message: String,
    },
    /// A call failed in a way that may pass (throttling, network, 5xx): retry with backoff.
    Retrying {
        /// CamelCase reason.
        reason: &'static str,
        /// The error.
        message: String,
    },
    /// The object is paused: nothing was looked at or changed in AWS. Ready, Terminal and
    /// ReferencesResolved keep what they said; Synced says Paused.
    Paused,
}

/// Polling and resync intervals.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// While AWS is mid-transition.
    pub poll: Duration,
    /// Once everything is ACTIVE (drift detection).
    pub resync: Duration,
}

impl Outcome {
    /// What it says, for a person.
    pub fn message(&self) -> &str {
        match self {
            Self::Ready { message }
            | Self::Progressing { message, .. }
            | Self::WaitingForReference { message, .. }
            | Self::Terminal { message, .. }
            | Self::Retrying { message, .. } => message,
            Self::Paused => PAUSED_MESSAGE,
        }
    }

    /// The CamelCase reason of the Ready condition it leads to (`Active` when Ready).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Ready { .. } => "Active",
            Self::Paused => "Paused",
            Self::Progressing { reason, .. }
            | Self::WaitingForReference { reason, .. }
            | Self::Terminal { reason, .. }
            | Self::Retrying { reason, .. } => reason,
        }
    }

    /// When to reconcile again; `None` waits for a change of the object (or of what it watches).
    /// Retrying is not decided here: the caller's backoff owns it.
    pub fn requeue_after(&self, timing: Timing) -> Option<Duration> {
        match self {
            Self::Ready { .. } => Some(timing.resync),
            // An observe-only object that differs from Personalize is looked at again at the
            // resync: the operator will not change it, so there is nothing to poll for.
            Self::Progressing {
                reason: crate::resource::OBSERVE_ONLY,
                ..
            } => Some(timing.resync),
            Self::Progressing { .. } | Self::Retrying { .. } => Some(timing.poll),
            // Watches wake us when the reference changes; the slow poll covers raw ARNs.
            Self::WaitingForReference { .. } => Some(timing.poll * 6),
            // Removing the annotation is a change of the object, which wakes it.
            Self::Terminal { .. } | Self::Paused => None,
        }
    }
}

/// What the Synced condition of a paused object says.
pub const PAUSED_MESSAGE: &str = "reconciliation is paused by the personalize-operator.dev/paused \
     annotation: nothing is read or changed in AWS until it is removed";

/// The conditions for an outcome, keeping `lastTransitionTime` of conditions whose status did not
/// change. `with_references` adds ReferencesResolved (kinds that reference others).
pub fn conditions(
    previous: &[Condition],
    outcome: &Outcome,
    with_references: bool,
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    let c = |status: &str, reason: &str, message: &str| {
        (status.to_owned(), reason.to_owned(), message.to_owned())
    };
    let kept = |type_: &str, status: &str, reason: &str| {
        previous
            .iter()
            .find(|p| p.type_ == type_)
            .map_or(c(status, reason, ""), |p| {
                c(&p.status, &p.reason, &p.message)
            })
    };
    let not_terminal = c("False", "NotTerminal", "");
    let resolved = c("True", "Resolved", "");
    let [ready, synced, terminal, references] = match outcome {
        Outcome::Ready { message } => [
            c("True", "Active", message),
            c("True", "Synced", "AWS matches the spec"),
            not_terminal,
            resolved,
        ],
        Outcome::Progressing { reason, message } => [
            c("False", reason, message),
            c("False", reason, message),
            not_terminal,
            resolved,
        ],
        Outcome::WaitingForReference { reason, message } => [
            c("False", reason, message),
            c("False", reason, message),
            not_terminal,
            c("False", reason, message),
        ],
        Outcome::Terminal { reason, message } => [
            c("False", reason, message),
            c("False", reason, message),
            c("True", reason, message),
            resolved,
        ],
        Outcome::Retrying { reason, message } => [
            c("False", reason, message),
            c("Unknown", reason, message),
            not_terminal,
            resolved,
        ],
        Outcome::Paused => [
            kept(READY, "False", "Paused"),
            c("False", "Paused", PAUSED_MESSAGE),
            kept(TERMINAL, "False", "NotTerminal"),
            kept(REFERENCES_RESOLVED, "Unknown", "Paused"),
        ],
    };
    let mut wanted = vec![(READY, ready), (SYNCED, synced), (TERMINAL, terminal)];
    if with_references {
        wanted.push((REFERENCES_RESOLVED, references));
    }
    built(previous, wanted, generation, now)
}

/// Conditions of these types with (status, reason, message), keeping `lastTransitionTime` where
/// the status did not change.
fn built(
    previous: &[Condition],
    wanted: Vec<(&str, (String, String, String))>,
    generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    wanted
        .into_iter()
        .map(|(type_, (status, reason, message))| {
            let last = previous.iter().find(|c| c.type_ == type_);
            let last_transition_time = match last {
                Some(c) if c.status == status => c.last_transition_time.clone(),
                _ => Time(now),
            };
            Condition {
                type_: type_.to_owned(),
                status: status.to_owned(),
                reason: reason.to_owned(),
                message,
                observed_generation: generation,
                last_transition_time,
            }
        })
        .collect()
}

/// The backoff before retry `attempt` (1, 2, ...) after a failure: exponential from `base`,
/// capped at `max` (`backon`'s exponential backoff), with up to 20% jitter taken from `salt`
/// (deterministic per object and try; backon's own jitter adds up to 100% and is random).
pub fn backoff(attempt: u32, base: Duration, max: Duration, salt: u64) -> Duration {
    use backon::BackoffBuilder as _;
    let capped = backon::ExponentialBuilder::new()
        .with_min_delay(base)
        .with_max_delay(max)
        .with_factor(2.0)
        .without_max_times()
        .build()
        // At most 2^16 * base before the cap, as before.
        .nth(attempt.saturating_sub(1).min(16) as usize)
        .unwrap_or(max)
        .min(max);
    let jitter_permille = (salt.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 54) % 200; // 0..200
    capped + capped.mul_f64(jitter_permille as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paused_says_so_in_synced_and_keeps_the_rest() {
        let now = Timestamp::now();
        let ready = Outcome::Ready {
            message: "all good".into(),
        };
        let before = conditions(&[], &ready, true, Some(1), now);
        let paused = conditions(&before, &Outcome::Paused, true, Some(2), now);
        let find = |cs: &[Condition], t: &str| {
            cs.iter()
                .find(|c| c.type_ == t)
                .cloned()
                .expect("condition")
        };
        assert_eq!(find(&paused, READY).status, "True");
        assert_eq!(find(&paused, READY).message, "all good");
        let synced = find(&paused, SYNCED);
        assert_eq!(
            (synced.status.as_str(), synced.reason.as_str()),
            ("False", "Paused")
        );
        assert!(synced.message.contains("personalize-operator.dev/paused"));
        assert_eq!(find(&paused, TERMINAL).status, "False");
        assert_eq!(find(&paused, REFERENCES_RESOLVED).status, "True");
        // Paused before anything was known.
        let fresh = conditions(&[], &Outcome::Paused, false, Some(1), now);
        assert_eq!(find(&fresh, READY).reason, "Paused");
        assert_eq!(find(&fresh, READY).status, "False");
        assert_eq!(
            Outcome::Paused.requeue_after(Timing {
                poll: Duration::from_secs(1),
                resync: Duration::from_secs(60),
            }),
            None,
            "the annotation's removal wakes it"
        );
    }

    fn now() -> Timestamp {
        Timestamp::from_second(1_700_000_000).expect("valid timestamp")
    }

    fn find<'a>(conditions: &'a [Condition], type_: &str) -> &'a Condition {
        conditions
            .iter()
            .find(|c| c.type_ == type_)
            .expect("condition present")
    }

    #[test]
    fn ready_sets_ready_and_synced_true_and_terminal_false() {
        let c = conditions(
            &[],
            &Outcome::Ready {
                message: "ACTIVE".into(),
            },
            true,
            Some(3),
            now(),
        );
        assert_eq!(find(&c, READY).status, "True");
        assert_eq!(find(&c, SYNCED).status, "True");
        assert_eq!(find(&c, TERMINAL).status, "False");
        assert_eq!(find(&c, REFERENCES_RESOLVED).status, "True");
        assert!(c.iter().all(|c| c.observed_generation == Some(3)));
    }

    #[test]
    fn terminal_keeps_the_aws_message_and_never_requeues() {
        let outcome = Outcome::Terminal {
            reason: "CreateFailed",
            message: "bad schema".into(),
        };
        let c = conditions(&[], &outcome, false, None, now());
        assert_eq!(find(&c, TERMINAL).status, "True");
        assert_eq!(find(&c, READY).message, "bad schema");
        assert!(c.iter().all(|c| c.type_ != REFERENCES_RESOLVED));
        let timing = Timing {
            poll: Duration::from_secs(5),
            resync: Duration::from_secs(600),
        };
        assert_eq!(outcome.requeue_after(timing), None);
    }

    #[test]
    fn waiting_for_a_reference_marks_references_unresolved() {
        let outcome = Outcome::WaitingForReference {
            reason: "DatasetGroupNotReady",
            message: "m".into(),
        };
        let c = conditions(&[], &outcome, true, None, now());
        assert_eq!(find(&c, REFERENCES_RESOLVED).status, "False");
        assert_eq!(find(&c, REFERENCES_RESOLVED).reason, "DatasetGroupNotReady");
    }

    #[test]
    fn transition_time_moves_only_when_status_flips() {
        let earlier = Timestamp::from_second(1_600_000_000).expect("valid timestamp");
        let first = conditions(
            &[],
            &Outcome::Progressing {
                reason: "Creating",
                message: "m".into(),
            },
            false,
            None,
            earlier,
        );
        let second = conditions(
            &first,
            &Outcome::Progressing {
                reason: "Training",
                message: "n".into(),
            },
            false,
            None,
            now(),
        );
        assert_eq!(
            find(&second, READY).last_transition_time.0,
            earlier,
            "still False"
        );
        let third = conditions(
            &second,
            &Outcome::Ready {
                message: "ok".into(),
            },
            false,
            None,
            now(),
        );
        assert_eq!(
            find(&third, READY).last_transition_time.0,
            now(),
            "flipped to True"
        );
    }

    #[test]
    fn backoff_grows_exponentially_to_a_cap_with_bounded_jitter() {
        let base = Duration::from_secs(2);
        let max = Duration::from_secs(300);
        for salt in [0, 1, 42, u64::MAX] {
            let first = backoff(1, base, max, salt);
            assert!(first >= base && first <= base.mul_f64(1.2), "{first:?}");
            let fourth = backoff(4, base, max, salt);
            assert!(
                fourth >= base * 8 && fourth <= (base * 8).mul_f64(1.2),
                "{fourth:?}"
            );
            let late = backoff(30, base, max, salt);
            assert!(late >= max && late <= max.mul_f64(1.2), "{late:?}");
        }
    }

    #[test]
    fn progressing_polls_and_ready_resyncs() {
        let timing = Timing {
            poll: Duration::from_secs(5),
            resync: Duration::from_secs(600),
        };
        let progressing = Outcome::Progressing {
            reason: "Creating",
            message: String::new(),
        };
        assert_eq!(
            progressing.requeue_after(timing),
            Some(Duration::from_secs(5))
        );
        let ready = Outcome::Ready {
            message: String::new(),
        };
        assert_eq!(ready.requeue_after(timing), Some(Duration::from_secs(600)));
    }
}
