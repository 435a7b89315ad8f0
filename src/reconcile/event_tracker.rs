//! Reconciles an `EventTracker`: resolves its dataset group, creates (or adopts) the tracker,
//! publishes the tracking id in status and, when asked, in a Secret owned by the CR. Cleanup
//! deletes the tracker and waits until Personalize has removed it.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use personalize_api::aws_status::{ACTIVE, CREATE_FAILED};
use personalize_api::{DeletionPolicy, EventTracker, EventTrackerStatus, FIELD_MANAGER};

use super::ownership::{may_adopt, name_taken, sibling_arn, tags};
use super::{
    Context, Error, after_delete_step, delete_step, finish, namespace, outcome_of, retain,
    with_finalizer,
};
use crate::aws::{AwsResultExt, ErrorKind, region_of};
use crate::naming::aws_name;
use crate::outcome::Outcome;

/// The controller's entry point for one EventTracker.
pub async fn reconcile(obj: Arc<EventTracker>, ctx: Arc<Context>) -> Result<Action, Error> {
    with_finalizer(obj, &ctx, |o| apply(o, &ctx), |o| cleanup(o, &ctx)).await
}

async fn apply(et: Arc<EventTracker>, ctx: &Context) -> Result<Action, Error> {
    let mut status = et.status.clone().unwrap_or_default();
    let outcome = match sync(&et, ctx, &mut status).await {
        Ok(outcome) => outcome,
        Err(err) => outcome_of(err)?,
    };
    finish(et.as_ref(), ctx, status, outcome, true).await
}

/// The dataset group ARN the tracker belongs to, or why it is not known yet.
async fn dataset_group_arn(
    et: &EventTracker,
    ctx: &Context,
) -> Result<Result<String, Outcome>, Error> {
    if let Some(arn) = &et.spec.dataset_group_arn {
        return Ok(Ok(arn.clone()));
    }
    let Some(r) = &et.spec.dataset_group_ref else {
        return Ok(Err(Outcome::Terminal {
            reason: "NoDatasetGroup",
            message: "spec.datasetGroupRef is missing".into(),
        }));
    };
    let ns = namespace(et)?;
    Ok(match super::dataset_group::resolve(ctx, r, &ns).await? {
        None => Err(Outcome::WaitingForReference {
            reason: "DatasetGroupNotFound",
            message: format!(
                "DatasetGroup {}/{} does not exist",
                r.namespace_or(&ns),
                r.name
            ),
        }),
        Some(dg) => {
            super::dataset_group::ready_arn(&dg).map_err(|message| Outcome::WaitingForReference {
                reason: "DatasetGroupNotReady",
                message,
            })
        }
    })
}

