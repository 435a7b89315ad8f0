//! The pure decisions of a progressive rollout between two solution versions (a Campaign's
//! `spec.rollout`): whether a rollout starts, goes on or ends ([`decide`]), the analysis of one
//! arm against the other ([`analyse`], on the gateway's counts read by [`arm_counts`]), and the
//! next step of a canary ([`next`]). No I/O: the Campaign's reconcile (`campaign.rs`) acts on
//! them, and the gateway splits users with `personalize_api::campaign::on_candidate`.
//!
//! A canary moves the candidate's share of traffic through `steps` (each held for its pause).
//! After each pause the analysis compares the candidate's click-through rate with the stable
//! arm's: with too few impressions it waits; a candidate worse than the stable arm by more than
//! the allowed regression counts a failure, and `failure_limit` failures abort. The last step
//! passed promotes. Manual controls (promote now, abort, pause) win over everything.

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use personalize_api::campaign::{RolloutAnalysis, RolloutStrategy};
use personalize_api::{Rollout, RolloutPhase, RolloutStatus};

/// What a campaign's reconcile does about rollouts, given the spec, the rollout in status, the
/// version the policy selects and the version the campaign serves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// No rollout: serve the selected version directly (no spec.rollout, the first deployment,
    /// or nothing new).
    Direct,
    /// Roll the selected version out, from the deployed one.
    Start,
    /// Go on with the rollout in status (or finish ending it: drain and delete the candidate).
    Continue,
    /// Keep the deployed version: the selected one was rejected by the last rollout.
    Keep,
    /// End the rollout in status without judging it.
    Supersede {
        /// Why, for the status.
        why: String,
    },
}

/// Decides what a campaign does about rollouts. Pure.
pub fn decide(
    spec: Option<&Rollout>,
    state: Option<&RolloutStatus>,
    selected: &str,
    deployed: Option<&str>,
) -> Decision {
    if let Some(r) = state.filter(|r| r.phase.is_active()) {
        return match () {
            // A promotion under way finishes.
            _ if r.phase == RolloutPhase::Promoting => Decision::Continue,
            _ if spec.is_none() => Decision::Supersede {
                why: "spec.rollout was removed".into(),
            },
            _ if r.candidate_version_arn != selected => Decision::Supersede {
                why: format!(
                    "version {} was selected",
                    crate::personalize::short_id(selected)
                ),
            },
            _ => Decision::Continue,
        };
    }
    if state.is_some_and(|r| r.candidate_campaign_arn.is_some()) {
        return Decision::Continue; // ended: the candidate is still to be deleted
    }
    let Some(deployed) = deployed else {
        return Decision::Direct;
    };
    if spec.is_none() || deployed == selected {
        return Decision::Direct;
    }
    let rejected = state.is_some_and(|r| {
        r.candidate_version_arn == selected
            && matches!(r.phase, RolloutPhase::Aborted | RolloutPhase::Concluded)
    });
    if rejected {
        Decision::Keep
    } else {
        Decision::Start
    }
}

/// A duration as Kubernetes writes them: `500ms`, `90s`, `5m`, `1h30m`. Pure.
pub fn parse_duration(text: &str) -> Option<SignedDuration> {
    let mut total = SignedDuration::ZERO;
    let mut rest = text;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit())?;
        let n: i64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = match () {
            _ if rest.starts_with("ms") => (SignedDuration::from_millis(n), 2),
            _ if rest.starts_with('s') => (SignedDuration::from_secs(n), 1),
            _ if rest.starts_with('m') => (SignedDuration::from_mins(n), 1),
            _ if rest.starts_with('h') => (SignedDuration::from_hours(n), 1),
            _ => return None,
        };
        total = total.checked_add(unit)?;
        rest = &rest[len..];
    }
    Some(total)
}

/// The steps of a rollout spec: a Canary's, or an Experiment's one split held for its
/// duration. Err names the field of a duration that does not parse. Pure.
pub fn steps_of(spec: &Rollout) -> Result<Vec<Step>, String> {
    let steps: Vec<_> = match spec.strategy {
        RolloutStrategy::Canary => spec.steps.iter().enumerate().collect(),
        RolloutStrategy::Experiment => spec.experiment.iter().enumerate().collect(),
    };
    steps
        .into_iter()
        .map(|(i, step)| {
            let pause = parse_duration(&step.pause).ok_or_else(|| match spec.strategy {
                RolloutStrategy::Canary => format!("spec.rollout.steps[{i}].pause"),
                RolloutStrategy::Experiment => "spec.rollout.experiment.pause".to_owned(),
            })?;
            Ok(Step {
                weight: step.weight,
                pause,
            })
        })
        .collect()
}

