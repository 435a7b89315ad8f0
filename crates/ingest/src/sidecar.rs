//! The sidecar (`personalize-ingest run`): discovers shards, consumes each ready shard (parents
//! before children) with GetRecords, decodes and batches records, sends them with PutEvents,
//! dead-letters what cannot be sent, and checkpoints a shard only after everything up to the
//! checkpoint is resolved. Also serves `/healthz`, `/readyz` and `/metrics`.
//!
//! Delivery is at least once: after a crash, records unresolved at the last checkpoint are read
//! again and re-sent with the same deterministic event ids. A window's records resolve out of
//! order (each user's or session's PutEvents calls go out in rounds), so the checkpoint is a
//! [`Position`]: the end of the resolved prefix, `S`, plus a bitmap of the records after `S`
//! already resolved and the sequence number `F` of the record its offset 0 counts from, stored
//! as `<S>` or `<S>+<F>+<hex>` (see `position`). It is written after each window and every
//! `checkpoint_interval` when it changed. A restart reads again after `S` and skips the records
//! the bitmap marks: Kinesis returns the same records in the same order after a sequence number,
//! so the offsets hold, unless the shard was trimmed past `S` meanwhile (the consumer was down
//! longer than the stream's retention). So the bitmap is trusted only if the first record read
//! after `S` is `F`; otherwise it is discarded (a warning and
//! `personalize_ingest_resume_bitmaps_discarded_total`) and every record after `S` is sent again.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use futures::StreamExt;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

use crate::backoff::Backoff;
use crate::batch;
use crate::checkpoint_store::{self, CheckpointStore};
use crate::dead_letter::{self, DeadLetter, Entry};
use crate::kinesis::{self, Batch, Record, Source, StartPosition};
use crate::metrics::Metrics;
use crate::position::Position;
use crate::progress::{Progress, Ticket};
use crate::record::{self, Origin};
use crate::shards::{self, Checkpoint, ShardInfo, StartAt};
use crate::sink::Sink;
use crate::tracking::TrackingId;

/// Tuning of the consumer.
#[derive(Clone, Debug)]
pub struct Settings {
    pub stream: String,
    /// Where shards without a checkpoint (and without a known parent) start.
    pub start: StartPosition,
    /// GetRecords `Limit` (Kinesis allows up to 10,000). Bigger batches group more events per
    /// PutEvents call (the 1000 calls/s quota counts calls) but checkpoint more coarsely, so a
    /// crash replays more.
    pub batch_limit: i32,
    /// Wait after an empty GetRecords.
    pub idle_poll: Duration,
    /// Least time between two GetRecords on one shard (Kinesis allows 5 per second per shard;
    /// going faster only earns ProvisionedThroughputExceeded, which is backed off).
    pub min_get_records_interval: Duration,
    /// How often ListShards runs to find new shards after a reshard.
    pub shard_sync: Duration,
    /// PutEvents calls sent concurrently per shard.
    pub max_in_flight: usize,
    /// GetRecords batches read ahead of the sender per shard. While the sender is busy, the
    /// reader keeps reading, and the sender then takes everything read as one window, so a
    /// backlog packs more of each session's events into each PutEvents call.
    pub read_ahead: usize,
    /// While a shard is behind (GetRecords answers are full), the sender waits until it has
    /// this many records before sending them, so each session's events fill PutEvents calls.
    pub window_records: usize,
    /// How long shutdown waits for in-flight batches before giving up on them.
    pub shutdown_grace: Duration,
    /// How often the resolved prefix of a shard is checkpointed while a window is being sent;
    /// it is also checkpointed after each window, on shutdown and at the end of a closed shard.
    pub checkpoint_interval: Duration,
}

impl Settings {
    pub fn new(stream: impl Into<String>) -> Settings {
        Settings {
            stream: stream.into(),
            start: StartPosition::TrimHorizon,
            batch_limit: 1000,
            idle_poll: Duration::from_millis(200),
            min_get_records_interval: Duration::from_millis(200),
            shard_sync: Duration::from_secs(5),
            max_in_flight: 32,
            read_ahead: 4,
            window_records: 2000,
            shutdown_grace: Duration::from_secs(20),
            checkpoint_interval: Duration::from_millis(250),
        }
    }
}

