//! `Campaign`: the solution version its policy selects (from the referenced Solution's status,
//! or pinned), then the campaign on it, rolled to a newly selected version (or new TPS or
//! exploration) through UpdateCampaign, never while an update is in flight.
//!
//! With `spec.rollout`, a newly selected version is rolled out progressively instead
//! ([`Campaign::roll`]): a candidate campaign on it serves a growing share of users through the
//! gateway's split, judged on the gateway's counts, until it is promoted (UpdateCampaign of the
//! campaign to it) or aborted; the candidate is then drained and deleted. Every decision is in
//! `rollout.rs`; everything needed to resume after a restart is in `status.rollout`.

use std::collections::BTreeMap;

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::ResourceExt;
use personalize_api::campaign::{
    ArmStatus, CampaignUpdateStatus, ROLLOUT_ANNOTATION, RankingInfluence, RolloutAnalysis,
    RolloutStrategy,
};
use personalize_api::{
    Campaign, CampaignStatus, ObjectRef, RolloutPhase, RolloutStatus, VersionPolicy,
};

use super::rollout::{self, Analysis, ArmCounts, Controls, Decision, Next, Verdict};
use super::{
    Context, Decided, Env, Error, Managed, Resolve, aws_name, namespace, observe_only, own_arn,
    settle, tags, waiting_for,
};
use crate::naming::child_name;
use crate::outcome::Outcome;
use crate::personalize::{
    CampaignConfig, CampaignDetails, NewCampaign, Observation, Status, region_of, short_id,
};
use crate::resource::{
    At, AwsResource, Deletion, Pending, Plan, Synced, Updated, first_waiting, lifecycle_plan,
};

impl AwsResource for NewCampaign {
    async fn update(&self, at: At<'_, CampaignDetails>) -> Updated {
        at.api.update_campaign(at.arn, self).await?;
        Ok("UpdateCampaign")
    }

    /// Waits while creating or updating; updates when ACTIVE (or CREATE FAILED) and anything
    /// differs; never repeats an update that failed for the same target version.
    fn plan(&self, observed: &Observation<CampaignDetails>) -> Plan {
        let want = self;
        let have = &observed.details;
        if observed.status.is_creating() {
            return Plan::wait("Deploying", format!("campaign is {}", observed.status));
        }
        if let Some(update) = &have.latest_update
            && update.status.is_creating()
        {
            let target = update.solution_version_arn.as_deref().map(short_id);
            return Plan::wait(
                "Deploying",
                format!(
                    "update to {} is {}",
                    target.unwrap_or("a new version"),
                    update.status
                ),
            );
        }
        let exploration = want
            .config
            .as_ref()
            .map(|c| &c.item_exploration)
            .filter(|e| !e.is_empty());
        let influence = want
            .config
            .as_ref()
            .map(|c| &c.ranking_influence)
            .filter(|r| !r.is_empty());
        let differs = have.solution_version_arn.as_deref() != Some(&want.solution_version_arn)
            || have.min_provisioned_tps != Some(want.min_provisioned_tps)
            || exploration.is_some_and(|e| *e != have.item_exploration)
            || influence.is_some_and(|r| *r != have.ranking_influence);
        if let Some(update) = &have.latest_update
            && update.status == Status::CreateFailed
            && update.solution_version_arn.as_deref() == Some(&want.solution_version_arn)
            && differs
        {
            return Plan::fail(
                "DeployFailed",
                format!(
                    "update to {} failed: {}",
                    short_id(&want.solution_version_arn),
                    update
                        .failure_reason
                        .as_deref()
                        .unwrap_or("no reason given")
                ),
            );
        }
        match observed.status {
            Status::Active | Status::CreateFailed if differs => Plan::Update,
            _ => lifecycle_plan("campaign", observed),
        }
    }
}

/// Personalize's `itemExplorationConfig` and `rankingInfluence` for the spec's exploration
/// weight, item age cut-off and ranking influence (campaigns and batch inference jobs).
pub fn exploration_and_influence(
    weight: Option<f64>,
    age_cut_off: Option<i32>,
    influence: Option<&RankingInfluence>,
) -> (BTreeMap<String, String>, BTreeMap<String, f64>) {
    let exploration = [
        ("explorationWeight", weight.map(|w| w.to_string())),
        (
            "explorationItemAgeCutOff",
            age_cut_off.map(|d| d.to_string()),
        ),
    ];
    let influence = [
        ("POPULARITY", influence.and_then(|r| r.popularity)),
        ("FRESHNESS", influence.and_then(|r| r.freshness)),
    ];
    (
        exploration
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_owned(), v?)))
            .collect(),
        influence
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_owned(), v?)))
            .collect(),
    )
}

/// Personalize's campaignConfig for the spec's.
fn campaign_config(spec: &personalize_api::campaign::CampaignConfig) -> CampaignConfig {
    let (exploration, ranking_influence) = exploration_and_influence(
        spec.exploration_weight,
        spec.exploration_item_age_cut_off,
        spec.ranking_influence.as_ref(),
    );
    CampaignConfig {
        item_exploration: exploration,
        enable_metadata: spec.enable_metadata_with_recommendations,
        sync_with_latest: spec.sync_with_latest_solution_version,
        ranking_influence,
    }
}

impl Resolve for Campaign {
    /// The solution version the policy selects.
    type Refs = String;

    async fn resolve(&self, env: &Env<'_>) -> Result<Result<String, Outcome>, Error> {
        let spec = &self.spec;
        let pinned = spec.solution_version_arn.as_ref();
        selected_version(
            env,
            self,
            spec.solution_ref.as_ref(),
            spec.version_policy,
            pinned,
        )
        .await
    }
}

