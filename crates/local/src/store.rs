//! The in-memory state of every resource and dataset, and its durability.
//!
//! Design: an append-only journal (`<data-dir>/journal.jsonl`, one JSON [`Entry`] per line) is the
//! truth; memory is the journal replayed, one line at a time (never the whole file in memory). Every change goes through [`Store::commit`], which
//! appends the entry (under the store lock, so journal order is apply order) and applies it. A
//! writer thread batches whatever has been appended, writes it, `fdatasync`s once and publishes the
//! durable sequence number; a request is answered only after [`Journal::wait_durable`] (group
//! commit: many concurrent PutEvents share one fsync). After a crash, a torn last line is dropped
//! (it was never acknowledged). At startup the replayed state is rewritten as a compact journal
//! (atomic rename), so the journal does not grow across restarts; it is written straight from the
//! store, without a second copy of the state. Live events, the bulk of the state, go into one
//! bincode file per dataset group under `<data-dir>/live/`, written and fsynced before the
//! journal that names it ([`Entry::LiveSnapshot`]) replaces the old one: a restart reads them
//! back in one pass instead of parsing a JSON line per PutEvents call. Trained models are separate
//! files under `<data-dir>/models/`, written and fsynced before the version becomes ACTIVE.
//!
//! Must not depend on HTTP or on the engine.

use std::collections::{BTreeMap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::Path;
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

    /// Releases slack left by a replay (per-user event lists grown by doubling).
    pub fn shrink_to_fit(&mut self) {
        for live in self.live.values_mut() {
            live.shrink_to_fit();
        }
    }

    /// Writes the whole state as journal lines to `out` (compaction), straight from memory:
    /// resources as entries, dataset rows by reference, live events as one bincode file per
    /// dataset group under `<dir>/live/` (durable before this returns). Returns the live files.
    fn write_snapshot(&self, dir: &Path, out: &mut impl Write) -> io::Result<Vec<String>> {
        fn line(out: &mut impl Write, entry: &impl Serialize) -> io::Result<()> {
            serde_json::to_writer(&mut *out, entry)?;
            out.write_all(b"\n")
        }
        for (k, v) in &self.counters {
            line(
                out,
                &Entry::Counter {
                    key: k.clone(),
                    value: *v,
                },
            )?;
        }
        let resources = self
            .dataset_groups
            .values()
            .cloned()
            .map(Entry::DatasetGroup)
            .chain(self.schemas.values().cloned().map(Entry::Schema))
            .chain(self.datasets.values().cloned().map(Entry::Dataset))
            .chain(self.import_jobs.values().cloned().map(Entry::ImportJob))
            .chain(self.solutions.values().cloned().map(Entry::Solution))
            .chain(
                self.solution_versions
                    .values()
                    .cloned()
                    .map(Entry::SolutionVersion),
            )
            .chain(self.campaigns.values().cloned().map(Entry::Campaign))
            .chain(
                self.event_trackers
                    .values()
                    .cloned()
                    .map(Entry::EventTracker),
            )
            .chain(self.filters.values().cloned().map(Entry::Filter));
        for entry in resources {
            line(out, &entry)?;
        }
        for (arn, tags) in &self.tags {
            line(
                out,
                &Entry::Tags {
                    arn: arn.clone(),
                    tags: tags.clone(),
                },
            )?;
        }
        for (arn, meta) in &self.trained {
            line(
                out,
                &Entry::Trained {
                    arn: arn.clone(),
                    meta: meta.clone(),
                },
            )?;
        }
        for (dataset_arn, rows) in &self.data {
            if let Some(job) = self
                .import_jobs
                .values()
                .find(|j| &j.dataset_arn == dataset_arn)
            {
                line(
                    out,
                    &DataRef::ImportApplied {
                        job,
                        dataset_arn,
                        full: true,
                        rows,
                    },
                )?;
            } else if let DatasetRows::Items(records) | DatasetRows::Users(records) = rows {
                line(
                    out,
                    &DataRef::Records {
                        dataset_arn,
                        records,
                    },
                )?;
            }
        }
        let mut files = Vec::new();
        if self.live.values().any(|l| l.count() > 0) {
            std::fs::create_dir_all(dir.join(LIVE_DIR))?;
        }
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        for (dg, live) in &self.live {
            if live.count() == 0 {
                continue;
            }
            let file = format!(
                "{:016x}-{stamp:x}.bin",
                crate::names::stable_hash(&[dg.as_str()])
            );
            write_live(&dir.join(LIVE_DIR).join(&file), live)?;
            line(
                out,
                &Entry::LiveSnapshot {
                    dg: dg.clone(),
                    file: file.clone(),
                },
            )?;
            files.push(file);
        }
        Ok(files)
    }
}

/// Directory of live-event snapshot files under the data dir.
const LIVE_DIR: &str = "live";

/// Journal lines for dataset rows, serialised by reference (same JSON as the [`Entry`] variants).
#[derive(Serialize)]
#[serde(tag = "k", content = "v")]
enum DataRef<'a> {
    ImportApplied {
        job: &'a DatasetImportJob,
        dataset_arn: &'a str,
        full: bool,
        rows: &'a DatasetRows,
    },
    Records {
        dataset_arn: &'a str,
        records: &'a [RecordRow],
    },
}

fn bincode_config() -> bincode::config::Configuration {
    bincode::config::standard()
}

