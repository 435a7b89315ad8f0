//! `Campaign`: the solution version its policy selects (from the referenced Solution's status,
//! or pinned), then the campaign on it, rolled to a newly selected version (or new TPS or
//! exploration) through UpdateCampaign, never while an update is in flight.

use std::collections::BTreeMap;

use personalize_api::campaign::{CampaignUpdateStatus, RankingInfluence};
use personalize_api::{Campaign, CampaignStatus, ObjectRef, VersionPolicy};

use super::{
    Decided, Env, Error, Managed, Resolve, aws_name, namespace, own_arn, settle, tags, waiting_for,
};
use crate::outcome::Outcome;
use crate::personalize::{
    CampaignConfig, CampaignDetails, NewCampaign, Observation, Status, short_id,
};
use crate::resource::{At, AwsResource, Deletion, Plan, Updated, lifecycle_plan};

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
        let desired = NewCampaign {
            name: aws_name(self, self.spec.name.as_deref()),
            solution_version_arn: version.clone(),
            min_provisioned_tps: self.spec.min_provisioned_tps,
            config: self.spec.config.as_ref().map(campaign_config),
            tags: tags(self, &self.spec.tags),
        };
        let synced = env.sync_own(self, &desired, status).await?;
        let (outcome, observed) = settle(synced, || {
            format!("campaign serves version {}", short_id(&version))
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
                solution_version_arn: Some(version.clone()),
                min_provisioned_tps: Some(self.spec.min_provisioned_tps),
                status: Some(Status::CreatePending.to_string()),
                failure_reason: None,
            });
        }
        Ok(outcome)
    }

    async fn cleanup(&self, env: &Env<'_>) -> Result<Deletion, Error> {
        env.delete_owned::<NewCampaign>(own_arn(self)).await
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
