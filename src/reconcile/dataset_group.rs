//! `DatasetGroup`: the dataset group, then per entry of `spec.datasets` its schema, its dataset
//! and, whenever the import's revision is new, an import job. Every one is an [`AwsResource`]
//! with a name derived from the CR (schemas and import jobs also from a hash of what they hold),
//! so a create repeated after a crash finds the resource and takes it over. A dataset that left
//! the spec is deleted. Cleanup waits for the Solutions and EventTrackers that use the group, then
//! deletes filters, datasets, schemas and the group.

use std::collections::HashMap;
use std::sync::Arc;

use kube::{Resource, ResourceExt};
use personalize_api::dataset_group::{DatasetSpec, DatasetStatus, ImportSpec, ImportStatus};
use personalize_api::{DatasetGroup, DatasetGroupStatus, DatasetType, ObjectRef};

use super::{
    Decided, Env, Error, Managed, Resolve, aws_name, namespace, own_arn, ownership, pending, tags,
    waiting_for,
};
use crate::naming::{child_name, short_hash};
use crate::outcome::Outcome;
use crate::personalize::{
    AwsError, DatasetDetails, ImportDetails, Kind, Listing, NewDataset, NewDatasetGroup,
    NewImportJob, NewSchema, Observation, Personalize, Status, found, sibling_arn,
};
use crate::references::References;
use crate::resource::{
    self, At, AwsResource, Changes, Deletion, Ownership, Pending, Plan, Synced, Updated,
    delete_now, first_waiting, lifecycle_plan,
};

/// A dataset group cannot change in place. Its ARN is not derivable from its name alone (the
/// account is not known before the first ARN): an existing one is found by listing.
impl AwsResource for NewDatasetGroup {
    fn plan(&self, observed: &Observation<()>) -> Plan {
        lifecycle_plan("dataset group", observed)
    }

    async fn existing(&self, api: &dyn Personalize) -> Result<Option<String>, AwsError> {
        named(api, Listing::DatasetGroups, &self.name).await
    }
}

/// A schema is named after its group, its dataset type and a hash of its content, so a changed
/// schema is a new one; it has no lifecycle (usable once created).
impl AwsResource for NewSchema {
    fn plan(&self, observed: &Observation<()>) -> Plan {
        lifecycle_plan("schema", observed)
    }

    async fn existing(&self, api: &dyn Personalize) -> Result<Option<String>, AwsError> {
        named(api, Listing::Schemas, &self.name).await
    }

    fn created(&self) -> Option<Observation<()>> {
        Some(Observation::new(Status::Active, ()))
    }
}

/// The ARN of the resource of a listing that has this name.
async fn named(
    api: &dyn Personalize,
    listing: Listing<'_>,
    name: &str,
) -> Result<Option<String>, AwsError> {
    let all = api.list(listing).await?;
    Ok(all
        .into_iter()
        .find(|r| r.name.as_deref() == Some(name))
        .map(|r| r.arn))
}

/// A dataset moves to a new schema with UpdateDataset.
impl AwsResource for NewDataset {
    async fn update(&self, at: At<'_, DatasetDetails>) -> Updated {
        at.api.update_dataset(at.arn, &self.schema_arn).await?;
        Ok("UpdateDataset")
    }

    async fn existing(&self, _: &dyn Personalize) -> Result<Option<String>, AwsError> {
        Ok(Some(dataset_arn(
            &self.dataset_group_arn,
            &self.dataset_type,
        )))
    }

    fn plan(&self, observed: &Observation<DatasetDetails>) -> Plan {
        match &observed.status {
            Status::Active if observed.details.schema_arn.as_ref() != Some(&self.schema_arn) => {
                Plan::Update
            }
            Status::CreateFailed => Plan::fail(
                "DatasetCreateFailed",
                format!(
                    "Personalize could not create the {} dataset: {}",
                    self.dataset_type,
                    observed
                        .failure_reason
                        .as_deref()
                        .unwrap_or("no reason given")
                ),
            ),
            s if s.is_creating() => Plan::wait(
                "CreatingDataset",
                format!("{} dataset is {s}", self.dataset_type),
            ),
            _ => lifecycle_plan("dataset", observed),
        }
    }
}

