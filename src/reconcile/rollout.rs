//! The pure decisions of a progressive rollout between two solution versions (issue #15): the
//! analysis of one arm against the other, and the next step of a canary. No I/O; nothing calls
//! them yet: the Campaign's `spec.rollout`, the candidate campaign and the gateway's split build on
//! them.
//!
//! A canary moves the candidate's share of traffic through `steps` (each held for its pause).
//! After each pause the analysis compares the candidate's click-through rate with the stable
//! arm's: with too few impressions it waits; a candidate worse than the stable arm by more than
//! the allowed regression counts a failure, and `failure_limit` failures abort. The last step
//! passed promotes. Manual controls (promote now, abort, pause) win over everything.

use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// Impressions (recommendations served) and clicks attributed to one arm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArmCounts {
    /// Recommendation lists served.
    pub impressions: u64,
    /// Clicks on them.
    pub clicks: u64,
}

impl ArmCounts {
    /// Click-through rate (0 without impressions).
    pub fn rate(self) -> f64 {
        match self.impressions {
            0 => 0.0,
            n => self.clicks as f64 / n as f64,
        }
    }
}

/// How the candidate is judged.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Analysis {
    /// Impressions each arm needs before it is judged.
    pub min_samples: u64,
    /// How much lower than the stable arm's rate the candidate's may be, relative (0.05: 5%).
    pub max_regression: f64,
    /// Failed analyses that abort the rollout.
    pub failure_limit: u32,
}

/// What one analysis concludes.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    /// Not enough impressions yet.
    Inconclusive {
        /// Which arm lacks samples, for a person.
        why: String,
    },
    /// The candidate is no worse than allowed.
    Pass,
    /// The candidate is worse than allowed.
    Fail {
        /// By how much, for a person.
        why: String,
    },
}

/// Judges the candidate against the stable arm. Pure.
pub fn analyse(stable: ArmCounts, candidate: ArmCounts, analysis: &Analysis) -> Verdict {
    for (arm, counts) in [("stable", stable), ("candidate", candidate)] {
        if counts.impressions < analysis.min_samples {
            return Verdict::Inconclusive {
                why: format!(
                    "the {arm} arm has {} of {} impressions",
                    counts.impressions, analysis.min_samples
                ),
            };
        }
    }
    let floor = stable.rate() * (1.0 - analysis.max_regression);
    if candidate.rate() >= floor {
        Verdict::Pass
    } else {
        Verdict::Fail {
            why: format!(
                "candidate click-through {:.4} is below {:.4} (stable {:.4} less {:.0}%)",
                candidate.rate(),
                floor,
                stable.rate(),
                analysis.max_regression * 100.0
            ),
        }
    }
}

/// One canary step: the candidate's share of traffic and how long it is held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Percent of users (by a sticky hash of userId) the candidate serves.
    pub weight: u8,
    /// How long the step is held before it is analysed.
    pub pause: SignedDuration,
}

/// Where a rollout stands (kept in status, so a restart resumes the same step).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The current step (index into the steps).
    pub step: usize,
    /// When it began.
    pub since: Timestamp,
    /// Failed analyses so far.
    pub failures: u32,
}

/// Manual controls (annotations).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Controls {
    /// Promote the candidate now.
    pub promote: bool,
    /// Abort now.
    pub abort: bool,
    /// Hold the current step.
    pub pause: bool,
}

/// What to do next.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    /// Stay on the current step; look again after `after` (none: only on a change).
    Hold {
        /// Why, for the condition.
        why: String,
        /// When to look again.
        after: Option<SignedDuration>,
    },
    /// Count a failed analysis and stay on the step (the failure limit is not reached).
    Failed {
        /// The verdict's reason.
        why: String,
    },
    /// Move to step `to`.
    Advance {
        /// The next step.
        to: usize,
    },
    /// Make the candidate the stable version.
    Promote {
        /// Why, for the Event.
        why: String,
    },
    /// Send everyone back to the stable version and remove the candidate.
    Abort {
        /// Why, for the Warning Event and the condition.
        why: String,
    },
}

/// The next move of a canary at `now`, given the analysis of the current step (`verdict`, only
/// looked at once the step's pause is over). Pure.
pub fn next(
    steps: &[Step],
    progress: &Progress,
    verdict: &Verdict,
    analysis: &Analysis,
    controls: Controls,
    now: Timestamp,
) -> Next {
    if controls.abort {
        return Next::Abort {
            why: "aborted by annotation".into(),
        };
    }
    if controls.promote {
        return Next::Promote {
            why: "promoted by annotation".into(),
        };
    }
    if controls.pause {
        return Next::Hold {
            why: "paused by annotation".into(),
            after: None,
        };
    }
    let Some(step) = steps.get(progress.step) else {
        return Next::Promote {
            why: "every step passed".into(),
        };
    };
    let held = now.duration_since(progress.since);
    if held < step.pause {
        return Next::Hold {
            why: format!(
                "step {} of {} at {}% until its pause is over",
                progress.step + 1,
                steps.len(),
                step.weight
            ),
            after: Some(step.pause - held),
        };
    }
    match verdict {
        Verdict::Inconclusive { why } => Next::Hold {
            why: why.clone(),
            after: Some(SignedDuration::from_secs(30)),
        },
        Verdict::Fail { why } if progress.failures + 1 >= analysis.failure_limit => Next::Abort {
            why: format!("{why} ({} failed analyses)", progress.failures + 1),
        },
        Verdict::Fail { why } => Next::Failed { why: why.clone() },
        Verdict::Pass if progress.step + 1 >= steps.len() => Next::Promote {
            why: format!("the candidate passed all {} steps", steps.len()),
        },
        Verdict::Pass => Next::Advance {
            to: progress.step + 1,
        },
    }
}

