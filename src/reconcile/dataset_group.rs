//! Reconciles a `DatasetGroup`: the dataset group, then one schema and one dataset per entry of
//! `spec.datasets`, then an import job whenever an import's revision is new. Cleanup waits for
//! the Solutions and EventTrackers that use the group, then deletes datasets, schemas and the group.
//!
//! Idempotency: every create uses a name derived from the CR (and, for schemas and import jobs,
//! from a hash of what they hold), so a create repeated after a crash meets
//! ResourceAlreadyExists and adopts the resource at its derived ARN.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_personalize::types::{DataSource, Domain as AwsDomain, ImportMode};
use kube::ResourceExt;
use kube::api::{Api, ListParams};
use kube::runtime::controller::Action;
use personalize_api::aws_status::{ACTIVE, CREATE_FAILED};
use personalize_api::dataset_group::{DatasetSpec, DatasetStatus, ImportSpec, ImportStatus};
use personalize_api::{
    DatasetGroup, DatasetGroupStatus, DatasetType, DeletionPolicy, EventTracker, Solution,
};

use super::ownership::{may_adopt, name_taken, sibling_arn, tags};
use super::{
    Context, DeleteStep, Error, delete_step, finish, namespace, outcome_of, retain, still_deleting,
    with_finalizer,
};
use crate::aws::{AwsError, AwsResultExt, ErrorKind};
use crate::naming::{aws_name, child_name, short_hash};
use crate::outcome::Outcome;

/// The controller's entry point for one DatasetGroup.
pub async fn reconcile(obj: Arc<DatasetGroup>, ctx: Arc<Context>) -> Result<Action, Error> {
    with_finalizer(obj, &ctx, |o| apply(o, &ctx), |o| cleanup(o, &ctx)).await
}

/// The AWS name of the dataset group.
pub fn group_name(dg: &DatasetGroup) -> String {
    aws_name(
        dg.spec.name.as_deref(),
        &dg.namespace().unwrap_or_default(),
        &dg.name_any(),
    )
}

fn lower(kind: DatasetType) -> &'static str {
    match kind {
        DatasetType::Interactions => "interactions",
        DatasetType::Items => "items",
        DatasetType::Users => "users",
    }
}

fn upper(kind: DatasetType) -> &'static str {
    match kind {
        DatasetType::Interactions => "INTERACTIONS",
        DatasetType::Items => "ITEMS",
        DatasetType::Users => "USERS",
    }
}

async fn apply(dg: Arc<DatasetGroup>, ctx: &Context) -> Result<Action, Error> {
    let mut status = dg.status.clone().unwrap_or_default();
    let outcome = match sync(&dg, ctx, &mut status).await {
        Ok(outcome) => outcome,
        Err(err) => outcome_of(err)?,
    };
    finish(dg.as_ref(), ctx, status, outcome, false).await
}

async fn sync(
    dg: &DatasetGroup,
    ctx: &Context,
    status: &mut DatasetGroupStatus,
) -> Result<Outcome, Error> {
    let client = ctx.aws.personalize(dg.spec.region.as_deref());
    let name = group_name(dg);

    // 1. The dataset group itself.
    let arn = match status.resource.arn.clone() {
        Some(arn) => arn,
        None => match create_group(dg, ctx, &client, &name).await? {
            Ok(arn) => {
                status.resource.arn = Some(arn.clone());
                super::patch_status(dg, ctx, status).await?;
                arn
            }
            Err(taken) => return Ok(taken),
        },
    };
    // One ListDatasets shows the state of every dataset. When the group was ACTIVE and every
    // dataset of the spec is listed ACTIVE, nothing else needs describing: an idle resync costs
    // this one call. A deleted group lists no datasets, which sends us down the full path.
    let listed = dataset_states(&client, &arn).await?;
    if settled(dg, status, &listed) {
        return sync_datasets(dg, ctx, &client, &arn, &name, status, &listed).await;
    }
    let described = client
        .describe_dataset_group()
        .dataset_group_arn(&arn)
        .send()
        .await
        .aws("DescribeDatasetGroup");
    let group = match described {
        Ok(out) => out.dataset_group().cloned().unwrap_or_else(|| {
            aws_sdk_personalize::types::DatasetGroup::builder()
                .status("UNKNOWN")
                .build()
        }),
        Err(err) if err.is_not_found() => {
            status.resource = Default::default();
            status.datasets = Default::default();
            return Ok(Outcome::Progressing {
                reason: "Recreating",
                message: format!(
                    "dataset group {arn} no longer exists in Personalize; creating it again"
                ),
            });
        }
        Err(err) => return Err(err.into()),
    };
    let group_status = group.status().unwrap_or_default().to_owned();
    status.resource.status = Some(group_status.clone());
    status.resource.failure_reason = group.failure_reason().map(str::to_owned);
    match group_status.as_str() {
        ACTIVE => {}
        CREATE_FAILED => {
            return Ok(Outcome::Terminal {
                reason: "CreateFailed",
                message: format!(
                    "Personalize could not create the dataset group: {}",
                    group.failure_reason().unwrap_or("no reason given")
                ),
            });
        }
        other => {
            return Ok(Outcome::Progressing {
                reason: "Creating",
                message: format!("dataset group is {other}"),
            });
        }
    }

    sync_datasets(dg, ctx, &client, &arn, &name, status, &listed).await
}

