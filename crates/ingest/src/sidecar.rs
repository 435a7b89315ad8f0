//! The sidecar (`personalize-ingest run`): discovers shards, consumes each ready shard (parents
//! before children) with GetRecords, decodes and batches records, sends them with PutEvents,
//! dead-letters what cannot be sent, and checkpoints a shard only after everything up to the
//! checkpoint is resolved. Also serves `/healthz`, `/readyz` and `/metrics`.
//!
//! Delivery is at least once: after a crash, records after the last checkpoint are read again
//! and re-sent with the same deterministic event ids.

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
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::backoff::Backoff;
use crate::batch;
use crate::checkpoint_store::{self, CheckpointStore};
use crate::dead_letter::{self, DeadLetter, Entry};
use crate::kinesis::{self, Batch, Record, Source, StartPosition};
use crate::metrics::Metrics;
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
    /// Sessions sent concurrently per batch.
    pub max_in_flight: usize,
    /// How long shutdown waits for in-flight batches before giving up on them.
    pub shutdown_grace: Duration,
    /// How often the resolved prefix of a batch is checkpointed while it is being sent.
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

    async fn consume(
        &self,
        shard: &ShardInfo,
        start: StartAt,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<ShardOutcome, Error> {
        let shard_id = shard.shard_id.as_str();
        // The last sequence number read (not necessarily processed): where to resume reading
        // when an iterator expires.
        let mut read_after: Option<String> = match &start {
            StartAt::After(seq) => Some(seq.clone()),
            _ => None,
        };
        let initial = match start {
            StartAt::Initial => self.settings.start.clone(),
            _ => StartPosition::TrimHorizon,
        };
        let mut batch = self
            .fetch(shard_id, None, read_after.as_deref(), &initial)
            .await?;
        let mut renewed = tokio::time::Instant::now();
        let mut fetched_at = tokio::time::Instant::now();
        loop {
            if *shutdown.borrow() {
                return Ok(ShardOutcome::Stopped);
            }
            if let Some(every) = self.checkpoints.renew_every()
                && renewed.elapsed() >= every
            {
                if let Err(e) = self.checkpoints.renew(shard_id).await {
                    tracing::warn!(shard = %shard_id, error = %e, "lost the shard; stopping");
                    return Ok(ShardOutcome::Stopped);
                }
                renewed = tokio::time::Instant::now();
            }
            if let Some(lag) = batch.millis_behind_latest {
                self.metrics.set_lag(shard_id, lag);
            }
            if let Some(last) = batch.records.last() {
                read_after = Some(last.sequence_number.clone());
            }
            let records = std::mem::take(&mut batch.records);
            let next_iterator = batch.next_iterator.take();
            let idle = records.is_empty();
            // Process this batch while the next one is fetched.
            let prefetch = async {
                let iterator = next_iterator.as_deref()?;
                if *shutdown.borrow() {
                    return None;
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
                        _ = shutdown.changed() => return None,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
                fetched_at = tokio::time::Instant::now();
                Some(
                    self.fetch(shard_id, Some(iterator), read_after.as_deref(), &initial)
                        .await,
                )
            };
            let (processed, next) = tokio::join!(self.process(shard_id, &records), prefetch);
            processed?;
            if next_iterator.is_none() {
                self.checkpoints
                    .store(shard_id, Checkpoint::End)
                    .await
                    .map_err(|source| Error::Checkpoint {
                        shard_id: shard_id.to_owned(),
                        source,
                    })?;
                return Ok(ShardOutcome::Ended);
            }
            match next {
                Some(next) => batch = next?,
                None => return Ok(ShardOutcome::Stopped),
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

    async fn store_checkpoint(&self, shard_id: &str, seq: String) -> Result<(), Error> {
        self.checkpoints
            .store(shard_id, Checkpoint::At(seq))
            .await
            .map_err(|source| Error::Checkpoint {
                shard_id: shard_id.to_owned(),
                source,
            })?;
        Metrics::add(&self.metrics.checkpoints, 1);
        Ok(())
    }

    /// Sends every record of a batch (or dead-letters it), checkpointing as it goes.
    async fn process(&self, shard_id: &str, records: &[Record]) -> Result<(), Error> {
        if records.is_empty() {
            return Ok(());
        }
        let mut progress = Progress::default();
        let mut tickets: Vec<Ticket> = Vec::with_capacity(records.len());
        let mut dead: Vec<(usize, record::Reject)> = Vec::new();
        let mut tagged = Vec::new();
        Metrics::add(&self.metrics.records_in, records.len() as u64);
        for (i, r) in records.iter().enumerate() {
            let origin = Origin {
                shard_id,
                sequence_number: &r.sequence_number,
            };
            match record::decode(&r.data, origin) {
                Ok(events) => {
                    Metrics::add(&self.metrics.events_in, events.len() as u64);
                    tickets.push(progress.register(&r.sequence_number, events.len()));
                    tagged.extend(events.into_iter().map(|e| (i, e)));
                }
                Err(reject) => {
                    tickets.push(progress.register(&r.sequence_number, 1));
                    dead.push((i, reject));
                }
            }
        }
        let progress = Mutex::new(progress);
        let lock = || progress.lock().unwrap_or_else(|e| e.into_inner());
        let plan = batch::plan(tagged);
        let (tickets, lock) = (&tickets, &lock);
        let send = |call: batch::Call<usize>| async move {
            let refused = self.sink.send(&self.tracking, &call).await;
            let mut p = lock();
            for (tag, _) in &call.events {
                if !refused.iter().any(|(t, _)| t == tag) {
                    p.complete(tickets[*tag]);
                }
            }
            refused
        };
        let max_in_flight = self.settings.max_in_flight.max(1);
        let mut sends = Box::pin(futures::stream::iter(batch::rounds(plan)).then(
            |round| async move {
                futures::stream::iter(round)
                    .map(send)
                    .buffer_unordered(max_in_flight)
                    .concat()
                    .await
            },
        ));
        // Checkpoint the resolved prefix while the batch is still being sent, so a crash
        // replays at most about one checkpoint interval of work.
        let mut tick = tokio::time::interval(
            self.settings
                .checkpoint_interval
                .max(Duration::from_millis(10)),
        );
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        let mut rejected = Vec::new();
        loop {
            tokio::select! {
                next = sends.next() => match next {
                    Some(r) => rejected.push(r),
                    None => break,
                },
                _ = tick.tick() => {
                    let checkpoint = lock().take_checkpoint();
                    if let Some(seq) = checkpoint {
                        self.store_checkpoint(shard_id, seq).await?;
                    }
                }
            }
        }
        drop(sends);
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
            let mut p = lock();
            for (i, reject) in &dead {
                tracing::warn!(shard = %shard_id, sequence_number = %records[*i].sequence_number, reason = reject.code(), error = %reject, "record dead-lettered");
                self.metrics.dead_lettered(reject.code());
                p.complete(tickets[*i]);
            }
        }
        let checkpoint = lock().take_checkpoint();
        if let Some(seq) = checkpoint {
            self.store_checkpoint(shard_id, seq).await?;
        }
        Ok(())
    }
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
        [("content-type", "text/plain; version=0.0.4")],
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
