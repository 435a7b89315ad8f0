//! The stored-resource contract and what every resource gets from it: get-or-NotFound, Describe,
//! List (filtered by parent, newest first, paged), the busy check before Delete, and the generic
//! request and response shapes of those operations. A resource module says only what is specific
//! to it. Depends on the store and the wire layer only.

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::sync::MutexGuard;

use serde::de::{self, IgnoredAny, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::resources::AppState;
use crate::resources::campaign::solution_of;
use crate::resources::lifecycle::{self, is_creating, is_deleting};
use crate::resources::tags;
use crate::store::model::{
    BatchInferenceJob, BatchSegmentJob, Campaign, DataDeletionJob, Dataset, DatasetExportJob,
    DatasetGroup, DatasetImportJob, DatasetSchema, EventTracker, Filter, MetricAttribution,
    Recommender, Solution, SolutionVersion, Tag,
};
use crate::store::{Entry, Store};
use crate::wire::error::ApiError;
use crate::wire::names::check_arn;
use crate::wire::paging::page;

/// A Personalize resource kept in the store under its ARN. Implemented for every stored shape
/// by the one table at the end of this module.
pub trait Resource: Clone + Serialize + Sized {
    /// What messages call it (`Dataset group`).
    const KIND: &'static str;
    /// The request member naming it (`datasetGroupArn`).
    const ARN_MEMBER: &'static str;
    /// The Describe response member holding it (`datasetGroup`).
    const SHAPE: &'static str;
    /// The List response member holding the summaries (`datasetGroups`).
    const LIST_MEMBER: &'static str;
    /// The List request member filtering by parent ARN, if the operation has one.
    const PARENT_MEMBER: Option<&'static str>;
    /// The members a List summary keeps.
    const SUMMARY: &'static [&'static str];

    /// Its table in the store.
    fn table(store: &Store) -> &BTreeMap<String, Self>;
    fn creation_date_time(&self) -> f64;
    /// The ARN List filters on when `PARENT_MEMBER` is given.
    fn parent_arn(&self) -> &str;
}

/// A List summary: the resource's [`Resource::SUMMARY`] members.
pub fn summary<R: Resource>(resource: &R) -> Result<Value, ApiError> {
    match serde_json::to_value(resource) {
        Ok(Value::Object(mut members)) => {
            members.retain(|name, _| R::SUMMARY.contains(&name.as_str()));
            Ok(Value::Object(members))
        }
        Ok(_) | Err(_) => Err(ApiError::Internal(format!(
            "{} does not serialize as an object",
            R::KIND
        ))),
    }
}

/// The resource `arn` of kind `R`, or `ResourceNotFoundException`.
pub fn get<'s, R: Resource>(store: &'s Store, arn: &str) -> Result<&'s R, ApiError> {
    R::table(store)
        .get(arn)
        .ok_or_else(|| ApiError::not_found(arn))
}

/// `ResourceInUseException` while a resource is being created or deleted (it cannot be deleted).
pub fn check_deletable(kind: &str, arn: &str, status: &str) -> Result<(), ApiError> {
    if is_creating(status) || is_deleting(status) {
        return Err(ApiError::InUse(format!(
            "{kind} {arn} is in status {status} and cannot be deleted"
        )));
    }
    Ok(())
}

/// The first resource of kind `R` (in ARN order) whose List filters on parent `parent`.
pub fn first_child<'s, R: Resource>(store: &'s Store, parent: &str) -> Option<&'s R> {
    R::table(store).values().find(|r| r.parent_arn() == parent)
}

/// How many resources of kind `R` have `parent` as the parent their List filters on.
pub fn count_children<R: Resource>(store: &Store, parent: &str) -> usize {
    R::table(store)
        .values()
        .filter(|r| r.parent_arn() == parent)
        .count()
}