/// Datasets, schemas and imports, in order; the first one not ready decides the outcome.
async fn sync_datasets(
    dg: &DatasetGroup,
    ctx: &Context,
    client: &aws_sdk_personalize::Client,
    arn: &str,
    name: &str,
    status: &mut DatasetGroupStatus,
    listed: &HashMap<String, String>,
) -> Result<Outcome, Error> {
    let mut waiting: Option<Outcome> = None;
    for kind in DatasetType::ALL {
        let slot = status.datasets.slot(kind);
        let outcome = match dg.spec.datasets.get(kind) {
            Some(spec) => {
                let target = Target {
                    group_arn: arn,
                    group: name,
                    kind,
                    listed,
                };
                sync_dataset(dg, ctx, client, &target, spec, slot).await?
            }
            None => remove_dataset(client, slot).await?,
        };
        if waiting.is_none() {
            waiting = outcome;
        }
    }
    Ok(waiting.unwrap_or_else(|| Outcome::Ready {
        message: format!("dataset group {name} and its datasets are ACTIVE"),
    }))
}

/// Every dataset of a group: ARN -> status string.
async fn dataset_states(
    client: &aws_sdk_personalize::Client,
    group_arn: &str,
) -> Result<HashMap<String, String>, Error> {
    let out = client
        .list_datasets()
        .dataset_group_arn(group_arn)
        .max_results(100)
        .send()
        .await
        .aws("ListDatasets")?;
    Ok(out
        .datasets()
        .iter()
        .filter_map(|d| Some((d.dataset_arn()?.to_owned(), d.status()?.to_owned())))
        .collect())
}

/// Whether the group was ACTIVE at the last look and every dataset of the spec is listed
/// ACTIVE now: then the group needs no DescribeDatasetGroup. Pure decision.
fn settled(
    dg: &DatasetGroup,
    status: &DatasetGroupStatus,
    listed: &HashMap<String, String>,
) -> bool {
    let datasets_active = DatasetType::ALL.into_iter().all(|kind| {
        match (dg.spec.datasets.get(kind), status.datasets.get(kind)) {
            (None, None) => true,
            (Some(_), Some(recorded)) => recorded
                .arn
                .as_ref()
                .and_then(|arn| listed.get(arn))
                .is_some_and(|s| s == ACTIVE),
            _ => false,
        }
    });
    datasets_active && status.resource.status.as_deref() == Some(ACTIVE)
}

/// Where one dataset goes: its group, its kind, and what ListDatasets said about the group's.
struct Target<'a> {
    group_arn: &'a str,
    group: &'a str,
    kind: DatasetType,
    listed: &'a HashMap<String, String>,
}

