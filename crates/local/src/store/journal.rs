//! Durability: an append-only journal (`<data-dir>/journal.jsonl`, one JSON [`Entry`] per line)
//! is the truth; memory is the journal replayed, one line at a time (never the whole file in
//! memory). [`crate::store::Store::commit`] appends each entry under the store lock, so journal
//! order is apply order. A writer thread batches whatever has been appended, writes it,
//! `fdatasync`s once and publishes the durable sequence number; a request is answered only after
//! [`Journal::wait_durable`] (group commit: many concurrent PutEvents share one fsync). After a
//! crash, a torn last line is dropped (it was never acknowledged). At startup the replayed state is
//! rewritten as a compact journal (atomic rename), straight from the store without a second copy.
//! Live events, the bulk of the state, go into one bincode file per dataset group under
//! `<data-dir>/live/`, written and fsynced before the journal that names it
//! ([`Entry::LiveSnapshot`]) replaces the old one. Trained models are separate files under
//! `<data-dir>/models/`, written with [`write_durably_with`] before the version becomes ACTIVE.
//!
//! Must not depend on HTTP, the resources' operations or the engine.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use serde::Serialize;
use tokio::sync::watch;

use crate::store::data::{DatasetRows, InteractionRow, LiveEvents, RecordRow, Tally};
use crate::store::model::DatasetImportJob;
use crate::store::{Entry, Store};
use crate::wire::error::ApiError;