/// The first step of every Create once its request is checked: the ARN resource `name` of kind
/// `R` takes (`kind` is its ARN's resource type, `dataset-group`) and the store locked, or
/// `ResourceAlreadyExistsException` when a resource already stands there.
pub fn reserve<'s, R: Resource>(
    state: &'s AppState,
    kind: &str,
    name: &str,
) -> Result<(String, MutexGuard<'s, Store>), ApiError> {
    let arn = state.arns.make(kind, name);
    let store = state.lock();
    if R::table(&store).contains_key(&arn) {
        return Err(ApiError::AlreadyExists(format!(
            "{} {name} already exists",
            R::KIND
        )));
    }
    Ok((arn, store))
}

/// After a Create has stored its resource: stores the tags given, releases the store and starts
/// the create state machine.
pub fn start_new(
    state: &AppState,
    mut store: MutexGuard<'_, Store>,
    arn: &str,
    tags: Option<Vec<Tag>>,
) {
    tags::set_on_create(&mut store, arn, tags);
    drop(store);
    lifecycle::start_create(state, arn.to_string());
}

/// The first steps of every Delete*: the ARN checked, the store locked, the resource found and not
/// being created or deleted. Returns the ARN, the locked store and a copy of the resource.
pub fn begin_delete<R: Resource>(
    state: &AppState,
    req: ByArn<R>,
) -> Result<(String, MutexGuard<'_, Store>, R), ApiError> {
    check_arn(R::ARN_MEMBER, &req.arn)?;
    let store = state.lock();
    let resource = get::<R>(&store, &req.arn)?.clone();
    if let Some(status) = store.resource(&req.arn).as_ref().and_then(Entry::status) {
        check_deletable(R::KIND, &req.arn, status)?;
    }
    Ok((req.arn, store, resource))
}

/// Describe* for any resource.
pub fn describe<R: Resource>(state: &AppState, req: ByArn<R>) -> Result<Described<R>, ApiError> {
    check_arn(R::ARN_MEMBER, &req.arn)?;
    let store = state.lock();
    Ok(Described(get::<R>(&store, &req.arn)?.clone()))
}

/// List* for any resource: filtered by parent, newest first, paged.
pub fn list<R: Resource>(state: &AppState, req: ListRequest<R>) -> Result<Listed<R>, ApiError> {
    if let (Some(member), Some(parent)) = (R::PARENT_MEMBER, &req.parent) {
        check_arn(member, parent)?;
    }
    let store = state.lock();
    let mut all: Vec<&R> = R::table(&store)
        .values()
        .filter(|r| req.parent.as_ref().is_none_or(|p| r.parent_arn() == p))
        .collect();
    all.sort_by(|a, b| b.creation_date_time().total_cmp(&a.creation_date_time()));
    let summaries = all.into_iter().map(summary).collect::<Result<_, _>>()?;
    let (items, next_token) = page(summaries, req.next_token.as_deref(), req.max_results)?;
    Ok(Listed {
        items,
        next_token,
        kind: PhantomData,
    })
}

/// A request naming one resource: `{"<ARN_MEMBER>": "arn:..."}` (Describe*, Delete*).
pub struct ByArn<R> {
    pub arn: String,
    kind: PhantomData<R>,
}

/// A List request: the optional parent filter, `nextToken`, `maxResults`.
pub struct ListRequest<R> {
    pub parent: Option<String>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
    kind: PhantomData<R>,
}

/// A Describe response: `{"<SHAPE>": {...}}`.
pub struct Described<R>(pub R);

/// A List response: `{"<LIST_MEMBER>": [...], "nextToken": ...}`.
pub struct Listed<R> {
    pub items: Vec<Value>,
    pub next_token: Option<String>,
    kind: PhantomData<R>,
}

/// A Create response that only names the new resource: `{"<ARN_MEMBER>": "arn:..."}`.
pub struct Created<R> {
    pub arn: String,
    kind: PhantomData<R>,
}

impl<R> Created<R> {
    pub fn new(arn: String) -> Self {
        Created {
            arn,
            kind: PhantomData,
        }
    }
}

impl<'de, R: Resource> Deserialize<'de> for ByArn<R> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<R>(PhantomData<R>);
        impl<'de, R: Resource> Visitor<'de> for V<R> {
            type Value = ByArn<R>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a request naming a {}", R::KIND)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ByArn<R>, A::Error> {
                let mut arn = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == R::ARN_MEMBER {
                        arn = Some(map.next_value::<String>()?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(ByArn {
                    arn: arn.ok_or_else(|| de::Error::missing_field(R::ARN_MEMBER))?,
                    kind: PhantomData,
                })
            }
        }
        deserializer.deserialize_map(V(PhantomData))
    }
}

