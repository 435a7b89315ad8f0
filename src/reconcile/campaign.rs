//! Reconciles a `Campaign`: picks the solution version its policy selects, creates the campaign
//! on it, and rolls it to a newly selected version (or new TPS/config) through UpdateCampaign —
//! never while an update is in flight. Cleanup deletes the campaign and waits until it is gone.
//!
//! `plan` is the pure decision from (desired, observed) to an action, tested below.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_personalize::types::CampaignConfig as AwsCampaignConfig;
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};
use personalize_api::aws_status::{ACTIVE, CREATE_FAILED, CREATE_IN_PROGRESS, CREATE_PENDING};
use personalize_api::campaign::{CampaignConfig, CampaignUpdateStatus};
use personalize_api::{Campaign, CampaignStatus, DeletionPolicy, Solution, VersionPolicy};

use super::ownership::{may_adopt, name_taken, sibling_arn, tags};
use super::{
    Context, Error, after_delete_step, delete_step, finish, namespace, outcome_of, retain,
    with_finalizer,
};
use crate::aws::{AwsResultExt, ErrorKind, region_of, short_id};
use crate::naming::aws_name;
use crate::outcome::Outcome;

/// The controller's entry point for one Campaign.
pub async fn reconcile(obj: Arc<Campaign>, ctx: Arc<Context>) -> Result<Action, Error> {
    with_finalizer(obj, &ctx, |o| apply(o, &ctx), |o| cleanup(o, &ctx)).await
}

async fn apply(campaign: Arc<Campaign>, ctx: &Context) -> Result<Action, Error> {
    let mut status = campaign.status.clone().unwrap_or_default();
    let outcome = match sync(&campaign, ctx, &mut status).await {
        Ok(outcome) => outcome,
        Err(err) => outcome_of(err)?,
    };
    finish(campaign.as_ref(), ctx, status, outcome, true).await
}

/// The solution version the policy selects, or why there is none yet.
async fn desired_version(
    campaign: &Campaign,
    ctx: &Context,
) -> Result<Result<String, Outcome>, Error> {
    if campaign.spec.version_policy == VersionPolicy::Pinned {
        return Ok(campaign
            .spec
            .solution_version_arn
            .clone()
            .ok_or(Outcome::Terminal {
                reason: "NoVersion",
                message: "spec.solutionVersionArn is required when versionPolicy is Pinned".into(),
            }));
    }
    let Some(r) = &campaign.spec.solution_ref else {
        return Ok(Err(Outcome::Terminal {
            reason: "NoSolution",
            message: "spec.solutionRef is missing".into(),
        }));
    };
    let ns = namespace(campaign)?;
    let api: Api<Solution> = Api::namespaced(ctx.kube.clone(), r.namespace_or(&ns));
    let Some(solution) = api.get_opt(&r.name).await? else {
        return Ok(Err(Outcome::WaitingForReference {
            reason: "SolutionNotFound",
            message: format!("Solution {}/{} does not exist", r.namespace_or(&ns), r.name),
        }));
    };
    let status = solution.status.as_ref();
    let version = match campaign.spec.version_policy {
        VersionPolicy::Promoted => status.and_then(|s| s.promoted_version_arn.clone()),
        _ => status.and_then(|s| s.latest_version_arn.clone()),
    };
    Ok(version.ok_or_else(|| Outcome::WaitingForReference {
        reason: "NoActiveVersion",
        message: match campaign.spec.version_policy {
            VersionPolicy::Promoted => format!("Solution {} has no promoted version yet", r.name),
            _ => format!("Solution {} has no ACTIVE version yet", r.name),
        },
    }))
}

