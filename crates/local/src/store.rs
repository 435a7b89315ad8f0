//! The in-memory state of every resource and dataset, and its durability.
//!
//! Design: an append-only journal (`<data-dir>/journal.jsonl`, one JSON [`Entry`] per line) is the
//! truth; memory is the journal replayed. Every change goes through [`Store::commit`], which
//! appends the entry (under the store lock, so journal order is apply order) and applies it. A
//! writer thread batches whatever has been appended, writes it, `fdatasync`s once and publishes the
//! durable sequence number; a request is answered only after [`Journal::wait_durable`] (group
//! commit: many concurrent PutEvents share one fsync). After a crash, a torn last line is dropped
//! (it was never acknowledged). At startup the replayed state is rewritten as a compact journal
//! (atomic rename), so the journal does not grow across restarts. Trained models are separate
//! files under `<data-dir>/models/`, written and fsynced before the version becomes ACTIVE.
//!
//! Must not depend on HTTP or on the engine.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::campaign::Campaign;
use crate::data::{DatasetRows, InteractionRow, LiveEvents, RecordRow, upsert_records};
use crate::dataset::Dataset;
use crate::dataset_group::DatasetGroup;
use crate::error::ApiError;
use crate::event_tracker::EventTracker;
use crate::filter::Filter;
use crate::import::DatasetImportJob;
use crate::schema::DatasetSchema;
use crate::solution::{Solution, SolutionVersion};
use crate::tags::Tag;

