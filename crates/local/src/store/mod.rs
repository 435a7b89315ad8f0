//! The in-memory state of every resource and dataset: [`Store`], changed only through
//! [`Store::commit`] of a journal [`Entry`], and read under one lock. Durability is in `journal`.
//! Must not depend on HTTP, the resources' operations or the engine.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub mod data;
pub mod journal;
pub mod lock;
pub mod model;

pub use journal::{Journal, write_durably_with};

use crate::store::data::{
    DatasetRows, InteractionRow, LiveEvents, RecordRow, Tally, TallyKey, upsert_records,
};
use crate::store::model::{
    BatchInferenceJob, BatchSegmentJob, Campaign, DataDeletionJob, Dataset, DatasetExportJob,
    DatasetGroup, DatasetImportJob, DatasetSchema, EventTracker, Filter, MetricAttribute,
    MetricAttribution, Recommender, Solution, SolutionVersion, Tag,
};

/// What training produced, kept beside the public SolutionVersion.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainedMeta {
    pub metrics: BTreeMap<String, f64>,
    /// The dataset group's live-event sequence number the model has seen.
    pub trained_seq: u64,
    /// Model file name under `<data-dir>/models/` (None when running without a data dir).
    pub model_file: Option<String>,
    /// Next-Best-Action: the number of Action interactions rows the model has seen (rows after
    /// them are live PutActionInteractions events).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub action_rows: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One journal line: a resource written whole, a removal, or data.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "k", content = "v")]
pub enum Entry {
    DatasetGroup(DatasetGroup),
    Schema(DatasetSchema),
    Dataset(Dataset),
    ImportJob(DatasetImportJob),
    Solution(Solution),
    SolutionVersion(SolutionVersion),
    Campaign(Campaign),
    EventTracker(EventTracker),
    Filter(Filter),
    Recommender(Recommender),
    MetricAttribution(MetricAttribution),
    BatchInferenceJob(BatchInferenceJob),
    BatchSegmentJob(BatchSegmentJob),
    /// The metrics of a metric attribution (all of them, as they now stand).
    AttributionMetrics {
        arn: String,
        metrics: Vec<MetricAttribute>,
    },
    /// Metric values attributed to a metric attribution, not yet published (added to what is
    /// pending).
    Attributed {
        arn: String,
        tallies: Vec<Tally>,
    },
    /// Values published to CloudWatch (taken off what is pending).
    AttributionPublished {
        arn: String,
        tallies: Vec<Tally>,
    },
    Removed {
        arn: String,
    },
    Tags {
        arn: String,
        tags: Vec<Tag>,
    },
    /// A finished import: the job (ACTIVE) and its rows, applied atomically.
    ImportApplied {
        job: DatasetImportJob,
        dataset_arn: String,
        full: bool,
        rows: DatasetRows,
    },
    Events {
        dg: String,
        user: String,
        events: Vec<InteractionRow>,
    },
    /// All live events of a dataset group as of a compaction: `<data-dir>/live/<file>`
    /// (bincode [`LiveEvents`]), written durably before the journal naming it.
    LiveSnapshot {
        dg: String,
        file: String,
    },
    /// A [`Entry::LiveSnapshot`] read back (replay only; never journaled).
    #[serde(skip)]
    LiveLoaded {
        dg: String,
        live: Box<LiveEvents>,
    },
    Records {
        dataset_arn: String,
        records: Vec<RecordRow>,
    },
    /// Action interactions appended to an Action interactions dataset (PutActionInteractions).
    ActionInteractions {
        dataset_arn: String,
        rows: Vec<InteractionRow>,
    },
    Trained {
        arn: String,
        meta: TrainedMeta,
    },
    Counter {
        key: String,
        value: u64,
    },
    /// The earlier record versions of a dataset as of a compaction (see [`Store::replaced`]).
    Replaced {
        dataset_arn: String,
        records: Vec<RecordRow>,
    },
    // Dataset export and data deletion jobs.
    ExportJob(DatasetExportJob),
    DeletionJob(DataDeletionJob),
    /// A finished data deletion job (COMPLETED) and the users it removes from its dataset
    /// group's datasets and live events, applied atomically; applying it sets the job's
    /// `numDeleted` to how many of them had data.
    UsersDeleted {
        job: DataDeletionJob,
        users: Vec<String>,
    },
}

