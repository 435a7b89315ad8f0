//! A minimal in-process Kinesis (AWS JSON 1.1 on 127.0.0.1) with real resharding semantics,
//! for what moto 5.2 cannot do: after SplitShard or MergeShards the parents are closed with an
//! EndingSequenceNumber and keep their records, new records go to the children, and GetRecords
//! at the end of a closed shard answers no NextShardIterator. It serves only what the sidecar
//! calls (ListShards, GetShardIterator, GetRecords); the test puts and reshards through methods.
//! It records the order in which shards were first read and read to their end.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use serde_json::{Value, json};

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

struct Shard {
    id: String,
    parents: Vec<String>,
    start_hash: u128,
    end_hash: u128,
    /// (sequence number, partition key, data)
    records: Vec<(String, String, Vec<u8>)>,
    starting_sequence: String,
    /// Set when the shard is closed by a split or merge.
    ending_sequence: Option<String>,
}

/// What the sidecar did, in order: `("read", shard)` at a shard's first GetRecords,
/// `("end", shard)` when GetRecords answered a closed shard's end.
pub type Log = Vec<(&'static str, String)>;

#[derive(Default)]
pub struct Inner {
    shards: Vec<Shard>,
    next_sequence: u64,
    pub log: Log,
}

impl Inner {
    fn sequence(&mut self) -> String {
        self.next_sequence += 1;
        format!("{:021}", self.next_sequence)
    }

    fn shard(&self, id: &str) -> Option<&Shard> {
        self.shards.iter().find(|s| s.id == id)
    }

    fn add_shard(&mut self, parents: Vec<String>, start_hash: u128, end_hash: u128) -> String {
        let id = format!("shardId-{:012}", self.shards.len());
        let starting_sequence = self.sequence();
        self.shards.push(Shard {
            id: id.clone(),
            parents,
            start_hash,
            end_hash,
            records: Vec::new(),
            starting_sequence,
            ending_sequence: None,
        });
        id
    }

    fn close(&mut self, id: &str) {
        let ending = self.sequence();
        if let Some(s) = self.shards.iter_mut().find(|s| s.id == id) {
            s.ending_sequence = Some(s.records.last().map(|r| r.0.clone()).unwrap_or(ending));
        }
    }
}

/// The fake's handle: its endpoint and state.
#[derive(Clone)]
pub struct FakeKinesis {
    pub url: String,
    pub inner: Arc<Mutex<Inner>>,
}

fn hash_key(partition_key: &str) -> u128 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    partition_key.hash(&mut h);
    let a = h.finish();
    "salt".hash(&mut h);
    (u128::from(a) << 64) | u128::from(h.finish())
}

impl FakeKinesis {
    /// A stream with one shard covering every hash key.
    pub async fn start() -> FakeKinesis {
        let mut inner = Inner::default();
        inner.add_shard(Vec::new(), 0, u128::MAX);
        let inner = Arc::new(Mutex::new(inner));
        let app = axum::Router::new()
            .route("/", axum::routing::post(handle))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeKinesis { url, inner }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().expect("fake kinesis lock")
    }

    /// Puts records into the open shard covering each key's hash; returns the shard ids used.
    pub fn put(&self, records: &[(String, Vec<u8>)]) -> Vec<String> {
        let mut inner = self.lock();
        let mut used = Vec::new();
        for (key, data) in records {
            let h = hash_key(key);
            let seq = inner.sequence();
            let shard = inner
                .shards
                .iter_mut()
                .find(|s| s.ending_sequence.is_none() && s.start_hash <= h && h <= s.end_hash)
                .expect("an open shard covers every hash key");
            shard.records.push((seq, key.clone(), data.clone()));
            if !used.contains(&shard.id) {
                used.push(shard.id.clone());
            }
        }
        used
    }

    /// Splits an open shard in the middle of its hash range; returns the two children.
    pub fn split(&self, shard_id: &str) -> (String, String) {
        let mut inner = self.lock();
        let (start, end) = {
            let s = inner.shard(shard_id).expect("shard to split");
            assert!(s.ending_sequence.is_none(), "{shard_id} is already closed");
            (s.start_hash, s.end_hash)
        };
        let middle = start + (end - start) / 2;
        inner.close(shard_id);
        let a = inner.add_shard(vec![shard_id.to_owned()], start, middle);
        let b = inner.add_shard(vec![shard_id.to_owned()], middle + 1, end);
        (a, b)
    }

    /// Merges two adjacent open shards; returns the child.
    pub fn merge(&self, shard_id: &str, adjacent: &str) -> String {
        let mut inner = self.lock();
        let (a, b) = (
            inner.shard(shard_id).expect("shard to merge"),
            inner.shard(adjacent).expect("adjacent shard"),
        );
        assert!(a.ending_sequence.is_none() && b.ending_sequence.is_none());
        assert_eq!(
            a.end_hash.checked_add(1),
            Some(b.start_hash),
            "not adjacent"
        );
        let (start, end) = (a.start_hash, b.end_hash);
        inner.close(shard_id);
        inner.close(adjacent);
        inner.add_shard(vec![shard_id.to_owned(), adjacent.to_owned()], start, end)
    }

