//! personalize-ingest: the real-time path of the seed scenario. A sidecar that consumes a
//! Kinesis stream and writes its click events to Personalize with PutEvents (at least once,
//! checkpointed, dead-lettering bad records), and the seed-compatible HTTP gateway that puts
//! events on the stream and serves recommendations.
//!
//! Pure modules (no I/O): [`record`] (decode), [`batch`], [`event_id`], [`progress`]
//! (checkpoint decisions), [`position`] (checkpoint positions and their stored form),
//! [`shards`] (lineage), [`backoff`], [`arms`] (a rollout's split, click attribution and
//! per-arm counts). Thin I/O modules: [`kinesis`],
//! [`sink`], [`checkpoint_store`], [`leases`], [`dead_letter`], [`tracking`]; [`sidecar`] and [`gateway`]
//! put them together. Depends on `personalize-api` for the CRD types, never on the operator.

pub mod arms;
pub mod backoff;
pub mod batch;
pub mod checkpoint_store;
pub mod dead_letter;
pub mod event_id;
pub mod gateway;
pub mod kinesis;
pub mod leases;
pub mod metrics;
pub mod position;
pub mod progress;
pub mod record;
pub mod shards;
pub mod sidecar;
pub mod sink;
pub mod tracking;

/// AWS configuration from the environment (credentials, region, and the per-service endpoint
/// overrides `AWS_ENDPOINT_URL_KINESIS`, `AWS_ENDPOINT_URL_PERSONALIZE_EVENTS`,
/// `AWS_ENDPOINT_URL_PERSONALIZE_RUNTIME`, which the SDKs read themselves).
pub async fn aws_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// A PutEvents client whose own retries are off: the sink retries (and counts retries) itself.
pub fn events_client(config: &aws_config::SdkConfig) -> aws_sdk_personalizeevents::Client {
    let conf = aws_sdk_personalizeevents::config::Builder::from(config)
        .retry_config(aws_sdk_personalizeevents::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_personalizeevents::Client::from_conf(conf)
}