/// The solution version a version policy selects: `pinned` (Pinned), or the newest ACTIVE
/// (Latest) or promoted (Promoted) version of the referenced Solution. Campaigns and batch jobs
/// select their version this way.
pub async fn selected_version<K: kube::Resource>(
    env: &Env<'_>,
    obj: &K,
    solution_ref: Option<&ObjectRef>,
    policy: VersionPolicy,
    pinned: Option<&String>,
) -> Result<Result<String, Outcome>, Error> {
    if policy == VersionPolicy::Pinned {
        return Ok(pinned.cloned().ok_or(Outcome::Terminal {
            reason: "NoVersion",
            message: "spec.solutionVersionArn is required when versionPolicy is Pinned".into(),
        }));
    }
    let Some(r) = solution_ref else {
        return Ok(Err(Outcome::Terminal {
            reason: "NoSolution",
            message: "spec.solutionRef is missing".into(),
        }));
    };
    let ns = namespace(obj)?;
    let refs = env.references;
    let Some(solution) = refs.resolve(&refs.solutions, r, &ns).await? else {
        return Ok(Err(waiting_for(
            "SolutionNotFound",
            format!("Solution {}/{} does not exist", r.namespace_or(&ns), r.name),
        )));
    };
    let status = solution.status.as_ref();
    let promoted = policy == VersionPolicy::Promoted;
    let version = match promoted {
        true => status.and_then(|s| s.promoted_version_arn.clone()),
        false => status.and_then(|s| s.latest_version_arn.clone()),
    };
    Ok(version.ok_or_else(|| {
        waiting_for(
            "NoActiveVersion",
            match promoted {
                true => format!("Solution {} has no promoted version yet", r.name),
                false => format!("Solution {} has no ACTIVE version yet", r.name),
            },
        )
    }))
}

impl Managed for Campaign {
    async fn sync(&self, env: &Env<'_>, version: String, status: &mut CampaignStatus) -> Decided {
        if observe_only(self) {
            // Only reports what differs: a rollout would create and delete campaigns.
            return serve(self, env, &version, status).await;
        }
        let spec = self.spec.rollout.as_ref();
        let deployed = status.deployed_version_arn.as_deref();
        let decision = rollout::decide(spec, status.rollout.as_ref(), &version, deployed);
        let (decision, r) = match (decision, status.rollout.clone()) {
            (Decision::Start, _) => {
                let note = format!("rolling out version {}", short_id(&version));
                env.changes.record("RolloutStarted", note);
                let stable = deployed.unwrap_or_default();
                (Decision::Start, rollout::begin(stable, &version))
            }
            (Decision::Direct, _) | (_, None) => return serve(self, env, &version, status).await,
            (decision, Some(r)) => (decision, r),
        };
        match decision {
            Decision::Keep => {
                let kept = r.stable_version_arn.clone();
                let served = serve(self, env, &kept, status).await?;
                Ok(ended(Some(&r), served))
            }
            Decision::Supersede { why } => {
                let mut r = r;
                finish(&mut r, RolloutPhase::Superseded, why, env.now);
                roll(self, env, status, r).await
            }
            _ => roll(self, env, status, r).await,
        }
    }

    async fn cleanup(&self, env: &Env<'_>) -> Result<Deletion, Error> {
        let candidate = self
            .status
            .as_ref()
            .and_then(|s| s.rollout.as_ref())
            .and_then(|r| r.candidate_campaign_arn.clone());
        let candidate = env.delete_owned::<NewCampaign>(candidate).await?;
        let stable = env.delete_owned::<NewCampaign>(own_arn(self)).await?;
        Ok(first_waiting([candidate, stable]))
    }

    /// `promote` and `abort` act on the rollout in progress; once none is, they are removed.
    async fn after_sync(
        &self,
        ctx: &Context,
        status: &CampaignStatus,
        _outcome: &Outcome,
    ) -> Result<(), Error> {
        let control = self.annotations().get(ROLLOUT_ANNOTATION);
        let rolling = status.rollout.as_ref().is_some_and(|r| r.phase.is_active());
        if rolling || !control.is_some_and(|c| c == "promote" || c == "abort") {
            return Ok(());
        }
        let api: kube::Api<Campaign> = kube::Api::namespaced(ctx.kube.clone(), &namespace(self)?);
        let patch = serde_json::json!({"metadata": {"annotations": {ROLLOUT_ANNOTATION: null}}});
        let params = kube::api::PatchParams::default();
        api.patch(&self.name_any(), &params, &kube::api::Patch::Merge(&patch))
            .await
            .map_err(Error::Kube)?;
        Ok(())
    }
}

/// How long a candidate that no longer serves is kept before it is deleted: requests the
/// gateway sent it just before the weight went to 0 finish first.
const DRAIN: SignedDuration = SignedDuration::from_secs(10);

/// The campaign itself, on `version`: created, or updated to it.
async fn serve(c: &Campaign, env: &Env<'_>, version: &str, status: &mut CampaignStatus) -> Decided {
    let desired = desired(
        c,
        aws_name(c, c.spec.name.as_deref()),
        version,
        c.spec.min_provisioned_tps,
    );
    let synced = env.sync_own(c, &desired, status).await?;
    let (outcome, observed) = settle(synced, || {
        format!("campaign serves version {}", short_id(version))
    });
    let updating = matches!(
        outcome,
        Outcome::Progressing {
            reason: "Updating",
            ..
        }
    );
    record(status, observed.as_ref());
    if updating {
        status.pending_update = Some(CampaignUpdateStatus {
            solution_version_arn: Some(version.to_owned()),
            min_provisioned_tps: Some(c.spec.min_provisioned_tps),
            status: Some(Status::CreatePending.to_string()),
            failure_reason: None,
        });
    }
    Ok(outcome)
}

