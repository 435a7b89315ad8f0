//! Where the tracking id comes from: a literal, or the `status.trackingId` of an EventTracker
//! custom resource, watched so a changed id is followed and a tracker that is not ACTIVE makes
//! the sidecar not ready (PutEvents then waits instead of failing).

use futures::StreamExt;
use kube::Api;
use kube::runtime::watcher;
use personalize_api::{EventTracker, aws_status, conditions};
use tokio::sync::watch;

/// What the sidecar currently knows about its tracker.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrackerState {
    pub tracking_id: Option<String>,
    /// The tracker is ACTIVE and its tracking id known.
    pub ready: bool,
    /// Why it is not ready (for logs and /readyz).
    pub reason: String,
}

/// The tracker state as decided from an EventTracker object (None: it does not exist). Pure.
pub fn state_of(tracker: Option<&EventTracker>) -> TrackerState {
    let Some(tracker) = tracker else {
        return TrackerState {
            reason: "EventTracker not found".into(),
            ..TrackerState::default()
        };
    };
    let status = tracker.status.clone().unwrap_or_default();
    let tracking_id = status.tracking_id.filter(|t| !t.is_empty());
    let active = status.resource.status.as_deref() == Some(aws_status::ACTIVE)
        || status.resource.is_true(conditions::READY);
    let reason = match (&tracking_id, active) {
        (Some(_), true) => String::new(),
        (None, _) => "EventTracker has no status.trackingId yet".into(),
        (Some(_), false) => format!(
            "EventTracker is {}, not ACTIVE",
            status
                .resource
                .status
                .as_deref()
                .unwrap_or("without a status")
        ),
    };
    TrackerState {
        ready: tracking_id.is_some() && active,
        tracking_id,
        reason,
    }
}

/// A handle on the current tracking id.
#[derive(Clone, Debug)]
pub struct TrackingId {
    rx: watch::Receiver<TrackerState>,
}

impl TrackingId {
    /// A fixed tracking id, always ready.
    pub fn literal(id: impl Into<String>) -> TrackingId {
        let (_tx, rx) = watch::channel(TrackerState {
            tracking_id: Some(id.into()),
            ready: true,
            reason: String::new(),
        });
        TrackingId { rx }
    }

    /// Follows the EventTracker `namespace/name`; the watch task runs until the process ends.
    pub fn watch(client: kube::Client, namespace: &str, name: &str) -> TrackingId {
        let (tx, rx) = watch::channel(TrackerState {
            reason: "EventTracker not observed yet".into(),
            ..TrackerState::default()
        });
        let api: Api<EventTracker> = Api::namespaced(client, namespace);
        let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
        let what = format!("{namespace}/{name}");
        tokio::spawn(async move {
            let mut current: Option<EventTracker> = None;
            let mut events = watcher(api, config).boxed();
            while let Some(event) = events.next().await {
                match event {
                    Ok(watcher::Event::Apply(t) | watcher::Event::InitApply(t)) => {
                        current = Some(t);
                    }
                    Ok(watcher::Event::Delete(_)) => current = None,
                    Ok(watcher::Event::Init) => current = None,
                    Ok(watcher::Event::InitDone) => {}
                    Err(e) => {
                        tracing::warn!(tracker = %what, error = %e, "watching the EventTracker failed; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                        continue;
                    }
                }
                let state = state_of(current.as_ref());
                tx.send_if_modified(|old| {
                    if *old == state {
                        return false;
                    }
                    tracing::info!(tracker = %what, ready = state.ready, reason = %state.reason, "tracker state changed");
                    *old = state;
                    true
                });
                if tx.is_closed() {
                    break;
                }
            }
        });
        TrackingId { rx }
    }

    /// The current state.
    pub fn current(&self) -> TrackerState {
        self.rx.borrow().clone()
    }

    /// Waits until the tracker is ready and returns its tracking id.
    pub async fn wait_ready(&self) -> String {
        let mut rx = self.rx.clone();
        loop {
            {
                let s = rx.borrow_and_update();
                if s.ready
                    && let Some(id) = &s.tracking_id
                {
                    return id.clone();
                }
            }
            if rx.changed().await.is_err() {
                // The watch task ended (it never does while the process runs); keep the last
                // known id if there is one rather than spin.
                if let Some(id) = self.rx.borrow().tracking_id.clone() {
                    return id;
                }
                std::future::pending::<()>().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use personalize_api::{EventTrackerSpec, EventTrackerStatus, ResourceStatus};

    fn tracker(status: Option<&str>, id: Option<&str>) -> EventTracker {
        let mut t = EventTracker::new(
            "t",
            EventTrackerSpec {
                name: None,
                dataset_group_ref: None,
                dataset_group_arn: Some("arn".into()),
                tracking_id_secret_name: None,
                deletion_policy: Default::default(),
                tags: Default::default(),
                publish: None,
            },
        );
        t.status = Some(EventTrackerStatus {
            resource: ResourceStatus {
                status: status.map(str::to_owned),
                ..ResourceStatus::default()
            },
            tracking_id: id.map(str::to_owned),
            dataset_group_arn: None,
        });
        t
    }

    #[test]
    fn ready_only_when_active_with_an_id() {
        assert!(!state_of(None).ready);
        assert!(!state_of(Some(&tracker(Some("CREATE IN_PROGRESS"), Some("x")))).ready);
        assert!(!state_of(Some(&tracker(Some("ACTIVE"), None))).ready);
        let s = state_of(Some(&tracker(Some("ACTIVE"), Some("x"))));
        assert!(s.ready);
        assert_eq!(s.tracking_id.as_deref(), Some("x"));
    }

    #[tokio::test]
    async fn literal_is_ready() {
        assert_eq!(TrackingId::literal("abc").wait_ready().await, "abc");
    }
}