/// Creates the dataset group or adopts one of the same name; `Err(outcome)` when the name is
/// taken by a group that is not ours.
async fn create_group(
    dg: &DatasetGroup,
    ctx: &Context,
    client: &aws_sdk_personalize::Client,
    name: &str,
) -> Result<Result<String, Outcome>, Error> {
    let mut create = client
        .create_dataset_group()
        .name(name)
        .set_tags(Some(tags(dg, &dg.spec.tags)));
    if let Some(domain) = dg.spec.domain {
        create = create.domain(AwsDomain::from(domain.as_str()));
    }
    if let Some(kms) = &dg.spec.kms_key_arn {
        create = create.kms_key_arn(kms);
    }
    if let Some(role) = &dg.spec.role_arn {
        create = create.role_arn(role);
    }
    match create.send().await.aws("CreateDatasetGroup") {
        Ok(out) => {
            let arn = out.dataset_group_arn().unwrap_or_default().to_owned();
            ctx.mutated(
                dg,
                "CreateDatasetGroup",
                format!("created dataset group {arn}"),
            )
            .await;
            Ok(Ok(arn))
        }
        Err(err) if err.kind == ErrorKind::AlreadyExists => {
            let Some(arn) = find_group(client, name).await? else {
                return Err(err.into());
            };
            if may_adopt(client, dg, &arn).await? {
                ctx.mutated(
                    dg,
                    "AdoptDatasetGroup",
                    format!("adopted existing dataset group {arn}"),
                )
                .await;
                Ok(Ok(arn))
            } else {
                Ok(Err(Outcome::Terminal {
                    reason: "NameTaken",
                    message: name_taken("dataset group", name),
                }))
            }
        }
        Err(err) => Err(err.into()),
    }
}

async fn find_group(
    client: &aws_sdk_personalize::Client,
    name: &str,
) -> Result<Option<String>, AwsError> {
    let mut token = None;
    loop {
        let page = client
            .list_dataset_groups()
            .set_next_token(token)
            .max_results(100)
            .send()
            .await
            .aws("ListDatasetGroups")?;
        if let Some(found) = page
            .dataset_groups()
            .iter()
            .find(|g| g.name() == Some(name))
        {
            return Ok(found.dataset_group_arn().map(str::to_owned));
        }
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(None);
        }
    }
}