fn campaign_config(config: Option<&CampaignConfig>) -> Option<AwsCampaignConfig> {
    let config = config?;
    let mut exploration = HashMap::new();
    if let Some(weight) = config.exploration_weight {
        exploration.insert("explorationWeight".to_owned(), weight.to_string());
    }
    if let Some(days) = config.exploration_item_age_cut_off {
        exploration.insert("explorationItemAgeCutOff".to_owned(), days.to_string());
    }
    Some(
        AwsCampaignConfig::builder()
            .set_item_exploration_config((!exploration.is_empty()).then_some(exploration))
            .set_enable_metadata_with_recommendations(config.enable_metadata_with_recommendations)
            .set_sync_with_latest_solution_version(config.sync_with_latest_solution_version)
            .build(),
    )
}

/// What Personalize reports about the campaign, reduced to what `plan` needs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Observed {
    /// Campaign status.
    pub status: String,
    /// Deployed solution version.
    pub version: Option<String>,
    /// Deployed minProvisionedTPS.
    pub min_tps: Option<i32>,
    /// Deployed exploration weight (as Personalize stores it, a string).
    pub exploration: HashMap<String, String>,
    /// The latest update: (status, target version, failure reason).
    pub update: Option<(String, Option<String>, Option<String>)>,
}

/// Desired deployment.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Desired {
    /// Version the policy selects.
    pub version: String,
    /// minProvisionedTPS.
    pub min_tps: i32,
    /// Exploration settings as Personalize stores them.
    pub exploration: HashMap<String, String>,
}

/// The next step for a campaign.
#[derive(Debug, PartialEq, Eq)]
pub enum Plan {
    /// Wait for creation or an update to finish.
    Wait(String),
    /// Call UpdateCampaign.
    Update,
    /// Creation or the update to this target failed: wait for a spec change.
    Failed(String),
    /// The campaign serves what is desired.
    Done,
}

/// Decides from (desired, observed): wait while creating or updating; update when ACTIVE (or
/// CREATE FAILED) and anything differs; never repeat an update that failed for the same target.
pub fn plan(desired: &Desired, observed: &Observed) -> Plan {
    let busy = |s: &str| s == CREATE_PENDING || s == CREATE_IN_PROGRESS;
    if busy(&observed.status) {
        return Plan::Wait(format!("campaign is {}", observed.status));
    }
    if let Some((status, target, _)) = &observed.update
        && busy(status)
    {
        return Plan::Wait(format!(
            "update to {} is {status}",
            target.as_deref().map(short_id).unwrap_or("a new version")
        ));
    }
    let differs = observed.version.as_deref() != Some(desired.version.as_str())
        || observed.min_tps != Some(desired.min_tps)
        || (!desired.exploration.is_empty() && observed.exploration != desired.exploration);
    if let Some((status, target, reason)) = &observed.update
        && status == CREATE_FAILED
        && target.as_deref() == Some(desired.version.as_str())
        && differs
    {
        return Plan::Failed(format!(
            "update to {} failed: {}",
            short_id(&desired.version),
            reason.as_deref().unwrap_or("no reason given")
        ));
    }
    match observed.status.as_str() {
        ACTIVE | CREATE_FAILED if differs => Plan::Update,
        ACTIVE => Plan::Done,
        CREATE_FAILED => Plan::Failed("Personalize could not create the campaign".into()),
        other => Plan::Wait(format!("campaign is {other}")),
    }
}