/// An import job is a run, one per revision, never changed or deleted.
impl AwsResource for NewImportJob {
    fn plan(&self, observed: &Observation<ImportDetails>) -> Plan {
        match &observed.status {
            Status::Active => Plan::Done,
            Status::CreateFailed => Plan::fail(
                "ImportFailed",
                format!(
                    "import of {} failed: {}; fix the data and change import.revision to retry",
                    self.data_location,
                    observed
                        .failure_reason
                        .as_deref()
                        .unwrap_or("no reason given")
                ),
            ),
            s => Plan::wait(
                "Importing",
                format!("importing {}: {s}", self.data_location),
            ),
        }
    }
}

/// The AWS name of the dataset group.
pub fn group_name(dg: &DatasetGroup) -> String {
    aws_name(dg, dg.spec.name.as_deref())
}

fn lower(kind: DatasetType) -> &'static str {
    match kind {
        DatasetType::Interactions => "interactions",
        DatasetType::Items => "items",
        DatasetType::Users => "users",
        DatasetType::Actions => "actions",
        DatasetType::ActionInteractions => "action-interactions",
    }
}

/// A dataset's ARN: `dataset/<group name>/<TYPE>` next to its group, the type in capitals as
/// Personalize writes it (`INTERACTIONS`).
pub fn dataset_arn(group_arn: &str, dataset_type: &str) -> String {
    let group = group_arn.rsplit('/').next().unwrap_or_default();
    let kind = dataset_type.to_ascii_uppercase();
    sibling_arn(group_arn, &format!("dataset/{group}/{kind}"))
}

/// Where one dataset goes: its group (ARN and name) and its type; who may take over its
/// schema, dataset and import (anything of their name, or nothing when observe-only).
struct Target<'a> {
    group_arn: &'a str,
    group: &'a str,
    kind: DatasetType,
    ownership: &'a Ownership,
}

impl Resolve for DatasetGroup {
    /// A dataset group references nothing.
    type Refs = ();

    async fn resolve(&self, _: &Env<'_>) -> Result<Result<(), Outcome>, Error> {
        Ok(Ok(()))
    }
}

impl Managed for DatasetGroup {
    async fn sync(&self, env: &Env<'_>, (): (), status: &mut DatasetGroupStatus) -> Decided {
        let changes = &env.changes;
        let api = env.personalize(self.spec.region.as_deref());
        let api = api.as_ref();
        let name = group_name(self);
        // One ListDatasets shows the state of every dataset. When the group was ACTIVE and every
        // dataset of the spec is listed ACTIVE, nothing needs describing: an idle resync costs
        // this one call. A deleted group lists nothing, which sends us down the full path.
        let listed = match &status.resource.arn {
            Some(arn) => found(api.list(Listing::Datasets(arn)).await)?
                .unwrap_or_default()
                .into_iter()
                .filter_map(|d| Some((d.arn, d.status?)))
                .collect(),
            None => HashMap::new(),
        };
        let known = settled(self, status, &listed).then(|| Observation::new(Status::Active, ()));
        let desired = NewDatasetGroup {
            name: name.clone(),
            domain: self.spec.domain.map(|d| d.as_str().to_owned()),
            kms_key_arn: self.spec.kms_key_arn.clone(),
            role_arn: self.spec.role_arn.clone(),
            tags: tags(self, &self.spec.tags),
        };
        let before = status.resource.arn.clone();
        let region = self.spec.region.as_deref();
        let arn = &mut status.resource.arn;
        let synced = env.sync_owned(self, region, &desired, arn, known).await?;
        if status.resource.arn != before {
            status.datasets = Default::default(); // a new group: its datasets are new too
        }
        let (arn, observed) = match synced {
            Synced::Done(arn, observed) => (arn, observed),
            Synced::Pending(why, observed) => {
                status.resource.status = observed.as_ref().map(|o| o.status.to_string());
                status.resource.failure_reason = observed.and_then(|o| o.failure_reason);
                return Ok(pending(why));
            }
        };
        status.resource.status = Some(observed.status.to_string());
        status.resource.failure_reason = None;
        let mut waiting = None;
        let children = match ownership(self) {
            Ownership::Observe => Ownership::Observe,
            _ => Ownership::Parent,
        };
        for kind in DatasetType::ALL {
            let target = Target {
                group_arn: &arn,
                group: &name,
                kind,
                ownership: &children,
            };
            let slot = status.datasets.slot(kind);
            let step = match self.spec.datasets.get(kind) {
                Some(spec) => {
                    sync_dataset(self, api, &target, spec, slot, &listed, changes).await?
                }
                None => remove_dataset(api, slot, changes).await?,
            };
            waiting = waiting.or(step);
        }
        Ok(waiting.map(pending).unwrap_or_else(|| Outcome::Ready {
            message: format!("dataset group {name} and its datasets are ACTIVE"),
        }))
    }