/// Brings one dataset (schema, dataset, import) in line with its spec. `Some(outcome)` when it is
/// not ready yet or failed.
async fn sync_dataset(
    dg: &DatasetGroup,
    ctx: &Context,
    client: &aws_sdk_personalize::Client,
    target: &Target<'_>,
    spec: &DatasetSpec,
    slot: &mut Option<DatasetStatus>,
) -> Result<Option<Outcome>, Error> {
    let (group_arn, group, kind) = (target.group_arn, target.group, target.kind);
    let current = slot.get_or_insert_with(DatasetStatus::default);

    // Schema: a new one (named by content hash) whenever the spec's schema changes.
    let schema_json = spec.schema.to_json_string();
    let schema_name = child_name(
        group,
        &format!("{}-{}", lower(kind), short_hash(&schema_json)),
    );
    let schema_arn = sibling_arn(group_arn, &format!("schema/{schema_name}"));
    if current.schema_arn.as_deref() != Some(schema_arn.as_str()) {
        let mut create = client
            .create_schema()
            .name(&schema_name)
            .schema(&schema_json);
        if let Some(domain) = dg.spec.domain {
            create = create.domain(AwsDomain::from(domain.as_str()));
        }
        match create.send().await.aws("CreateSchema") {
            Ok(_) => {
                ctx.mutated(dg, "CreateSchema", format!("created schema {schema_name}"))
                    .await
            }
            Err(err) if err.kind == ErrorKind::AlreadyExists => {}
            Err(err) => return Err(err.into()),
        }
    }

    // Dataset.
    let dataset_arn = sibling_arn(group_arn, &format!("dataset/{group}/{}", upper(kind)));
    if current.arn.is_none() {
        let create = client
            .create_dataset()
            .name(child_name(group, lower(kind)))
            .dataset_group_arn(group_arn)
            .dataset_type(kind.as_str())
            .schema_arn(&schema_arn)
            .send()
            .await
            .aws("CreateDataset");
        match create {
            Ok(out) => {
                let arn = out.dataset_arn().unwrap_or(&dataset_arn).to_owned();
                ctx.mutated(
                    dg,
                    "CreateDataset",
                    format!("created {} dataset {arn}", kind.as_str()),
                )
                .await;
                current.arn = Some(arn);
            }
            Err(err) if err.kind == ErrorKind::AlreadyExists => {
                current.arn = Some(dataset_arn.clone())
            }
            Err(err) => return Err(err.into()),
        }
        current.schema_arn = Some(schema_arn.clone());
    }
    let arn = current.arn.clone().unwrap_or(dataset_arn);
    // Listed ACTIVE on the schema we confirmed last time: nothing to describe.
    let (dataset_status, observed_schema) = if target.listed.get(&arn).map(String::as_str)
        == Some(ACTIVE)
        && current.schema_arn.as_deref() == Some(schema_arn.as_str())
    {
        (ACTIVE.to_owned(), Some(schema_arn.clone()))
    } else {
        match client
            .describe_dataset()
            .dataset_arn(&arn)
            .send()
            .await
            .aws("DescribeDataset")
        {
            Ok(out) => {
                let dataset = out.dataset();
                let state = dataset.and_then(|d| d.status()).unwrap_or_default();
                let schema = dataset.and_then(|d| d.schema_arn()).map(str::to_owned);
                (state.to_owned(), schema)
            }
            Err(err) if err.is_not_found() => {
                *slot = None;
                return Ok(Some(Outcome::Progressing {
                    reason: "Recreating",
                    message: format!(
                        "{} dataset was deleted outside the operator; creating it again",
                        kind.as_str()
                    ),
                }));
            }
            Err(err) => return Err(err.into()),
        }
    };
    current.status = Some(dataset_status.clone());
    if dataset_status != ACTIVE {
        if dataset_status == CREATE_FAILED {
            return Ok(Some(Outcome::Terminal {
                reason: "DatasetCreateFailed",
                message: format!("Personalize could not create the {} dataset", kind.as_str()),
            }));
        }
        return Ok(Some(Outcome::Progressing {
            reason: "CreatingDataset",
            message: format!("{} dataset is {dataset_status}", kind.as_str()),
        }));
    }
    if observed_schema.as_deref() != Some(schema_arn.as_str()) {
        let update = client
            .update_dataset()
            .dataset_arn(&arn)
            .schema_arn(&schema_arn)
            .send()
            .await
            .aws("UpdateDataset");
        match update {
            Ok(_) => {
                ctx.mutated(
                    dg,
                    "UpdateDataset",
                    format!("{} dataset now uses schema {schema_name}", kind.as_str()),
                )
                .await;
            }
            Err(err) if err.kind == ErrorKind::InUse => {}
            Err(err) => return Err(err.into()),
        }
        return Ok(Some(Outcome::Progressing {
            reason: "UpdatingSchema",
            message: format!(
                "{} dataset is moving to schema {schema_name}",
                kind.as_str()
            ),
        }));
    }
    current.schema_arn = Some(schema_arn);

    // Import: a new job per revision; a job is a run, never deleted.
    let Some(import) = &spec.import else {
        return Ok(None);
    };
    let started = current
        .last_import
        .as_ref()
        .filter(|i| i.revision == import.revision);
    let job_arn = match started.and_then(|i| i.job_arn.clone()) {
        Some(job) => job,
        None => {
            let job_name = child_name(
                group,
                &format!("{}-{}", lower(kind), short_hash(&import.revision)),
            );
            let job_arn = sibling_arn(group_arn, &format!("dataset-import-job/{job_name}"));
            let create = client
                .create_dataset_import_job()
                .job_name(&job_name)
                .dataset_arn(&arn)
                .data_source(
                    DataSource::builder()
                        .data_location(&import.data_location)
                        .build(),
                )
                .role_arn(&import.role_arn)
                .import_mode(ImportMode::from(import.mode.as_str()))
                .send()
                .await
                .aws("CreateDatasetImportJob");
            let job_arn = match create {
                Ok(out) => {
                    let job = out.dataset_import_job_arn().unwrap_or(&job_arn).to_owned();
                    ctx.mutated(
                        dg,
                        "CreateDatasetImportJob",
                        format!(
                            "importing {} into the {} dataset (revision {})",
                            import.data_location,
                            kind.as_str(),
                            import.revision
                        ),
                    )
                    .await;
                    job
                }
                Err(err) if err.kind == ErrorKind::AlreadyExists => job_arn,
                Err(err) => return Err(err.into()),
            };
            current.last_import = Some(ImportStatus {
                revision: import.revision.clone(),
                job_arn: Some(job_arn.clone()),
                ..ImportStatus::default()
            });
            job_arn
        }
    };
    // A finished job never changes again: no need to ask Personalize about it on every resync.
    if let Some(done) = current
        .last_import
        .as_ref()
        .filter(|i| i.job_arn.as_deref() == Some(job_arn.as_str()))
        && is_finished(done.status.as_deref())
    {
        return Ok(import_outcome(kind, import, done));
    }
    let job = client
        .describe_dataset_import_job()
        .dataset_import_job_arn(&job_arn)
        .send()
        .await
        .aws("DescribeDatasetImportJob")?;
    let job = job.dataset_import_job();
    let job_status = job.and_then(|j| j.status()).unwrap_or_default().to_owned();
    let last = current
        .last_import
        .get_or_insert_with(ImportStatus::default);
    last.status = Some(job_status.clone());
    last.failure_reason = job.and_then(|j| j.failure_reason()).map(str::to_owned);
    if job_status == ACTIVE && last.completed_at.is_none() {
        let done = job
            .and_then(|j| j.last_updated_date_time())
            .map(|t| t.secs())
            .unwrap_or(0);
        last.completed_at = k8s_openapi::jiff::Timestamp::from_second(done)
            .ok()
            .map(|t| t.to_string());
    }
    Ok(import_outcome(kind, import, last))
}