/// A campaign of this object's on `version`.
fn desired(c: &Campaign, name: String, version: &str, min_provisioned_tps: i32) -> NewCampaign {
    NewCampaign {
        name,
        solution_version_arn: version.to_owned(),
        min_provisioned_tps,
        config: c.spec.config.as_ref().map(campaign_config),
        tags: tags(c, &c.spec.tags),
    }
}

/// One pass of the rollout in status: the campaign on the stable version (the candidate's
/// once promoting), then the candidate: drained and deleted once the rollout has ended,
/// otherwise created, judged and moved by [`rollout::next`].
async fn roll(
    c: &Campaign,
    env: &Env<'_>,
    status: &mut CampaignStatus,
    mut r: RolloutStatus,
) -> Decided {
    let promoted = matches!(r.phase, RolloutPhase::Promoting | RolloutPhase::Promoted);
    let target = match promoted {
        true => r.candidate_version_arn.clone(),
        false => r.stable_version_arn.clone(),
    };
    let served = serve(c, env, &target, status).await?;
    let outcome = if !r.phase.is_active() {
        retire(env, &mut r, served).await?
    } else if r.phase == RolloutPhase::Promoting {
        let done = matches!(served, Outcome::Ready { .. })
            && status.deployed_version_arn.as_deref() == Some(&r.candidate_version_arn);
        if done {
            let why = format!("the campaign serves version {}", short_id(&target));
            env.changes.record("RolloutPromoted", why.clone());
            finish(&mut r, RolloutPhase::Promoted, why, env.now);
            retire(env, &mut r, served).await?
        } else {
            rolling(&mut r, served.message())
        }
    } else if !matches!(served, Outcome::Ready { .. }) {
        served
    } else {
        step(c, env, &mut r).await?
    };
    status.rollout = Some(r);
    Ok(outcome)
}

/// An ended rollout: the candidate drained, then deleted; then the outcome of the end.
async fn retire(env: &Env<'_>, r: &mut RolloutStatus, served: Outcome) -> Decided {
    if let Some(arn) = r.candidate_campaign_arn.clone() {
        let since = r.finished_time.as_deref().and_then(|t| t.parse().ok());
        let drained = since.is_none_or(|t: Timestamp| env.now.duration_since(t) >= DRAIN);
        if !drained {
            return Ok(draining(
                r,
                "the candidate campaign drains before it is deleted",
            ));
        }
        match env.delete_owned::<NewCampaign>(Some(arn)).await? {
            Deletion::Gone => r.candidate_campaign_arn = None,
            Deletion::Waiting { message, .. } => return Ok(draining(r, &message)),
        }
    }
    Ok(match r.phase {
        RolloutPhase::Superseded => Outcome::Progressing {
            reason: "RollingOut",
            message: r.message.clone().unwrap_or_default(),
        },
        _ => ended(Some(r), served),
    })
}

/// A rollout in progress, with the campaign Ready on the stable version: the candidate
/// campaign, the analysis, the next move.
async fn step(c: &Campaign, env: &Env<'_>, r: &mut RolloutStatus) -> Decided {
    let Some(spec) = c.spec.rollout.as_ref() else {
        return Ok(rolling(r, "spec.rollout was removed"));
    };
    let steps = match rollout::steps_of(spec) {
        Ok(steps) if !steps.is_empty() => steps,
        Ok(_) => {
            return Ok(terminal(
                "InvalidRollout",
                "spec.rollout has no steps".into(),
            ));
        }
        Err(field) => {
            return Ok(terminal(
                "InvalidRollout",
                format!("{field} is not a duration"),
            ));
        }
    };
    // The candidate: a campaign on the new version, sized for its largest share.
    let largest = steps.iter().map(|s| s.weight).max().unwrap_or(100);
    let tps = ((c.spec.min_provisioned_tps * largest + 99) / 100).max(1);
    let name = child_name(&aws_name(c, c.spec.name.as_deref()), "candidate");
    let desired = desired(c, name, &r.candidate_version_arn, tps);
    let region = region_of(&r.candidate_version_arn);
    let mut arn = r.candidate_campaign_arn.clone();
    let synced = env.sync_owned(c, region, &desired, &mut arn, None).await?;
    r.candidate_campaign_arn = arn;
    match synced {
        Synced::Done(..) => {}
        Synced::Pending(Pending::Progressing { message, .. }, _) => {
            return Ok(rolling(r, &format!("candidate campaign: {message}")));
        }
        Synced::Pending(Pending::Terminal { message, .. }, _) => {
            let why = format!("the candidate campaign failed: {message}");
            return Ok(abort(env, r, why));
        }
    }
    if r.step_started_time.is_none() {
        r.step_started_time = Some(env.now.to_string());
        r.weight = steps[0].weight;
    }
    // The analysis (an Experiment only reports it; without one, pauses alone decide).
    let experiment = spec.strategy == RolloutStrategy::Experiment;
    let (verdict, failure_limit) = match &spec.analysis {
        Some(a) => {
            let analysis = rollout::analysis_of(a);
            (judge(c, env, r, a, &analysis).await, analysis.failure_limit)
        }
        None => (Verdict::Pass, 1),
    };
    let acted_on = match (&verdict, experiment) {
        (Verdict::Fail { .. }, true) => Verdict::Pass,
        (v, _) => v.clone(),
    };
    let controls = controls(c);
    let progress = rollout::progress_of(r, env.now);
    let next = rollout::next(
        &steps,
        &progress,
        &acted_on,
        failure_limit,
        controls,
        env.now,
    );
    let now = env.now.to_string();
    Ok(match next {
        Next::Hold { why, .. } => {
            r.phase = match controls.pause {
                true => RolloutPhase::Paused,
                false => RolloutPhase::Progressing,
            };
            rolling(r, &why)
        }
        Next::Failed { why } => {
            r.failures += 1;
            r.step_started_time = Some(now);
            env.changes.warn("AnalysisFailed", why.clone());
            rolling(r, &why)
        }
        Next::Advance { to } => {
            r.step = i32::try_from(to).unwrap_or(i32::MAX);
            r.weight = steps[to].weight;
            r.step_started_time = Some(now);
            r.phase = RolloutPhase::Progressing;
            let why = format!("step {} of {}: {}% of users", to + 1, steps.len(), r.weight);
            env.changes.record("RolloutStep", why.clone());
            rolling(r, &why)
        }
        Next::Promote { .. } if experiment && !controls.promote => {
            let why = format!("experiment ended: {}", report(&verdict));
            env.changes.record("RolloutConcluded", why.clone());
            finish(r, RolloutPhase::Concluded, why, env.now);
            draining(r, "the candidate campaign drains before it is deleted")
        }
        Next::Promote { why } => {
            r.phase = RolloutPhase::Promoting;
            r.message = Some(why.clone());
            env.changes.record("RolloutPromoting", why.clone());
            rolling(r, &why)
        }
        Next::Abort { why } => abort(env, r, why),
    })
}