impl<'de, R: Resource> Deserialize<'de> for ListRequest<R> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V<R>(PhantomData<R>);
        impl<'de, R: Resource> Visitor<'de> for V<R> {
            type Value = ListRequest<R>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a List request for {}", R::LIST_MEMBER)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ListRequest<R>, A::Error> {
                let mut req = ListRequest {
                    parent: None,
                    next_token: None,
                    max_results: None,
                    kind: PhantomData,
                };
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "nextToken" => req.next_token = map.next_value()?,
                        "maxResults" => req.max_results = map.next_value()?,
                        k if Some(k) == R::PARENT_MEMBER => req.parent = map.next_value()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(req)
            }
        }
        deserializer.deserialize_map(V(PhantomData))
    }
}

impl<R: Resource> Serialize for Described<R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(R::SHAPE, &self.0)?;
        map.end()
    }
}

impl<R: Resource> Serialize for Created<R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(R::ARN_MEMBER, &self.arn)?;
        map.end()
    }
}

impl<R: Resource> Serialize for Listed<R> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(R::LIST_MEMBER, &self.items)?;
        if let Some(token) = &self.next_token {
            map.serialize_entry("nextToken", token)?;
        }
        map.end()
    }
}

/// Implements [`Resource`] for each stored shape from one row of facts (see the table below).
macro_rules! stored_resources {
    ($(
        $shape:ident in $table:ident: $kind:literal, $member:literal, $list:literal,
        filter $parent:expr => $via:ident($field:ident),
        summary [$($keep:ident),* $(,)?];
    )*) => {$(
        impl Resource for $shape {
            const KIND: &'static str = $kind;
            const ARN_MEMBER: &'static str = concat!($member, "Arn");
            const SHAPE: &'static str = $member;
            const LIST_MEMBER: &'static str = $list;
            const PARENT_MEMBER: Option<&'static str> = $parent;
            const SUMMARY: &'static [&'static str] = &[$(stringify!($keep)),*];

            fn table(store: &Store) -> &BTreeMap<String, Self> {
                &store.$table
            }

            fn creation_date_time(&self) -> f64 {
                self.creation_date_time
            }

            fn parent_arn(&self) -> &str {
                $via(&self.$field)
            }
        }
    )*};
}

/// The parent ARN a List filters on, when it is a field as it stands.
fn itself(arn: &str) -> &str {
    arn
}

