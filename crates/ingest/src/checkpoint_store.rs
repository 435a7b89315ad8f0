//! Checkpoint storage. A single replica can use one JSON file per stream and consumer
//! (`{"shards": {"<shardId>": "<checkpoint>"}}`), replaced atomically (write to a temp file,
//! fsync, rename) on every checkpoint; put it on a volume that outlives the pod. Several replicas
//! keep each shard's checkpoint, the same string, in the annotation of that shard's Kubernetes
//! Lease (see `leases`), written only by the lease holder. The string is `SHARD_END`, a plain
//! `<sequenceNumber>` (what older releases wrote), or `<sequenceNumber>+<first>+<hex>`, which
//! also lists the records after the sequence number that are resolved already (a bitmap whose
//! offset 0 is the record `<first>`, see `position`); a restart skips them if the first record
//! it reads is `<first>`. A value that does not parse is an error, never ignored: ignoring it
//! would restart the shard at its initial position.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tokio::sync::Mutex;

use crate::leases::{self, Leases};
use crate::position;
use crate::shards::Checkpoint;

/// A checkpoint step that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading checkpoints from {path}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parsing checkpoints in {path}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("writing checkpoints to {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("checkpoint in the shard lease")]
    Lease(#[source] leases::Error),
    #[error("stored checkpoint {value:?} of shard {shard_id} (in {place})")]
    Malformed {
        /// The checkpoint file, or the shard's lease.
        place: String,
        shard_id: String,
        value: String,
        source: position::ParseError,
    },
}

/// Reads the stored form of one shard's checkpoint.
fn parse(place: &str, shard_id: String, value: String) -> Result<(String, Checkpoint), Error> {
    match Checkpoint::parse(&value) {
        Ok(cp) => Ok((shard_id, cp)),
        Err(source) => Err(Error::Malformed {
            place: place.to_owned(),
            shard_id,
            value,
            source,
        }),
    }
}

/// Where checkpoints live.
#[derive(Debug)]
pub enum CheckpointStore {
    File(FileStore),
    Leases(Box<Leases>),
}

impl CheckpointStore {
    /// Every stored checkpoint, and how many replicas share the stream (1 for a file).
    pub async fn survey(&self) -> Result<(BTreeMap<String, Checkpoint>, usize), Error> {
        match self {
            CheckpointStore::File(f) => Ok((f.all().await, 1)),
            CheckpointStore::Leases(l) => {
                l.heartbeat().await.map_err(Error::Lease)?;
                let (stored, replicas) = l.survey().await.map_err(Error::Lease)?;
                let checkpoints = stored
                    .into_iter()
                    .map(|(shard_id, value)| {
                        parse(
                            &format!("lease {}", l.lease_name(&shard_id)),
                            shard_id,
                            value,
                        )
                    })
                    .collect::<Result<_, _>>()?;
                Ok((checkpoints, replicas))
            }
        }
    }

    /// Stores `checkpoint` durably (renewing the lease in the same write).
    pub async fn store(&self, shard_id: &str, checkpoint: Checkpoint) -> Result<(), Error> {
        match self {
            CheckpointStore::File(f) => f.store(shard_id, checkpoint).await,
            CheckpointStore::Leases(l) => l
                .renew(shard_id, Some(&checkpoint))
                .await
                .map_err(Error::Lease),
        }
    }

    /// Claims `shard_id` for this replica (always true for a file).
    pub async fn acquire(&self, shard_id: &str) -> Result<bool, Error> {
        match self {
            CheckpointStore::File(_) => Ok(true),
            CheckpointStore::Leases(l) => l.acquire(shard_id).await.map_err(Error::Lease),
        }
    }

    /// Keeps the claim on `shard_id` alive while idle; Err when it was lost.
    pub async fn renew(&self, shard_id: &str) -> Result<(), Error> {
        match self {
            CheckpointStore::File(_) => Ok(()),
            CheckpointStore::Leases(l) => l.renew(shard_id, None).await.map_err(Error::Lease),
        }
    }

    /// How often a claim must be renewed (None: never).
    pub fn renew_every(&self) -> Option<std::time::Duration> {
        match self {
            CheckpointStore::File(_) => None,
            CheckpointStore::Leases(l) => Some(std::time::Duration::from_secs(
                (l.duration_secs.max(3) / 3) as u64,
            )),
        }
    }