    async fn cleanup(&self, env: &Env<'_>) -> Result<Deletion, Error> {
        let changes = &env.changes;
        let Some(arn) = own_arn(self) else {
            return Ok(Deletion::Gone);
        };
        let refs = env.references;
        let mut dependents =
            References::referrers(&refs.solutions, self, |s| s.spec.dataset_group_ref.as_ref())
                .await?;
        dependents.extend(
            References::referrers(&refs.event_trackers, self, |t| {
                t.spec.dataset_group_ref.as_ref()
            })
            .await?,
        );
        dependents.extend(
            References::referrers(&refs.filters, self, |f| f.spec.dataset_group_ref.as_ref())
                .await?,
        );
        dependents.extend(
            References::referrers(&refs.recommenders, self, |r| {
                r.spec.dataset_group_ref.as_ref()
            })
            .await?,
        );
        dependents.extend(
            References::referrers(&refs.metric_attributions, self, |m| {
                m.spec.dataset_group_ref.as_ref()
            })
            .await?,
        );
        if !dependents.is_empty() {
            let message = format!("waiting for {} to be deleted first", dependents.join(", "));
            return Ok(Deletion::waiting("DependentsExist", message));
        }
        let api = env.personalize(self.spec.region.as_deref());
        delete_group(api.as_ref(), &arn, &group_name(self), changes).await
    }
}

/// Whether the group was ACTIVE at the last look and every dataset of the spec is listed
/// ACTIVE on the schema last confirmed: then neither needs a Describe. Pure.
fn settled(
    dg: &DatasetGroup,
    status: &DatasetGroupStatus,
    listed: &HashMap<String, Status>,
) -> bool {
    let datasets_active = DatasetType::ALL.into_iter().all(|kind| {
        match (dg.spec.datasets.get(kind), status.datasets.get(kind)) {
            (None, None) => true,
            (Some(_), Some(recorded)) => recorded
                .arn
                .as_ref()
                .and_then(|arn| listed.get(arn))
                .is_some_and(|s| *s == Status::Active),
            _ => false,
        }
    });
    datasets_active && status.resource.status.as_deref() == Some(Status::Active.as_str())
}