/// A sidecar step that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading shard {shard_id}")]
    Read {
        shard_id: String,
        source: kinesis::Error,
    },
    #[error("storing the checkpoint of shard {shard_id}")]
    Checkpoint {
        shard_id: String,
        source: checkpoint_store::Error,
    },
    #[error("dead-lettering records of shard {shard_id}")]
    DeadLetter {
        shard_id: String,
        source: dead_letter::Error,
    },
}

/// Everything the sidecar runs with.
#[derive(Debug)]
pub struct Sidecar {
    pub settings: Settings,
    pub source: Source,
    pub sink: Sink,
    pub tracking: TrackingId,
    pub checkpoints: CheckpointStore,
    pub dead_letter: DeadLetter,
    pub metrics: Arc<Metrics>,
    /// The last ListShards succeeded.
    pub kinesis_ok: Arc<AtomicBool>,
}

/// One GetRecords answer, passed from a shard's reader to its sender.
struct Read {
    records: Vec<Record>,
    /// As many records as asked for: more are probably waiting.
    full: bool,
}

/// How reading a shard ended.
#[derive(Debug, PartialEq, Eq)]
enum ReadEnd {
    /// The shard is closed and was read to its end (GetRecords returned no next iterator).
    Closed,
    /// Stopped by shutdown (or the sender is gone).
    Stopped,
}

enum ShardOutcome {
    /// Closed and fully processed; SHARD_END stored.
    Ended,
    /// Stopped by shutdown after its last checkpoint.
    Stopped,
}