/// The arm a user is served by: the candidate for `weight` percent of users, by a stable hash
/// of the user id (the same user stays on one arm for the whole step, and users on the
/// candidate stay on it as the weight grows). Pure.
pub fn on_candidate(user_id: &str, weight: u8) -> bool {
    let hash = crate::naming::short_hash(user_id);
    let bucket = u32::from_str_radix(&hash, 16).unwrap_or(0) % 100;
    bucket < u32::from(weight)
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn at(s: &str) -> Timestamp {
        Timestamp::from_str(s).expect("timestamp")
    }

    const ANALYSIS: Analysis = Analysis {
        min_samples: 1000,
        max_regression: 0.05,
        failure_limit: 2,
    };

    fn arm(impressions: u64, clicks: u64) -> ArmCounts {
        ArmCounts {
            impressions,
            clicks,
        }
    }

    fn steps() -> Vec<Step> {
        [10, 50]
            .map(|weight| Step {
                weight,
                pause: SignedDuration::from_mins(5),
            })
            .to_vec()
    }

    #[test]
    fn analysis_waits_for_samples_then_judges_against_the_stable_rate() {
        let verdict = analyse(arm(5000, 500), arm(999, 200), &ANALYSIS);
        assert!(matches!(&verdict, Verdict::Inconclusive { why } if why.contains("candidate")));
        assert_eq!(
            analyse(arm(5000, 500), arm(1000, 96), &ANALYSIS),
            Verdict::Pass
        );
        let failed = analyse(arm(5000, 500), arm(1000, 94), &ANALYSIS);
        assert!(matches!(&failed, Verdict::Fail { why } if why.contains("0.0940")));
        assert_eq!(
            analyse(arm(1000, 0), arm(1000, 0), &ANALYSIS),
            Verdict::Pass,
            "no clicks anywhere is no regression"
        );
    }

    #[test]
    fn a_step_is_held_for_its_pause_then_advances_and_the_last_promotes() {
        let start = at("2026-12-02T10:00:00Z");
        let progress = Progress {
            step: 0,
            since: start,
            failures: 0,
        };
        let early = next(
            &steps(),
            &progress,
            &Verdict::Pass,
            &ANALYSIS,
            Controls::default(),
            at("2026-12-02T10:02:00Z"),
        );
        assert!(
            matches!(early, Next::Hold { after: Some(d), .. } if d == SignedDuration::from_mins(3))
        );
        let later = at("2026-12-02T10:05:00Z");
        assert_eq!(
            next(
                &steps(),
                &progress,
                &Verdict::Pass,
                &ANALYSIS,
                Controls::default(),
                later
            ),
            Next::Advance { to: 1 }
        );
        let last = Progress {
            step: 1,
            ..progress
        };
        assert!(matches!(
            next(
                &steps(),
                &last,
                &Verdict::Pass,
                &ANALYSIS,
                Controls::default(),
                later
            ),
            Next::Promote { .. }
        ));
        let waiting = Verdict::Inconclusive { why: "few".into() };
        assert!(matches!(
            next(
                &steps(),
                &progress,
                &waiting,
                &ANALYSIS,
                Controls::default(),
                later
            ),
            Next::Hold { .. }
        ));
    }

    #[test]
    fn failures_count_up_to_the_limit_then_abort() {
        let progress = Progress {
            step: 0,
            since: at("2026-12-02T10:00:00Z"),
            failures: 0,
        };
        let now = at("2026-12-02T10:06:00Z");
        let bad = Verdict::Fail {
            why: "worse".into(),
        };
        assert!(matches!(
            next(
                &steps(),
                &progress,
                &bad,
                &ANALYSIS,
                Controls::default(),
                now
            ),
            Next::Failed { .. }
        ));
        let once = Progress {
            failures: 1,
            ..progress
        };
        assert!(matches!(
            next(&steps(), &once, &bad, &ANALYSIS, Controls::default(), now),
            Next::Abort { why } if why.contains("2 failed")
        ));
    }

    #[test]
    fn manual_controls_win() {
        let progress = Progress {
            step: 0,
            since: at("2026-12-02T10:00:00Z"),
            failures: 0,
        };
        let now = at("2026-12-02T10:06:00Z");
        let all = Controls {
            promote: true,
            abort: true,
            pause: true,
        };
        assert!(matches!(
            next(&steps(), &progress, &Verdict::Pass, &ANALYSIS, all, now),
            Next::Abort { .. }
        ));
        let promote = Controls {
            promote: true,
            ..Controls::default()
        };
        let bad = Verdict::Fail {
            why: "worse".into(),
        };
        assert!(matches!(
            next(&steps(), &progress, &bad, &ANALYSIS, promote, now),
            Next::Promote { .. }
        ));
        let pause = Controls {
            pause: true,
            ..Controls::default()
        };
        assert!(matches!(
            next(&steps(), &progress, &Verdict::Pass, &ANALYSIS, pause, now),
            Next::Hold { after: None, .. }
        ));
    }

    #[test]
    fn the_split_is_sticky_close_to_its_weight_and_grows_monotonically() {
        let users: Vec<String> = (0..10_000).map(|u| format!("user-{u}")).collect();
        let share = |weight| users.iter().filter(|u| on_candidate(u, weight)).count();
        assert_eq!(share(0), 0);
        assert_eq!(share(100), users.len());
        let ten = share(10);
        assert!((800..1200).contains(&ten), "{ten} of 10000 at 10%");
        assert!(
            users
                .iter()
                .all(|u| !on_candidate(u, 10) || on_candidate(u, 50)),
            "a user on the candidate at 10% stays on it at 50%"
        );
    }
}