impl Entry {
    /// The ARN of a resource entry.
    pub fn arn(&self) -> Option<&str> {
        Some(match self {
            Entry::DatasetGroup(r) => &r.dataset_group_arn,
            Entry::Schema(r) => &r.schema_arn,
            Entry::Dataset(r) => &r.dataset_arn,
            Entry::ImportJob(r) => &r.dataset_import_job_arn,
            Entry::Solution(r) => &r.solution_arn,
            Entry::SolutionVersion(r) => &r.solution_version_arn,
            Entry::Campaign(r) => &r.campaign_arn,
            Entry::EventTracker(r) => &r.event_tracker_arn,
            Entry::Filter(r) => &r.filter_arn,
            Entry::Recommender(r) => &r.recommender_arn,
            Entry::MetricAttribution(r) => &r.metric_attribution_arn,
            Entry::BatchInferenceJob(r) => &r.batch_inference_job_arn,
            Entry::BatchSegmentJob(r) => &r.batch_segment_job_arn,
            Entry::ExportJob(r) => &r.dataset_export_job_arn,
            Entry::DeletionJob(r) => &r.data_deletion_job_arn,
            _ => return None,
        })
    }

    /// The status of a resource entry.
    pub fn status(&self) -> Option<&str> {
        Some(match self {
            Entry::DatasetGroup(r) => &r.status,
            Entry::Dataset(r) => &r.status,
            Entry::ImportJob(r) => &r.status,
            Entry::Solution(r) => &r.status,
            Entry::SolutionVersion(r) => &r.status,
            Entry::Campaign(r) => &r.status,
            Entry::EventTracker(r) => &r.status,
            Entry::Filter(r) => &r.status,
            Entry::Recommender(r) => &r.status,
            Entry::MetricAttribution(r) => &r.status,
            Entry::BatchInferenceJob(r) => &r.status,
            Entry::BatchSegmentJob(r) => &r.status,
            Entry::ExportJob(r) => &r.status,
            Entry::DeletionJob(r) => &r.status,
            _ => return None,
        })
    }

    /// Sets the status (and lastUpdatedDateTime) of a resource entry.
    pub fn set_status(&mut self, status: &str, now: f64) {
        macro_rules! set {
            ($r:expr) => {{
                $r.status = status.to_string();
                $r.last_updated_date_time = now;
            }};
        }
        match self {
            Entry::DatasetGroup(r) => set!(r),
            Entry::Dataset(r) => set!(r),
            Entry::ImportJob(r) => set!(r),
            Entry::Solution(r) => set!(r),
            Entry::SolutionVersion(r) => set!(r),
            Entry::Campaign(r) => set!(r),
            Entry::EventTracker(r) => set!(r),
            Entry::Filter(r) => set!(r),
            Entry::Recommender(r) => set!(r),
            Entry::MetricAttribution(r) => set!(r),
            Entry::BatchInferenceJob(r) => set!(r),
            Entry::BatchSegmentJob(r) => set!(r),
            Entry::ExportJob(r) => set!(r),
            Entry::DeletionJob(r) => set!(r),
            _ => {}
        }
    }