/// Brings one dataset (schema, dataset, import) in line with its spec; `Some` when it is not
/// done.
async fn sync_dataset(
    dg: &DatasetGroup,
    api: &dyn Personalize,
    target: &Target<'_>,
    spec: &DatasetSpec,
    slot: &mut Option<DatasetStatus>,
    listed: &HashMap<String, Status>,
    changes: &Changes,
) -> Result<Option<Pending>, Error> {
    let kind = target.kind;
    let current = slot.get_or_insert_with(DatasetStatus::default);

    // The schema: recorded as confirmed, or created (or found) now.
    let schema_json = spec.schema.to_json_string();
    let schema_name = child_name(
        target.group,
        &format!("{}-{}", lower(kind), short_hash(&schema_json)),
    );
    let schema = NewSchema {
        name: schema_name,
        schema: schema_json,
        domain: dg.spec.domain.map(|d| d.as_str().to_owned()),
    };
    let expected = sibling_arn(target.group_arn, &Kind::Schema.path(&schema.name));
    let mut schema_arn = current.schema_arn.clone().filter(|arn| *arn == expected);
    let known = schema_arn
        .is_some()
        .then(|| Observation::new(Status::Active, ()));
    let synced = resource::sync(
        api,
        &schema,
        target.ownership,
        &mut schema_arn,
        known,
        changes,
    )
    .await?;
    let Synced::Done(schema_arn, _) = synced else {
        return Ok(Some(Pending::Progressing {
            reason: "CreatingSchema",
            message: format!("creating the {} schema", kind.as_str()),
        }));
    };

    // The dataset, on that schema.
    let dataset = NewDataset {
        name: child_name(target.group, lower(kind)),
        dataset_group_arn: target.group_arn.to_owned(),
        dataset_type: kind.as_str().to_owned(),
        schema_arn: schema_arn.clone(),
    };
    let listed_active = current
        .arn
        .as_ref()
        .and_then(|arn| listed.get(arn))
        .is_some_and(|s| *s == Status::Active);
    let known = (listed_active && current.schema_arn.as_ref() == Some(&schema_arn)).then(|| {
        Observation::new(
            Status::Active,
            DatasetDetails {
                schema_arn: Some(schema_arn.clone()),
            },
        )
    });
    let synced = resource::sync(
        api,
        &dataset,
        target.ownership,
        &mut current.arn,
        known,
        changes,
    )
    .await?;
    match synced {
        Synced::Done(..) => {
            current.status = Some(Status::Active.to_string());
            current.schema_arn = Some(schema_arn);
        }
        Synced::Pending(why, observed) => {
            current.status = observed.map(|o| o.status.to_string());
            return Ok(Some(why));
        }
    }

    // The import: a new job per revision.
    let (Some(import), Some(dataset_arn)) = (&spec.import, current.arn.clone()) else {
        return Ok(None);
    };
    sync_import(api, target, import, &dataset_arn, current, changes).await
}

/// The import job of the spec's revision; `Some` while it runs or when it failed.
async fn sync_import(
    api: &dyn Personalize,
    target: &Target<'_>,
    import: &ImportSpec,
    dataset_arn: &str,
    current: &mut DatasetStatus,
    changes: &Changes,
) -> Result<Option<Pending>, Error> {
    let name = child_name(
        target.group,
        &format!("{}-{}", lower(target.kind), short_hash(&import.revision)),
    );
    let job = NewImportJob {
        name,
        dataset_arn: dataset_arn.to_owned(),
        data_location: import.data_location.clone(),
        role_arn: import.role_arn.clone(),
        mode: import.mode.as_str().to_owned(),
    };
    let last = current
        .last_import
        .take()
        .filter(|i| i.revision == import.revision)
        .unwrap_or_else(|| ImportStatus {
            revision: import.revision.clone(),
            ..ImportStatus::default()
        });
    // A finished job never changes again: no need to ask Personalize about it.
    let known = match last.status.as_deref().map(Status::parse) {
        Some(s @ (Status::Active | Status::CreateFailed)) if last.job_arn.is_some() => {
            Some(Observation {
                status: s,
                failure_reason: last.failure_reason.clone(),
                details: ImportDetails::default(),
            })
        }
        _ => None,
    };
    let last = current.last_import.insert(last);
    let synced = resource::sync(
        api,
        &job,
        target.ownership,
        &mut last.job_arn,
        known,
        changes,
    )
    .await?;
    let (observed, result) = match synced {
        Synced::Done(_, observed) => (Some(observed), None),
        Synced::Pending(why, observed) => (observed, Some(why)),
    };
    if let Some(observed) = observed {
        last.status = Some(observed.status.to_string());
        last.failure_reason = observed.failure_reason;
        if observed.status == Status::Active && last.completed_at.is_none() {
            last.completed_at = observed.details.last_updated.map(|t| t.to_string());
        }
    }
    Ok(result)
}

/// Deletes a dataset that left the spec (its schema stays until the group is deleted).
async fn remove_dataset(
    api: &dyn Personalize,
    slot: &mut Option<DatasetStatus>,
    changes: &Changes,
) -> Result<Option<Pending>, Error> {
    let Some(arn) = slot.as_ref().and_then(|d| d.arn.clone()) else {
        *slot = None;
        return Ok(None);
    };
    match resource::delete::<NewDataset>(api, &arn, changes).await? {
        Deletion::Gone => {
            *slot = None;
            Ok(None)
        }
        Deletion::Waiting { .. } => Ok(Some(Pending::Progressing {
            reason: "DeletingDataset",
            message: format!("deleting dataset {arn}, which is no longer in the spec"),
        })),
    }
}

