//! The Kinesis source: ListShards (with paging), GetShardIterator for a start position, and
//! GetRecords. Thin I/O over aws-sdk-kinesis; decisions live in `shards` and `progress`.

use aws_sdk_kinesis::error::{DisplayErrorContext, SdkError};
use aws_sdk_kinesis::operation::get_records::GetRecordsError;
use aws_sdk_kinesis::primitives::DateTime;
use aws_sdk_kinesis::types::ShardIteratorType;

use crate::shards::ShardInfo;

/// Where a shard without a checkpoint starts.
#[derive(Clone, Debug, PartialEq)]
pub enum StartPosition {
    TrimHorizon,
    Latest,
    /// Epoch seconds.
    AtTimestamp(f64),
}

/// A Kinesis step that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("ListShards on stream {stream}: {message}")]
    ListShards { stream: String, message: String },
    #[error("GetShardIterator for {stream}/{shard_id}: {message}")]
    GetShardIterator {
        stream: String,
        shard_id: String,
        message: String,
    },
    #[error("GetRecords on {stream}/{shard_id}: {message}")]
    GetRecords {
        stream: String,
        shard_id: String,
        message: String,
        /// Throttled (ProvisionedThroughputExceeded): back off and retry.
        throttled: bool,
        /// The iterator expired: get a new one from the checkpoint.
        expired: bool,
    },
}

/// One record as the sidecar needs it.
#[derive(Clone, Debug)]
pub struct Record {
    pub sequence_number: String,
    pub partition_key: String,
    pub data: Vec<u8>,
}

/// One GetRecords answer.
#[derive(Debug)]
pub struct Batch {
    pub records: Vec<Record>,
    /// None: the shard is closed and everything was read.
    pub next_iterator: Option<String>,
    pub millis_behind_latest: Option<i64>,
}

/// A stream read through one client.
#[derive(Clone, Debug)]
pub struct Source {
    pub client: aws_sdk_kinesis::Client,
    pub stream: String,
}

impl Source {
    /// Every shard of the stream, open or closed, with its parents.
    pub async fn list_shards(&self) -> Result<Vec<ShardInfo>, Error> {
        let mut shards = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut req = self.client.list_shards();
            req = match &token {
                Some(t) => req.next_token(t),
                None => req.stream_name(&self.stream),
            };
            let out = req.send().await.map_err(|e| Error::ListShards {
                stream: self.stream.clone(),
                message: DisplayErrorContext(&e).to_string(),
            })?;
            for s in out.shards() {
                let parents = [s.parent_shard_id(), s.adjacent_parent_shard_id()]
                    .into_iter()
                    .flatten()
                    .map(str::to_owned)
                    .collect();
                shards.push(ShardInfo {
                    shard_id: s.shard_id().to_owned(),
                    parents,
                });
            }
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_owned()),
                _ => break,
            }
        }
        Ok(shards)
    }

    /// An iterator for `shard_id`: after `after` when given, else at `start`.
    pub async fn iterator(
        &self,
        shard_id: &str,
        after: Option<&str>,
        start: &StartPosition,
    ) -> Result<Option<String>, Error> {
        let mut req = self
            .client
            .get_shard_iterator()
            .stream_name(&self.stream)
            .shard_id(shard_id);
        req = match (after, start) {
            (Some(seq), _) => req
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(seq),
            (None, StartPosition::TrimHorizon) => {
                req.shard_iterator_type(ShardIteratorType::TrimHorizon)
            }
            (None, StartPosition::Latest) => req.shard_iterator_type(ShardIteratorType::Latest),
            (None, StartPosition::AtTimestamp(t)) => req
                .shard_iterator_type(ShardIteratorType::AtTimestamp)
                .timestamp(DateTime::from_secs_f64(*t)),
        };
        let out = req.send().await.map_err(|e| Error::GetShardIterator {
            stream: self.stream.clone(),
            shard_id: shard_id.to_owned(),
            message: DisplayErrorContext(&e).to_string(),
        })?;
        Ok(out.shard_iterator().map(str::to_owned))
    }

    /// Up to `limit` records from `iterator`.
    pub async fn get_records(
        &self,
        shard_id: &str,
        iterator: &str,
        limit: i32,
    ) -> Result<Batch, Error> {
        let out = self
            .client
            .get_records()
            .shard_iterator(iterator)
            .limit(limit)
            .send()
            .await
            .map_err(|e| {
                let (throttled, expired) = match &e {
                    SdkError::ServiceError(se) => match se.err() {
                        GetRecordsError::ProvisionedThroughputExceededException(_)
                        | GetRecordsError::KmsThrottlingException(_) => (true, false),
                        GetRecordsError::ExpiredIteratorException(_) => (false, true),
                        _ => (false, false),
                    },
                    _ => (false, false),
                };
                Error::GetRecords {
                    stream: self.stream.clone(),
                    shard_id: shard_id.to_owned(),
                    message: DisplayErrorContext(&e).to_string(),
                    throttled,
                    expired,
                }
            })?;
        // Owned fields moved out, not copied: a batch can hold 10 MB.
        let records = out
            .records
            .into_iter()
            .map(|r| Record {
                sequence_number: r.sequence_number,
                partition_key: r.partition_key,
                data: r.data.into_inner(),
            })
            .collect();
        Ok(Batch {
            records,
            next_iterator: out.next_shard_iterator,
            millis_behind_latest: out.millis_behind_latest,
        })
    }
}