/// Writes the whole state as journal lines to `out` (compaction), straight from memory:
/// resources as entries, dataset rows by reference, live events as one bincode file per
/// dataset group under `<dir>/live/` (durable before this returns). Returns the live files.
/// Writes the whole state as journal lines to `out` (compaction), straight from memory:
/// resources as entries, dataset rows by reference, live events as one bincode file per
/// dataset group under `<dir>/live/` (durable before this returns). Returns the live files.
fn write_snapshot(store: &Store, dir: &Path, out: &mut impl Write) -> io::Result<Vec<String>> {
    fn line(out: &mut impl Write, entry: &impl Serialize) -> io::Result<()> {
        serde_json::to_writer(&mut *out, entry)?;
        out.write_all(b"\n")
    }
    for (k, v) in &store.counters {
        line(
            out,
            &Entry::Counter {
                key: k.clone(),
                value: *v,
            },
        )?;
    }
    let resources = store
        .dataset_groups
        .values()
        .cloned()
        .map(Entry::DatasetGroup)
        .chain(store.schemas.values().cloned().map(Entry::Schema))
        .chain(store.datasets.values().cloned().map(Entry::Dataset))
        .chain(store.import_jobs.values().cloned().map(Entry::ImportJob))
        .chain(store.solutions.values().cloned().map(Entry::Solution))
        .chain(
            store
                .solution_versions
                .values()
                .cloned()
                .map(Entry::SolutionVersion),
        )
        .chain(store.campaigns.values().cloned().map(Entry::Campaign))
        .chain(
            store
                .event_trackers
                .values()
                .cloned()
                .map(Entry::EventTracker),
        )
        .chain(store.filters.values().cloned().map(Entry::Filter))
        .chain(store.recommenders.values().cloned().map(Entry::Recommender))
        .chain(
            store
                .metric_attributions
                .values()
                .cloned()
                .map(Entry::MetricAttribution),
        )
        .chain(store.export_jobs.values().cloned().map(Entry::ExportJob))
        .chain(
            store
                .deletion_jobs
                .values()
                .cloned()
                .map(Entry::DeletionJob),
        );
    for entry in resources {
        line(out, &entry)?;
    }
    for (arn, metrics) in &store.attribution_metrics {
        line(
            out,
            &Entry::AttributionMetrics {
                arn: arn.clone(),
                metrics: metrics.clone(),
            },
        )?;
    }
    for (arn, pending) in &store.attribution_pending {
        let tallies = pending
            .iter()
            .map(|(key, value)| Tally {
                key: key.clone(),
                value: *value,
            })
            .collect();
        line(
            out,
            &Entry::Attributed {
                arn: arn.clone(),
                tallies,
            },
        )?;
    }
    for (arn, tags) in &store.tags {
        line(
            out,
            &Entry::Tags {
                arn: arn.clone(),
                tags: tags.clone(),
            },
        )?;
    }
    for (arn, meta) in &store.trained {
        line(
            out,
            &Entry::Trained {
                arn: arn.clone(),
                meta: meta.clone(),
            },
        )?;
    }
    for (dataset_arn, rows) in &store.data {
        if let Some(job) = store
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
        } else if let DatasetRows::Items(records)
        | DatasetRows::Users(records)
        | DatasetRows::Actions(records) = rows
        {
            line(
                out,
                &DataRef::Records {
                    dataset_arn,
                    records,
                },
            )?;
        } else if let DatasetRows::ActionInteractions(rows) = rows {
            line(out, &DataRef::ActionInteractions { dataset_arn, rows })?;
        }
    }
    // After the data: a FULL import applied on replay drops earlier bulk versions.
    for (dataset_arn, records) in &store.replaced {
        line(
            out,
            &DataRef::Replaced {
                dataset_arn,
                records,
            },
        )?;
    }
    let mut files = Vec::new();
    if store.live.values().any(|l| l.count() > 0) {
        std::fs::create_dir_all(dir.join(LIVE_DIR))?;
    }
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    for (dg, live) in &store.live {
        if live.count() == 0 {
            continue;
        }
        let file = format!(
            "{:016x}-{stamp:x}.bin",
            crate::wire::names::stable_hash(&[dg.as_str()])
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
    Replaced {
        dataset_arn: &'a str,
        records: &'a [RecordRow],
    },
    ActionInteractions {
        dataset_arn: &'a str,
        rows: &'a [InteractionRow],
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
            let files = write_snapshot(store, dir, &mut out)?;
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
    use crate::store::data::InteractionRow;

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
        let dir = crate::store::test_dir("store");
        let mut store = Store::new(None);
        let untyped = InteractionRow {
            event_type: None,
            event_value: Some(2.5),
            event_id: None,
            ..InteractionRow::click("u1", "c", 4)
        };
        for (user, list) in [
            (
                "u1",
                vec![
                    InteractionRow::click("u1", "a", 1),
                    InteractionRow::click("u1", "b", 2),
                ],
            ),
            ("u2", vec![InteractionRow::click("u2", "a", 3)]),
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
                vec![
                    InteractionRow::click("u1", "a", 1),
                    InteractionRow::click("u1", "b", 2),
                    untyped.clone()
                ]
            );
            // Sequence numbers are kept: serving passes only events newer than the model.
            assert_eq!(events(&replayed, "u1", 3), vec![untyped.clone()]);
            assert_eq!(
                events(&replayed, "u2", 0),
                vec![InteractionRow::click("u2", "a", 3)]
            );
            // New events number on from the snapshot.
            replayed.apply(Entry::Events {
                dg: "dg".into(),
                user: "u3".into(),
                events: vec![InteractionRow::click("u3", "z", 5)],
            });
            assert_eq!(replayed.live["dg"].newer_than("u3", 4).count(), 1);
            store = Store::new(None);
            Journal::replay(&dir, &mut store).expect("replays");
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn jobs_and_replaced_records_survive_a_compaction() {
        use crate::store::data::{FieldValue, RecordRow};
        use crate::store::model::{
            DataDeletionJob, DataSource, Dataset, DatasetExportJob, DatasetExportJobOutput,
            S3DataConfig,
        };
        let dir = crate::store::test_dir("jobs");
        let record = |year: f64, put: bool| RecordRow {
            id: "i1".into(),
            fields: [("YEAR".to_string(), FieldValue::Num(year))].into(),
            created: None,
            put,
        };
        let mut store = Store::new(None);
        store.apply(Entry::Dataset(Dataset {
            name: "items".into(),
            dataset_arn: "items".into(),
            dataset_group_arn: "dg".into(),
            dataset_type: "ITEMS".into(),
            schema_arn: "schema".into(),
            status: "ACTIVE".into(),
            creation_date_time: 1.0,
            last_updated_date_time: 1.0,
            latest_dataset_update: None,
            tracking_id: None,
        }));
        store.apply(Entry::ImportApplied {
            job: DatasetImportJob {
                job_name: "import".into(),
                dataset_import_job_arn: "import".into(),
                dataset_arn: "items".into(),
                data_source: DataSource {
                    data_location: Some("s3://b/items.csv".into()),
                },
                role_arn: None,
                status: "ACTIVE".into(),
                creation_date_time: 1.0,
                last_updated_date_time: 1.0,
                failure_reason: None,
                import_mode: "FULL".into(),
                publish_attribution_metrics_to_s3: None,
            },
            dataset_arn: "items".into(),
            full: true,
            rows: DatasetRows::Items(vec![record(1995.0, false)]),
        });
        store.apply(Entry::Records {
            dataset_arn: "items".into(),
            records: vec![record(1996.0, true)],
        });
        store.apply(Entry::ExportJob(DatasetExportJob {
            job_name: "export".into(),
            dataset_export_job_arn: "export".into(),
            dataset_arn: "items".into(),
            ingestion_mode: "BULK".into(),
            role_arn: "role".into(),
            status: "CREATE PENDING".into(),
            job_output: DatasetExportJobOutput {
                s3_data_destination: S3DataConfig {
                    path: "s3://b/out/".into(),
                    kms_key_arn: None,
                },
            },
            creation_date_time: 2.0,
            last_updated_date_time: 2.0,
            failure_reason: None,
        }));
        store.apply(Entry::DeletionJob(DataDeletionJob {
            job_name: "delete".into(),
            data_deletion_job_arn: "delete".into(),
            dataset_group_arn: "dg".into(),
            data_source: DataSource {
                data_location: Some("s3://b/users.csv".into()),
            },
            role_arn: "role".into(),
            status: "COMPLETED".into(),
            num_deleted: Some(3),
            creation_date_time: 3.0,
            last_updated_date_time: 3.0,
            failure_reason: None,
        }));
        for _ in 0..2 {
            drop(Journal::start(&dir, false, &store).expect("compacts"));
            let mut replayed = Store::new(None);
            Journal::replay(&dir, &mut replayed).expect("replays");
            assert_eq!(replayed.export_jobs["export"].status, "CREATE PENDING");
            assert_eq!(replayed.deletion_jobs["delete"].num_deleted, Some(3));
            assert_eq!(
                replayed.data["items"],
                DatasetRows::Items(vec![record(1996.0, true)])
            );
            assert_eq!(replayed.replaced["items"], vec![record(1995.0, false)]);
            store = replayed;
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn pending_metric_values_survive_a_compaction() {
        use crate::store::data::{Tally, TallyKey};
        use crate::store::model::{MetricAttribute, MetricAttribution, MetricAttributionOutput};
        let dir = crate::store::test_dir("attribution");
        let arn = "arn:aws:personalize:us-east-1:000000000000:metric-attribution/m";
        let tally = |source: &str, value: f64| Tally {
            key: TallyKey {
                metric: "CLICKS".into(),
                source: source.into(),
                window: 900,
            },
            value,
        };
        let mut store = Store::new(None);
        store.apply(Entry::MetricAttribution(MetricAttribution {
            name: "m".into(),
            metric_attribution_arn: arn.into(),
            dataset_group_arn: "dg".into(),
            metrics_output_config: MetricAttributionOutput {
                s3_data_destination: None,
                role_arn: "arn:aws:iam::000000000000:role/r".into(),
            },
            status: "ACTIVE".into(),
            creation_date_time: 1.0,
            last_updated_date_time: 1.0,
            failure_reason: None,
        }));
        let metric = MetricAttribute {
            event_type: "click".into(),
            metric_name: "CLICKS".into(),
            expression: "SAMPLECOUNT()".into(),
        };
        store.apply(Entry::AttributionMetrics {
            arn: arn.into(),
            metrics: vec![metric.clone()],
        });
        store.apply(Entry::Attributed {
            arn: arn.into(),
            tallies: vec![tally("A", 3.0), tally("B", 2.0)],
        });
        // A arrives again while 3 of it are being published: 1 is left.
        store.apply(Entry::Attributed {
            arn: arn.into(),
            tallies: vec![tally("A", 1.0)],
        });
        store.apply(Entry::AttributionPublished {
            arn: arn.into(),
            tallies: vec![tally("A", 3.0), tally("B", 2.0)],
        });
        drop(Journal::start(&dir, false, &store).expect("compacts"));
        let mut replayed = Store::new(None);
        Journal::replay(&dir, &mut replayed).expect("replays");
        let pending: Vec<(String, f64)> = replayed.attribution_pending[arn]
            .iter()
            .map(|(k, v)| (k.source.clone(), *v))
            .collect();
        assert_eq!(pending, vec![("A".to_string(), 1.0)]);
        assert_eq!(replayed.attribution_metrics[arn], vec![metric]);
        assert!(replayed.metric_attributions.contains_key(arn));
        replayed.apply(Entry::Removed { arn: arn.into() });
        assert!(replayed.attribution_pending.is_empty() && replayed.attribution_metrics.is_empty());
        let _ = std::fs::remove_dir_all(dir);
    }
}