    /// The sidecar's reads so far.
    pub fn log(&self) -> Log {
        self.lock().log.clone()
    }
}

fn error(kind: &str, message: &str) -> axum::response::Response {
    (
        StatusCode::BAD_REQUEST,
        [("content-type", "application/x-amz-json-1.1")],
        json!({"__type": kind, "message": message}).to_string(),
    )
        .into_response()
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim_start_matches("Kinesis_20131202.")
        .to_owned();
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return error("SerializationException", "bad JSON");
    };
    let mut inner = inner.lock().expect("fake kinesis lock");
    let answer = match target.as_str() {
        "ListShards" => {
            let shards: Vec<Value> = inner
                .shards
                .iter()
                .map(|s| {
                    let mut range = json!({"StartingSequenceNumber": s.starting_sequence});
                    if let Some(end) = &s.ending_sequence {
                        range["EndingSequenceNumber"] = json!(end);
                    }
                    let mut shard = json!({
                        "ShardId": s.id,
                        "HashKeyRange": {"StartingHashKey": s.start_hash.to_string(),
                                         "EndingHashKey": s.end_hash.to_string()},
                        "SequenceNumberRange": range,
                    });
                    if let Some(p) = s.parents.first() {
                        shard["ParentShardId"] = json!(p);
                    }
                    if let Some(p) = s.parents.get(1) {
                        shard["AdjacentParentShardId"] = json!(p);
                    }
                    shard
                })
                .collect();
            json!({"Shards": shards})
        }
        "GetShardIterator" => {
            let shard_id = req["ShardId"].as_str().unwrap_or_default();
            let Some(shard) = inner.shard(shard_id) else {
                return error("ResourceNotFoundException", "no such shard");
            };
            let seq = req["StartingSequenceNumber"].as_str().unwrap_or_default();
            let position = match req["ShardIteratorType"].as_str().unwrap_or_default() {
                "TRIM_HORIZON" => 0,
                "LATEST" => shard.records.len(),
                "AFTER_SEQUENCE_NUMBER" => {
                    shard.records.iter().filter(|r| r.0.as_str() <= seq).count()
                }
                "AT_SEQUENCE_NUMBER" => shard.records.iter().filter(|r| r.0.as_str() < seq).count(),
                other => return error("InvalidArgumentException", other),
            };
            json!({"ShardIterator": format!("{shard_id}/{position}")})
        }
        "GetRecords" => {
            let iterator = req["ShardIterator"].as_str().unwrap_or_default();
            let Some((shard_id, position)) = iterator
                .split_once('/')
                .and_then(|(s, p)| Some((s.to_owned(), p.parse::<usize>().ok()?)))
            else {
                return error("InvalidArgumentException", "bad iterator");
            };
            let limit = req["Limit"].as_u64().unwrap_or(10_000) as usize;
            if !inner
                .log
                .iter()
                .any(|(what, s)| *what == "read" && *s == shard_id)
            {
                inner.log.push(("read", shard_id.clone()));
            }
            let Some(shard) = inner.shard(&shard_id) else {
                return error("ResourceNotFoundException", "no such shard");
            };
            let end = (position + limit).min(shard.records.len());
            let records: Vec<Value> = shard.records[position.min(end)..end]
                .iter()
                .map(|(seq, key, data)| {
                    json!({"SequenceNumber": seq, "PartitionKey": key, "Data": base64(data),
                           "ApproximateArrivalTimestamp": 1_700_000_000.0})
                })
                .collect();
            let closed_and_read = shard.ending_sequence.is_some() && end == shard.records.len();
            let mut out = json!({"Records": records, "MillisBehindLatest": 0});
            if closed_and_read {
                inner.log.push(("end", shard_id));
            } else {
                out["NextShardIterator"] = json!(format!("{shard_id}/{end}"));
            }
            out
        }
        other => return error("UnknownOperationException", other),
    };
    (
        StatusCode::OK,
        [("content-type", "application/x-amz-json-1.1")],
        answer.to_string(),
    )
        .into_response()
}

#[test]
fn base64_matches_the_standard_alphabet() {
    assert_eq!(base64(b""), "");
    assert_eq!(base64(b"f"), "Zg==");
    assert_eq!(base64(b"fo"), "Zm8=");
    assert_eq!(base64(b"foo"), "Zm9v");
    assert_eq!(base64(b"foob"), "Zm9vYg==");
    assert_eq!(base64(b"{\"a\":1}"), "eyJhIjoxfQ==");
}
