//! Kubernetes Lease locks (coordination.k8s.io/v1): one named Lease, held by one identity at a
//! time. The holder renews it well within `leaseDurationSeconds`; a lease not renewed within its
//! duration is free to take. Every write is a compare-and-swap on `resourceVersion`, so two
//! contenders never both believe they won.
//!
//! [`decide`] is the pure rule; [`LeaseLock`] applies it against the API server. The operator's
//! leader election and the ingest sidecar's per-shard ownership both build on it.

use std::collections::BTreeMap;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::PostParams;

/// What to do about a lease. Pure decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Free or expired: take it.
    Take,
    /// Ours: renew it.
    Renew,
    /// Held by another live holder.
    Busy,
}

/// Decides from the lease spec, our identity and the time (epoch milliseconds). A lease without a
/// duration counts as 15 s, the Kubernetes default.
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
    /// Reading the lease failed.
    #[error("reading lease {name}")]
    Get {
        /// The lease.
        name: String,
        /// Why.
        source: kube::Error,
    },
    /// Writing the lease failed (not a conflict).
    #[error("writing lease {name}")]
    Write {
        /// The lease.
        name: String,
        /// Why.
        source: kube::Error,
    },
    /// Someone else holds the lease now (or won the race for it).
    #[error("lease {name} is held by another holder")]
    Lost {
        /// The lease.
        name: String,
    },
}

/// One named Lease in one namespace, contended for by `holder`.
#[derive(Clone)]
pub struct LeaseLock {
    api: Api<Lease>,
    /// The lease's name.
    pub name: String,
    /// Our identity (`holderIdentity`).
    pub holder: String,
    /// `leaseDurationSeconds` written when we take or renew it.
    pub duration_secs: i32,
    /// Labels put on the lease when we create it.
    pub labels: BTreeMap<String, String>,
}

impl std::fmt::Debug for LeaseLock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaseLock")
            .field("name", &self.name)
            .field("holder", &self.holder)
            .finish()
    }
}

fn now() -> MicroTime {
    MicroTime(Timestamp::now())
}

fn conflict(err: &kube::Error) -> bool {
    matches!(err, kube::Error::Api(s) if s.code == 409)
}

impl LeaseLock {
    /// A lock on the lease `name` in `namespace` for `holder`.
    pub fn new(
        client: kube::Client,
        namespace: &str,
        name: &str,
        holder: &str,
        duration_secs: i32,
    ) -> Self {
        Self {
            api: Api::namespaced(client, namespace),
            name: name.to_owned(),
            holder: holder.to_owned(),
            duration_secs,
            labels: BTreeMap::new(),
        }
    }

    /// The same lock with labels put on the lease when it is created.
    pub fn with_labels(mut self, labels: BTreeMap<String, String>) -> Self {
        self.labels = labels;
        self
    }

    /// The lease as stored, if it exists.
    pub async fn get(&self) -> Result<Option<Lease>, Error> {
        self.api
            .get_opt(&self.name)
            .await
            .map_err(|source| Error::Get {
                name: self.name.clone(),
                source,
            })
    }

    fn write_error(&self, source: kube::Error) -> Error {
        if conflict(&source) {
            Error::Lost {
                name: self.name.clone(),
            }
        } else {
            Error::Write {
                name: self.name.clone(),
                source,
            }
        }
    }

    /// Takes the lease when it is free or expired, renews it when it is ours. True when we hold
    /// it afterwards; false when another live holder has it (or won a race for it).
    pub async fn try_acquire(&self) -> Result<bool, Error> {
        let now_ms = Timestamp::now().as_millisecond();
        let Some(mut lease) = self.get().await? else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    labels: (!self.labels.is_empty()).then(|| self.labels.clone()),
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
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(true),
                Err(err) if conflict(&err) => Ok(false),
                Err(source) => Err(self.write_error(source)),
            };
        };
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
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(err) if conflict(&err) => Ok(false),
            Err(source) => Err(self.write_error(source)),
        }
    }

    /// Renews the lease we hold, setting `annotations` in the same write. Fails with
    /// [`Error::Lost`] when another holder has it now.
    pub async fn renew(&self, annotations: &[(&str, &str)]) -> Result<(), Error> {
        let lost = || Error::Lost {
            name: self.name.clone(),
        };
        let mut lease = self.get().await?.ok_or_else(lost)?;
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.holder.as_str()) {
            return Err(lost());
        }
        spec.renew_time = Some(now());
        if !annotations.is_empty() {
            let stored = lease.metadata.annotations.get_or_insert_with(BTreeMap::new);
            for (key, value) in annotations {
                stored.insert((*key).to_owned(), (*value).to_owned());
            }
        }
        self.api
            .replace(&self.name, &PostParams::default(), &lease)
            .await
            .map(|_| ())
            .map_err(|source| self.write_error(source))
    }

    /// Gives the lease up if we hold it (best effort), so another holder can take it at once.
    pub async fn release(&self) {
        if let Ok(Some(mut lease)) = self.get().await
            && let Some(spec) = lease.spec.as_mut()
            && spec.holder_identity.as_deref() == Some(self.holder.as_str())
        {
            spec.holder_identity = None;
            if let Err(err) = self
                .api
                .replace(&self.name, &PostParams::default(), &lease)
                .await
            {
                tracing::warn!(lease = %self.name, %err, "releasing the lease failed");
            }
        }
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
            decide(Some(&spec(Some(""), 0, 10)), "me", 1),
            Decision::Take
        );
        assert_eq!(
            decide(Some(&spec(Some("me"), 0, 10)), "me", 99_999),
            Decision::Renew
        );
        assert_eq!(
            decide(Some(&spec(Some("other"), 1_000, 10)), "me", 5_000),
            Decision::Busy
        );
        assert_eq!(
            decide(Some(&spec(Some("other"), 1_000, 10)), "me", 11_000),
            Decision::Busy
        );
        assert_eq!(
            decide(Some(&spec(Some("other"), 1_000, 10)), "me", 11_001),
            Decision::Take
        );
    }
}