/// Writes a live-event snapshot file durably (the caller syncs the directory).
fn write_live(path: &Path, live: &LiveEvents) -> io::Result<()> {
    write_durably_with(path, |out| {
        bincode::serde::encode_into_std_write(live, out, bincode_config())
            .map(|_| ())
            .map_err(io::Error::other)
    })
}

/// Reads a live-event snapshot file.
fn read_live(path: &Path) -> io::Result<LiveEvents> {
    let mut input = BufReader::with_capacity(1 << 20, File::open(path)?);
    bincode::serde::decode_from_std_read(&mut input, bincode_config()).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: {e}", path.display()),
        )
    })
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
    /// Replays `<dir>/journal.jsonl` (nothing when absent) into `store`, line by line, dropping a
    /// torn tail; live-event snapshots are read from their files.
    pub fn replay(dir: &Path, store: &mut Store) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        read_entries(&dir.join("journal.jsonl"), |entry| {
            let entry = match entry {
                Entry::LiveSnapshot { dg, file } => Entry::LiveLoaded {
                    live: Box::new(read_live(&dir.join(LIVE_DIR).join(&file))?),
                    dg,
                },
                other => other,
            };
            store.apply(entry);
            Ok(())
        })?;
        store.shrink_to_fit();
        Ok(())
    }

    /// Rewrites `<dir>/journal.jsonl` as a snapshot of `store` (atomically), removes live-event
    /// files it no longer names, and opens it for appending.
    pub fn start(dir: &Path, fsync: bool, store: &Store) -> io::Result<Arc<Journal>> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("journal.jsonl");
        let tmp = dir.join("journal.jsonl.tmp");
        let live_files = {
            let mut out = io::BufWriter::new(File::create(&tmp)?);
            let files = store.write_snapshot(dir, &mut out)?;
            out.flush()?;
            out.get_ref().sync_all()?;
            files
        };
        std::fs::rename(&tmp, &path)?;
        sync_dir(dir);
        if let Ok(entries) = std::fs::read_dir(dir.join(LIVE_DIR)) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !live_files.contains(&name) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
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

/// Reads the journal into `apply` one entry at a time, dropping (and truncating away) a torn
/// tail. An error from `apply` stops the replay.
fn read_entries(path: &Path, mut apply: impl FnMut(Entry) -> io::Result<()>) -> io::Result<()> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut reader = BufReader::with_capacity(1 << 20, file);
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
                apply(entry)?;
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
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Writes what `write` produces to `path` atomically and durably (buffered tmp file, fsync,
/// rename, fsync dir), without holding the whole content in memory.
pub fn write_durably_with(
    path: &Path,
    write: impl FnOnce(&mut io::BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::other("path has no parent"))?;
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    {
        let mut out = io::BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
        write(&mut out)?;
        out.flush()?;
        out.get_ref().sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    sync_dir(dir);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(user: &str, item: &str, t: i64) -> InteractionRow {
        InteractionRow {
            user_id: user.into(),
            item_id: item.into(),
            timestamp: t,
            event_type: Some("click".into()),
            event_value: None,
        }
    }

    fn events(store: &Store, user: &str, after: u64) -> Vec<InteractionRow> {
        store.live["dg"]
            .newer_than(user, after)
            .map(|e| e.to_row())
            .collect()
    }

    fn live_files(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir.join(LIVE_DIR))
            .expect("live dir")
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn live_events_survive_compactions_with_their_sequence_numbers() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "personalize-local-store-{}-{nanos}",
            std::process::id()
        ));
        let mut store = Store::new(None);
        let untyped = InteractionRow {
            event_type: None,
            event_value: Some(2.5),
            ..row("u1", "c", 4)
        };
        for (user, list) in [
            ("u1", vec![row("u1", "a", 1), row("u1", "b", 2)]),
            ("u2", vec![row("u2", "a", 3)]),
            ("u1", vec![untyped.clone()]),
        ] {
            store.apply(Entry::Events {
                dg: "dg".into(),
                user: user.into(),
                events: list,
            });
        }
        for round in 0..2 {
            let journal = Journal::start(&dir, false, &store).expect("compacts");
            drop(journal);
            assert_eq!(live_files(&dir).len(), 1, "round {round}: one live file");
            let mut replayed = Store::new(None);
            Journal::replay(&dir, &mut replayed).expect("replays");
            let live = &replayed.live["dg"];
            assert_eq!((live.seq, live.count()), (4, 4));
            assert_eq!(
                events(&replayed, "u1", 0),
                vec![row("u1", "a", 1), row("u1", "b", 2), untyped.clone()]
            );
            // Sequence numbers are kept: serving passes only events newer than the model.
            assert_eq!(events(&replayed, "u1", 3), vec![untyped.clone()]);
            assert_eq!(events(&replayed, "u2", 0), vec![row("u2", "a", 3)]);
            // New events number on from the snapshot.
            replayed.apply(Entry::Events {
                dg: "dg".into(),
                user: "u3".into(),
                events: vec![row("u3", "z", 5)],
            });
            assert_eq!(replayed.live["dg"].newer_than("u3", 4).count(), 1);
            store = Store::new(None);
            Journal::replay(&dir, &mut store).expect("replays");
        }
        let _ = std::fs::remove_dir_all(dir);
    }
}