    /// Sets failureReason where the resource has one.
    pub fn set_failure(&mut self, reason: &str) {
        let reason = Some(reason.to_string());
        match self {
            Entry::DatasetGroup(r) => r.failure_reason = reason,
            Entry::ImportJob(r) => r.failure_reason = reason,
            Entry::SolutionVersion(r) => r.failure_reason = reason,
            Entry::Campaign(r) => r.failure_reason = reason,
            Entry::Filter(r) => r.failure_reason = reason,
            Entry::Recommender(r) => r.failure_reason = reason,
            Entry::MetricAttribution(r) => r.failure_reason = reason,
            Entry::BatchInferenceJob(r) => r.failure_reason = reason,
            Entry::BatchSegmentJob(r) => r.failure_reason = reason,
            Entry::ExportJob(r) => r.failure_reason = reason,
            Entry::DeletionJob(r) => r.failure_reason = reason,
            _ => {}
        }
    }
}

/// All state. Guarded by one mutex in `AppState`; every method is quick (no I/O but the journal
/// append into memory).
#[derive(Default)]
pub struct Store {
    pub dataset_groups: BTreeMap<String, DatasetGroup>,
    pub schemas: BTreeMap<String, DatasetSchema>,
    pub datasets: BTreeMap<String, Dataset>,
    pub import_jobs: BTreeMap<String, DatasetImportJob>,
    pub solutions: BTreeMap<String, Solution>,
    pub solution_versions: BTreeMap<String, SolutionVersion>,
    pub campaigns: BTreeMap<String, Campaign>,
    pub event_trackers: BTreeMap<String, EventTracker>,
    pub filters: BTreeMap<String, Filter>,
    pub recommenders: BTreeMap<String, Recommender>,
    pub metric_attributions: BTreeMap<String, MetricAttribution>,
    pub batch_inference_jobs: BTreeMap<String, BatchInferenceJob>,
    pub batch_segment_jobs: BTreeMap<String, BatchSegmentJob>,
    pub export_jobs: BTreeMap<String, DatasetExportJob>,
    pub deletion_jobs: BTreeMap<String, DataDeletionJob>,
    /// The metrics of each metric attribution, by its ARN.
    pub attribution_metrics: BTreeMap<String, Vec<MetricAttribute>>,
    /// Metric values attributed but not yet published, by metric attribution ARN.
    pub attribution_pending: BTreeMap<String, BTreeMap<TallyKey, f64>>,
    pub tags: BTreeMap<String, Vec<Tag>>,
    /// Rows by dataset ARN.
    pub data: HashMap<String, DatasetRows>,
    /// Earlier versions of item and user records that a later import or put replaced, by
    /// dataset ARN (kept for dataset export jobs: BULK and PUT export every version imported
    /// that way, as AWS's do).
    pub replaced: HashMap<String, Vec<RecordRow>>,
    /// Live events by dataset group ARN.
    pub live: HashMap<String, LiveEvents>,
    /// Training results by solution version ARN.
    pub trained: HashMap<String, TrainedMeta>,
    pub counters: BTreeMap<String, u64>,
    /// Bumped whenever a dataset group's items or users change (serving caches key on it).
    pub catalog_version: HashMap<String, u64>,
    clock: f64,
    journal: Option<Arc<Journal>>,
}

impl Store {
    /// An empty store writing to `journal` (None: memory only).
    pub fn new(journal: Option<Arc<Journal>>) -> Store {
        Store {
            journal,
            ..Store::default()
        }
    }

    /// Sets where future commits are journaled.
    pub fn set_journal(&mut self, journal: Option<Arc<Journal>>) {
        self.journal = journal;
    }