async fn sync(
    et: &EventTracker,
    ctx: &Context,
    status: &mut EventTrackerStatus,
) -> Result<Outcome, Error> {
    let group_arn = match dataset_group_arn(et, ctx).await? {
        Ok(arn) => arn,
        Err(outcome) => return Ok(outcome),
    };
    status.dataset_group_arn = Some(group_arn.clone());
    let client = ctx.aws.personalize(region_of(&group_arn));
    let name = aws_name(et.spec.name.as_deref(), &namespace(et)?, &et.name_any());

    let arn = match status.resource.arn.clone() {
        Some(arn) => arn,
        None => {
            let create = client
                .create_event_tracker()
                .name(&name)
                .dataset_group_arn(&group_arn)
                .set_tags(Some(tags(et, &et.spec.tags)))
                .send()
                .await
                .aws("CreateEventTracker");
            let arn = match create {
                Ok(out) => {
                    let arn = out.event_tracker_arn().unwrap_or_default().to_owned();
                    ctx.mutated(
                        et,
                        "CreateEventTracker",
                        format!("created event tracker {arn}"),
                    )
                    .await;
                    arn
                }
                Err(err) if err.kind == ErrorKind::AlreadyExists => {
                    let arn = sibling_arn(&group_arn, &format!("event-tracker/{name}"));
                    match may_adopt(&client, et, &arn).await {
                        Ok(true) => arn,
                        // Personalize also says AlreadyExists when the group has another tracker.
                        Ok(false) | Err(_) => {
                            return Ok(Outcome::Terminal {
                                reason: "NameTaken",
                                message: format!(
                                    "{} (Personalize allows one event tracker per dataset group: {})",
                                    name_taken("event tracker", &name),
                                    err.message
                                ),
                            });
                        }
                    }
                }
                Err(err) => return Err(err.into()),
            };
            status.resource.arn = Some(arn.clone());
            super::patch_status(et, ctx, status).await?;
            arn
        }
    };

    let described = match client
        .describe_event_tracker()
        .event_tracker_arn(&arn)
        .send()
        .await
        .aws("DescribeEventTracker")
    {
        Ok(out) => out,
        Err(err) if err.is_not_found() => {
            *status = EventTrackerStatus::default();
            return Ok(Outcome::Progressing {
                reason: "Recreating",
                message: format!(
                    "event tracker {arn} no longer exists in Personalize; creating it again"
                ),
            });
        }
        Err(err) => return Err(err.into()),
    };
    let tracker = described.event_tracker();
    let state = tracker
        .and_then(|t| t.status())
        .unwrap_or_default()
        .to_owned();
    status.resource.status = Some(state.clone());
    status.tracking_id = tracker.and_then(|t| t.tracking_id()).map(str::to_owned);
    match state.as_str() {
        ACTIVE => {}
        CREATE_FAILED => {
            return Ok(Outcome::Terminal {
                reason: "CreateFailed",
                message: "Personalize could not create the event tracker".into(),
            });
        }
        other => {
            return Ok(Outcome::Progressing {
                reason: "Creating",
                message: format!("event tracker is {other}"),
            });
        }
    }
    // The Secret is re-applied at most once per resync period (which also restores one deleted
    // by hand), not on every reconcile.
    if let (Some(secret), Some(tracking_id)) =
        (&et.spec.tracking_id_secret_name, &status.tracking_id)
    {
        let key = format!("{}/{secret}/{tracking_id}", et.uid().unwrap_or_default());
        if ctx.due(key.clone(), ctx.timing.resync)
            && let Err(err) = write_secret(et, ctx, secret, tracking_id).await
        {
            ctx.forget(&key);
            return Err(err);
        }
    }
    Ok(Outcome::Ready {
        message: format!("event tracker {name} is ACTIVE; tracking id in status.trackingId"),
    })
}

/// Server-side applies the Secret holding the tracking id, owned by the EventTracker so it goes
/// away with it.
async fn write_secret(
    et: &EventTracker,
    ctx: &Context,
    secret: &str,
    tracking_id: &str,
) -> Result<(), Error> {
    let api: Api<Secret> = Api::namespaced(ctx.kube.clone(), &namespace(et)?);
    let owner = et.controller_owner_ref(&()).map(|o| vec![o]);
    let body = Secret {
        metadata: kube::api::ObjectMeta {
            name: Some(secret.to_owned()),
            owner_references: owner,
            ..Default::default()
        },
        string_data: Some(BTreeMap::from([(
            "trackingId".to_owned(),
            tracking_id.to_owned(),
        )])),
        ..Default::default()
    };
    let mut value = serde_json::to_value(&body).map_err(|e| Error::Waiting(e.to_string()))?;
    value["apiVersion"] = "v1".into();
    value["kind"] = "Secret".into();
    api.patch(
        secret,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&value),
    )
    .await?;
    Ok(())
}

async fn cleanup(et: Arc<EventTracker>, ctx: &Context) -> Result<Action, Error> {
    if et.spec.deletion_policy == DeletionPolicy::Retain {
        return Ok(retain(et.as_ref(), ctx, "event tracker").await);
    }
    let Some(arn) = et.status.as_ref().and_then(|s| s.resource.arn.clone()) else {
        return Ok(Action::await_change());
    };
    let client = ctx.aws.personalize(region_of(&arn));
    let status = async {
        let out = client
            .describe_event_tracker()
            .event_tracker_arn(&arn)
            .send()
            .await
            .aws("DescribeEventTracker")?;
        Ok(out
            .event_tracker()
            .and_then(|t| t.status())
            .unwrap_or_default()
            .to_owned())
    };
    let delete = async {
        client
            .delete_event_tracker()
            .event_tracker_arn(&arn)
            .send()
            .await
            .aws("DeleteEventTracker")
            .map(drop)
    };
    let step = delete_step("event tracker", status, delete).await?;
    after_delete_step(et.as_ref(), ctx, step, "DeleteEventTracker", &arn).await
}
