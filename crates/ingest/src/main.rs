//! The `personalize-ingest` binary: `run` (the Kinesis -> PutEvents sidecar) and `gateway` (the
//! seed's HTTP API). Flags fall back to environment variables; AWS settings come from the usual
//! AWS environment. Only wiring lives here.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand, ValueEnum};
use personalize_ingest::backoff::Backoff;
use personalize_ingest::checkpoint_store::{CheckpointStore, FileStore};
use personalize_ingest::dead_letter::DeadLetter;
use personalize_ingest::gateway::{self, GatewayState};
use personalize_ingest::kinesis::{Source, StartPosition};
use personalize_ingest::leases::{Leases, default_prefix};
use personalize_ingest::metrics::Metrics;
use personalize_ingest::record::parse_sent_at;
use personalize_ingest::sidecar::{self, HealthState, Settings, Sidecar};
use personalize_ingest::sink::{RateLimiter, Sink};
use personalize_ingest::tracking::TrackingId;

#[derive(Parser)]
#[command(name = "personalize-ingest", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
#[allow(clippy::enum_variant_names)]
enum Start {
    #[value(name = "TRIM_HORIZON")]
    TrimHorizon,
    #[value(name = "LATEST")]
    Latest,
    #[value(name = "AT_TIMESTAMP")]
    AtTimestamp,
}