/// The analysis a rollout spec asks for.
pub fn analysis_of(spec: &RolloutAnalysis) -> Analysis {
    Analysis {
        min_samples: u64::try_from(spec.min_samples).unwrap_or(0),
        max_regression: spec.max_regression,
        failure_limit: u32::try_from(spec.failure_limit).unwrap_or(1),
    }
}

/// A rollout of `candidate` from `stable`, just begun: the candidate campaign is still to be
/// created and serves no one.
pub fn begin(stable: &str, candidate: &str) -> RolloutStatus {
    RolloutStatus {
        phase: RolloutPhase::Progressing,
        stable_version_arn: stable.to_owned(),
        candidate_version_arn: candidate.to_owned(),
        candidate_campaign_arn: None,
        weight: 0,
        step: 0,
        step_started_time: None,
        failures: 0,
        finished_time: None,
        message: Some("creating the candidate campaign".into()),
        stable: None,
        candidate: None,
    }
}

/// Where a rollout in status stands in its steps (an unreadable start time counts as now).
pub fn progress_of(state: &RolloutStatus, now: Timestamp) -> Progress {
    let since = state
        .step_started_time
        .as_deref()
        .and_then(|t| t.parse().ok());
    Progress {
        step: usize::try_from(state.step).unwrap_or(0),
        since: since.unwrap_or(now),
        failures: u32::try_from(state.failures).unwrap_or(0),
    }
}

/// The stable and candidate arms' counts for one rollout of one campaign (`<namespace>/<name>`)
/// in the gateway's Prometheus text: `personalize_gateway_recommendations_total` and
/// `personalize_gateway_clicks_total` samples with those labels, added up. Pure.
pub fn arm_counts(text: &str, campaign: &str, rollout: &str) -> (ArmCounts, ArmCounts) {
    let mut stable = ArmCounts::default();
    let mut candidate = ArmCounts::default();
    for line in text.lines() {
        let Some((name, rest)) = line.split_once('{') else {
            continue;
        };
        let Some((labels, value)) = rest.rsplit_once("} ") else {
            continue;
        };
        let label = |key: &str| {
            let start = labels
                .find(&format!("{key}=\""))
                .map(|i| i + key.len() + 2)?;
            labels[start..].split('"').next()
        };
        if label("campaign") != Some(campaign) || label("rollout") != Some(rollout) {
            continue;
        }
        let arm = match label("arm") {
            Some("stable") => &mut stable,
            Some("candidate") => &mut candidate,
            _ => continue,
        };
        let n = value.trim().parse::<f64>().unwrap_or(0.0) as u64;
        match name {
            "personalize_gateway_recommendations_total" => arm.impressions += n,
            "personalize_gateway_clicks_total" => arm.clicks += n,
            _ => {}
        }
    }
    (stable, candidate)
}

/// Impressions (recommendations served) and clicks attributed to one arm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArmCounts {
    /// Recommendation lists served.
    pub impressions: u64,
    /// Clicks on them.
    pub clicks: u64,
}

impl std::ops::Add for ArmCounts {
    type Output = ArmCounts;

