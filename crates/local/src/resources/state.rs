//! The state every operation shares: configuration, the store behind its lock, the journal, the
//! serving cache, metrics and fault injection; and [`open`], which replays the journal into it.
//! Depends on the store and the wire layer (and the serving cache); never on the router.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::Config;
use crate::resources::serving;
use crate::store::lock::{DataDirLock, LockError};
use crate::store::{Journal, Store};
use crate::wire::names::Arns;
use crate::wire::{faults, metrics, record};

/// Everything the handlers share.
pub struct Shared {
    pub config: Config,
    pub arns: Arns,
    store: Mutex<Store>,
    pub journal: Option<Arc<Journal>>,
    pub serving: serving::Cache,
    pub metrics: metrics::Metrics,
    pub faults: faults::Faults,
    /// Where answered operations are recorded, if anywhere.
    pub recorder: Option<record::Recorder>,
    /// The data dir's writer lock, held while the state lives.
    _lock: Option<DataDirLock>,
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
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("reading the journal in {dir}: {source}")]
    ReadJournal {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("opening the record file {path}: {source}")]
    OpenRecord {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("starting the journal in {dir}: {source}")]
    StartJournal {
        dir: PathBuf,
        source: std::io::Error,
    },
}

/// Opens the state: locks `config.data_dir` (one writer per data dir; a second server fails at
/// once naming the holder), replays and compacts the journal there. Call [`resume`]
/// inside a tokio runtime afterwards to restart interrupted work.
pub fn open(config: Config) -> Result<AppState, OpenError> {
    let lock = config
        .data_dir
        .as_deref()
        .map(DataDirLock::acquire)
        .transpose()?;
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
    let recorder = config
        .record
        .as_deref()
        .map(|path| {
            record::Recorder::open(path).map_err(|source| OpenError::OpenRecord {
                path: path.to_path_buf(),
                source,
            })
        })
        .transpose()?;
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
        recorder,
        _lock: lock,
    }))
}
