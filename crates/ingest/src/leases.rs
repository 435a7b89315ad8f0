//! Shard ownership across replicas through Kubernetes Leases (coordination.k8s.io/v1): one Lease
//! per shard, `<prefix>-<shard id>`, labelled with the consumer prefix. A replica consumes a shard
//! only while it holds that lease, renews it with every checkpoint (and while idle), and releases
//! it when the shard ends or the replica stops; a lease not renewed within its duration is taken
//! over. The shard's checkpoint lives in the lease's annotation, written only by the holder
//! (optimistic concurrency on resourceVersion), so a replica that lost its lease cannot move it.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{ListParams, PostParams};

use crate::shards::Checkpoint;

/// Label carrying the consumer prefix on every lease.
pub const CONSUMER_LABEL: &str = "personalize-ingest.dev/consumer";
/// Annotation carrying the shard's checkpoint (`<sequence number>` or `SHARD_END`).
pub const CHECKPOINT_ANNOTATION: &str = "personalize-ingest.dev/checkpoint";
const SHARD_END: &str = "SHARD_END";
/// Name part of the lease each replica holds to announce itself.
const MEMBER: &str = "member-";

/// What to do about a shard's lease. Pure decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Free or expired: take it.
    Take,
    /// Ours: renew it.
    Renew,
    /// Held by another live replica.
    Busy,
}

/// Decides from the lease spec, our identity and the time (epoch milliseconds).
pub fn decide(spec: Option<&LeaseSpec>, me: &str, now_ms: i64) -> Decision {
    let Some(spec) = spec else {
        return Decision::Take;
    };
    match spec.holder_identity.as_deref() {
        None | Some("") => Decision::Take,
        Some(holder) if holder == me => Decision::Renew,
        Some(_) => {
            let renewed = spec
                .renew_time
                .as_ref()
                .map(|t| t.0.as_millisecond())
                .unwrap_or(0);
            let duration = i64::from(spec.lease_duration_seconds.unwrap_or(15)) * 1000;
            if now_ms > renewed + duration {
                Decision::Take
            } else {
                Decision::Busy
            }
        }
    }
}

/// A lease step that failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("reading lease {name}")]
    Get { name: String, source: kube::Error },
    #[error("writing lease {name}")]
    Write { name: String, source: kube::Error },
    #[error("listing leases of {prefix}")]
    List { prefix: String, source: kube::Error },
    #[error("lease {name} is held by another replica")]
    Lost { name: String },
}

/// The leases of one consumer (stream + prefix) in one namespace.
#[derive(Clone)]
pub struct Leases {
    api: Api<Lease>,
    pub holder: String,
    pub prefix: String,
    pub duration_secs: i32,
}

impl std::fmt::Debug for Leases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leases")
            .field("holder", &self.holder)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// A DNS-safe lease prefix from a stream name.
pub fn default_prefix(stream: &str) -> String {
    let clean: String = stream
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    format!("ingest-{}", clean.trim_matches('-'))
}

fn now() -> MicroTime {
    MicroTime(Timestamp::now())
}

impl Leases {
    pub fn new(
        client: kube::Client,
        namespace: &str,
        prefix: &str,
        holder: &str,
        duration_secs: i32,
    ) -> Leases {
        Leases {
            api: Api::namespaced(client, namespace),
            holder: holder.to_owned(),
            prefix: prefix.to_owned(),
            duration_secs,
        }
    }

    fn name(&self, shard_id: &str) -> String {
        format!("{}-{}", self.prefix, shard_id.to_ascii_lowercase())
    }

    async fn get(&self, name: &str) -> Result<Option<Lease>, Error> {
        self.api.get_opt(name).await.map_err(|source| Error::Get {
            name: name.to_owned(),
            source,
        })
    }