/// Reads the gateways' counts for this rollout into status and judges them.
async fn judge(
    c: &Campaign,
    env: &Env<'_>,
    r: &mut RolloutStatus,
    spec: &RolloutAnalysis,
    analysis: &Analysis,
) -> Verdict {
    let campaign = format!("{}/{}", c.namespace().unwrap_or_default(), c.name_any());
    let mut stable = ArmCounts::default();
    let mut candidate = ArmCounts::default();
    for url in &spec.metrics_urls {
        match env.scrape.get(&url.0).await {
            Ok(text) => {
                let (s, c) = rollout::arm_counts(&text, &campaign, r.id());
                stable = stable + s;
                candidate = candidate + c;
            }
            Err(why) => {
                return Verdict::Inconclusive {
                    why: format!("reading the gateway's counts: {why}"),
                };
            }
        }
    }
    r.stable = Some(arm_status(stable));
    r.candidate = Some(arm_status(candidate));
    rollout::analyse(stable, candidate, analysis)
}

/// Ends the rollout: everyone back on the stable version (a Warning Event).
fn abort(env: &Env<'_>, r: &mut RolloutStatus, why: String) -> Outcome {
    let note = format!(
        "rollout of version {} aborted: {why}",
        short_id(&r.candidate_version_arn)
    );
    env.changes.warn("RolloutAborted", note);
    finish(r, RolloutPhase::Aborted, why, env.now);
    draining(r, "the candidate campaign drains before it is deleted")
}

/// Ends a rollout: the candidate serves no one from now on.
fn finish(r: &mut RolloutStatus, phase: RolloutPhase, why: String, now: Timestamp) {
    r.phase = phase;
    r.weight = 0;
    r.finished_time = Some(now.to_string());
    r.message = Some(why);
}

/// The outcome of a rollout going on: Progressing, saying where it stands.
fn rolling(r: &mut RolloutStatus, why: &str) -> Outcome {
    r.message = Some(why.to_owned());
    let version = short_id(&r.candidate_version_arn);
    Outcome::Progressing {
        reason: "RollingOut",
        message: format!("{:?} version {version} at {}%: {why}", r.phase, r.weight),
    }
}

/// The outcome of an ended rollout whose candidate is still there: Progressing, with the end
/// (kept in `message`) and what is left to do.
fn draining(r: &RolloutStatus, what: &str) -> Outcome {
    let version = short_id(&r.candidate_version_arn);
    let why = r.message.as_deref().unwrap_or_default();
    Outcome::Progressing {
        reason: "RollingOut",
        message: format!("{:?} version {version}: {why}; {what}", r.phase),
    }
}

/// The outcome once a rollout has ended and its candidate is gone: an aborted one leaves the
/// campaign Terminal (RolloutAborted) until a newer version is selected; otherwise what the
/// campaign's own sync said, with the rollout's end in the message.
fn ended(r: Option<&RolloutStatus>, served: Outcome) -> Outcome {
    let Some(r) = r else {
        return served;
    };
    let version = short_id(&r.candidate_version_arn);
    let why = r.message.as_deref().unwrap_or_default();
    match (r.phase, served) {
        (RolloutPhase::Aborted, Outcome::Ready { .. }) => terminal(
            "RolloutAborted",
            format!(
                "the rollout of version {version} was aborted: {why}; the campaign keeps version {}",
                short_id(&r.stable_version_arn)
            ),
        ),
        (RolloutPhase::Concluded, Outcome::Ready { message }) => Outcome::Ready {
            message: format!("{message}; experiment with version {version}: {why}"),
        },
        (_, served) => served,
    }
}

fn terminal(reason: &'static str, message: String) -> Outcome {
    Outcome::Terminal { reason, message }
}

/// The manual controls of the rollout annotation.
fn controls(campaign: &Campaign) -> Controls {
    let value = campaign
        .annotations()
        .get(ROLLOUT_ANNOTATION)
        .map(String::as_str);
    Controls {
        promote: value == Some("promote"),
        abort: value == Some("abort"),
        pause: value == Some("pause"),
    }
}