/// One step of deleting the group and its children, in Personalize's order.
async fn delete_group(
    api: &dyn Personalize,
    arn: &str,
    name: &str,
    changes: &Changes,
) -> Result<Deletion, Error> {
    // Children this CR does not own (made elsewhere) still block deletion.
    let Some(solutions) = found(api.list(Listing::Solutions(arn)).await)? else {
        return Ok(Deletion::Gone);
    };
    if !solutions.is_empty() {
        let names: Vec<&str> = solutions.iter().filter_map(|s| s.name.as_deref()).collect();
        return Ok(Deletion::waiting(
            "DependentsExist",
            format!("waiting for solutions {} to be deleted", names.join(", ")),
        ));
    }
    let recommenders = api.list(Listing::Recommenders(arn)).await?;
    if !recommenders.is_empty() {
        let names: Vec<&str> = recommenders
            .iter()
            .filter_map(|r| r.name.as_deref())
            .collect();
        return Ok(Deletion::waiting(
            "DependentsExist",
            format!(
                "waiting for recommenders {} to be deleted",
                names.join(", ")
            ),
        ));
    }
    if !api.list(Listing::EventTrackers(arn)).await?.is_empty() {
        return Ok(Deletion::waiting(
            "DependentsExist",
            "waiting for the event tracker to be deleted",
        ));
    }
    if !api.list(Listing::MetricAttributions(arn)).await?.is_empty() {
        return Ok(Deletion::waiting(
            "DependentsExist",
            "waiting for the metric attribution to be deleted",
        ));
    }
    let mut steps = Vec::new();
    for filter in api.list(Listing::Filters(arn)).await? {
        steps.push(delete_now(api, Kind::Filter, &filter.arn, changes).await?);
    }
    for dataset in api.list(Listing::Datasets(arn)).await? {
        steps.push(resource::delete::<NewDataset>(api, &dataset.arn, changes).await?);
    }
    if let wait @ Deletion::Waiting { .. } = first_waiting(steps) {
        return Ok(wait);
    }
    // Schemas the operator created for this group (named after it): gone at once when deleted,
    // unless still in use.
    let prefix = format!("{name}-");
    for schema in api.list(Listing::Schemas).await? {
        if !schema
            .name
            .as_deref()
            .is_some_and(|n| n.starts_with(&prefix))
        {
            continue;
        }
        if let wait @ Deletion::Waiting {
            reason: "ResourceInUse",
            ..
        } = delete_now(api, Kind::Schema, &schema.arn, changes).await?
        {
            return Ok(wait);
        }
    }
    Ok(resource::delete::<NewDatasetGroup>(api, arn, changes).await?)
}

/// The DatasetGroup a `datasetGroupRef` (of an object in `namespace`) names, or why there is
/// none.
pub async fn referenced(
    env: &Env<'_>,
    namespace: &str,
    reference: Option<&ObjectRef>,
) -> Result<Result<Arc<DatasetGroup>, Outcome>, Error> {
    let Some(r) = reference else {
        return Ok(Err(Outcome::Terminal {
            reason: "NoDatasetGroup",
            message: "spec.datasetGroupRef is missing".into(),
        }));
    };
    let refs = env.references;
    let found = refs.resolve(&refs.dataset_groups, r, namespace).await?;
    Ok(found.ok_or_else(|| {
        let ns = r.namespace_or(namespace);
        waiting_for(
            "DatasetGroupNotFound",
            format!("DatasetGroup {ns}/{} does not exist", r.name),
        )
    }))
}

/// Objects that belong to a dataset group, named by `datasetGroupArn` (not managed here) or by
/// `datasetGroupRef`.
pub trait InGroup: Resource {
    /// `spec.datasetGroupArn` and `spec.datasetGroupRef`.
    fn group(&self) -> (Option<&String>, Option<&ObjectRef>);
}