    /// Takes or renews the lease of `shard_id`; false when another live replica holds it (or
    /// won a race for it).
    pub async fn acquire(&self, shard_id: &str) -> Result<bool, Error> {
        let name = self.name(shard_id);
        let now_ms = Timestamp::now().as_millisecond();
        match self.get(&name).await? {
            None => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(name.clone()),
                        labels: Some(BTreeMap::from([(
                            CONSUMER_LABEL.to_owned(),
                            self.prefix.clone(),
                        )])),
                        ..ObjectMeta::default()
                    },
                    spec: Some(LeaseSpec {
                        holder_identity: Some(self.holder.clone()),
                        lease_duration_seconds: Some(self.duration_secs),
                        acquire_time: Some(now()),
                        renew_time: Some(now()),
                        lease_transitions: Some(0),
                        ..LeaseSpec::default()
                    }),
                };
                match self.api.create(&PostParams::default(), &lease).await {
                    Ok(_) => Ok(true),
                    Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                    Err(source) => Err(Error::Write { name, source }),
                }
            }
            Some(mut lease) => {
                let decision = decide(lease.spec.as_ref(), &self.holder, now_ms);
                if decision == Decision::Busy {
                    return Ok(false);
                }
                let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
                if decision == Decision::Take {
                    spec.holder_identity = Some(self.holder.clone());
                    spec.acquire_time = Some(now());
                    spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
                }
                spec.lease_duration_seconds = Some(self.duration_secs);
                spec.renew_time = Some(now());
                match self
                    .api
                    .replace(&name, &PostParams::default(), &lease)
                    .await
                {
                    Ok(_) => Ok(true),
                    Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                    Err(source) => Err(Error::Write { name, source }),
                }
            }
        }
    }

    /// Renews our lease of `shard_id` and, when given, stores its checkpoint in the same write.
    /// Fails with [`Error::Lost`] when another replica holds it now.
    pub async fn renew(
        &self,
        shard_id: &str,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<(), Error> {
        let name = self.name(shard_id);
        let Some(mut lease) = self.get(&name).await? else {
            return Err(Error::Lost { name });
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.holder.as_str()) {
            return Err(Error::Lost { name });
        }
        spec.renew_time = Some(now());
        if let Some(cp) = checkpoint {
            let value = match cp {
                Checkpoint::At(seq) => seq.clone(),
                Checkpoint::End => SHARD_END.to_owned(),
            };
            lease
                .metadata
                .annotations
                .get_or_insert_with(BTreeMap::new)
                .insert(CHECKPOINT_ANNOTATION.to_owned(), value);
        }
        match self
            .api
            .replace(&name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => Err(Error::Lost { name }),
            Err(source) => Err(Error::Write { name, source }),
        }
    }

    /// Gives up our lease of `shard_id` (best effort).
    pub async fn release(&self, shard_id: &str) {
        let name = self.name(shard_id);
        if let Ok(Some(mut lease)) = self.get(&name).await
            && let Some(spec) = lease.spec.as_mut()
            && spec.holder_identity.as_deref() == Some(self.holder.as_str())
        {
            spec.holder_identity = None;
            if let Err(e) = self
                .api
                .replace(&name, &PostParams::default(), &lease)
                .await
            {
                tracing::warn!(lease = %name, error = %e, "releasing the lease failed");
            }
        }
    }

    fn member_key(&self) -> String {
        let clean: String = self
            .holder
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect();
        format!("{MEMBER}{}", clean.trim_matches('-'))
    }

    /// Announces this replica (a member lease, renewed on every shard sync) so the others count
    /// it when they work out their fair share.
    pub async fn heartbeat(&self) -> Result<(), Error> {
        self.acquire(&self.member_key()).await.map(|_| ())
    }

    /// Leaves the group: releases the member lease.
    pub async fn leave(&self) {
        self.release(&self.member_key()).await;
    }

    /// Every shard's checkpoint and the number of live replicas (unexpired member leases,
    /// counting ourselves).
    pub async fn survey(&self) -> Result<(BTreeMap<String, Checkpoint>, usize), Error> {
        let list = self
            .api
            .list(&ListParams::default().labels(&format!("{CONSUMER_LABEL}={}", self.prefix)))
            .await
            .map_err(|source| Error::List {
                prefix: self.prefix.clone(),
                source,
            })?;
        let now_ms = Timestamp::now().as_millisecond();
        let mut checkpoints = BTreeMap::new();
        let mut holders = BTreeSet::from([self.holder.clone()]);
        let name_prefix = format!("{}-", self.prefix);
        for lease in list.items {
            let name = lease.metadata.name.clone().unwrap_or_default();
            let Some(shard) = name.strip_prefix(&name_prefix) else {
                continue;
            };
            if shard.starts_with(MEMBER) {
                if let Some(spec) = &lease.spec
                    && decide(Some(spec), "", now_ms) == Decision::Busy
                    && let Some(h) = &spec.holder_identity
                {
                    holders.insert(h.clone());
                }
                continue;
            }
            // Lease names are lowercased; Kinesis shard ids are `shardId-<digits>`.
            let shard_id = shard.replacen("shardid-", "shardId-", 1);
            if let Some(v) = lease
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(CHECKPOINT_ANNOTATION))
            {
                let cp = if v == SHARD_END {
                    Checkpoint::End
                } else {
                    Checkpoint::At(v.clone())
                };
                checkpoints.insert(shard_id, cp);
            }
        }
        Ok((checkpoints, holders.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(holder: Option<&str>, renewed_ms: i64, secs: i32) -> LeaseSpec {
        LeaseSpec {
            holder_identity: holder.map(str::to_owned),
            lease_duration_seconds: Some(secs),
            renew_time: Some(MicroTime(
                Timestamp::from_millisecond(renewed_ms).expect("valid time"),
            )),
            ..LeaseSpec::default()
        }
    }

    #[test]
    fn take_renew_or_wait() {
        assert_eq!(decide(None, "me", 0), Decision::Take);
        assert_eq!(decide(Some(&spec(None, 0, 10)), "me", 1), Decision::Take);
        assert_eq!(
            decide(Some(&spec(Some("me"), 0, 10)), "me", 99_999),
            Decision::Renew
        );
        assert_eq!(
            decide(Some(&spec(Some("other"), 1_000, 10)), "me", 5_000),
            Decision::Busy
        );
        assert_eq!(
            decide(Some(&spec(Some("other"), 1_000, 10)), "me", 11_001),
            Decision::Take
        );
    }

    #[test]
    fn prefixes_are_dns_safe() {
        assert_eq!(default_prefix("My_Stream.v2"), "ingest-my-stream-v2");
    }
}