// One row per stored resource: its shape and table; what messages call it; its Describe member
// (whose `Arn` suffix names it in requests); its List member; the List filter member and the
// parent ARN it matches; the members a List summary keeps.
stored_resources! {
    DatasetGroup in dataset_groups: "Dataset group", "datasetGroup", "datasetGroups",
        filter None => itself(dataset_group_arn),
        summary [name, datasetGroupArn, status, creationDateTime, lastUpdatedDateTime, failureReason, domain];
    DatasetSchema in schemas: "Schema", "schema", "schemas",
        filter None => itself(schema_arn),
        summary [name, schemaArn, creationDateTime, lastUpdatedDateTime, domain];
    Dataset in datasets: "Dataset", "dataset", "datasets",
        filter Some("datasetGroupArn") => itself(dataset_group_arn),
        summary [name, datasetArn, datasetType, status, creationDateTime, lastUpdatedDateTime];
    DatasetImportJob in import_jobs: "Dataset import job", "datasetImportJob", "datasetImportJobs",
        filter Some("datasetArn") => itself(dataset_arn),
        summary [datasetImportJobArn, jobName, status, creationDateTime, lastUpdatedDateTime, failureReason, importMode];
    Solution in solutions: "Solution", "solution", "solutions",
        filter Some("datasetGroupArn") => itself(dataset_group_arn),
        summary [name, solutionArn, status, creationDateTime, lastUpdatedDateTime, recipeArn];
    SolutionVersion in solution_versions: "Solution version", "solutionVersion", "solutionVersions",
        filter Some("solutionArn") => itself(solution_arn),
        summary [solutionVersionArn, status, trainingMode, trainingType, creationDateTime, lastUpdatedDateTime, failureReason];
    Campaign in campaigns: "Campaign", "campaign", "campaigns",
        filter Some("solutionArn") => solution_of(solution_version_arn),
        summary [name, campaignArn, status, creationDateTime, lastUpdatedDateTime, failureReason];
    EventTracker in event_trackers: "Event tracker", "eventTracker", "eventTrackers",
        filter Some("datasetGroupArn") => itself(dataset_group_arn),
        summary [name, eventTrackerArn, status, creationDateTime, lastUpdatedDateTime];
    Filter in filters: "Filter", "filter", "Filters",
        filter Some("datasetGroupArn") => itself(dataset_group_arn),
        summary [name, filterArn, creationDateTime, lastUpdatedDateTime, datasetGroupArn, failureReason, status];
    Recommender in recommenders: "Recommender", "recommender", "recommenders",
        filter Some("datasetGroupArn") => itself(dataset_group_arn),
        summary [name, recommenderArn, datasetGroupArn, recipeArn, recommenderConfig, status, creationDateTime, lastUpdatedDateTime];
    MetricAttribution in metric_attributions: "Metric attribution", "metricAttribution", "metricAttributions",
        filter Some("datasetGroupArn") => itself(dataset_group_arn),
        summary [name, metricAttributionArn, status, creationDateTime, lastUpdatedDateTime, failureReason];
    BatchInferenceJob in batch_inference_jobs: "Batch inference job", "batchInferenceJob", "batchInferenceJobs",
        filter Some("solutionVersionArn") => itself(solution_version_arn),
        summary [batchInferenceJobArn, jobName, status, creationDateTime, lastUpdatedDateTime, failureReason, solutionVersionArn, batchInferenceJobMode];
    BatchSegmentJob in batch_segment_jobs: "Batch segment job", "batchSegmentJob", "batchSegmentJobs",
        filter Some("solutionVersionArn") => itself(solution_version_arn),
        summary [batchSegmentJobArn, jobName, status, creationDateTime, lastUpdatedDateTime, failureReason, solutionVersionArn];
    DatasetExportJob in export_jobs: "Dataset export job", "datasetExportJob", "datasetExportJobs",
        filter Some("datasetArn") => itself(dataset_arn),
        summary [datasetExportJobArn, jobName, status, creationDateTime, lastUpdatedDateTime, failureReason];
    DataDeletionJob in deletion_jobs: "Data deletion job", "dataDeletionJob", "dataDeletionJobs",
        filter Some("datasetGroupArn") => itself(dataset_group_arn),
        summary [dataDeletionJobArn, datasetGroupArn, jobName, status, creationDateTime, lastUpdatedDateTime, failureReason];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_shapes_use_the_resource_member_names() {
        let req: ByArn<EventTracker> =
            serde_json::from_str(r#"{"eventTrackerArn":"arn:x","other":1}"#).expect("decodes");
        assert_eq!(req.arn, "arn:x");
        assert!(serde_json::from_str::<ByArn<EventTracker>>("{}").is_err());
        let list: ListRequest<EventTracker> =
            serde_json::from_str(r#"{"datasetGroupArn":"g","maxResults":2,"nextToken":null}"#)
                .expect("decodes");
        assert_eq!(
            (list.parent.as_deref(), list.max_results, list.next_token),
            (Some("g"), Some(2), None)
        );
        let listed = Listed::<EventTracker> {
            items: Vec::new(),
            next_token: Some("page-1".into()),
            kind: PhantomData,
        };
        assert_eq!(
            serde_json::to_string(&listed).expect("encodes"),
            r#"{"eventTrackers":[],"nextToken":"page-1"}"#
        );
        let created = Created::<EventTracker>::new("arn:t".into());
        assert_eq!(
            serde_json::to_string(&created).expect("encodes"),
            r#"{"eventTrackerArn":"arn:t"}"#
        );
    }
}