async fn sync(
    campaign: &Campaign,
    ctx: &Context,
    status: &mut CampaignStatus,
) -> Result<Outcome, Error> {
    let version = match desired_version(campaign, ctx).await? {
        Ok(version) => version,
        Err(outcome) => return Ok(outcome),
    };
    let client = ctx.aws.personalize(region_of(&version));
    let name = aws_name(
        campaign.spec.name.as_deref(),
        &namespace(campaign)?,
        &campaign.name_any(),
    );
    let config = campaign_config(campaign.spec.config.as_ref());

    let arn = match status.resource.arn.clone() {
        Some(arn) => arn,
        None => {
            let create = client
                .create_campaign()
                .name(&name)
                .solution_version_arn(&version)
                .min_provisioned_tps(campaign.spec.min_provisioned_tps)
                .set_campaign_config(config.clone())
                .set_tags(Some(tags(campaign, &campaign.spec.tags)))
                .send()
                .await
                .aws("CreateCampaign");
            let arn = match create {
                Ok(out) => {
                    let arn = out.campaign_arn().unwrap_or_default().to_owned();
                    ctx.mutated(
                        campaign,
                        "CreateCampaign",
                        format!("created campaign {arn} on version {}", short_id(&version)),
                    )
                    .await;
                    arn
                }
                Err(err) if err.kind == ErrorKind::AlreadyExists => {
                    let arn = sibling_arn(&version, &format!("campaign/{name}"));
                    if !may_adopt(&client, campaign, &arn).await? {
                        return Ok(Outcome::Terminal {
                            reason: "NameTaken",
                            message: name_taken("campaign", &name),
                        });
                    }
                    arn
                }
                Err(err) => return Err(err.into()),
            };
            status.resource.arn = Some(arn.clone());
            super::patch_status(campaign, ctx, status).await?;
            arn
        }
    };

    let described = match client
        .describe_campaign()
        .campaign_arn(&arn)
        .send()
        .await
        .aws("DescribeCampaign")
    {
        Ok(out) => out.campaign().cloned(),
        Err(err) if err.is_not_found() => {
            *status = CampaignStatus::default();
            return Ok(Outcome::Progressing {
                reason: "Recreating",
                message: format!(
                    "campaign {arn} no longer exists in Personalize; creating it again"
                ),
            });
        }
        Err(err) => return Err(err.into()),
    };
    let observed = described
        .as_ref()
        .map(|c| Observed {
            status: c.status().unwrap_or_default().to_owned(),
            version: c.solution_version_arn().map(str::to_owned),
            min_tps: c.min_provisioned_tps(),
            exploration: c
                .campaign_config()
                .and_then(|cc| cc.item_exploration_config())
                .cloned()
                .unwrap_or_default(),
            update: c.latest_campaign_update().map(|u| {
                (
                    u.status().unwrap_or_default().to_owned(),
                    u.solution_version_arn().map(str::to_owned),
                    u.failure_reason().map(str::to_owned),
                )
            }),
        })
        .unwrap_or_default();
    status.resource.status = Some(observed.status.clone());
    status.resource.failure_reason = described
        .as_ref()
        .and_then(|c| c.failure_reason())
        .map(str::to_owned);
    status.deployed_version_arn = observed.version.clone();
    status.deployed_version = observed.version.as_deref().map(|v| short_id(v).to_owned());
    status.min_provisioned_tps = observed.min_tps;
    status.pending_update = observed
        .update
        .as_ref()
        .filter(|(s, _, _)| s != ACTIVE)
        .map(|(s, target, reason)| CampaignUpdateStatus {
            solution_version_arn: target.clone(),
            min_provisioned_tps: None,
            status: Some(s.clone()),
            failure_reason: reason.clone(),
        });

    let desired = Desired {
        version: version.clone(),
        min_tps: campaign.spec.min_provisioned_tps,
        exploration: config
            .as_ref()
            .and_then(|c| c.item_exploration_config())
            .cloned()
            .unwrap_or_default(),
    };
    match plan(&desired, &observed) {
        Plan::Wait(message) => Ok(Outcome::Progressing {
            reason: "Deploying",
            message,
        }),
        Plan::Failed(message) => Ok(Outcome::Terminal {
            reason: "DeployFailed",
            message,
        }),
        Plan::Done => Ok(Outcome::Ready {
            message: format!("campaign serves version {}", short_id(&version)),
        }),
        Plan::Update => {
            client
                .update_campaign()
                .campaign_arn(&arn)
                .solution_version_arn(&version)
                .min_provisioned_tps(campaign.spec.min_provisioned_tps)
                .set_campaign_config(config)
                .send()
                .await
                .aws("UpdateCampaign")?;
            ctx.mutated(
                campaign,
                "UpdateCampaign",
                format!("rolling to version {}", short_id(&version)),
            )
            .await;
            status.pending_update = Some(CampaignUpdateStatus {
                solution_version_arn: Some(version.clone()),
                min_provisioned_tps: Some(campaign.spec.min_provisioned_tps),
                status: Some(CREATE_PENDING.to_owned()),
                failure_reason: None,
            });
            Ok(Outcome::Progressing {
                reason: "Updating",
                message: format!("rolling to version {}", short_id(&version)),
            })
        }
    }
}