    /// Wall-clock seconds since the epoch, strictly increasing (so creation order is total).
    pub fn now(&mut self) -> f64 {
        let real = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as f64 / 1000.0)
            .unwrap_or(0.0);
        self.clock = if real > self.clock {
            real
        } else {
            self.clock + 0.001
        };
        self.clock
    }

    /// Journals and applies a change.
    pub fn commit(&mut self, entry: Entry) {
        if let Some(journal) = &self.journal {
            match serde_json::to_vec(&entry) {
                Ok(mut line) => {
                    line.push(b'\n');
                    journal.append(&line);
                }
                Err(error) => tracing::error!(%error, "journal entry does not serialize"),
            }
        }
        self.apply(entry);
    }

    /// Applies a change without journaling it (replay).
    pub fn apply(&mut self, entry: Entry) {
        match entry {
            Entry::DatasetGroup(r) => {
                self.dataset_groups.insert(r.dataset_group_arn.clone(), r);
            }
            Entry::Schema(r) => {
                self.schemas.insert(r.schema_arn.clone(), r);
            }
            Entry::Dataset(r) => {
                self.datasets.insert(r.dataset_arn.clone(), r);
            }
            Entry::ImportJob(r) => {
                self.import_jobs.insert(r.dataset_import_job_arn.clone(), r);
            }
            Entry::Solution(r) => {
                self.solutions.insert(r.solution_arn.clone(), r);
            }
            Entry::SolutionVersion(r) => {
                self.solution_versions
                    .insert(r.solution_version_arn.clone(), r);
            }
            Entry::Campaign(r) => {
                self.campaigns.insert(r.campaign_arn.clone(), r);
            }
            Entry::EventTracker(r) => {
                self.event_trackers.insert(r.event_tracker_arn.clone(), r);
            }
            Entry::Filter(r) => {
                self.filters.insert(r.filter_arn.clone(), r);
            }
            Entry::Recommender(r) => {
                self.recommenders.insert(r.recommender_arn.clone(), r);
            }
            Entry::MetricAttribution(r) => {
                self.metric_attributions
                    .insert(r.metric_attribution_arn.clone(), r);
            }
            Entry::BatchInferenceJob(r) => {
                self.batch_inference_jobs
                    .insert(r.batch_inference_job_arn.clone(), r);
            }
            Entry::BatchSegmentJob(r) => {
                self.batch_segment_jobs
                    .insert(r.batch_segment_job_arn.clone(), r);
            }
            Entry::AttributionMetrics { arn, metrics } => {
                self.attribution_metrics.insert(arn, metrics);
            }
            Entry::Attributed { arn, tallies } => {
                let pending = self.attribution_pending.entry(arn).or_default();
                for t in tallies {
                    *pending.entry(t.key).or_default() += t.value;
                }
            }
            Entry::AttributionPublished { arn, tallies } => {
                if let Some(pending) = self.attribution_pending.get_mut(&arn) {
                    for t in tallies {
                        if let Some(value) = pending.get_mut(&t.key) {
                            // Exactly what was sent is gone; what arrived meanwhile stays.
                            if *value == t.value {
                                pending.remove(&t.key);
                            } else {
                                *value -= t.value;
                            }
                        }
                    }
                    if pending.is_empty() {
                        self.attribution_pending.remove(&arn);
                    }
                }
            }
            Entry::Removed { arn } => self.remove(&arn),
            Entry::Tags { arn, tags } => {
                if tags.is_empty() {
                    self.tags.remove(&arn);
                } else {
                    self.tags.insert(arn, tags);
                }
            }
            Entry::ImportApplied {
                job,
                dataset_arn,
                full,
                rows,
            } => {
                self.import_jobs
                    .insert(job.dataset_import_job_arn.clone(), job);
                if full || !self.data.contains_key(&dataset_arn) {
                    // FULL overwrites the bulk data: earlier bulk versions go; what was put
                    // stays exportable as PUT data.
                    let old = self.data.insert(dataset_arn.clone(), rows);
                    if let Some(
                        DatasetRows::Items(old)
                        | DatasetRows::Users(old)
                        | DatasetRows::Actions(old),
                    ) = old
                    {
                        let history = self.replaced.entry(dataset_arn.clone()).or_default();
                        history.retain(|r| r.put);
                        history.extend(old.into_iter().filter(|r| r.put));
                    }
                } else if let Some(existing) = self.data.get_mut(&dataset_arn) {
                    let replaced = existing.append(rows);
                    self.keep_replaced(&dataset_arn, replaced);
                }
                self.bump_catalog(&dataset_arn);
            }
            Entry::Events { dg, user, events } => {
                self.live.entry(dg).or_default().push(&user, events);
            }
            Entry::LiveLoaded { dg, live } => {
                self.live.insert(dg, *live);
            }
            Entry::LiveSnapshot { dg, file } => {
                // Journal::replay resolves these into LiveLoaded; applying one directly is a bug.
                tracing::error!(%dg, %file, "live snapshot entry applied without its file");
            }
            Entry::Records {
                dataset_arn,
                records,
            } => {
                let kind = self
                    .datasets
                    .get(&dataset_arn)
                    .map(|d| d.dataset_type.to_ascii_uppercase())
                    .unwrap_or_default();
                let rows =
                    self.data
                        .entry(dataset_arn.clone())
                        .or_insert_with(|| match kind.as_str() {
                            "USERS" => DatasetRows::Users(Vec::new()),
                            "ACTIONS" => DatasetRows::Actions(Vec::new()),
                            _ => DatasetRows::Items(Vec::new()),
                        });
                if let DatasetRows::Items(rows)
                | DatasetRows::Users(rows)
                | DatasetRows::Actions(rows) = rows
                {
                    let replaced = upsert_records(rows, records);
                    self.keep_replaced(&dataset_arn, replaced);
                }
                self.bump_catalog(&dataset_arn);
            }
            Entry::ActionInteractions { dataset_arn, rows } => {
                let existing = self
                    .data
                    .entry(dataset_arn)
                    .or_insert_with(|| DatasetRows::ActionInteractions(Vec::new()));
                if let DatasetRows::ActionInteractions(existing) = existing {
                    existing.extend(rows);
                }
            }
            Entry::Trained { arn, meta } => {
                self.trained.insert(arn, meta);
            }
            Entry::Counter { key, value } => {
                self.counters.insert(key, value);
            }
            Entry::Replaced {
                dataset_arn,
                records,
            } => {
                self.replaced.insert(dataset_arn, records);
            }
            Entry::ExportJob(r) => {
                self.export_jobs.insert(r.dataset_export_job_arn.clone(), r);
            }
            Entry::DeletionJob(r) => {
                self.deletion_jobs
                    .insert(r.data_deletion_job_arn.clone(), r);
            }
            Entry::UsersDeleted { mut job, users } => {
                let users: HashSet<String> = users.into_iter().collect();
                let found = self.delete_users(&job.dataset_group_arn, &users);
                job.num_deleted = Some(found.len() as i64);
                self.deletion_jobs
                    .insert(job.data_deletion_job_arn.clone(), job);
            }
        }
    }

    fn keep_replaced(&mut self, dataset_arn: &str, replaced: Vec<RecordRow>) {
        if !replaced.is_empty() {
            self.replaced
                .entry(dataset_arn.to_string())
                .or_default()
                .extend(replaced);
        }
    }

    /// Removes every row of `users` from the datasets of dataset group `dg` (interactions,
    /// action interactions, user records and their earlier versions) and from its live events.
    /// Returns the ids of the users that had any.
    fn delete_users(&mut self, dg: &str, users: &HashSet<String>) -> HashSet<String> {
        let mut found = HashSet::new();
        let datasets: Vec<String> = self
            .datasets
            .values()
            .filter(|d| d.dataset_group_arn == dg)
            .map(|d| d.dataset_arn.clone())
            .collect();
        for arn in &datasets {
            if let Some(rows) = self.data.get_mut(arn) {
                found.extend(rows.remove_users(users));
            }
            if self
                .datasets
                .get(arn)
                .is_some_and(|d| d.dataset_type == "USERS")
                && let Some(history) = self.replaced.get_mut(arn)
            {
                history.retain(|r| !users.contains(&r.id));
            }
        }
        if let Some(live) = self.live.get(dg) {
            let (kept, had_events) = live.without_users(users);
            found.extend(had_events);
            self.live.insert(dg.to_string(), kept);
        }
        if let Some(arn) = datasets.first() {
            self.bump_catalog(arn);
        }
        found
    }

    fn bump_catalog(&mut self, dataset_arn: &str) {
        if let Some(dg) = self
            .datasets
            .get(dataset_arn)
            .map(|d| d.dataset_group_arn.clone())
        {
            *self.catalog_version.entry(dg).or_default() += 1;
        }
    }

    fn remove(&mut self, arn: &str) {
        if self.dataset_groups.remove(arn).is_some() {
            self.live.remove(arn);
            self.deletion_jobs.retain(|_, j| j.dataset_group_arn != arn);
        }
        self.schemas.remove(arn);
        if self.datasets.remove(arn).is_some() {
            self.data.remove(arn);
            self.replaced.remove(arn);
            self.import_jobs.retain(|_, j| j.dataset_arn != arn);
            self.export_jobs.retain(|_, j| j.dataset_arn != arn);
        }

        self.import_jobs.remove(arn);
        if self.solutions.remove(arn).is_some() {
            let versions: Vec<String> = self
                .solution_versions
                .values()
                .filter(|v| v.solution_arn == arn)
                .map(|v| v.solution_version_arn.clone())
                .collect();
            for v in versions {
                self.solution_versions.remove(&v);
                self.trained.remove(&v);
                self.tags.remove(&v);
            }
        }
        self.solution_versions.remove(arn);
        self.campaigns.remove(arn);
        self.event_trackers.remove(arn);
        self.filters.remove(arn);
        if self.recommenders.remove(arn).is_some() {
            self.trained.remove(arn);
        }
        if self.metric_attributions.remove(arn).is_some() {
            self.attribution_metrics.remove(arn);
            self.attribution_pending.remove(arn);
        }
        self.tags.remove(arn);
    }

    /// A resource by ARN, as an entry (for generic status changes).
    pub fn resource(&self, arn: &str) -> Option<Entry> {
        if let Some(r) = self.dataset_groups.get(arn) {
            return Some(Entry::DatasetGroup(r.clone()));
        }
        if let Some(r) = self.schemas.get(arn) {
            return Some(Entry::Schema(r.clone()));
        }
        if let Some(r) = self.datasets.get(arn) {
            return Some(Entry::Dataset(r.clone()));
        }
        if let Some(r) = self.import_jobs.get(arn) {
            return Some(Entry::ImportJob(r.clone()));
        }
        if let Some(r) = self.solutions.get(arn) {
            return Some(Entry::Solution(r.clone()));
        }
        if let Some(r) = self.solution_versions.get(arn) {
            return Some(Entry::SolutionVersion(r.clone()));
        }
        if let Some(r) = self.campaigns.get(arn) {
            return Some(Entry::Campaign(r.clone()));
        }
        if let Some(r) = self.event_trackers.get(arn) {
            return Some(Entry::EventTracker(r.clone()));
        }
        if let Some(r) = self.recommenders.get(arn) {
            return Some(Entry::Recommender(r.clone()));
        }
        if let Some(r) = self.metric_attributions.get(arn) {
            return Some(Entry::MetricAttribution(r.clone()));
        }
        if let Some(r) = self.batch_inference_jobs.get(arn) {
            return Some(Entry::BatchInferenceJob(r.clone()));
        }
        if let Some(r) = self.batch_segment_jobs.get(arn) {
            return Some(Entry::BatchSegmentJob(r.clone()));
        }
        if let Some(r) = self.export_jobs.get(arn) {
            return Some(Entry::ExportJob(r.clone()));
        }
        if let Some(r) = self.deletion_jobs.get(arn) {
            return Some(Entry::DeletionJob(r.clone()));
        }
        self.filters.get(arn).map(|r| Entry::Filter(r.clone()))
    }

    /// Next value of a named counter (journaled, so ids stay unique across restarts).
    pub fn next_counter(&mut self, key: &str) -> u64 {
        let value = self.counters.get(key).copied().unwrap_or(0) + 1;
        self.commit(Entry::Counter {
            key: key.to_string(),
            value,
        });
        value
    }

    /// Releases slack left by a replay (per-user event lists grown by doubling).
    pub fn shrink_to_fit(&mut self) {
        for live in self.live.values_mut() {
            live.shrink_to_fit();
        }
    }
}

