//! The `personalize-local` binary: flags (with environment fallbacks) into a `Config`, logs, then
//! serve until SIGINT/SIGTERM.
//! Depends on the library's public surface only.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use personalize_local::Config;
use personalize_local::wire::faults::FaultConfig;

/// A local Amazon Personalize (control plane, events, runtime) on one port.
#[derive(Parser, Debug)]
#[command(name = "personalize-local", version)]
struct Args {
    /// Address to listen on.
    #[arg(
        long,
        env = "PERSONALIZE_LOCAL_LISTEN",
        default_value = "127.0.0.1:8089"
    )]
    listen: SocketAddr,
    /// Directory for the journal, models and `s3/<bucket>/` import data.
    #[arg(
        long,
        env = "PERSONALIZE_LOCAL_DATA_DIR",
        default_value = ".personalize-local"
    )]
    data_dir: PathBuf,
    /// Keep everything in memory (no data dir, nothing survives a restart).
    #[arg(long)]
    in_memory: bool,
    /// Account id in ARNs.
    #[arg(
        long,
        env = "PERSONALIZE_LOCAL_ACCOUNT",
        default_value = "000000000000"
    )]
    account: String,
    /// Region in ARNs.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    region: String,
    /// Duration of each state transition in milliseconds (0: instant).
    #[arg(long, env = "PERSONALIZE_LOCAL_TRANSITION_MS", default_value_t = 2000)]
    transition_ms: u64,
    /// S3 endpoint to read import data from (else the data dir's s3/<bucket>/ directories).
    #[arg(long, env = "AWS_ENDPOINT_URL_S3")]
    s3_endpoint: Option<String>,
    /// CloudWatch endpoint to publish metric attribution reports to (PutMetricData).
    #[arg(long, env = "AWS_ENDPOINT_URL_CLOUDWATCH")]
    cloudwatch_endpoint: Option<String>,
    /// CloudWatch namespace of metric attribution reports.
    #[arg(long, default_value = personalize_local::config::DEFAULT_CLOUDWATCH_NAMESPACE)]
    cloudwatch_namespace: String,
    /// Seconds between two publications of metric attribution reports to CloudWatch.
    #[arg(long, default_value_t = 60)]
    cloudwatch_interval_secs: u64,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    max_body_bytes: usize,
    /// Do not fdatasync the journal before answering (benchmarks only: loses durability).
    #[arg(long)]
    no_fsync: bool,
    /// Verify SigV4 signatures against --credential pairs.
    #[arg(long)]
    verify_sigv4: bool,
    /// ACCESS_KEY_ID:SECRET accepted by --verify-sigv4 (repeatable).
    #[arg(long = "credential")]
    credentials: Vec<String>,
    /// Allow a non-loopback --listen address without --verify-sigv4 and credentials.
    #[arg(long, env = "PERSONALIZE_LOCAL_ALLOW_UNAUTHENTICATED_REMOTE")]
    allow_unauthenticated_remote: bool,
    /// Fault injection, OP:throttle=0.1,error=0.05,latency_ms=20 (OP may be *; repeatable).
    #[arg(long = "fault")]
    faults: Vec<String>,
    /// Seed for fault injection and training.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Seconds after CreateSolution (performAutoTraining true) until the first automatic version.
    #[arg(long, default_value_t = 3600)]
    auto_training_first_delay_secs: u64,
    /// Append every answered operation (service, operation, status, body) to this JSON-lines file.
    #[arg(long, env = "PERSONALIZE_LOCAL_RECORD")]
    record: Option<PathBuf>,
    /// Log as JSON lines.
    #[arg(long)]
    log_json: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if args.log_json {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    let mut faults = FaultConfig {
        seed: args.seed,
        ..FaultConfig::default()
    };
    for spec in &args.faults {
        faults.add(spec).map_err(anyhow::Error::msg)?;
    }
    let credentials = args
        .credentials
        .iter()
        .map(|c| {
            c.split_once(':')
                .map(|(k, s)| (k.to_string(), s.to_string()))
                .context("--credential must be ACCESS_KEY_ID:SECRET")
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let s3_endpoint = args
        .s3_endpoint
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
        .filter(|s| !s.is_empty());
    // Not AWS_ENDPOINT_URL: clients of this server commonly set it to this server itself.
    let cloudwatch_endpoint = args.cloudwatch_endpoint.filter(|s| !s.is_empty());
    let config = Config {
        listen: args.listen,
        data_dir: (!args.in_memory).then_some(args.data_dir),
        account: args.account,
        region: args.region,
        transition: Duration::from_millis(args.transition_ms),
        s3_endpoint,
        cloudwatch_endpoint,
        cloudwatch_namespace: args.cloudwatch_namespace,
        cloudwatch_interval: Duration::from_secs(args.cloudwatch_interval_secs.max(1)),
        max_body_bytes: args.max_body_bytes,
        fsync: !args.no_fsync,
        verify_sigv4: args.verify_sigv4,
        credentials,
        allow_unauthenticated_remote: args.allow_unauthenticated_remote,
        faults,
        seed: args.seed,
        auto_training_first_delay: Duration::from_secs(args.auto_training_first_delay_secs),
        record: args.record.filter(|p| !p.as_os_str().is_empty()),
    };
    config.check_exposure()?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let state = personalize_local::open(config).context("opening the data directory")?;
    tracing::info!(%addr, "personalize-local listening");
    // The first stdout line tells a parent process (tests, scripts) where to connect.
    println!("listening on http://{addr}");
    personalize_local::serve(state, listener, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
