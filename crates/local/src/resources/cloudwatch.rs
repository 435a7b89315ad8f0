//! Publishing metric attribution reports to CloudWatch (moto in tests): every
//! `Config::cloudwatch_interval`, the values `metric_attribution.rs` attributed and the store
//! keeps pending are sent with PutMetricData (AWS JSON 1.0, `X-Amz-Target:
//! GraniteServiceVersion20100801.PutMetricData`, SigV4 for `monitoring` through
//! `wire::outgoing`), and taken off the pending values once CloudWatch has
//! accepted them (so a restart or a CloudWatch outage loses nothing: they are sent later).
//!
//! Each value is one datum: namespace `Config::cloudwatch_namespace`, metric name the metric's
//! `metricName` (AWS: "for the search term, specify the name you gave the metric"), dimension
//! `EventAttributionSource` (the source, as the EVENT_ATTRIBUTION_SOURCE column of AWS's reports
//! names it), timestamp the start of the 15-minute window the events fell in, unit `Count` for
//! `SAMPLECOUNT()` and `None` for `SUM()`. Windows 14 days old or older are dropped (CloudWatch
//! refuses them; AWS reports only records less than 14 days old). At most [`MAX_CALLS`] calls of
//! [`MAX_DATUMS`] values per round.
//! Depends on the store, the wire layer (signed outgoing calls) and `metric_attribution.rs`.

use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::resources::Shared;
use crate::resources::metric_attribution::{self, Function, MAX_AGE_SECS, unix_now};
use crate::store::Entry;
use crate::store::data::Tally;
use crate::wire::outgoing::{Call, Outgoing};

/// Values per PutMetricData call (CloudWatch takes at most 1000).
pub const MAX_DATUMS: usize = 500;
/// PutMetricData calls per round at most; what is left waits for the next round.
pub const MAX_CALLS: usize = 20;
/// The dimension naming the event attribution source.
pub const SOURCE_DIMENSION: &str = "EventAttributionSource";

/// Publishes pending values every `interval` until the state is dropped.
pub async fn run(state: Weak<Shared>, endpoint: String, interval: Duration) {
    let client = Outgoing::default();
    loop {
        tokio::time::sleep(interval).await;
        let Some(state) = state.upgrade() else { return };
        if let Err(error) = publish(&state, &client, &endpoint).await {
            tracing::warn!(%error, "publishing metric attribution reports to CloudWatch failed; retrying next round");
        }
    }
}

/// One batch: the metric attribution it is for, the values and the PutMetricData body.
struct Batch {
    arn: String,
    tallies: Vec<Tally>,
    body: Vec<u8>,
}

/// Takes up to [`MAX_CALLS`] batches of pending values, drops those too old for CloudWatch.
fn take_batches(state: &Arc<Shared>) -> Vec<Batch> {
    let mut store = state.lock();
    let oldest = unix_now() - MAX_AGE_SECS;
    let mut batches = Vec::new();
    let mut expired = Vec::new();
    for (arn, pending) in &store.attribution_pending {
        let Some(attribution) = store.metric_attributions.get(arn) else {
            continue;
        };
        let metrics = store
            .attribution_metrics
            .get(arn)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let mut tallies = Vec::new();
        for (key, value) in pending {
            let tally = Tally {
                key: key.clone(),
                value: *value,
            };
            if key.window + metric_attribution::WINDOW_SECS <= oldest {
                expired.push((arn.clone(), tally));
            } else {
                tallies.push(tally);
            }
        }
        for chunk in tallies.chunks(MAX_DATUMS) {
            if batches.len() == MAX_CALLS {
                break;
            }
            let data: Vec<serde_json::Value> = chunk
                .iter()
                .map(|t| {
                    let unit = match metrics
                        .iter()
                        .find(|m| m.metric_name == t.key.metric)
                        .and_then(|m| {
                            metric_attribution::compile(&store, &attribution.dataset_group_arn, m)
                                .ok()
                        }) {
                        Some(Function::SampleCount) => "Count",
                        _ => "None",
                    };
                    serde_json::json!({
                        "MetricName": t.key.metric,
                        "Dimensions": [{"Name": SOURCE_DIMENSION, "Value": t.key.source}],
                        "Timestamp": t.key.window,
                        "Value": t.value,
                        "Unit": unit,
                    })
                })
                .collect();
            let body = serde_json::json!({
                "Namespace": state.config.cloudwatch_namespace,
                "MetricData": data,
            });
            batches.push(Batch {
                arn: arn.clone(),
                tallies: chunk.to_vec(),
                body: body.to_string().into_bytes(),
            });
        }
    }
    for (arn, tally) in expired {
        tracing::warn!(%arn, metric = %tally.key.metric, window = tally.key.window, "dropping a metric value 14 days old: CloudWatch no longer takes it");
        store.commit(Entry::AttributionPublished {
            arn,
            tallies: vec![tally],
        });
    }
    batches
}

/// Sends what is pending (a bounded amount); what CloudWatch accepted is no longer pending.
/// Returns the number of values published.
pub async fn publish(
    state: &Arc<Shared>,
    client: &Outgoing,
    endpoint: &str,
) -> Result<usize, String> {
    let mut published = 0;
    for batch in take_batches(state) {
        put_metric_data(client, endpoint, &state.config.region, batch.body).await?;
        published += batch.tallies.len();
        state.lock().commit(Entry::AttributionPublished {
            arn: batch.arn,
            tallies: batch.tallies,
        });
    }
    Ok(published)
}

async fn put_metric_data(
    client: &Outgoing,
    endpoint: &str,
    region: &str,
    body: Vec<u8>,
) -> Result<(), String> {
    let url = format!("{}/", endpoint.trim_end_matches('/'));
    let (status, answer) = client
        .send(Call {
            method: "POST",
            url: &url,
            service: "monitoring",
            region,
            headers: &[
                ("content-type", "application/x-amz-json-1.0"),
                (
                    "x-amz-target",
                    "GraniteServiceVersion20100801.PutMetricData",
                ),
            ],
            body,
        })
        .await
        .map_err(|e| format!("CloudWatch PutMetricData: {e}"))?;
    if (200..300).contains(&status) {
        return Ok(());
    }
    Err(format!(
        "PutMetricData to {endpoint} answered HTTP {status}: {}",
        String::from_utf8_lossy(&answer)
    ))
}