macro_rules! in_group {
    ($($k:ty),*) => {$(
        impl InGroup for $k {
            fn group(&self) -> (Option<&String>, Option<&ObjectRef>) {
                (self.spec.dataset_group_arn.as_ref(), self.spec.dataset_group_ref.as_ref())
            }
        }
    )*};
}
in_group!(
    personalize_api::EventTracker,
    personalize_api::Filter,
    personalize_api::Recommender,
    personalize_api::MetricAttribution,
    personalize_api::DatasetExportJob,
    personalize_api::DataDeletionJob
);

/// A kind in a dataset group resolves to the group's ARN.
impl<K: InGroup + Sync> Resolve for K {
    type Refs = String;

    async fn resolve(&self, env: &Env<'_>) -> Result<Result<String, Outcome>, Error> {
        group_arn(env, self).await
    }
}

/// The ARN of an object's dataset group: the ARN it gives, or its DatasetGroup's once Ready.
pub async fn group_arn<K: InGroup>(
    env: &Env<'_>,
    obj: &K,
) -> Result<Result<String, Outcome>, Error> {
    let (arn, reference) = obj.group();
    if let Some(arn) = arn {
        return Ok(Ok(arn.clone()));
    }
    let group = referenced(env, &namespace(obj)?, reference).await?;
    Ok(group.and_then(|dg| {
        ready_arn(&dg).map_err(|message| waiting_for("DatasetGroupNotReady", message))
    }))
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
    (import.status.as_deref() == Some(Status::Active.as_str())).then(|| import.revision.clone())
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
        status.resource.status = Some("ACTIVE".to_owned());
        status.datasets.interactions = recorded("arn:i");
        status.datasets.items = recorded("arn:m");
        let listed = |items: Status| {
            HashMap::from([
                ("arn:i".to_owned(), Status::Active),
                ("arn:m".to_owned(), items),
            ])
        };
        assert!(settled(&dg, &status, &listed(Status::Active)));
        assert!(!settled(&dg, &status, &listed(Status::CreatePending)));
        assert!(
            !settled(&dg, &status, &HashMap::new()),
            "a deleted group lists nothing"
        );
        let mut creating = status.clone();
        creating.resource.status = Some("CREATE IN_PROGRESS".to_owned());
        assert!(!settled(&dg, &creating, &listed(Status::Active)));
        let mut unrecorded = status;
        unrecorded.datasets.items = None;
        assert!(
            !settled(&dg, &unrecorded, &listed(Status::Active)),
            "a dataset of the spec not created yet"
        );
    }

    #[test]
    fn dataset_plan_table() {
        let desired = NewDataset {
            dataset_type: "ITEMS".into(),
            schema_arn: "s2".into(),
            ..NewDataset::default()
        };
        let on = |status: Status, schema: &str| {
            Observation::new(
                status,
                DatasetDetails {
                    schema_arn: Some(schema.into()),
                },
            )
        };
        assert_eq!(desired.plan(&on(Status::Active, "s2")), Plan::Done);
        assert_eq!(
            desired.plan(&on(Status::Active, "s1")),
            Plan::Update,
            "new schema"
        );
        assert!(matches!(
            desired.plan(&on(Status::CreateInProgress, "s1")),
            Plan::Wait {
                reason: "CreatingDataset",
                ..
            }
        ));
        assert!(matches!(
            desired.plan(&on(Status::CreateFailed, "s2")),
            Plan::Fail {
                reason: "DatasetCreateFailed",
                ..
            }
        ));
    }

    #[test]
    fn import_plan_table() {
        let job = NewImportJob {
            data_location: "s3://b/k.csv".into(),
            ..NewImportJob::default()
        };
        let at = |status: Status| Observation::new(status, ImportDetails::default());
        assert_eq!(job.plan(&at(Status::Active)), Plan::Done);
        assert!(matches!(
            job.plan(&at(Status::CreateInProgress)),
            Plan::Wait {
                reason: "Importing",
                ..
            }
        ));
        let failed = job.plan(&at(Status::CreateFailed));
        assert!(
            matches!(&failed, Plan::Fail { reason: "ImportFailed", message } if message.contains("import.revision")),
            "{failed:?}"
        );
    }

    #[test]
    fn dataset_arns_sit_next_to_their_group() {
        assert_eq!(
            dataset_arn(
                "arn:aws:personalize:us-east-1:000000000000:dataset-group/g",
                "ITEMS"
            ),
            "arn:aws:personalize:us-east-1:000000000000:dataset/g/ITEMS"
        );
    }

    mod scenarios {
        use super::super::*;
        use crate::personalize::fake::Fake;
        use crate::reconcile::testing::{World, arn_of, movielens};

        fn is_ready(outcome: &Outcome) -> bool {
            matches!(outcome, Outcome::Ready { .. })
        }

        #[tokio::test]
        async fn actions_and_action_interactions_datasets_are_created_with_their_capital_arns() {
            let world = World::new();
            let (mut group, ..) = movielens();
            let dataset = |fields: serde_json::Value| {
                serde_json::from_value::<personalize_api::dataset_group::DatasetSpec>(
                    serde_json::json!({"schema": {"type": "record", "name": "N", "fields": fields}}),
                )
                .expect("a dataset spec")
            };
            let datasets = &mut group.spec.datasets;
            datasets.actions = Some(dataset(serde_json::json!([
                {"name": "ACTION_ID", "type": "string"}
            ])));
            datasets.action_interactions = Some(dataset(serde_json::json!([
                {"name": "USER_ID", "type": "string"}, {"name": "ACTION_ID", "type": "string"},
                {"name": "TIMESTAMP", "type": "long"}, {"name": "EVENT_TYPE", "type": "string"}
            ])));
            let (outcome, _) = world.sync(&mut group).await;
            assert!(is_ready(&outcome), "{outcome:?}");
            let status = group.status.clone().expect("status");
            let arn = |s: Option<DatasetStatus>| s.and_then(|d| d.arn).expect("an ARN");
            assert!(arn(status.datasets.actions).ends_with("/ACTIONS"));
            assert!(arn(status.datasets.action_interactions).ends_with("/ACTION_INTERACTIONS"));
            // Idle: still one ListDatasets.
            let before = world.fake.total_calls();
            world.sync(&mut group).await;
            assert_eq!(world.fake.total_calls() - before, 1);
        }

        #[tokio::test]
        async fn creates_the_group_its_schemas_datasets_and_imports_then_idles_on_one_call() {
            let world = World::new();
            let (mut group, ..) = movielens();
            let (outcome, changes) = world.sync(&mut group).await;
            assert!(is_ready(&outcome), "{outcome:?}");
            let actions: Vec<&str> = changes.iter().map(|c| c.action.as_str()).collect();
            assert_eq!(
                actions,
                [
                    "CreateDatasetGroup",
                    "CreateSchema",
                    "CreateDataset",
                    "CreateDatasetImportJob",
                    "CreateSchema",
                    "CreateDataset",
                    "CreateDatasetImportJob"
                ]
            );
            let status = group.status.clone().expect("status");
            let interactions = status.datasets.interactions.expect("interactions");
            let import = interactions.last_import.expect("import");
            assert_eq!(import.status.as_deref(), Some("ACTIVE"));
            assert!(import.completed_at.is_some());
            let before = world.fake.total_calls();
            let (outcome, changes) = world.sync(&mut group).await;
            assert!(is_ready(&outcome) && changes.is_empty(), "{changes:?}");
            assert_eq!(
                world.fake.total_calls() - before,
                1,
                "an idle resync costs ListDatasets"
            );
            assert_eq!(
                world.fake.calls("ListDatasets"),
                1,
                "none before the group existed"
            );
        }

        #[tokio::test]
        async fn a_new_schema_updates_the_dataset_and_a_dataset_left_out_is_deleted() {
            let world = World::new();
            let (mut group, ..) = movielens();
            world.sync(&mut group).await;
            group.spec.datasets.items = None;
            let fields = &mut group.spec.datasets.interactions.schema.0["fields"];
            fields
                .as_array_mut()
                .expect("fields")
                .push(serde_json::json!({"name": "EVENT_VALUE", "type": ["float", "null"]}));
            let (outcome, changes) = world.sync(&mut group).await;
            let actions: Vec<&str> = changes.iter().map(|c| c.action.as_str()).collect();
            assert_eq!(
                actions,
                ["CreateSchema", "UpdateDataset", "DeleteDataset"],
                "{outcome:?}"
            );
            world.sync_until_ready(&mut group).await;
            assert_eq!(world.fake.arns(Kind::Dataset).len(), 1, "items deleted");
            assert_eq!(
                world.fake.arns(Kind::Schema).len(),
                3,
                "old schemas stay until the group goes"
            );
            assert!(
                group
                    .status
                    .as_ref()
                    .is_some_and(|s| s.datasets.items.is_none())
            );
        }

        #[tokio::test]
        async fn a_group_deleted_outside_the_operator_is_created_again_with_its_datasets() {
            let world = World::new();
            let (mut group, ..) = movielens();
            world.sync(&mut group).await;
            let arn = arn_of(&group);
            for dataset in world.fake.arns(Kind::Dataset) {
                world.fake.remove(&dataset);
            }
            world.fake.remove(&arn);
            let outcomes = world.sync_until_ready(&mut group).await;
            assert_eq!(world.fake.calls("CreateDatasetGroup"), 2, "{outcomes:?}");
            assert_eq!(world.fake.arns(Kind::Dataset).len(), 2);
        }

        #[tokio::test]
        async fn a_foreign_group_of_the_same_name_is_refused_until_adoption_is_asked() {
            let world = World::new();
            let (mut group, ..) = movielens();
            let foreign = NewDatasetGroup {
                name: group_name(&group),
                tags: crate::personalize::Tags::from([(
                    crate::naming::OWNER_TAG.to_owned(),
                    "other/app".to_owned(),
                )]),
                ..NewDatasetGroup::default()
            };
            world
                .fake
                .create_dataset_group(&foreign)
                .await
                .expect("created");
            let (outcome, _) = world.sync(&mut group).await;
            assert_eq!(outcome.reason(), "NameTaken", "{outcome:?}");
            group.metadata.annotations.get_or_insert_default().insert(
                crate::naming::ADOPT_ANNOTATION.to_owned(),
                "true".to_owned(),
            );
            let (outcome, changes) = world.sync(&mut group).await;
            assert_eq!(outcome.reason(), "Active", "{outcome:?}");
            assert_eq!(changes[0].action, "AdoptDatasetGroup");
            assert_eq!(world.fake.arns(Kind::DatasetGroup).len(), 1);
        }

        #[tokio::test]
        async fn a_failed_import_is_terminal_and_names_the_fix() {
            let world = World::with(Fake::with_steps(3));
            let (mut group, ..) = movielens();
            for _ in 0..6 {
                world.sync(&mut group).await;
                let job = group
                    .status
                    .as_ref()
                    .and_then(|s| s.datasets.interactions.as_ref())
                    .and_then(|d| d.last_import.as_ref())
                    .and_then(|i| i.job_arn.clone());
                if let Some(job) = job {
                    world.fake.set_status(&job, Status::CreateFailed);
                    break;
                }
            }
            let (outcome, _) = world.sync(&mut group).await;
            assert_eq!(outcome.reason(), "ImportFailed", "{outcome:?}");
            assert!(outcome.message().contains("import.revision"), "{outcome:?}");
        }

        #[tokio::test]
        async fn cleanup_waits_for_dependents_then_deletes_everything_in_order() {
            let mut world = World::with(Fake::with_steps(1));
            let (mut group, solution, _, tracker) = movielens();
            world.sync_until_ready(&mut group).await;
            world.put(&solution);
            world.put(&tracker);
            let (step, _) = world.cleanup(&group).await.expect("step");
            assert!(
                matches!(&step, Deletion::Waiting { reason: "DependentsExist", message }
                    if message.contains("Solution team/movielens-user-personalization")
                    && message.contains("EventTracker team/movielens")),
                "{step:?}"
            );
            let world = World::with(world.fake.clone());
            let steps = world.cleanup_until_gone(&group).await;
            for kind in [Kind::DatasetGroup, Kind::Dataset, Kind::Schema] {
                assert!(world.fake.arns(kind).is_empty(), "{kind:?} left: {steps:?}");
            }
        }
    }
}