fn is_finished(status: Option<&str>) -> bool {
    matches!(status, Some(ACTIVE | CREATE_FAILED))
}

/// What an import job's state means for the DatasetGroup.
fn import_outcome(kind: DatasetType, import: &ImportSpec, job: &ImportStatus) -> Option<Outcome> {
    match job.status.as_deref().unwrap_or_default() {
        ACTIVE => None,
        CREATE_FAILED => Some(Outcome::Terminal {
            reason: "ImportFailed",
            message: format!(
                "import of {} into the {} dataset failed: {}; fix the data and change import.revision to retry",
                import.data_location,
                kind.as_str(),
                job.failure_reason.as_deref().unwrap_or("no reason given")
            ),
        }),
        other => Some(Outcome::Progressing {
            reason: "Importing",
            message: format!("importing into the {} dataset: {other}", kind.as_str()),
        }),
    }
}

/// Deletes a dataset that left the spec (its schema stays until the group is deleted).
async fn remove_dataset(
    client: &aws_sdk_personalize::Client,
    slot: &mut Option<DatasetStatus>,
) -> Result<Option<Outcome>, Error> {
    let Some(arn) = slot.as_ref().and_then(|d| d.arn.clone()) else {
        *slot = None;
        return Ok(None);
    };
    match delete_dataset(client, &arn).await? {
        true => {
            *slot = None;
            Ok(None)
        }
        false => Ok(Some(Outcome::Progressing {
            reason: "DeletingDataset",
            message: format!("deleting dataset {arn}, which is no longer in the spec"),
        })),
    }
}

/// Asks Personalize to delete a dataset; true once it is gone.
async fn delete_dataset(client: &aws_sdk_personalize::Client, arn: &str) -> Result<bool, Error> {
    let status = async {
        let out = client
            .describe_dataset()
            .dataset_arn(arn)
            .send()
            .await
            .aws("DescribeDataset")?;
        Ok(out
            .dataset()
            .and_then(|d| d.status())
            .unwrap_or_default()
            .to_owned())
    };
    let delete = async {
        client
            .delete_dataset()
            .dataset_arn(arn)
            .send()
            .await
            .aws("DeleteDataset")
            .map(drop)
    };
    Ok(delete_step("dataset", status, delete).await? == DeleteStep::Gone)
}

/// Names of the Solutions and EventTrackers (any namespace) that reference this group.
async fn dependent_crs(dg: &DatasetGroup, ctx: &Context) -> Result<Vec<String>, Error> {
    let ns = namespace(dg)?;
    let name = dg.name_any();
    let refers = |r: Option<&personalize_api::ObjectRef>, own_ns: &str| {
        r.is_some_and(|r| r.name == name && r.namespace_or(own_ns) == ns)
    };
    let mut names = Vec::new();
    for s in Api::<Solution>::all(ctx.kube.clone())
        .list(&ListParams::default())
        .await?
    {
        let own = s.namespace().unwrap_or_default();
        if refers(s.spec.dataset_group_ref.as_ref(), &own) {
            names.push(format!("Solution {own}/{}", s.name_any()));
        }
    }
    for t in Api::<EventTracker>::all(ctx.kube.clone())
        .list(&ListParams::default())
        .await?
    {
        let own = t.namespace().unwrap_or_default();
        if refers(t.spec.dataset_group_ref.as_ref(), &own) {
            names.push(format!("EventTracker {own}/{}", t.name_any()));
        }
    }
    Ok(names)
}

