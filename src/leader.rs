//! Leader election through a Kubernetes Lease, so that of several replicas exactly one
//! reconciles. The timings are client-go's defaults: a 15 s lease, renewed every 2 s, given up
//! when it could not be renewed for 10 s. A replica that loses the lease stops (the process
//! exits and Kubernetes restarts it as a standby); one that shuts down releases it so a standby
//! takes over at once instead of waiting for it to expire.

use std::time::{Duration, Instant};

use personalize_lease::{Error, LeaseLock};

/// Where and how long the leader lease is held.
#[derive(Clone, Debug)]
pub struct Election {
    /// The Lease's namespace.
    pub namespace: String,
    /// The Lease's name.
    pub name: String,
    /// This replica's identity (`holderIdentity`).
    pub identity: String,
    /// `leaseDurationSeconds`: how long a silent leader keeps the lease.
    pub lease_duration: Duration,
}

impl Election {
    fn retry_period(&self) -> Duration {
        (self.lease_duration / 7).max(Duration::from_millis(200))
    }

    fn renew_deadline(&self) -> Duration {
        self.lease_duration * 2 / 3
    }

    fn lock(&self, client: kube::Client) -> LeaseLock {
        let secs = i32::try_from(self.lease_duration.as_secs().max(1)).unwrap_or(i32::MAX);
        LeaseLock::new(client, &self.namespace, &self.name, &self.identity, secs)
    }
}

/// This replica's identity: the pod name (`POD_NAME`, from the downward API) or, outside a
/// pod, the host name and process id.
pub fn default_identity() -> String {
    if let Ok(pod) = std::env::var("POD_NAME")
        && !pod.is_empty()
    {
        return pod;
    }
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "personalize-operator".into());
    format!("{host}-{}", std::process::id())
}

/// The lease held by this replica.
pub struct Leadership {
    lock: LeaseLock,
    election: Election,
}

/// Waits until this replica holds the lease (retrying for as long as it takes).
pub async fn acquire(client: kube::Client, election: Election) -> Leadership {
    let lock = election.lock(client);
    let mut waiting_logged = false;
    loop {
        match lock.try_acquire().await {
            Ok(true) => {
                tracing::info!(lease = %election.name, namespace = %election.namespace,
                    identity = %election.identity, "acquired the leader lease");
                return Leadership { lock, election };
            }
            Ok(false) if !waiting_logged => {
                tracing::info!(lease = %election.name, "another replica leads; standing by");
                waiting_logged = true;
            }
            Ok(false) => {}
            Err(err) => tracing::warn!(error = %err, "could not read or take the leader lease"),
        }
        tokio::time::sleep(election.retry_period()).await;
    }
}

impl Leadership {
    /// Renews the lease until it is lost, and says why. Never returns while we lead.
    pub async fn hold(&self) -> String {
        let mut renewed = Instant::now();
        loop {
            tokio::time::sleep(self.election.retry_period()).await;
            match self.lock.renew(&[]).await {
                Ok(()) => renewed = Instant::now(),
                Err(Error::Lost { .. }) => return "another replica holds the lease".into(),
                Err(err) if renewed.elapsed() >= self.election.renew_deadline() => {
                    return format!(
                        "could not renew the lease for {:?}: {err}",
                        self.election.renew_deadline()
                    );
                }
                Err(err) => tracing::warn!(error = %err, "renewing the leader lease failed"),
            }
        }
    }

    /// Gives the lease up so a standby takes over at once.
    pub async fn release(self) {
        self.lock.release().await;
        tracing::info!(lease = %self.election.name, "released the leader lease");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renews_well_within_the_lease() {
        let e = Election {
            namespace: "ns".into(),
            name: "l".into(),
            identity: "me".into(),
            lease_duration: Duration::from_secs(15),
        };
        assert_eq!(e.retry_period().as_millis(), 2142);
        assert_eq!(e.renew_deadline(), Duration::from_secs(10));
        assert!(e.retry_period() * 4 < e.renew_deadline());
    }
}