impl Sidecar {
    /// Runs until `shutdown` turns true, then finishes in-flight batches (within the grace
    /// period), checkpoints and returns.
    pub async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let mut tasks: JoinSet<(String, Result<ShardOutcome, Error>)> = JoinSet::new();
        // Running shard consumers and the switch that stops each one.
        let mut running: BTreeMap<String, watch::Sender<bool>> = BTreeMap::new();
        let backoff = Backoff::default();
        let mut failures: u32 = 0;
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.source.list_shards().await {
                Ok(listed) => {
                    self.kinesis_ok.store(true, Ordering::Relaxed);
                    failures = 0;
                    match self.checkpoints.survey().await {
                        Ok((checkpoints, replicas)) => {
                            self.balance(&listed, &checkpoints, replicas, &mut running, &mut tasks)
                                .await;
                        }
                        Err(e) => {
                            failures += 1;
                            tracing::warn!(error = %e, "reading checkpoints failed");
                        }
                    }
                }
                Err(e) => {
                    self.kinesis_ok.store(false, Ordering::Relaxed);
                    failures += 1;
                    tracing::warn!(error = %e, "listing shards failed");
                }
            }
            let wait = if failures > 0 {
                backoff.delay(failures, 1)
            } else {
                self.settings.shard_sync
            };
            tokio::select! {
                _ = shutdown.changed() => {}
                Some(joined) = tasks.join_next() => {
                    self.finished(joined, &mut running).await;
                }
                _ = tokio::time::sleep(wait) => {}
            }
        }
        tracing::info!("shutting down: finishing in-flight batches");
        for stop in running.values() {
            let _ = stop.send(true);
        }
        let drain = async {
            while let Some(joined) = tasks.join_next().await {
                self.finished(joined, &mut running).await;
            }
        };
        if tokio::time::timeout(self.settings.shutdown_grace, drain)
            .await
            .is_err()
        {
            tracing::warn!("shutdown grace period over; unfinished batches will be replayed");
            tasks.abort_all();
        }
        self.checkpoints.leave().await;
    }

    /// Starts consumers for the shards that are ready, up to this replica's fair share when
    /// several replicas share the stream, and stops consumers beyond that share (their leases
    /// are released for the other replicas).
    async fn balance(
        self: &Arc<Self>,
        listed: &[ShardInfo],
        checkpoints: &BTreeMap<String, Checkpoint>,
        replicas: usize,
        running: &mut BTreeMap<String, watch::Sender<bool>>,
        tasks: &mut JoinSet<(String, Result<ShardOutcome, Error>)>,
    ) {
        let active: BTreeSet<String> = running.keys().cloned().collect();
        let ready = shards::ready_to_consume(listed, checkpoints, &active);
        let consumable = ready.len() + running.len();
        let share = consumable.div_ceil(replicas.max(1)).max(1);
        let live = running.values().filter(|s| !*s.borrow()).count();
        if live > share {
            for (shard_id, stop) in running
                .iter()
                .rev()
                .filter(|(_, s)| !*s.borrow())
                .take(live - share)
            {
                tracing::info!(shard = %shard_id, share, replicas, "handing the shard over to another replica");
                let _ = stop.send(true);
            }
            return;
        }
        for shard_id in ready {
            if running.values().filter(|s| !*s.borrow()).count() >= share {
                break;
            }
            let Some(shard) = listed.iter().find(|s| s.shard_id == shard_id) else {
                continue;
            };
            match self.checkpoints.acquire(&shard_id).await {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::warn!(shard = %shard_id, error = %e, "claiming the shard failed");
                    continue;
                }
            }
            // Re-read after claiming: the previous holder may have checkpointed since the survey.
            let checkpoints = match self.checkpoints.survey().await {
                Ok((c, _)) => c,
                Err(e) => {
                    tracing::warn!(shard = %shard_id, error = %e, "reading checkpoints failed");
                    self.checkpoints.release(&shard_id).await;
                    continue;
                }
            };
            let known_parent = shards::has_known_parent(shard, listed, &checkpoints);
            let start = shards::start_at(shard, &checkpoints, known_parent);
            tracing::info!(shard = %shard_id, ?start, "consuming shard");
            let (stop, stopped) = watch::channel(false);
            running.insert(shard_id.clone(), stop);
            let me = self.clone();
            let shard = shard.clone();
            tasks.spawn(async move {
                let r = me.consume(&shard, start, stopped).await;
                (shard.shard_id, r)
            });
        }
    }

    async fn finished(
        &self,
        joined: Result<(String, Result<ShardOutcome, Error>), tokio::task::JoinError>,
        running: &mut BTreeMap<String, watch::Sender<bool>>,
    ) {
        match joined {
            Ok((shard_id, outcome)) => {
                running.remove(&shard_id);
                self.checkpoints.release(&shard_id).await;
                match outcome {
                    Ok(ShardOutcome::Ended) => {
                        tracing::info!(shard = %shard_id, "shard drained");
                        self.metrics.forget_shard(&shard_id);
                    }
                    Ok(ShardOutcome::Stopped) => {}
                    Err(e) => {
                        tracing::error!(shard = %shard_id, error = %e, "shard consumer failed; restarting from its checkpoint");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "shard task panicked"),
        }
    }

    /// Consumes one shard with three concurrent parts: a reader that keeps GetRecords up to
    /// `read_ahead` batches ahead, a sender that sends everything read so far as one window
    /// (so a backlog groups more of each session's events into each PutEvents call), and a
    /// checkpointer that stores the resolved prefix after each window and every
    /// `checkpoint_interval` without holding up either.
    async fn consume(
        &self,
        shard: &ShardInfo,
        start: StartAt,
        shutdown: watch::Receiver<bool>,
    ) -> Result<ShardOutcome, Error> {
        let shard_id = shard.shard_id.as_str();
        let progress = match &start {
            StartAt::After(position) => {
                let p = Progress::resume(position.clone());
                if p.resumed_resolved() > 0 {
                    tracing::info!(
                        shard = %shard_id,
                        after = %position.sequence_number,
                        first = position.first_after.as_deref().unwrap_or("(none)"),
                        skipped = p.resumed_resolved(),
                        "resuming: records resolved before the restart will be skipped if the first record read is `first`"
                    );
                }
                p
            }
            StartAt::TrimHorizon | StartAt::Initial => Progress::default(),
        };
        let progress = &Mutex::new(progress);
        let window_sent = &tokio::sync::Notify::new();
        let (batches, mut read) = mpsc::channel::<Read>(self.settings.read_ahead.max(1));
        let reading = self.read(shard_id, start, batches, shutdown.clone());
        // Owns the receiver, so the reader stops when the sender is done (or failed).
        let sending = async move {
            loop {
                if *shutdown.borrow() {
                    // What is buffered is not checkpointed: it is read again after a restart.
                    return Ok::<bool, Error>(false);
                }
                let Some(records) = gather(&mut read, self.settings.window_records).await else {
                    return Ok(true);
                };
                self.process(shard_id, &records, progress).await?;
                window_sent.notify_one();
            }
        };
        let checkpointing = self.checkpoint_periodically(shard_id, progress, window_sent);
        // Either failing drops the other.
        let work = futures::future::try_join(reading, sending);
        let (read_end, drained) = tokio::select! {
            done = work => done?,
            lost = checkpointing => {
                lost?;
                return Ok(ShardOutcome::Stopped);
            }
        };
        let (resolved, in_flight) = {
            let p = lock(progress);
            (p.resolved(), p.in_flight())
        };
        if read_end == ReadEnd::Closed && drained && in_flight == 0 {
            self.checkpoints
                .store(shard_id, Checkpoint::End)
                .await
                .map_err(|source| Error::Checkpoint {
                    shard_id: shard_id.to_owned(),
                    source,
                })?;
            return Ok(ShardOutcome::Ended);
        }
        if let Some(position) = resolved {
            self.store_checkpoint(shard_id, position).await?;
        }
        Ok(ShardOutcome::Stopped)
    }

    /// Reads the shard from `start` into `batches` (non-empty batches, and an empty one after a
    /// full one), pacing GetRecords, until the shard is closed and read to its end, `shutdown`,
    /// or the receiver is gone.
    async fn read(
        &self,
        shard_id: &str,
        start: StartAt,
        batches: mpsc::Sender<Read>,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<ReadEnd, Error> {
        // The last sequence number read (not necessarily processed): where to resume reading
        // when an iterator expires.
        let mut read_after: Option<String> = match &start {
            StartAt::After(position) => Some(position.sequence_number.clone()),
            _ => None,
        };
        let initial = match start {
            StartAt::Initial => self.settings.start.clone(),
            _ => StartPosition::TrimHorizon,
        };
        let mut iterator: Option<String> = None;
        let mut sent_full = false;
        loop {
            if *shutdown.borrow() {
                return Ok(ReadEnd::Stopped);
            }
            let fetched_at = tokio::time::Instant::now();
            let batch = tokio::select! {
                _ = shutdown.changed() => return Ok(ReadEnd::Stopped),
                batch = self.fetch(shard_id, iterator.as_deref(), read_after.as_deref(), &initial) => batch?,
            };
            if let Some(lag) = batch.millis_behind_latest {
                self.metrics.set_lag(shard_id, lag);
            }
            let idle = batch.records.is_empty();
            let full =
                batch.records.len() >= usize::try_from(self.settings.batch_limit).unwrap_or(0);
            if let Some(last) = batch.records.last() {
                read_after = Some(last.sequence_number.clone());
            }
            // An empty answer after a full one tells a sender waiting for a fuller window
            // that there is no more for now.
            if !idle || sent_full {
                sent_full = full;
                tokio::select! {
                    _ = shutdown.changed() => return Ok(ReadEnd::Stopped),
                    sent = batches.send(Read { full, records: batch.records }) => if sent.is_err() {
                        return Ok(ReadEnd::Stopped);
                    },
                }
            }
            match batch.next_iterator {
                None => return Ok(ReadEnd::Closed),
                Some(next) => iterator = Some(next),
            }
            let wait = if idle {
                self.settings.idle_poll
            } else {
                self.settings
                    .min_get_records_interval
                    .saturating_sub(fetched_at.elapsed())
            };
            if !wait.is_zero() {
                tokio::select! {
                    _ = shutdown.changed() => return Ok(ReadEnd::Stopped),
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }

    /// After every window sent, and every `checkpoint_interval` while one is being sent, stores
    /// the shard's position when it changed (the resolved prefix moved, or records after it
    /// were resolved; this also renews its lease), or renews the lease when nothing changed for
    /// a while. Runs beside the sender, so a slow write holds up no PutEvents. Returns Ok when
    /// the lease was lost; runs until cancelled otherwise.
    async fn checkpoint_periodically(
        &self,
        shard_id: &str,
        progress: &Mutex<Progress>,
        window_sent: &tokio::sync::Notify,
    ) -> Result<(), Error> {
        let mut tick = tokio::time::interval(
            self.settings
                .checkpoint_interval
                .max(Duration::from_millis(10)),
        );
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        let mut renewed = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = window_sent.notified() => {}
            }
            let checkpoint = lock(progress).take_checkpoint();
            if let Some(position) = checkpoint {
                self.store_checkpoint(shard_id, position).await?;
                renewed = tokio::time::Instant::now();
            } else if let Some(every) = self.checkpoints.renew_every()
                && renewed.elapsed() >= every
            {
                if let Err(e) = self.checkpoints.renew(shard_id).await {
                    tracing::warn!(shard = %shard_id, error = %e, "lost the shard; stopping");
                    return Ok(());
                }
                renewed = tokio::time::Instant::now();
            }
        }
    }

    /// GetRecords with retries: throttling and errors back off; an expired (or missing)
    /// iterator is replaced by one after `read_after` (or at `initial`).
    async fn fetch(
        &self,
        shard_id: &str,
        iterator: Option<&str>,
        read_after: Option<&str>,
        initial: &StartPosition,
    ) -> Result<Batch, Error> {
        let backoff = Backoff {
            base: Duration::from_millis(200),
            max: Duration::from_secs(10),
        };
        let mut iterator = iterator.map(str::to_owned);
        let mut attempt = 0;
        loop {
            let it = match &iterator {
                Some(it) => it.clone(),
                None => match self.source.iterator(shard_id, read_after, initial).await {
                    Ok(Some(it)) => it,
                    Ok(None) => {
                        return Ok(Batch {
                            records: Vec::new(),
                            next_iterator: None,
                            millis_behind_latest: None,
                        });
                    }
                    Err(e) => {
                        attempt += 1;
                        tracing::warn!(shard = %shard_id, error = %e, "GetShardIterator failed; retrying");
                        tokio::time::sleep(backoff.delay(attempt, 3)).await;
                        continue;
                    }
                },
            };
            Metrics::add(&self.metrics.get_records_calls, 1);
            match self
                .source
                .get_records(shard_id, &it, self.settings.batch_limit)
                .await
            {
                Ok(batch) => return Ok(batch),
                Err(kinesis::Error::GetRecords { expired: true, .. }) => {
                    tracing::info!(shard = %shard_id, "shard iterator expired; getting a new one");
                    iterator = None;
                }
                Err(e) => {
                    attempt += 1;
                    Metrics::add(&self.metrics.get_records_retries, 1);
                    tracing::warn!(shard = %shard_id, error = %e, "GetRecords failed; retrying");
                    tokio::time::sleep(backoff.delay(attempt, 5)).await;
                }
            }
        }
    }

    async fn store_checkpoint(&self, shard_id: &str, position: Position) -> Result<(), Error> {
        self.checkpoints
            .store(shard_id, Checkpoint::At(position))
            .await
            .map_err(|source| Error::Checkpoint {
                shard_id: shard_id.to_owned(),
                source,
            })?;
        Metrics::add(&self.metrics.checkpoints, 1);
        Ok(())
    }

    /// Sends every record of a window (or dead-letters it), completing each record's part in
    /// `progress` as it is resolved; the checkpointer stores the position. Records resolved
    /// before a restart (marked in the position resumed from, if the first record read after it
    /// is the one its bitmap counted from) are registered as resolved and neither decoded nor
    /// sent.
    async fn process(
        &self,
        shard_id: &str,
        records: &[Record],
        progress: &Mutex<Progress>,
    ) -> Result<(), Error> {
        if records.is_empty() {
            return Ok(());
        }
        let mut tickets: Vec<Ticket> = Vec::with_capacity(records.len());
        let mut dead: Vec<(usize, record::Reject)> = Vec::new();
        // Most records hold one event.
        let mut tagged = Vec::with_capacity(records.len());
        Metrics::add(&self.metrics.records_in, records.len() as u64);
        {
            let mut p = lock(progress);
            let resumed = p.resumed_resolved();
            if let Err(mismatch) = p.check_resume(&records[0].sequence_number) {
                tracing::warn!(
                    shard = %shard_id,
                    error = %mismatch,
                    discarded = resumed,
                    "not trusting the checkpoint's bitmap: every record after its sequence number is sent again"
                );
                Metrics::add(&self.metrics.resume_bitmaps_discarded, 1);
            }
            let mut skipped = 0;
            for (i, r) in records.iter().enumerate() {
                if p.already_resolved() {
                    tickets.push(p.register(&r.sequence_number, 0));
                    skipped += 1;
                    continue;
                }
                let origin = Origin {
                    shard_id,
                    sequence_number: &r.sequence_number,
                };
                match record::decode(&r.data, origin) {
                    Ok(events) => {
                        Metrics::add(&self.metrics.events_in, events.len() as u64);
                        tickets.push(p.register(&r.sequence_number, events.len()));
                        tagged.extend(events.into_iter().map(|e| (i, e)));
                    }
                    Err(reject) => {
                        tickets.push(p.register(&r.sequence_number, 1));
                        dead.push((i, reject));
                    }
                }
            }
            Metrics::add(&self.metrics.records_skipped, skipped);
        }
        let plan = batch::plan(tagged);
        let tickets = &tickets;
        let send = |call: batch::Call<usize>| async move {
            let refused = self.sink.send(&self.tracking, &call).await;
            let mut p = lock(progress);
            for (tag, _) in &call.events {
                if !refused.iter().any(|(t, _)| t == tag) {
                    p.complete(tickets[*tag]);
                }
            }
            refused
        };
        let max_in_flight = self.settings.max_in_flight.max(1);
        let rejected: Vec<Vec<(usize, record::Reject)>> =
            futures::stream::iter(batch::rounds(plan))
                .then(|round| async move {
                    futures::stream::iter(round)
                        .map(send)
                        .buffer_unordered(max_in_flight)
                        .concat()
                        .await
                })
                .collect()
                .await;
        dead.extend(rejected.into_iter().flatten());
        if !dead.is_empty() {
            let entries: Vec<Entry> = dead
                .iter()
                .map(|(i, reject)| Entry {
                    stream: self.settings.stream.clone(),
                    shard_id: shard_id.to_owned(),
                    sequence_number: records[*i].sequence_number.clone(),
                    partition_key: records[*i].partition_key.clone(),
                    reject: reject.clone(),
                    data: records[*i].data.clone(),
                })
                .collect();
            self.dead_letter
                .write(&entries)
                .await
                .map_err(|source| Error::DeadLetter {
                    shard_id: shard_id.to_owned(),
                    source,
                })?;
            let mut p = lock(progress);
            for (i, reject) in &dead {
                tracing::warn!(shard = %shard_id, sequence_number = %records[*i].sequence_number, reason = reject.code(), error = %reject, "record dead-lettered");
                self.metrics.dead_lettered(reject.code());
                p.complete(tickets[*i]);
            }
        }
        Ok(())
    }
}

/// The next window: everything read so far; while the reader is behind (its last batch was
/// full), more, up to `window_records` (fewer, fuller PutEvents calls). None when the reader is
/// done and everything was taken.
async fn gather(read: &mut mpsc::Receiver<Read>, window_records: usize) -> Option<Vec<Record>> {
    let Read {
        mut records,
        mut full,
    } = read.recv().await?;
    loop {
        while let Ok(more) = read.try_recv() {
            records.extend(more.records);
            full = more.full;
        }
        if !full || records.len() >= window_records {
            return Some(records);
        }
        match read.recv().await {
            Some(more) => {
                records.extend(more.records);
                full = more.full;
            }
            None => return Some(records),
        }
    }
}

fn lock(progress: &Mutex<Progress>) -> std::sync::MutexGuard<'_, Progress> {
    progress.lock().unwrap_or_else(|e| e.into_inner())
}

/// What `/readyz` and `/metrics` look at.
#[derive(Clone, Debug)]
pub struct HealthState {
    pub metrics: Arc<Metrics>,
    pub tracking: TrackingId,
    pub kinesis_ok: Arc<AtomicBool>,
}

/// `/healthz` (the process is up), `/readyz` (tracker ACTIVE with a tracking id, and Kinesis
/// answering), `/metrics`.
pub fn health_app(state: HealthState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(state)
}

async fn readyz(State(state): State<HealthState>) -> impl IntoResponse {
    let tracker = state.tracking.current();
    if !tracker.ready {
        return (StatusCode::SERVICE_UNAVAILABLE, tracker.reason);
    }
    if !state.kinesis_ok.load(Ordering::Relaxed) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            "Kinesis ListShards has not succeeded".to_owned(),
        );
    }
    (StatusCode::OK, "ok".to_owned())
}