async fn cleanup(dg: Arc<DatasetGroup>, ctx: &Context) -> Result<Action, Error> {
    if dg.spec.deletion_policy == DeletionPolicy::Retain {
        return Ok(retain(dg.as_ref(), ctx, "dataset group").await);
    }
    let Some(arn) = dg.status.as_ref().and_then(|s| s.resource.arn.clone()) else {
        return Ok(Action::await_change());
    };
    let dependents = dependent_crs(&dg, ctx).await?;
    if !dependents.is_empty() {
        let message = format!("waiting for {} to be deleted first", dependents.join(", "));
        return Err(still_deleting(dg.as_ref(), ctx, "DependentsExist", message).await);
    }
    let client = ctx.aws.personalize(dg.spec.region.as_deref());
    match delete_group(dg.as_ref(), ctx, &client, &arn).await {
        Ok(None) => Ok(Action::await_change()),
        Ok(Some(message)) => Err(still_deleting(dg.as_ref(), ctx, "Deleting", message).await),
        Err(Error::Aws(err)) if err.kind == ErrorKind::InUse => {
            Err(still_deleting(dg.as_ref(), ctx, "ResourceInUse", err.to_string()).await)
        }
        Err(err) => Err(err),
    }
}

/// One step of deleting the group and its children; `Some(what we wait for)` until it is gone.
async fn delete_group(
    dg: &DatasetGroup,
    ctx: &Context,
    client: &aws_sdk_personalize::Client,
    arn: &str,
) -> Result<Option<String>, Error> {
    // Children in AWS that this group's CR does not own (made elsewhere) still block deletion.
    let solutions = client
        .list_solutions()
        .dataset_group_arn(arn)
        .send()
        .await
        .aws("ListSolutions");
    match solutions {
        Err(err) if err.is_not_found() => return Ok(None),
        Err(err) => return Err(err.into()),
        Ok(out) if !out.solutions().is_empty() => {
            let names: Vec<&str> = out.solutions().iter().filter_map(|s| s.name()).collect();
            return Ok(Some(format!(
                "waiting for solutions {} to be deleted",
                names.join(", ")
            )));
        }
        Ok(_) => {}
    }
    let trackers = client
        .list_event_trackers()
        .dataset_group_arn(arn)
        .send()
        .await
        .aws("ListEventTrackers")?;
    if !trackers.event_trackers().is_empty() {
        return Ok(Some(
            "waiting for the event tracker to be deleted".to_owned(),
        ));
    }
    let filters = client
        .list_filters()
        .dataset_group_arn(arn)
        .send()
        .await
        .aws("ListFilters")?;
    for filter in filters.filters() {
        if let Some(filter_arn) = filter.filter_arn() {
            match client
                .delete_filter()
                .filter_arn(filter_arn)
                .send()
                .await
                .aws("DeleteFilter")
            {
                Ok(_)
                | Err(AwsError {
                    kind: ErrorKind::NotFound,
                    ..
                }) => {}
                Err(err) => return Err(err.into()),
            }
        }
    }

    let datasets = client
        .list_datasets()
        .dataset_group_arn(arn)
        .send()
        .await
        .aws("ListDatasets")?;
    let mut pending = Vec::new();
    for dataset in datasets.datasets() {
        if let Some(dataset_arn) = dataset.dataset_arn()
            && !delete_dataset(client, dataset_arn).await?
        {
            pending.push(dataset_arn.to_owned());
        }
    }
    if !pending.is_empty() {
        return Ok(Some(format!("deleting datasets {}", pending.join(", "))));
    }

    // Schemas the operator created for this group (named after it).
    let prefix = format!("{}-", group_name(dg));
    let schemas = list_schema_arns(client, &prefix).await?;
    for schema in schemas {
        match client
            .delete_schema()
            .schema_arn(&schema)
            .send()
            .await
            .aws("DeleteSchema")
        {
            Ok(_)
            | Err(AwsError {
                kind: ErrorKind::NotFound,
                ..
            }) => {}
            Err(err) if err.kind == ErrorKind::InUse => {
                return Ok(Some(format!("schema {schema} is still in use")));
            }
            Err(err) => return Err(err.into()),
        }
    }

    match client
        .describe_dataset_group()
        .dataset_group_arn(arn)
        .send()
        .await
        .aws("DescribeDatasetGroup")
    {
        Err(err) if err.is_not_found() => return Ok(None),
        Err(err) => return Err(err.into()),
        Ok(out) => {
            let state = out
                .dataset_group()
                .and_then(|g| g.status())
                .unwrap_or_default();
            if state.starts_with("DELETE") {
                return Ok(Some(format!("dataset group is {state}")));
            }
        }
    }
    match client
        .delete_dataset_group()
        .dataset_group_arn(arn)
        .send()
        .await
        .aws("DeleteDatasetGroup")
    {
        Ok(_) => {
            ctx.mutated(
                dg,
                "DeleteDatasetGroup",
                format!("deleting dataset group {arn}"),
            )
            .await;
            Ok(Some("dataset group deletion requested".to_owned()))
        }
        Err(err) if err.is_not_found() => Ok(None),
        Err(err) => Err(err.into()),
    }
}