/// What training produced, kept beside the public SolutionVersion.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TrainedMeta {
    pub metrics: BTreeMap<String, f64>,
    /// The dataset group's live-event sequence number the model has seen.
    pub trained_seq: u64,
    /// Model file name under `<data-dir>/models/` (None when running without a data dir).
    pub model_file: Option<String>,
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
    Records {
        dataset_arn: String,
        records: Vec<RecordRow>,
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
            Entry::Records {
                dataset_arn,
                records,
            } => {
                let kind = self
                    .datasets
                    .get(&dataset_arn)
                    .map(|d| d.dataset_type.to_ascii_uppercase())
                    .unwrap_or_default();
                let rows = self.data.entry(dataset_arn.clone()).or_insert_with(|| {
                    if kind == "USERS" {
                        DatasetRows::Users(Vec::new())
                    } else {
                        DatasetRows::Items(Vec::new())
                    }
                });
                if let DatasetRows::Items(rows) | DatasetRows::Users(rows) = rows {
                    upsert_records(rows, records);
                }
                self.bump_catalog(&dataset_arn);
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
        self.dataset_groups.remove(arn);
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

    /// The whole state as journal entries (for compaction).
    pub fn snapshot(&self) -> Vec<Entry> {
        let mut out = Vec::new();
        out.extend(self.counters.iter().map(|(k, v)| Entry::Counter {
            key: k.clone(),
            value: *v,
        }));
        out.extend(
            self.dataset_groups
                .values()
                .cloned()
                .map(Entry::DatasetGroup),
        );
        out.extend(self.schemas.values().cloned().map(Entry::Schema));
        out.extend(self.datasets.values().cloned().map(Entry::Dataset));
        out.extend(self.import_jobs.values().cloned().map(Entry::ImportJob));
        out.extend(self.solutions.values().cloned().map(Entry::Solution));
        out.extend(
            self.solution_versions
                .values()
                .cloned()
                .map(Entry::SolutionVersion),
        );
        out.extend(self.campaigns.values().cloned().map(Entry::Campaign));
        out.extend(
            self.event_trackers
                .values()
                .cloned()
                .map(Entry::EventTracker),
        );
        out.extend(self.filters.values().cloned().map(Entry::Filter));
        out.extend(self.tags.iter().map(|(arn, tags)| Entry::Tags {
            arn: arn.clone(),
            tags: tags.clone(),
        }));
        out.extend(self.trained.iter().map(|(arn, meta)| Entry::Trained {
            arn: arn.clone(),
            meta: meta.clone(),
        }));
        for (dataset_arn, rows) in &self.data {
            if let Some(job) = self
                .import_jobs
                .values()
                .find(|j| &j.dataset_arn == dataset_arn)
            {
                out.push(Entry::ImportApplied {
                    job: job.clone(),
                    dataset_arn: dataset_arn.clone(),
                    full: true,
                    rows: rows.clone(),
                });
            } else if let DatasetRows::Items(records) | DatasetRows::Users(records) = rows {
                out.push(Entry::Records {
                    dataset_arn: dataset_arn.clone(),
                    records: records.clone(),
                });
            }
        }
        for (dg, live) in &self.live {
            let mut all: Vec<(u64, &str, &InteractionRow)> = live
                .by_user
                .iter()
                .flat_map(|(u, l)| l.iter().map(move |(s, e)| (*s, u.as_str(), e)))
                .collect();
            all.sort_by_key(|(s, _, _)| *s);
            // One entry per run of the same user keeps sequence numbers identical on replay.
            let mut i = 0;
            while i < all.len() {
                let user = all[i].1;
                let mut events = Vec::new();
                while i < all.len() && all[i].1 == user {
                    events.push(all[i].2.clone());
                    i += 1;
                }
                out.push(Entry::Events {
                    dg: dg.clone(),
                    user: user.to_string(),
                    events,
                });
            }
        }
        out
    }
}

struct Pending {
    buf: Vec<u8>,
    appended: u64,
}

/// The append-only journal with a group-commit writer thread.
pub struct Journal {
    pending: Mutex<Pending>,
    wake: Condvar,
    durable: watch::Sender<u64>,
    failed: AtomicBool,
}

impl Journal {
    /// Reads the entries of `<dir>/journal.jsonl` (none when absent), dropping a torn tail.
    pub fn read(dir: &Path) -> io::Result<Vec<Entry>> {
        std::fs::create_dir_all(dir)?;
        read_entries(&dir.join("journal.jsonl"))
    }

    /// Rewrites `<dir>/journal.jsonl` as `snapshot` (atomically) and opens it for appending.
    pub fn start(dir: &Path, fsync: bool, snapshot: &[Entry]) -> io::Result<Arc<Journal>> {
        let path = dir.join("journal.jsonl");
        let tmp = dir.join("journal.jsonl.tmp");
        {
            let mut out = io::BufWriter::new(File::create(&tmp)?);
            for entry in snapshot {
                serde_json::to_writer(&mut out, entry)?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
            out.get_ref().sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        sync_dir(dir);
        let file = OpenOptions::new().append(true).open(&path)?;
        let (durable, _) = watch::channel(0);
        let journal = Arc::new(Journal {
            pending: Mutex::new(Pending {
                buf: Vec::new(),
                appended: 0,
            }),
            wake: Condvar::new(),
            durable,
            failed: AtomicBool::new(false),
        });
        let writer = Arc::downgrade(&journal);
        std::thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || writer_loop(writer, file, fsync))?;
        Ok(journal)
    }

    /// Appends one line (in memory); returns its sequence number.
    pub fn append(&self, line: &[u8]) -> u64 {
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending.buf.extend_from_slice(line);
        pending.appended += 1;
        self.wake.notify_one();
        pending.appended
    }

    /// Sequence number of the last appended line.
    pub fn appended(&self) -> u64 {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .appended
    }

    /// Whether a journal write has failed (the health endpoint reports it).
    pub fn has_failed(&self) -> bool {
        self.failed.load(Ordering::SeqCst)
    }

    /// Waits until line `seq` is on disk.
    pub async fn wait_durable(&self, seq: u64) -> Result<(), ApiError> {
        let mut rx = self.durable.subscribe();
        let result = rx.wait_for(|d| *d >= seq).await;
        if self.failed.load(Ordering::SeqCst) || result.is_err() {
            return Err(ApiError::Internal("journal write failed".into()));
        }
        Ok(())
    }
}

fn writer_loop(journal: std::sync::Weak<Journal>, mut file: File, fsync: bool) {
    loop {
        let Some(j) = journal.upgrade() else { return };
        let (buf, upto) = {
            let mut pending = j.pending.lock().unwrap_or_else(|e| e.into_inner());
            while pending.buf.is_empty() {
                let (p, timeout) = j
                    .wake
                    .wait_timeout(pending, std::time::Duration::from_millis(200))
                    .unwrap_or_else(|e| e.into_inner());
                pending = p;
                if timeout.timed_out() && pending.buf.is_empty() && Arc::strong_count(&j) == 1 {
                    return;
                }
            }
            (std::mem::take(&mut pending.buf), pending.appended)
        };
        let result = file
            .write_all(&buf)
            .and_then(|()| if fsync { file.sync_data() } else { Ok(()) });
        if let Err(error) = result {
            tracing::error!(%error, "journal write failed");
            j.failed.store(true, Ordering::SeqCst);
        }
        j.durable.send_replace(upto);
    }
}

/// Reads the journal, dropping (and truncating away) a torn tail.
fn read_entries(path: &Path) -> io::Result<Vec<Entry>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut reader = BufReader::new(file);
    let mut entries = Vec::new();
    let mut line = Vec::new();
    let mut good_len: u64 = 0;
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        let complete = line.last() == Some(&b'\n');
        match serde_json::from_slice::<Entry>(&line) {
            Ok(entry) if complete => {
                entries.push(entry);
                good_len += n as u64;
            }
            _ => {
                tracing::warn!(
                    offset = good_len,
                    "dropping a torn or unreadable journal tail"
                );
                break;
            }
        }
    }
    let mut file = OpenOptions::new().write(true).open(path)?;
    if file.seek(SeekFrom::End(0))? != good_len {
        file.set_len(good_len)?;
        file.sync_all()?;
    }
    Ok(entries)
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes `bytes` to `path` atomically and durably (tmp file, fsync, rename, fsync dir).
pub fn write_file_durably(path: &PathBuf, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    sync_dir(dir);
    Ok(())
}