// Parsed once at start-up; the size difference between subcommands does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Consume a Kinesis stream and send its events with PutEvents.
    Run {
        /// The Kinesis stream to consume.
        #[arg(long, env = "INGEST_STREAM")]
        stream: String,
        /// EventTracker custom resource `namespace/name` whose status.trackingId to use.
        #[arg(
            long,
            env = "INGEST_EVENT_TRACKER",
            conflicts_with = "tracking_id",
            required_unless_present = "tracking_id"
        )]
        event_tracker: Option<String>,
        /// A literal tracking id (instead of --event-tracker).
        #[arg(long, env = "INGEST_TRACKING_ID")]
        tracking_id: Option<String>,
        /// Where shards without a checkpoint start.
        #[arg(
            long,
            env = "INGEST_START_POSITION",
            value_enum,
            default_value = "TRIM_HORIZON"
        )]
        start_position: Start,
        /// With AT_TIMESTAMP: epoch seconds or an ISO-8601 date-time.
        #[arg(long, env = "INGEST_START_TIMESTAMP")]
        start_timestamp: Option<String>,
        /// The checkpoint file of a single replica (keep it on a volume that outlives the pod).
        #[arg(
            long,
            env = "INGEST_CHECKPOINT_FILE",
            conflicts_with = "lease_namespace",
            required_unless_present = "lease_namespace"
        )]
        checkpoint_file: Option<PathBuf>,
        /// Share shards between replicas through Kubernetes Leases in this namespace (checkpoints
        /// then live in the leases' annotations).
        #[arg(long, env = "INGEST_LEASE_NAMESPACE")]
        lease_namespace: Option<String>,
        /// Lease name prefix (default: derived from the stream name).
        #[arg(long, env = "INGEST_LEASE_PREFIX")]
        lease_prefix: Option<String>,
        /// This replica's identity in the leases (default: $POD_NAME, else hostname and pid).
        #[arg(long, env = "POD_NAME")]
        holder: Option<String>,
        /// Seconds a lease stays valid without renewal.
        #[arg(long, env = "INGEST_LEASE_DURATION_SECS", default_value_t = 15)]
        lease_duration_secs: i32,
        /// Dead-letter JSON-lines file.
        #[arg(
            long,
            env = "INGEST_DEAD_LETTER_FILE",
            conflicts_with = "dead_letter_stream",
            required_unless_present = "dead_letter_stream"
        )]
        dead_letter_file: Option<PathBuf>,
        /// Dead-letter Kinesis stream (instead of a file).
        #[arg(long, env = "INGEST_DEAD_LETTER_STREAM")]
        dead_letter_stream: Option<String>,
        /// PutEvents calls per second for the tracker (Personalize's quota is 1000).
        #[arg(long, env = "INGEST_RATE_LIMIT", default_value_t = 1000.0)]
        rate_limit: f64,
        /// GetRecords Limit.
        #[arg(long, env = "INGEST_BATCH_LIMIT", default_value_t = 1000)]
        batch_limit: i32,
        /// Milliseconds to wait after an empty GetRecords.
        #[arg(long, env = "INGEST_IDLE_POLL_MS", default_value_t = 200)]
        idle_poll_ms: u64,
        /// Least milliseconds between two GetRecords on one shard (Kinesis allows 5/s per shard).
        #[arg(
            long,
            env = "INGEST_MIN_GET_RECORDS_INTERVAL_MS",
            default_value_t = 200
        )]
        min_get_records_interval_ms: u64,
        /// Milliseconds between checkpoints of each shard's progress (shorter: fewer replays after
        /// a crash, more checkpoint writes).
        #[arg(long, env = "INGEST_CHECKPOINT_INTERVAL_MS", default_value_t = 250)]
        checkpoint_interval_ms: u64,
        /// Milliseconds between ListShards (to follow resharding).
        #[arg(long, env = "INGEST_SHARD_SYNC_MS", default_value_t = 5000)]
        shard_sync_ms: u64,
        /// PutEvents calls sent concurrently per shard.
        #[arg(long, env = "INGEST_MAX_IN_FLIGHT", default_value_t = 32)]
        max_in_flight: usize,
        /// GetRecords batches read ahead of PutEvents per shard.
        #[arg(long, env = "INGEST_READ_AHEAD", default_value_t = 4)]
        read_ahead: usize,
        /// While a shard is behind, records gathered before sending, so each user's events
        /// fill PutEvents calls (up to 10 events each).
        #[arg(long, env = "INGEST_WINDOW_RECORDS", default_value_t = 2000)]
        window_records: usize,
        /// /healthz, /readyz and /metrics.
        #[arg(long, env = "INGEST_LISTEN", default_value = "0.0.0.0:8081")]
        listen: SocketAddr,
    },
    /// Serve the seed's HTTP API: POST /data and GET /getRecommendations.
    Gateway {
        #[arg(long, env = "INGEST_LISTEN", default_value = "0.0.0.0:8080")]
        listen: SocketAddr,
        /// Stream for requests without `stream-name`.
        #[arg(long, env = "INGEST_STREAM")]
        stream: Option<String>,
        /// Namespace of Campaign resources named with `campaign=`.
        #[arg(long, env = "INGEST_NAMESPACE", default_value = "default")]
        namespace: String,
        /// Do not connect to Kubernetes (`campaign=` then answers 503).
        #[arg(long, env = "INGEST_NO_KUBE")]
        no_kube: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,aws_config=warn".into()),
        )
        .init();
    match Cli::parse().command {
        Command::Run {
            stream,
            event_tracker,
            tracking_id,
            start_position,
            start_timestamp,
            checkpoint_file,
            lease_namespace,
            lease_prefix,
            holder,
            lease_duration_secs,
            dead_letter_file,
            dead_letter_stream,
            rate_limit,
            batch_limit,
            idle_poll_ms,
            min_get_records_interval_ms,
            checkpoint_interval_ms,
            shard_sync_ms,
            max_in_flight,
            read_ahead,
            window_records,
            listen,
        } => {
            let start = match start_position {
                Start::TrimHorizon => StartPosition::TrimHorizon,
                Start::Latest => StartPosition::Latest,
                Start::AtTimestamp => {
                    let t = start_timestamp.context("AT_TIMESTAMP needs --start-timestamp")?;
                    let secs = parse_sent_at(&serde_json::Value::String(t))
                        .map_err(|e| anyhow::anyhow!("--start-timestamp: {e}"))?;
                    StartPosition::AtTimestamp(secs)
                }
            };
            let config = personalize_ingest::aws_config().await;
            let kinesis = aws_sdk_kinesis::Client::new(&config);
            let checkpoints = match (checkpoint_file, lease_namespace) {
                (_, Some(ns)) => {
                    let client = kube::Client::try_default()
                        .await
                        .context("connecting to Kubernetes for --lease-namespace")?;
                    let holder = holder.unwrap_or_else(|| {
                        let host = std::fs::read_to_string("/etc/hostname")
                            .map(|h| h.trim().to_owned())
                            .unwrap_or_else(|_| "ingest".into());
                        format!("{host}-{}", std::process::id())
                    });
                    let prefix = lease_prefix.unwrap_or_else(|| default_prefix(&stream));
                    CheckpointStore::Leases(Box::new(Leases::new(
                        client,
                        &ns,
                        &prefix,
                        &holder,
                        lease_duration_secs,
                    )))
                }
                (Some(path), None) => CheckpointStore::File(
                    FileStore::open(&path)
                        .await
                        .context("opening the checkpoint file")?,
                ),
                (None, None) => anyhow::bail!("give --checkpoint-file or --lease-namespace"),
            };
            let tracking = match (event_tracker, tracking_id) {
                (Some(tracker), _) => {
                    let (ns, name) = tracker
                        .split_once('/')
                        .context("--event-tracker must be namespace/name")?;
                    let client = kube::Client::try_default()
                        .await
                        .context("connecting to Kubernetes for --event-tracker")?;
                    TrackingId::watch(client, ns, name)
                }
                (None, Some(id)) => TrackingId::literal(id),
                (None, None) => anyhow::bail!("give --event-tracker or --tracking-id"),
            };
            let dead_letter = match (dead_letter_file, dead_letter_stream) {
                (Some(path), _) => DeadLetter::file(path),
                (None, Some(s)) => DeadLetter::stream(kinesis.clone(), s),
                (None, None) => anyhow::bail!("give --dead-letter-file or --dead-letter-stream"),
            };
            let metrics = Arc::new(Metrics::default());
            let kinesis_ok = Arc::new(AtomicBool::new(false));
            let sidecar = Arc::new(Sidecar {
                settings: Settings {
                    start,
                    batch_limit,
                    idle_poll: Duration::from_millis(idle_poll_ms),
                    min_get_records_interval: Duration::from_millis(min_get_records_interval_ms),
                    checkpoint_interval: Duration::from_millis(checkpoint_interval_ms),
                    shard_sync: Duration::from_millis(shard_sync_ms),
                    max_in_flight,
                    read_ahead,
                    window_records,
                    ..Settings::new(&stream)
                },
                source: Source {
                    client: kinesis,
                    stream,
                },
                sink: Sink {
                    client: personalize_ingest::events_client(&config),
                    limiter: RateLimiter::per_second(rate_limit),
                    backoff: Backoff::default(),
                    metrics: metrics.clone(),
                },
                tracking: tracking.clone(),
                checkpoints,
                dead_letter,
                metrics: metrics.clone(),
                kinesis_ok: kinesis_ok.clone(),
            });
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            tracing::info!(addr = %listener.local_addr()?, "health and metrics listening");
            let health = sidecar::health_app(HealthState {
                metrics,
                tracking,
                kinesis_ok,
            });
            tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, health).await {
                    tracing::error!(error = %e, "health server failed");
                }
            });
            let (stop, stopped) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                shutdown_signal().await;
                let _ = stop.send(true);
            });
            sidecar.run(stopped).await;
            tracing::info!("stopped");
            Ok(())
        }
        Command::Gateway {
            listen,
            stream,
            namespace,
            no_kube,
        } => {
            let config = personalize_ingest::aws_config().await;
            let kube = if no_kube {
                None
            } else {
                match kube::Client::try_default().await {
                    Ok(c) => Some(c),
                    Err(e) => {
                        tracing::warn!(error = %e, "no Kubernetes client; campaign=<name> is disabled");
                        None
                    }
                }
            };
            let app = gateway::app(GatewayState {
                kinesis: aws_sdk_kinesis::Client::new(&config),
                runtime: aws_sdk_personalizeruntime::Client::new(&config),
                kube,
                namespace,
                default_stream: stream,
                arms: Default::default(),
            });
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            tracing::info!(addr = %listener.local_addr()?, "gateway listening");
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown_signal())
                .await
                .context("serving")?;
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