async fn list_schema_arns(
    client: &aws_sdk_personalize::Client,
    prefix: &str,
) -> Result<Vec<String>, AwsError> {
    let mut arns = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_schemas()
            .set_next_token(token)
            .max_results(100)
            .send()
            .await
            .aws("ListSchemas")?;
        arns.extend(
            page.schemas()
                .iter()
                .filter(|s| s.name().is_some_and(|n| n.starts_with(prefix)))
                .filter_map(|s| s.schema_arn().map(str::to_owned)),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(arns);
        }
    }
}

/// The DatasetGroup a reference (from an object in `own_namespace`) names.
pub async fn resolve(
    ctx: &Context,
    r: &personalize_api::ObjectRef,
    own_namespace: &str,
) -> Result<Option<DatasetGroup>, Error> {
    let api: Api<DatasetGroup> = Api::namespaced(ctx.kube.clone(), r.namespace_or(own_namespace));
    Ok(api.get_opt(&r.name).await?)
}

/// A referenced group's ARN once it is Ready; otherwise why not.
pub fn ready_arn(dg: &DatasetGroup) -> Result<String, String> {
    let status = dg.status.as_ref();
    let ready = status.is_some_and(|s| s.resource.is_true(personalize_api::conditions::READY));
    match status.and_then(|s| s.resource.arn.clone()) {
        Some(arn) if ready => Ok(arn),
        _ => Err(format!("DatasetGroup {} is not Ready yet", dg.name_any())),
    }
}

/// Whether the interactions of a group have been imported, and the revision of that import.
pub fn interactions_imported(dg: &DatasetGroup) -> Option<String> {
    let import = dg
        .status
        .as_ref()?
        .datasets
        .interactions
        .as_ref()?
        .last_import
        .as_ref()?;
    (import.status.as_deref() == Some(ACTIVE)).then(|| import.revision.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> DatasetGroup {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/movielens/00-dataset-group.yaml"
        );
        serde_yaml::from_str(&std::fs::read_to_string(path).expect("example")).expect("parses")
    }

    fn recorded(arn: &str) -> Option<DatasetStatus> {
        Some(DatasetStatus {
            arn: Some(arn.to_owned()),
            ..DatasetStatus::default()
        })
    }

    #[test]
    fn an_idle_group_is_settled_only_when_every_dataset_is_listed_active() {
        let dg = example();
        let mut status = DatasetGroupStatus::default();
        status.resource.status = Some(ACTIVE.to_owned());
        status.datasets.interactions = recorded("arn:i");
        status.datasets.items = recorded("arn:m");
        let listed = |items: &str| {
            HashMap::from([
                ("arn:i".to_owned(), ACTIVE.to_owned()),
                ("arn:m".to_owned(), items.to_owned()),
            ])
        };
        assert!(settled(&dg, &status, &listed(ACTIVE)));
        assert!(!settled(&dg, &status, &listed("CREATE PENDING")));
        assert!(
            !settled(&dg, &status, &HashMap::new()),
            "a deleted group lists nothing"
        );
        let mut creating = status.clone();
        creating.resource.status = Some("CREATE IN_PROGRESS".to_owned());
        assert!(!settled(&dg, &creating, &listed(ACTIVE)));
        let mut unrecorded = status;
        unrecorded.datasets.items = None;
        assert!(
            !settled(&dg, &unrecorded, &listed(ACTIVE)),
            "a dataset of the spec not created yet"
        );
    }
}
