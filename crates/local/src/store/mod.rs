//! The in-memory state of every resource and dataset: [`Store`], changed only through
//! [`Store::commit`] of a journal [`Entry`], and read under one lock. Durability is in `journal`.
//! Must not depend on HTTP, the resources' operations or the engine.

use std::collections::{BTreeMap, HashMap};
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
    Campaign, Dataset, DatasetGroup, DatasetImportJob, DatasetSchema, EventTracker, Filter,
    MetricAttribute, MetricAttribution, Recommender, Solution, SolutionVersion, Tag,
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
    /// The metrics of each metric attribution, by its ARN.
    pub attribution_metrics: BTreeMap<String, Vec<MetricAttribute>>,
    /// Metric values attributed but not yet published, by metric attribution ARN.
    pub attribution_pending: BTreeMap<String, BTreeMap<TallyKey, f64>>,
    pub tags: BTreeMap<String, Vec<Tag>>,
    /// Rows by dataset ARN.
    pub data: HashMap<String, DatasetRows>,
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
                    self.data.insert(dataset_arn.clone(), rows);
                } else if let Some(existing) = self.data.get_mut(&dataset_arn) {
                    existing.append(rows);
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
                    upsert_records(rows, records);
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
        }
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
        }
        self.schemas.remove(arn);
        if self.datasets.remove(arn).is_some() {
            self.data.remove(arn);
            self.import_jobs.retain(|_, j| j.dataset_arn != arn);
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
