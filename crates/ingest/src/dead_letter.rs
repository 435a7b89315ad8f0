//! The dead-letter destination: records that cannot become events (malformed, missing fields,
//! too large, rejected by PutEvents as invalid) are written here with the reason, so the stream
//! can go on. Either a JSON-lines file (appended and fsynced) or a second Kinesis stream.

use std::path::PathBuf;
use std::time::Duration;

use aws_sdk_kinesis::primitives::Blob;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use crate::backoff::Backoff;
use crate::record::Reject;

/// One dead-lettered record.
#[derive(Clone, Debug)]
pub struct Entry {
    pub stream: String,
    pub shard_id: String,
    pub sequence_number: String,
    pub partition_key: String,
    pub reject: Reject,
    pub data: Vec<u8>,
}

impl Entry {
    /// The JSON written to the destination: the reason code and message, where the record came
    /// from, and the record itself (as JSON when it parses, else as a lossy UTF-8 string).
    pub fn to_json(&self) -> Value {
        let data = serde_json::from_slice::<Value>(&self.data)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&self.data).into_owned()));
        json!({
            "reason": self.reject.code(),
            "message": self.reject.to_string(),
            "stream": self.stream,
            "shardId": self.shard_id,
            "sequenceNumber": self.sequence_number,
            "partitionKey": self.partition_key,
            "data": data,
        })
    }
}

/// A dead-letter step that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("appending to the dead-letter file {path}")]
    AppendFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where dead letters go.
#[derive(Debug)]
pub enum DeadLetter {
    File {
        path: PathBuf,
        lock: Mutex<()>,
    },
    Stream {
        client: aws_sdk_kinesis::Client,
        stream: String,
    },
}

impl DeadLetter {
    pub fn file(path: impl Into<PathBuf>) -> DeadLetter {
        DeadLetter::File {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    pub fn stream(client: aws_sdk_kinesis::Client, stream: impl Into<String>) -> DeadLetter {
        DeadLetter::Stream {
            client,
            stream: stream.into(),
        }
    }

    /// Writes `entries` durably. A Kinesis destination retries until every entry is accepted
    /// (the checkpoint waits for this, so nothing is lost when the stream is unavailable).
    pub async fn write(&self, entries: &[Entry]) -> Result<(), Error> {
        if entries.is_empty() {
            return Ok(());
        }
        match self {
            DeadLetter::File { path, lock } => {
                let _guard = lock.lock().await;
                let mut buf = Vec::new();
                for e in entries {
                    buf.extend_from_slice(e.to_json().to_string().as_bytes());
                    buf.push(b'\n');
                }
                let append = async {
                    let mut f = tokio::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .await?;
                    f.write_all(&buf).await?;
                    f.sync_data().await
                };
                append.await.map_err(|source| Error::AppendFile {
                    path: path.clone(),
                    source,
                })
            }
            DeadLetter::Stream { client, stream } => {
                let backoff = Backoff::default();
                for (n, e) in entries.iter().enumerate() {
                    let body = e.to_json().to_string();
                    let mut attempt = 0;
                    loop {
                        let sent = client
                            .put_record()
                            .stream_name(stream)
                            .partition_key(&e.partition_key)
                            .data(Blob::new(body.as_bytes()))
                            .send()
                            .await;
                        match sent {
                            Ok(_) => break,
                            Err(err) => {
                                attempt += 1;
                                tracing::warn!(
                                    stream = %stream, error = %aws_sdk_kinesis::error::DisplayErrorContext(&err),
                                    "PutRecord to the dead-letter stream failed; retrying"
                                );
                                tokio::time::sleep(
                                    backoff
                                        .delay(attempt, n as u64)
                                        .max(Duration::from_millis(10)),
                                )
                                .await;
                            }
                        }
                    }
                }
                Ok(())
            }
        }
    }
}
