//! Shard ownership across replicas through Kubernetes Leases (coordination.k8s.io/v1): one Lease
//! per shard, `<prefix>-<shard id>`, labelled with the consumer prefix. A replica consumes a shard
//! only while it holds that lease, renews it with every checkpoint (and while idle), and releases
//! it when the shard ends or the replica stops; a lease not renewed within its duration is taken
//! over. The shard's checkpoint lives in the lease's annotation, written only by the holder
//! (optimistic concurrency on resourceVersion), so a replica that lost its lease cannot move it.
//! The annotation holds the same string as the checkpoint file (`<sequence number>`,
//! `<sequence number>+<first record after it>+<hex bitmap of the resolved records after it>` or
//! `SHARD_END`, see `position`); the bitmap is bounded by the records of the window being sent
//! (a few thousand bits, about a kilobyte of hex at the default settings), well within
//! annotation limits.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::ListParams;
pub use personalize_lease::Error;
use personalize_lease::LeaseLock;
use personalize_lease::{Decision, decide};

use crate::shards::Checkpoint;

/// Label carrying the consumer prefix on every lease.
pub const CONSUMER_LABEL: &str = "personalize-ingest.dev/consumer";
/// Annotation carrying the shard's checkpoint (`<sequence number>`,
/// `<sequence number>+<first>+<hex>` or `SHARD_END`).
pub const CHECKPOINT_ANNOTATION: &str = "personalize-ingest.dev/checkpoint";
/// Name part of the lease each replica holds to announce itself.
const MEMBER: &str = "member-";

/// The leases of one consumer (stream + prefix) in one namespace.
#[derive(Clone)]
pub struct Leases {
    client: kube::Client,
    namespace: String,
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

impl Leases {
    pub fn new(
        client: kube::Client,
        namespace: &str,
        prefix: &str,
        holder: &str,
        duration_secs: i32,
    ) -> Leases {
        Leases {
            client,
            namespace: namespace.to_owned(),
            holder: holder.to_owned(),
            prefix: prefix.to_owned(),
            duration_secs,
        }
    }

    /// The name of the lease of `shard_id` (or of a member key).
    pub fn lease_name(&self, shard_id: &str) -> String {
        format!("{}-{}", self.prefix, shard_id.to_ascii_lowercase())
    }

    /// The lock on the lease of `shard_id` (or of a member key).
    fn lock(&self, shard_id: &str) -> LeaseLock {
        LeaseLock::new(
            self.client.clone(),
            &self.namespace,
            &self.lease_name(shard_id),
            &self.holder,
            self.duration_secs,
        )
        .with_labels(BTreeMap::from([(
            CONSUMER_LABEL.to_owned(),
            self.prefix.clone(),
        )]))
    }

    /// Takes or renews the lease of `shard_id`; false when another live replica holds it (or
    /// won a race for it).
    pub async fn acquire(&self, shard_id: &str) -> Result<bool, Error> {
        self.lock(shard_id).try_acquire().await
    }

    /// Renews our lease of `shard_id` and, when given, stores its checkpoint in the same write.
    /// Fails with [`Error::Lost`] when another replica holds it now.
    pub async fn renew(
        &self,
        shard_id: &str,
        checkpoint: Option<&Checkpoint>,
    ) -> Result<(), Error> {
        let value = checkpoint.map(Checkpoint::to_string);
        let annotations: Vec<(&str, &str)> = value
            .as_deref()
            .map(|v| (CHECKPOINT_ANNOTATION, v))
            .into_iter()
            .collect();
        self.lock(shard_id).renew(&annotations).await
    }

    /// Gives up our lease of `shard_id` (best effort).
    pub async fn release(&self, shard_id: &str) {
        self.lock(shard_id).release().await;
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

    /// Every shard's checkpoint annotation as stored (parsed by the caller, see
    /// [`Checkpoint::parse`]) and the number of live replicas (unexpired member leases,
    /// counting ourselves).
    pub async fn survey(&self) -> Result<(BTreeMap<String, String>, usize), Error> {
        let api: Api<Lease> = Api::namespaced(self.client.clone(), &self.namespace);
        let list = api
            .list(&ListParams::default().labels(&format!("{CONSUMER_LABEL}={}", self.prefix)))
            .await
            .map_err(|source| Error::Get {
                name: format!("{}-*", self.prefix),
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
                checkpoints.insert(shard_id, v.clone());
            }
        }
        Ok((checkpoints, holders.len()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_dns_safe() {
        assert_eq!(default_prefix("My_Stream.v2"), "ingest-my-stream-v2");
    }
}