/// A fresh directory name under the system temp dir, for tests that write files.
#[cfg(test)]
pub(crate) fn test_dir(name: &str) -> std::path::PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!(
        "personalize-local-{name}-{}-{nanos}",
        std::process::id()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model::DataSource;

    fn dataset(arn: &str, dataset_type: &str) -> Entry {
        Entry::Dataset(Dataset {
            name: arn.into(),
            dataset_arn: arn.into(),
            dataset_group_arn: "dg".into(),
            dataset_type: dataset_type.into(),
            schema_arn: "schema".into(),
            status: "ACTIVE".into(),
            creation_date_time: 0.0,
            last_updated_date_time: 0.0,
            latest_dataset_update: None,
            tracking_id: None,
        })
    }

    fn row(user: &str, item: &str) -> InteractionRow {
        InteractionRow {
            user_id: user.into(),
            item_id: item.into(),
            timestamp: 1,
            event_type: Some("click".into()),
            event_value: None,
            extra: None,
            event_id: None,
        }
    }

    fn user(id: &str, put: bool) -> RecordRow {
        RecordRow {
            id: id.into(),
            fields: BTreeMap::new(),
            created: None,
            put,
        }
    }

    fn job(status: &str) -> DataDeletionJob {
        DataDeletionJob {
            job_name: "job".into(),
            data_deletion_job_arn: "job".into(),
            dataset_group_arn: "dg".into(),
            data_source: DataSource {
                data_location: Some("s3://b/k.csv".into()),
            },
            role_arn: "role".into(),
            status: status.into(),
            num_deleted: None,
            creation_date_time: 0.0,
            last_updated_date_time: 0.0,
            failure_reason: None,
        }
    }

    #[test]
    fn users_deleted_leave_no_row_anywhere_in_the_group() {
        let mut store = Store::default();
        for (arn, kind) in [
            ("ix", "INTERACTIONS"),
            ("us", "USERS"),
            ("ax", "ACTION_INTERACTIONS"),
        ] {
            store.apply(dataset(arn, kind));
        }
        store.data.insert(
            "ix".into(),
            DatasetRows::Interactions(vec![row("a", "i1"), row("b", "i1"), row("c", "i2")]),
        );
        store.data.insert(
            "ax".into(),
            DatasetRows::ActionInteractions(vec![row("a", "act"), row("d", "act")]),
        );
        store.data.insert(
            "us".into(),
            DatasetRows::Users(vec![user("a", false), user("b", false)]),
        );
        // "b" was put again (its imported version is kept for BULK exports), "e" only lives.
        store.apply(Entry::Records {
            dataset_arn: "us".into(),
            records: vec![user("b", true)],
        });
        assert_eq!(store.replaced["us"], vec![user("b", false)]);
        store.apply(Entry::Events {
            dg: "dg".into(),
            user: "e".into(),
            events: vec![row("e", "i1")],
        });
        store.apply(Entry::Events {
            dg: "dg".into(),
            user: "c".into(),
            events: vec![row("c", "i3")],
        });
        store.apply(Entry::UsersDeleted {
            job: job("COMPLETED"),
            users: vec!["a".into(), "b".into(), "d".into(), "e".into(), "z".into()],
        });
        assert_eq!(
            store.deletion_jobs["job"].num_deleted,
            Some(4),
            "z had no data"
        );
        assert_eq!(
            store.data["ix"],
            DatasetRows::Interactions(vec![row("c", "i2")])
        );
        assert!(store.data["ax"].is_empty());
        assert!(store.data["us"].is_empty());
        assert!(store.replaced["us"].is_empty());
        let live: Vec<String> = store.live["dg"]
            .all()
            .map(|e| e.user_id.to_string())
            .collect();
        assert_eq!(live, vec!["c"]);
    }
}