async fn cleanup(campaign: Arc<Campaign>, ctx: &Context) -> Result<Action, Error> {
    if campaign.spec.deletion_policy == DeletionPolicy::Retain {
        return Ok(retain(campaign.as_ref(), ctx, "campaign").await);
    }
    let Some(arn) = campaign
        .status
        .as_ref()
        .and_then(|s| s.resource.arn.clone())
    else {
        return Ok(Action::await_change());
    };
    let client = ctx.aws.personalize(region_of(&arn));
    let status = async {
        let out = client
            .describe_campaign()
            .campaign_arn(&arn)
            .send()
            .await
            .aws("DescribeCampaign")?;
        Ok(out
            .campaign()
            .and_then(|c| c.status())
            .unwrap_or_default()
            .to_owned())
    };
    let delete = async {
        client
            .delete_campaign()
            .campaign_arn(&arn)
            .send()
            .await
            .aws("DeleteCampaign")
            .map(drop)
    };
    let step = delete_step("campaign", status, delete).await?;
    after_delete_step(campaign.as_ref(), ctx, step, "DeleteCampaign", &arn).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desired(version: &str) -> Desired {
        Desired {
            version: version.into(),
            min_tps: 1,
            exploration: HashMap::new(),
        }
    }

    fn observed(status: &str, version: &str) -> Observed {
        Observed {
            status: status.into(),
            version: Some(version.into()),
            min_tps: Some(1),
            ..Observed::default()
        }
    }

    #[test]
    fn waits_while_the_campaign_is_being_created() {
        assert!(matches!(
            plan(&desired("v1"), &observed(CREATE_IN_PROGRESS, "v1")),
            Plan::Wait(_)
        ));
    }

    #[test]
    fn an_active_campaign_on_the_desired_version_is_done() {
        assert_eq!(plan(&desired("v1"), &observed(ACTIVE, "v1")), Plan::Done);
    }

    #[test]
    fn a_new_version_or_tps_rolls_out_through_update_campaign() {
        assert_eq!(plan(&desired("v2"), &observed(ACTIVE, "v1")), Plan::Update);
        let more_tps = Desired {
            min_tps: 5,
            ..desired("v1")
        };
        assert_eq!(plan(&more_tps, &observed(ACTIVE, "v1")), Plan::Update);
    }

    #[test]
    fn never_updates_while_an_update_is_in_progress() {
        let mut o = observed(ACTIVE, "v1");
        o.update = Some((CREATE_IN_PROGRESS.into(), Some("v2".into()), None));
        assert!(matches!(plan(&desired("v3"), &o), Plan::Wait(_)));
    }

    #[test]
    fn a_failed_update_to_the_same_version_is_not_retried_but_a_new_version_is() {
        let mut o = observed(ACTIVE, "v1");
        o.update = Some((CREATE_FAILED.into(), Some("v2".into()), Some("boom".into())));
        assert!(matches!(plan(&desired("v2"), &o), Plan::Failed(m) if m.contains("boom")));
        assert_eq!(plan(&desired("v3"), &o), Plan::Update);
    }

    #[test]
    fn a_campaign_that_failed_to_create_can_be_updated_to_a_new_version() {
        assert_eq!(
            plan(&desired("v2"), &observed(CREATE_FAILED, "v1")),
            Plan::Update
        );
        assert!(matches!(
            plan(&desired("v1"), &observed(CREATE_FAILED, "v1")),
            Plan::Failed(_)
        ));
    }
}
