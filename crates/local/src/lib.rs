//! personalize-local: an Amazon Personalize-compatible server (control plane over AWS JSON 1.1,
//! events and runtime over REST JSON) on one loopback port, with durable storage, built on
//! `personalize-engine` (reached only through `training.rs` and `serving.rs`).
//!
//! [`app`] builds the axum router from an [`AppState`] (testable without a socket); [`serve`] binds
//! and runs it. The AWS SDKs are dev-dependencies only: they are the conformance oracle.

pub mod campaign;
pub mod data;
pub mod dataset;
pub mod dataset_group;
pub mod error;
pub mod event_tracker;
pub mod events;
pub mod faults;
pub mod filter;
pub mod import;
pub mod lifecycle;
pub mod metrics;
pub mod names;
pub mod paging;
pub mod protocol;
pub mod recipe;
pub mod runtime;
pub mod s3;
pub mod schema;
pub mod serving;
pub mod sigv4;
pub mod solution;
pub mod store;
pub mod tags;
pub mod training;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::names::Arns;
use crate::store::{Journal, Store};

/// Server configuration (the binary fills it from flags and environment).
#[derive(Clone, Debug)]
pub struct Config {
    /// Address to listen on (loopback by default).
    pub listen: SocketAddr,
    /// Where the journal, models and bucket directories live; None keeps everything in memory.
    pub data_dir: Option<PathBuf>,
    /// Account id in ARNs.
    pub account: String,
    /// Region in ARNs.
    pub region: String,
    /// Time each state-machine step takes (zero: instant, for tests).
    pub transition: Duration,
    /// S3 endpoint for import data locations (else `<data-dir>/s3/<bucket>/<key>`).
    pub s3_endpoint: Option<String>,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// fdatasync the journal before acknowledging (off only for benchmarks).
    pub fsync: bool,
    /// Verify SigV4 signatures against `credentials`.
    pub verify_sigv4: bool,
    /// Known access key id / secret pairs for SigV4 verification.
    pub credentials: Vec<(String, String)>,
    /// Fault injection.
    pub faults: faults::FaultConfig,
    /// Seed for training and anything random.
    pub seed: u64,
    /// When auto-training starts a solution's first version (AWS: within an hour).
    pub auto_training_first_delay: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8089)),
            data_dir: None,
            account: "000000000000".into(),
            region: "us-east-1".into(),
            transition: Duration::from_secs(2),
            s3_endpoint: None,
            max_body_bytes: 1 << 20,
            fsync: true,
            verify_sigv4: false,
            credentials: Vec::new(),
            faults: faults::FaultConfig::default(),
            seed: 42,
            auto_training_first_delay: Duration::from_secs(3600),
        }
    }
}

impl Config {
    /// A configuration for tests: instant transitions, the given data dir, port 0.
    pub fn for_tests(data_dir: Option<PathBuf>) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            transition: Duration::ZERO,
            ..Config::default()
        }
    }
}

/// Everything the handlers share.
pub struct Shared {
    pub config: Config,
    pub arns: Arns,
    store: Mutex<Store>,
    pub journal: Option<Arc<Journal>>,
    pub serving: serving::Cache,
    pub metrics: metrics::Metrics,
    pub faults: faults::Faults,
}

/// The state handed to the router and every handler.
pub type AppState = Arc<Shared>;

impl Shared {
    /// Locks the store (a poisoned lock is still usable: every change is applied whole).
    pub fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Errors opening the state.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("reading the journal in {dir}: {source}")]
    ReadJournal {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("starting the journal in {dir}: {source}")]
    StartJournal {
        dir: PathBuf,
        source: std::io::Error,
    },
}

/// Opens the state: replays and compacts the journal in `config.data_dir`. Call [`resume`]
/// inside a tokio runtime afterwards to restart interrupted work.
pub fn open(config: Config) -> Result<AppState, OpenError> {
    let mut store = Store::new(None);
    let journal = match &config.data_dir {
        None => None,
        Some(dir) => {
            Journal::replay(dir, &mut store).map_err(|source| OpenError::ReadJournal {
                dir: dir.clone(),
                source,
            })?;
            let journal = Journal::start(dir, config.fsync, &store).map_err(|source| {
                OpenError::StartJournal {
                    dir: dir.clone(),
                    source,
                }
            })?;
            Some(journal)
        }
    };
    store.set_journal(journal.clone());
    Ok(Arc::new(Shared {
        arns: Arns {
            account: config.account.clone(),
            region: config.region.clone(),
        },
        faults: faults::Faults::new(&config.faults),
        config,
        store: Mutex::new(store),
        journal,
        serving: serving::Cache::default(),
        metrics: metrics::Metrics::default(),
    }))
}

/// Restarts the drivers of work interrupted by a restart (imports, training, transitions).
/// Also starts the auto-training scheduler.
pub fn resume(state: &AppState) {
    lifecycle::resume(state);
    tokio::spawn(solution::auto_train(
        Arc::downgrade(state),
        state.config.auto_training_first_delay,
    ));
}

/// The router for all three services plus `/health` and `/metrics`.
pub fn app(state: AppState) -> axum::Router {
    protocol::router(state)
}

/// Binds `config.listen`, runs until `shutdown` resolves. Returns the bound address through
/// `bound` as soon as it is known.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    resume(&state);
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

/// A server running in the background on `config.listen` (port 0 picks one), for tests.
pub struct Running {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Starts a server inside the current tokio runtime.
    pub async fn start(config: Config) -> anyhow::Result<Running> {
        let listener = tokio::net::TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let state = open(config)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(serve(state.clone(), listener, async move {
            let _ = stopped.await;
        }));
        Ok(Running {
            addr,
            state,
            stop: Some(stop),
            task,
        })
    }

    /// `http://<addr>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server gracefully.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await??;
        Ok(())
    }
}