/// An arm's counts for status.
fn arm_status(counts: ArmCounts) -> ArmStatus {
    ArmStatus {
        impressions: i64::try_from(counts.impressions).unwrap_or(i64::MAX),
        clicks: i64::try_from(counts.clicks).unwrap_or(i64::MAX),
        click_through: format!("{:.4}", counts.rate()),
    }
}

/// A verdict, for the experiment's report.
fn report(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Pass => "the candidate is no worse than the stable version".into(),
        Verdict::Fail { why } | Verdict::Inconclusive { why } => why.clone(),
    }
}

/// What Personalize reported, into the status.
fn record(status: &mut CampaignStatus, observed: Option<&Observation<CampaignDetails>>) {
    let details = observed.map(|o| &o.details);
    let version = details.and_then(|d| d.solution_version_arn.clone());
    status.resource.status = observed.map(|o| o.status.to_string());
    status.resource.failure_reason = observed.and_then(|o| o.failure_reason.clone());
    status.deployed_version = version.as_deref().map(|v| short_id(v).to_owned());
    status.deployed_version_arn = version;
    status.min_provisioned_tps = details.and_then(|d| d.min_provisioned_tps);
    status.pending_update = details
        .and_then(|d| d.latest_update.as_ref())
        .filter(|u| u.status != Status::Active)
        .map(|u| CampaignUpdateStatus {
            solution_version_arn: u.solution_version_arn.clone(),
            min_provisioned_tps: None,
            status: Some(u.status.to_string()),
            failure_reason: u.failure_reason.clone(),
        });
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::personalize::CampaignUpdate;

    fn desired(version: &str, tps: i32) -> NewCampaign {
        NewCampaign {
            name: "c".into(),
            solution_version_arn: version.into(),
            min_provisioned_tps: tps,
            ..NewCampaign::default()
        }
    }

    fn observed(status: Status, version: &str) -> Observation<CampaignDetails> {
        Observation::new(
            status,
            CampaignDetails {
                solution_version_arn: Some(version.into()),
                min_provisioned_tps: Some(1),
                ..CampaignDetails::default()
            },
        )
    }

    fn update(status: Status, version: &str) -> Observation<CampaignDetails> {
        let mut o = observed(Status::Active, "v1");
        o.details.latest_update = Some(CampaignUpdate {
            status,
            solution_version_arn: Some(version.into()),
            failure_reason: Some("boom".into()),
        });
        o
    }

    #[test]
    fn plan_table() {
        use Status::*;
        let explore = |w: &str| {
            let mut d = desired("v1", 1);
            d.config = Some(CampaignConfig {
                item_exploration: BTreeMap::from([("explorationWeight".into(), w.into())]),
                ..CampaignConfig::default()
            });
            d
        };
        let mut explored = observed(Active, "v1");
        explored.details.item_exploration =
            BTreeMap::from([("explorationWeight".into(), "0.3".into())]);
        let influenced = |popularity: f64| {
            let mut d = desired("v1", 1);
            d.config = Some(CampaignConfig {
                ranking_influence: BTreeMap::from([("POPULARITY".into(), popularity)]),
                ..CampaignConfig::default()
            });
            d
        };
        let mut popular = observed(Active, "v1");
        popular.details.ranking_influence = BTreeMap::from([("POPULARITY".into(), 0.5)]);
        // (desired, observed, what to do)
        let cases = [
            (
                desired("v1", 1),
                observed(CreateInProgress, "v1"),
                "Deploying",
            ),
            (desired("v1", 1), observed(CreatePending, "v1"), "Deploying"),
            (desired("v1", 1), observed(Active, "v1"), "Done"),
            (desired("v2", 1), observed(Active, "v1"), "Update"), // a new version
            (desired("v1", 5), observed(Active, "v1"), "Update"), // more TPS
            (explore("0.5"), explored.clone(), "Update"),
            (explore("0.3"), explored, "Done"),
            (influenced(1.0), popular.clone(), "Update"),
            (influenced(0.5), popular, "Done"),
            (
                desired("v3", 1),
                update(CreateInProgress, "v2"),
                "Deploying",
            ), // never two updates
            (desired("v2", 1), update(CreateFailed, "v2"), "DeployFailed"), // not retried
            (desired("v3", 1), update(CreateFailed, "v2"), "Update"),       // a newer version is
            (desired("v2", 1), observed(CreateFailed, "v1"), "Update"),
            (
                desired("v1", 1),
                observed(CreateFailed, "v1"),
                "CreateFailed",
            ),
            (
                desired("v1", 1),
                observed(DeleteInProgress, "v1"),
                "DeletedOutside",
            ),
        ];
        for (desired, observed, want) in cases {
            let plan = desired.plan(&observed);
            assert_eq!(plan.label(), want, "{desired:?} {observed:?}");
        }
    }

    #[test]
    fn a_failed_update_names_its_reason() {
        let plan = desired("v2", 1).plan(&update(Status::CreateFailed, "v2"));
        assert!(matches!(plan, Plan::Fail { message, .. } if message.contains("boom")));
    }

    mod scenarios {
        use super::super::*;
        use crate::naming::OWNER_TAG;
        use crate::personalize::{Kind, Personalize, Tags};
        use crate::reconcile::testing::{World, arn_of, movielens, ready_group_and_solution};

        /// A world with the example's campaign deployed (synced once).
        async fn deployed() -> (World, Campaign) {
            let mut world = World::new();
            ready_group_and_solution(&mut world).await;
            let (_, _, mut campaign, _) = movielens();
            world.sync(&mut campaign).await;
            (world, campaign)
        }

        #[tokio::test]
        async fn deploys_the_latest_version_and_rolls_to_a_new_one_through_update_campaign() {
            let mut world = World::new();
            let (_, mut solution) = ready_group_and_solution(&mut world).await;
            let (_, _, mut campaign, _) = movielens();
            let (outcome, changes) = world.sync(&mut campaign).await;
            assert_eq!(outcome.reason(), "Active", "{outcome:?}");
            assert_eq!(changes[0].action, "CreateCampaign");
            let first = solution
                .status
                .as_ref()
                .and_then(|s| s.latest_version_arn.clone());
            let status = campaign.status.clone().expect("status");
            assert_eq!(status.deployed_version_arn, first);

            // A new version on the Solution: the campaign is updated in place, not replaced.
            let solution_arn = arn_of(&solution);
            let second = world
                .fake
                .create_solution_version(&solution_arn, "FULL")
                .await
                .expect("version");
            let status = solution.status.as_mut().expect("status");
            status.latest_version_arn = Some(second.clone());
            world.put(&solution);
            let (outcome, changes) = world.sync(&mut campaign).await;
            assert_eq!(outcome.reason(), "Updating", "{outcome:?}");
            assert_eq!(changes[0].action, "UpdateCampaign");
            let (outcome, _) = world.sync(&mut campaign).await;
            assert_eq!(outcome.reason(), "Active", "{outcome:?}");
            let status = campaign.status.clone().expect("status");
            assert_eq!(
                status.deployed_version_arn.as_deref(),
                Some(second.as_str())
            );
            assert_eq!(
                world.fake.arns(Kind::Campaign).len(),
                1,
                "updated, not replaced"
            );
            assert_eq!(world.fake.calls("CreateCampaign"), 1);
        }

        #[tokio::test]
        async fn invalid_input_is_terminal() {
            let mut world = World::new();
            ready_group_and_solution(&mut world).await;
            let (_, _, mut campaign, _) = movielens();
            world
                .fake
                .fail_next("CreateCampaign", "InvalidInputException");
            let (outcome, _) = world.sync(&mut campaign).await;
            assert_eq!(outcome.reason(), "InvalidInput", "{outcome:?}");
            assert!(world.fake.arns(Kind::Campaign).is_empty());
        }

        #[tokio::test]
        async fn waits_for_a_solution_without_a_version_and_for_a_missing_one() {
            let world = World::new();
            let (_, _, mut campaign, _) = movielens();
            let (outcome, _) = world.sync(&mut campaign).await;
            assert_eq!(outcome.reason(), "SolutionNotFound", "{outcome:?}");
            let mut world = world;
            let (_, solution, _, _) = movielens();
            world.put(&solution);
            let (outcome, _) = world.sync(&mut campaign).await;
            assert_eq!(outcome.reason(), "NoActiveVersion", "{outcome:?}");
        }

        #[tokio::test]
        async fn a_campaign_deleted_outside_is_created_again_and_a_foreign_one_is_refused() {
            let (world, mut campaign) = deployed().await;
            let arn = arn_of(&campaign);
            world.fake.remove(&arn);
            let (outcome, _) = world.sync(&mut campaign).await;
            assert_eq!(outcome.reason(), "Active", "{outcome:?}");
            assert_eq!(world.fake.calls("CreateCampaign"), 2);

            // Another object's campaign of the same name.
            world.fake.remove(&arn);
            let version = campaign
                .status
                .as_ref()
                .and_then(|s| s.deployed_version_arn.clone());
            let foreign = NewCampaign {
                name: "team-movielens".into(),
                solution_version_arn: version.expect("deployed"),
                min_provisioned_tps: 1,
                config: None,
                tags: Tags::from([(OWNER_TAG.to_owned(), "other/x".to_owned())]),
            };
            world.fake.create_campaign(&foreign).await.expect("created");
            campaign.status = None;
            let (outcome, _) = world.sync(&mut campaign).await;
            assert_eq!(outcome.reason(), "NameTaken", "{outcome:?}");
        }

        /// Rollouts: the world with the campaign deployed on v1, `spec.rollout` set (two steps
        /// of 5 minutes, analysis on one gateway), and v2 on the Solution. The clock is the
        /// world's.
        mod rollouts {
            use std::str::FromStr;

            use k8s_openapi::jiff::{SignedDuration, Timestamp};
            use personalize_api::campaign::{
                MetricsUrl, RolloutAnalysis, RolloutStep, RolloutStrategy,
            };
            use personalize_api::{Rollout, RolloutPhase, Solution};

            use super::super::super::*;
            use crate::personalize::{Kind, Personalize};
            use crate::reconcile::testing::{World, arn_of, movielens, ready_group_and_solution};

            const GATEWAY: &str = "http://gateway.team:8080/metrics";

            fn canary() -> Rollout {
                let step = |weight| RolloutStep {
                    weight,
                    pause: "5m".into(),
                };
                Rollout {
                    strategy: RolloutStrategy::Canary,
                    steps: vec![step(10), step(50)],
                    experiment: None,
                    analysis: Some(RolloutAnalysis {
                        metrics_urls: vec![MetricsUrl(GATEWAY.into())],
                        min_samples: 100,
                        max_regression: 0.1,
                        failure_limit: 2,
                    }),
                }
            }

            struct Rig {
                world: World,
                campaign: Campaign,
                solution: Solution,
                v1: String,
                v2: String,
            }

            impl Rig {
                async fn new(rollout: Rollout) -> Rig {
                    let mut world = World::new();
                    world.now = Some(Timestamp::from_str("2026-12-02T10:00:00Z").expect("time"));
                    let (_, mut solution) = ready_group_and_solution(&mut world).await;
                    let (_, _, mut campaign, _) = movielens();
                    campaign.spec.rollout = Some(rollout);
                    world.sync(&mut campaign).await;
                    let v1 = deployed(&campaign);
                    let v2 = new_version(&mut world, &mut solution).await;
                    Rig {
                        world,
                        campaign,
                        solution,
                        v1,
                        v2,
                    }
                }

                fn later(&mut self, minutes: i64) {
                    let now = self.world.now.expect("a clock");
                    self.world.now = Some(now + SignedDuration::from_secs(minutes * 60 + 1));
                }

                /// The gateway's counts for this rollout: (impressions, clicks) per arm.
                fn counts(&self, stable: (u64, u64), candidate: (u64, u64)) {
                    let id = personalize_api::campaign::rollout_id(&self.v2);
                    let line = |name: &str, arm: &str, n: u64| {
                        format!(
                            "personalize_gateway_{name}_total{{campaign=\"team/movielens\",rollout=\"{id}\",arm=\"{arm}\"}} {n}\n"
                        )
                    };
                    let text = [
                        line("recommendations", "stable", stable.0),
                        line("clicks", "stable", stable.1),
                        line("recommendations", "candidate", candidate.0),
                        line("clicks", "candidate", candidate.1),
                    ]
                    .concat();
                    self.world.scrape.set(GATEWAY, &text);
                }

                async fn sync(&mut self) -> (Outcome, Vec<String>) {
                    let (outcome, changes) = self.world.sync(&mut self.campaign).await;
                    (outcome, changes.into_iter().map(|c| c.action).collect())
                }

                fn rollout(&self) -> RolloutStatus {
                    let status = self.campaign.status.as_ref().expect("status");
                    status.rollout.clone().expect("a rollout")
                }

                /// After the drain, syncs until the candidate is gone: the outcome then.
                async fn retired(&mut self) -> Outcome {
                    self.later(1);
                    for _ in 0..5 {
                        let (outcome, _) = self.sync().await;
                        if self.rollout().candidate_campaign_arn.is_none() {
                            return outcome;
                        }
                    }
                    panic!("the candidate was never deleted: {:?}", self.rollout());
                }

                /// Syncs until the candidate serves its first step.
                async fn serving(&mut self) {
                    for _ in 0..5 {
                        self.sync().await;
                        if self.rollout().weight > 0 {
                            return;
                        }
                    }
                    panic!("the candidate never served: {:?}", self.rollout());
                }
            }

            fn deployed(campaign: &Campaign) -> String {
                let status = campaign.status.as_ref().expect("status");
                status.deployed_version_arn.clone().expect("deployed")
            }

            async fn new_version(world: &mut World, solution: &mut Solution) -> String {
                let arn = arn_of(solution);
                let version = world
                    .fake
                    .create_solution_version(&arn, "FULL")
                    .await
                    .expect("version");
                let status = solution.status.as_mut().expect("status");
                status.latest_version_arn = Some(version.clone());
                world.put(solution);
                version
            }

            #[tokio::test]
            async fn a_better_candidate_advances_step_by_step_and_is_promoted_then_deleted() {
                let mut rig = Rig::new(canary()).await;
                let (outcome, changes) = rig.sync().await;
                assert_eq!(outcome.reason(), "RollingOut", "{outcome:?}");
                assert!(changes.contains(&"RolloutStarted".into()), "{changes:?}");
                assert!(changes.contains(&"CreateCampaign".into()), "{changes:?}");
                rig.serving().await;
                let r = rig.rollout();
                assert_eq!(
                    (r.phase, r.weight, r.step),
                    (RolloutPhase::Progressing, 10, 0)
                );
                assert_eq!(deployed(&rig.campaign), rig.v1, "the campaign keeps v1");
                assert_eq!(rig.world.fake.arns(Kind::Campaign).len(), 2);

                // Held for the pause even with good counts, then advanced.
                rig.counts((1000, 100), (120, 14));
                rig.sync().await;
                assert_eq!(rig.rollout().weight, 10);
                rig.later(5);
                let (_, changes) = rig.sync().await;
                assert!(changes.contains(&"RolloutStep".into()), "{changes:?}");
                let r = rig.rollout();
                assert_eq!((r.weight, r.step), (50, 1));
                assert_eq!(r.candidate.expect("counts").click_through, "0.1167");

                // The last step passed: promoted through UpdateCampaign, then drained, deleted.
                rig.later(5);
                let (_, changes) = rig.sync().await;
                assert!(changes.contains(&"RolloutPromoting".into()), "{changes:?}");
                assert_eq!(rig.rollout().phase, RolloutPhase::Promoting);
                let (_, changes) = rig.sync().await;
                assert!(changes.contains(&"UpdateCampaign".into()), "{changes:?}");
                assert_eq!(
                    rig.rollout().weight,
                    50,
                    "the candidate serves until promoted"
                );
                for _ in 0..3 {
                    rig.sync().await;
                }
                let r = rig.rollout();
                assert_eq!((r.phase, r.weight), (RolloutPhase::Promoted, 0));
                assert!(r.candidate_campaign_arn.is_some(), "drains first");
                assert_eq!(deployed(&rig.campaign), rig.v2);
                rig.later(1);
                let (_, changes) = rig.sync().await;
                assert!(changes.contains(&"DeleteCampaign".into()), "{changes:?}");
                let (outcome, _) = rig.sync().await;
                assert_eq!(outcome.reason(), "Active", "{outcome:?}");
                assert_eq!(rig.rollout().candidate_campaign_arn, None);
                assert_eq!(rig.world.fake.arns(Kind::Campaign).len(), 1);
                assert_eq!(rig.world.fake.calls("CreateCampaign"), 2);
            }

            #[tokio::test]
            async fn a_worse_candidate_fails_twice_and_is_aborted_and_not_tried_again() {
                let mut rig = Rig::new(canary()).await;
                rig.serving().await;
                rig.counts((1000, 100), (150, 5));
                rig.later(5);
                let (_, changes) = rig.sync().await;
                assert!(changes.contains(&"AnalysisFailed".into()), "{changes:?}");
                let r = rig.rollout();
                assert_eq!(
                    (r.failures, r.weight, r.phase),
                    (1, 10, RolloutPhase::Progressing)
                );
                rig.sync().await;
                assert_eq!(
                    rig.rollout().failures,
                    1,
                    "judged again after another pause"
                );
                rig.later(5);
                let (_, changes) = rig.sync().await;
                assert!(changes.contains(&"RolloutAborted".into()), "{changes:?}");
                let r = rig.rollout();
                assert_eq!((r.phase, r.weight), (RolloutPhase::Aborted, 0));
                assert!(
                    r.message.as_deref().unwrap_or_default().contains("below"),
                    "{r:?}"
                );
                let outcome = rig.retired().await;
                assert_eq!(outcome.reason(), "RolloutAborted", "{outcome:?}");
                assert_eq!(deployed(&rig.campaign), rig.v1);
                assert_eq!(rig.world.fake.arns(Kind::Campaign).len(), 1);
                assert_eq!(rig.world.fake.calls("CreateCampaign"), 2, "not tried again");
                assert_eq!(rig.world.fake.calls("UpdateCampaign"), 0);
            }

            #[tokio::test]
            async fn annotations_pause_and_abort_and_a_newer_version_supersedes() {
                let mut rig = Rig::new(canary()).await;
                rig.serving().await;
                rig.counts((1000, 100), (150, 15));
                let set = |rig: &mut Rig, value: &str| {
                    let annotations = rig.campaign.metadata.annotations.get_or_insert_default();
                    annotations.insert(ROLLOUT_ANNOTATION.into(), value.into());
                };
                set(&mut rig, "pause");
                rig.later(30);
                rig.sync().await;
                let r = rig.rollout();
                assert_eq!((r.phase, r.step), (RolloutPhase::Paused, 0), "held");

                // A newer version: the rollout of v2 ends unjudged, one of v3 begins.
                rig.campaign.metadata.annotations = None;
                let v3 = new_version(&mut rig.world, &mut rig.solution).await;
                rig.sync().await;
                assert_eq!(rig.rollout().phase, RolloutPhase::Superseded);
                rig.later(1);
                for _ in 0..4 {
                    rig.sync().await;
                }
                let r = rig.rollout();
                assert_eq!(
                    (r.candidate_version_arn.as_str(), r.phase),
                    (v3.as_str(), RolloutPhase::Progressing)
                );

                set(&mut rig, "abort");
                let (_, changes) = rig.sync().await;
                assert!(changes.contains(&"RolloutAborted".into()), "{changes:?}");
                assert!(
                    rig.rollout()
                        .message
                        .unwrap_or_default()
                        .contains("annotation")
                );
            }

            #[tokio::test]
            async fn an_experiment_reports_and_keeps_the_stable_version() {
                let mut rollout = canary();
                rollout.strategy = RolloutStrategy::Experiment;
                rollout.experiment = Some(rollout.steps[1].clone());
                rollout.steps.clear();
                let mut rig = Rig::new(rollout).await;
                rig.serving().await;
                assert_eq!(rig.rollout().weight, 50);
                rig.counts((1000, 100), (1000, 50));
                rig.later(5);
                let (_, changes) = rig.sync().await;
                assert!(changes.contains(&"RolloutConcluded".into()), "{changes:?}");
                let r = rig.rollout();
                assert_eq!(r.phase, RolloutPhase::Concluded);
                assert!(
                    r.message.unwrap_or_default().contains("0.0500"),
                    "the report"
                );
                let outcome = rig.retired().await;
                assert_eq!(outcome.reason(), "Active", "{outcome:?}");
                assert_eq!(deployed(&rig.campaign), rig.v1);
                assert_eq!(rig.world.fake.calls("UpdateCampaign"), 0);
            }

            #[tokio::test]
            async fn an_observe_only_campaign_never_rolls_out() {
                let mut rig = Rig::new(canary()).await;
                let annotations = rig.campaign.metadata.annotations.get_or_insert_default();
                annotations.insert(crate::naming::OBSERVE_ANNOTATION.into(), "true".into());
                rig.sync().await;
                let status = rig.campaign.status.as_ref().expect("status");
                assert_eq!(status.rollout, None);
                assert_eq!(rig.world.fake.calls("CreateCampaign"), 1, "no candidate");
            }

            #[tokio::test]
            async fn deleting_the_object_mid_rollout_deletes_both_campaigns() {
                let mut rig = Rig::new(canary()).await;
                rig.serving().await;
                rig.world.cleanup_until_gone(&rig.campaign).await;
                assert!(rig.world.fake.arns(Kind::Campaign).is_empty());
            }
        }

        #[tokio::test]
        async fn cleanup_deletes_the_campaign_and_retries_when_throttled() {
            let (world, campaign) = deployed().await;
            world
                .fake
                .fail_next("DescribeCampaign", "ThrottlingException");
            let failed = world.cleanup(&campaign).await;
            assert!(
                matches!(failed, Err(Error::Aws(e)) if e.kind == crate::personalize::ErrorKind::Throttled)
            );
            world.cleanup_until_gone(&campaign).await;
            assert!(world.fake.arns(Kind::Campaign).is_empty());
        }
    }
}