    /// Leaves the group of replicas (on shutdown).
    pub async fn leave(&self) {
        if let CheckpointStore::Leases(l) = self {
            l.leave().await;
        }
    }

    /// Gives up the claim on `shard_id`.
    pub async fn release(&self, shard_id: &str) {
        if let CheckpointStore::Leases(l) = self {
            l.release(shard_id).await;
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct File {
    shards: BTreeMap<String, String>,
}

/// The file-backed checkpoint store.
#[derive(Debug)]
pub struct FileStore {
    path: PathBuf,
    state: Mutex<BTreeMap<String, Checkpoint>>,
}

impl FileStore {
    /// Opens (or starts) the store at `path`.
    pub async fn open(path: impl Into<PathBuf>) -> Result<FileStore, Error> {
        let path = path.into();
        let state = match tokio::fs::read(&path).await {
            Ok(bytes) => {
                let file: File = serde_json::from_slice(&bytes).map_err(|source| Error::Parse {
                    path: path.clone(),
                    source,
                })?;
                let place = path.display().to_string();
                file.shards
                    .into_iter()
                    .map(|(shard_id, value)| parse(&place, shard_id, value))
                    .collect::<Result<_, _>>()?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(source) => return Err(Error::Read { path, source }),
        };
        Ok(FileStore {
            path,
            state: Mutex::new(state),
        })
    }

    /// Every stored checkpoint.
    pub async fn all(&self) -> BTreeMap<String, Checkpoint> {
        self.state.lock().await.clone()
    }

    /// Stores `checkpoint` for `shard_id` durably before returning.
    pub async fn store(&self, shard_id: &str, checkpoint: Checkpoint) -> Result<(), Error> {
        let mut state = self.state.lock().await;
        state.insert(shard_id.to_owned(), checkpoint);
        let file = File {
            shards: state
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(|source| Error::Parse {
            path: self.path.clone(),
            source,
        })?;
        write_atomically(&self.path, &bytes)
            .await
            .map_err(|source| Error::Write {
                path: self.path.clone(),
                source,
            })
    }
}

async fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let tmp = path.with_extension("tmp");
    let mut f = tokio::fs::File::create(&tmp).await?;
    f.write_all(bytes).await?;
    f.sync_data().await?;
    drop(f);
    tokio::fs::rename(&tmp, path).await?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Make the rename itself durable.
        tokio::fs::File::open(dir).await?.sync_all().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::position::{Bitmap, Position};

    /// A fresh directory, removed when the returned guard drops.
    fn temp_dir(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("ingest-cp-{name}-"))
            .tempdir()
            .expect("temp dir")
    }

    #[tokio::test]
    async fn survives_reopen() {
        let dir = temp_dir("reopen");
        let path = dir.path().join("cp.json");
        let store = FileStore::open(&path).await.expect("open");
        let with_bitmap = Position::new("40", "41", Bitmap::from_offsets([1, 3, 9]));
        store
            .store("a", Checkpoint::At(Position::at("12")))
            .await
            .expect("store");
        store.store("b", Checkpoint::End).await.expect("store");
        store
            .store("c", Checkpoint::At(with_bitmap.clone()))
            .await
            .expect("store");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains(r#""a": "12""#), "{text}");
        assert!(text.contains(r#""c": "40+41+0a02""#), "{text}");
        let again = FileStore::open(&path).await.expect("reopen");
        let all = again.all().await;
        assert_eq!(all.get("a"), Some(&Checkpoint::At(Position::at("12"))));
        assert_eq!(all.get("b"), Some(&Checkpoint::End));
        assert_eq!(all.get("c"), Some(&Checkpoint::At(with_bitmap)));
    }

    #[tokio::test]
    async fn a_malformed_checkpoint_is_an_error() {
        let dir = temp_dir("malformed");
        let path = dir.path().join("cp.json");
        std::fs::write(&path, r#"{"shards": {"shardId-000000000000": "12+0z"}}"#).expect("write");
        let err = FileStore::open(&path).await.expect_err("refused");
        let message = format!("{err}: {}", std::error::Error::source(&err).expect("cause"));
        assert!(message.contains("shardId-000000000000"), "{message}");
        assert!(message.contains("12+0z"), "{message}");
        assert!(message.contains("'z'"), "{message}");
    }
}