async fn metrics(State(state): State<HealthState>) -> impl IntoResponse {
    (
        [("content-type", crate::metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn get(app: &Router, path: &str) -> (StatusCode, String) {
        let resp = app
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("answers");
        let status = resp.status();
        let body = resp.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    fn read(from: usize, n: usize, full: bool) -> Read {
        Read {
            records: (from..from + n)
                .map(|i| Record {
                    sequence_number: i.to_string(),
                    partition_key: "k".into(),
                    data: Vec::new(),
                })
                .collect(),
            full,
        }
    }

    fn sequence_numbers(records: &[Record]) -> Vec<usize> {
        records
            .iter()
            .map(|r| r.sequence_number.parse().expect("number"))
            .collect()
    }

    #[tokio::test]
    async fn windows_take_what_was_read_and_wait_only_while_behind() {
        let (tx, mut rx) = mpsc::channel(8);
        // Caught up: a partial batch is sent at once, even below the window size.
        tx.send(read(0, 3, false)).await.expect("send");
        let w = gather(&mut rx, 10).await.expect("window");
        assert_eq!(sequence_numbers(&w), vec![0, 1, 2]);
        // Behind: everything buffered is taken, and the sender waits for more up to the size.
        tx.send(read(3, 4, true)).await.expect("send");
        tx.send(read(7, 4, true)).await.expect("send");
        let waiting = tokio::spawn(async move {
            let w = gather(&mut rx, 10).await;
            (w, rx)
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiting.is_finished(), "8 < 10 records and still behind");
        tx.send(read(11, 4, true)).await.expect("send");
        let (w, mut rx) = waiting.await.expect("task");
        assert_eq!(
            sequence_numbers(&w.expect("window")),
            (3..15).collect::<Vec<_>>()
        );
        // An empty answer after a full one ends the wait: the backlog ended on a batch boundary.
        tx.send(read(15, 4, true)).await.expect("send");
        tx.send(read(19, 0, false)).await.expect("send");
        let w = gather(&mut rx, 10).await.expect("window");
        assert_eq!(sequence_numbers(&w), vec![15, 16, 17, 18]);
        // The reader is gone: what is left is taken, then nothing.
        tx.send(read(19, 2, true)).await.expect("send");
        drop(tx);
        let w = gather(&mut rx, 10).await.expect("window");
        assert_eq!(sequence_numbers(&w), vec![19, 20]);
        assert!(gather(&mut rx, 10).await.is_none());
    }

    #[tokio::test]
    async fn health_readiness_and_metrics() {
        let metrics = Arc::new(Metrics::default());
        let kinesis_ok = Arc::new(AtomicBool::new(false));
        let app = health_app(HealthState {
            metrics: metrics.clone(),
            tracking: TrackingId::literal("t"),
            kinesis_ok: kinesis_ok.clone(),
        });
        assert_eq!(get(&app, "/healthz").await.0, StatusCode::OK);
        let (status, body) = get(&app, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("ListShards"), "{body}");
        kinesis_ok.store(true, Ordering::Relaxed);
        assert_eq!(get(&app, "/readyz").await.0, StatusCode::OK);
        Metrics::add(&metrics.events_sent, 7);
        let (status, body) = get(&app, "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.contains("personalize_ingest_events_sent_total 7"),
            "{body}"
        );
    }
}