    fn add(self, other: ArmCounts) -> ArmCounts {
        ArmCounts {
            impressions: self.impressions + other.impressions,
            clicks: self.clicks + other.clicks,
        }
    }
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
    pub weight: i32,
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
/// looked at once the step's pause is over) and how many failed analyses abort. Pure.
pub fn next(
    steps: &[Step],
    progress: &Progress,
    verdict: &Verdict,
    failure_limit: u32,
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
        Verdict::Fail { why } if progress.failures + 1 >= failure_limit => Next::Abort {
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

    /// The next move with no manual control.
    fn plain(progress: &Progress, verdict: &Verdict, now: Timestamp) -> Next {
        let limit = ANALYSIS.failure_limit;
        next(&steps(), progress, verdict, limit, Controls::default(), now)
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
            ANALYSIS.failure_limit,
            Controls::default(),
            at("2026-12-02T10:02:00Z"),
        );
        assert!(
            matches!(early, Next::Hold { after: Some(d), .. } if d == SignedDuration::from_mins(3))
        );
        let later = at("2026-12-02T10:05:00Z");
        assert_eq!(
            plain(&progress, &Verdict::Pass, later),
            Next::Advance { to: 1 }
        );
        let last = Progress {
            step: 1,
            ..progress
        };
        assert!(matches!(
            plain(&last, &Verdict::Pass, later),
            Next::Promote { .. }
        ));
        let waiting = Verdict::Inconclusive { why: "few".into() };
        assert!(matches!(
            plain(&progress, &waiting, later),
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
        assert!(matches!(plain(&progress, &bad, now), Next::Failed { .. }));
        let once = Progress {
            failures: 1,
            ..progress
        };
        assert!(matches!(
            plain(&once, &bad, now),
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
        let with = |controls, verdict: &Verdict| {
            next(
                &steps(),
                &progress,
                verdict,
                ANALYSIS.failure_limit,
                controls,
                now,
            )
        };
        let all = Controls {
            promote: true,
            abort: true,
            pause: true,
        };
        assert!(matches!(with(all, &Verdict::Pass), Next::Abort { .. }));
        let promote = Controls {
            promote: true,
            ..Controls::default()
        };
        let bad = Verdict::Fail {
            why: "worse".into(),
        };
        assert!(matches!(with(promote, &bad), Next::Promote { .. }));
        let pause = Controls {
            pause: true,
            ..Controls::default()
        };
        assert!(matches!(
            with(pause, &Verdict::Pass),
            Next::Hold { after: None, .. }
        ));
    }

    #[test]
    fn durations_parse_as_kubernetes_writes_them() {
        assert_eq!(parse_duration("90s"), Some(SignedDuration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Some(SignedDuration::from_mins(90)));
        assert_eq!(
            parse_duration("500ms"),
            Some(SignedDuration::from_millis(500))
        );
        for bad in ["", "5", "m", "5d", "1h 30m", "-5s"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn arm_counts_add_up_the_samples_of_one_rollout_of_one_campaign() {
        let text = r#"# HELP personalize_gateway_recommendations_total Lists served.
# TYPE personalize_gateway_recommendations_total counter
personalize_gateway_recommendations_total{campaign="team/movies",rollout="v2",arm="stable"} 900
personalize_gateway_recommendations_total{campaign="team/movies",rollout="v2",arm="candidate"} 100
personalize_gateway_recommendations_total{campaign="team/movies",rollout="v1",arm="candidate"} 7
personalize_gateway_recommendations_total{campaign="team/other",rollout="v2",arm="candidate"} 5
personalize_gateway_clicks_total{campaign="team/movies",rollout="v2",arm="stable"} 90
personalize_gateway_clicks_total{campaign="team/movies",rollout="v2",arm="candidate"} 12
personalize_gateway_recommendation_seconds_count{campaign="team/movies",arm="candidate"} 100
"#;
        let (stable, candidate) = arm_counts(text, "team/movies", "v2");
        assert_eq!(stable, arm(900, 90));
        assert_eq!(candidate, arm(100, 12));
        assert_eq!(arm_counts(text, "team/none", "v2"), (arm(0, 0), arm(0, 0)));
    }

    #[test]
    fn decide_starts_continues_supersedes_and_remembers_a_rejection() {
        use personalize_api::campaign::RolloutStep;
        let spec = Rollout {
            strategy: RolloutStrategy::Canary,
            steps: vec![RolloutStep {
                weight: 10,
                pause: "1m".into(),
            }],
            experiment: None,
            analysis: None,
        };
        let state = |phase, candidate: &str, campaign: Option<&str>| RolloutStatus {
            phase,
            candidate_campaign_arn: campaign.map(str::to_owned),
            ..begin("v1", candidate)
        };
        use RolloutPhase::*;
        let on = Some(&spec);
        let running = state(Progressing, "v2", Some("c"));
        let aborted = state(Aborted, "v2", None);
        let draining = state(Aborted, "v2", Some("c"));
        let promoting = state(Promoting, "v2", Some("c"));
        let cases = [
            (on, None, "v1", None, Decision::Direct), // the first deployment
            (on, None, "v1", Some("v1"), Decision::Direct), // nothing new
            (None, None, "v2", Some("v1"), Decision::Direct), // no spec.rollout
            (on, None, "v2", Some("v1"), Decision::Start),
            (on, Some(&running), "v2", Some("v1"), Decision::Continue),
            (on, Some(&draining), "v2", Some("v1"), Decision::Continue),
            (on, Some(&aborted), "v2", Some("v1"), Decision::Keep),
            (on, Some(&aborted), "v3", Some("v1"), Decision::Start),
            (None, Some(&promoting), "v2", Some("v1"), Decision::Continue),
        ];
        for (spec, state, selected, deployed, want) in cases {
            assert_eq!(
                decide(spec, state, selected, deployed),
                want,
                "{state:?} {selected} {deployed:?}"
            );
        }
        assert!(matches!(
            decide(on, Some(&running), "v3", Some("v1")),
            Decision::Supersede { why } if why.contains("v3")
        ));
        assert!(matches!(
            decide(None, Some(&running), "v2", Some("v1")),
            Decision::Supersede { why } if why.contains("removed")
        ));
    }
}
