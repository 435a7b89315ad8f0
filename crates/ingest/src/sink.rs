//! The PutEvents sink: sends one planned call with a per-tracker rate limit, retries throttling
//! and server errors with backoff (forever: events are never dropped for being slow), and on an
//! InvalidInput answer splits the call to find the events PutEvents refuses, which it returns
//! for the dead-letter destination.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_personalizeevents::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_personalizeevents::operation::put_events::PutEventsError;
use aws_sdk_personalizeevents::primitives::DateTime;
use aws_sdk_personalizeevents::types::{Event as SdkEvent, MetricAttribution};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::batch::Call;
use crate::metrics::Metrics;
use crate::record::{Event, Reject};
use crate::tracking::TrackingId;

/// Spaces calls at least `1/rate` apart (a leaky bucket without burst), shared by every shard.
#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next: Mutex<Instant>,
}

impl RateLimiter {
    pub fn per_second(rate: f64) -> RateLimiter {
        let interval = if rate > 0.0 {
            Duration::from_secs_f64(1.0 / rate)
        } else {
            Duration::ZERO
        };
        RateLimiter {
            interval,
            next: Mutex::new(Instant::now()),
        }
    }

    /// Waits for the next slot.
    pub async fn acquire(&self) {
        if self.interval.is_zero() {
            return;
        }
        let slot = {
            let mut next = self.next.lock().await;
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// What a failed PutEvents means for the events in it.
enum Failure {
    /// The request is invalid: the events (or one of them) will never be accepted.
    Invalid(String),
    /// Throttled, a server error, a timeout, or an unknown/unready tracker: retry.
    Retry(String),
}

fn classify(e: &SdkError<PutEventsError>) -> Failure {
    let message = DisplayErrorContext(e).to_string();
    match e {
        SdkError::ServiceError(se) => {
            let status = se.raw().status().as_u16();
            let invalid = matches!(se.err(), PutEventsError::InvalidInputException(_))
                || matches!(
                    se.err().code(),
                    Some("ValidationException" | "SerializationException")
                );
            if invalid && status < 500 {
                Failure::Invalid(se.err().message().unwrap_or(&message).to_owned())
            } else {
                Failure::Retry(message)
            }
        }
        _ => Failure::Retry(message),
    }
}

/// Sends planned calls.
#[derive(Debug)]
pub struct Sink {
    pub client: aws_sdk_personalizeevents::Client,
    pub limiter: RateLimiter,
    pub backoff: Backoff,
    pub metrics: Arc<Metrics>,
}

fn to_sdk(e: &Event) -> SdkEvent {
    let mut b = SdkEvent::builder()
        .event_id(&e.event_id)
        .event_type(&e.event_type)
        .sent_at(DateTime::from_secs_f64(e.sent_at))
        .set_item_id(e.item_id.clone())
        .set_event_value(e.event_value)
        .set_properties(e.properties.clone())
        .set_recommendation_id(e.recommendation_id.clone());
    if !e.impression.is_empty() {
        b = b.set_impression(Some(e.impression.clone()));
    }
    if let Some(source) = &e.event_attribution_source {
        b = b.metric_attribution(
            MetricAttribution::builder()
                .event_attribution_source(source)
                .build()
                .expect("a metric attribution with its source set always builds"),
        );
    }
    b.build()
        .expect("an event with eventType and sentAt set always builds")
}

impl Sink {
    /// Sends `call`, returning the events PutEvents refused as invalid (with the reason). Every
    /// other event has been accepted when this returns.
    pub async fn send<T: Clone>(&self, tracking: &TrackingId, call: &Call<T>) -> Vec<(T, Reject)> {
        let mut rejected = Vec::new();
        // Borrowed: the events are copied only into each request sent.
        let mut pending: Vec<Vec<&(T, Event)>> = vec![call.events.iter().collect()];
        while let Some(events) = pending.pop() {
            match self.send_once(tracking, call, &events).await {
                Ok(()) => {
                    Metrics::add(&self.metrics.events_sent, events.len() as u64);
                }
                Err(reason) if events.len() == 1 => {
                    for (tag, _) in events {
                        rejected.push((tag.clone(), Reject::RejectedByPutEvents(reason.clone())));
                    }
                }
                Err(_) => {
                    // Find the culprit(s): send each event on its own.
                    pending.extend(events.into_iter().rev().map(|e| vec![e]));
                }
            }
        }
        rejected
    }

    /// One PutEvents with retries; Err only for an invalid request.
    async fn send_once<T>(
        &self,
        tracking: &TrackingId,
        call: &Call<T>,
        events: &[&(T, Event)],
    ) -> Result<(), String> {
        let mut attempt: u32 = 0;
        loop {
            let tracking_id = tracking.wait_ready().await;
            self.limiter.acquire().await;
            let result = self
                .client
                .put_events()
                .tracking_id(&tracking_id)
                .set_user_id(call.user_id.clone())
                .session_id(&call.session_id)
                .set_event_list(Some(events.iter().map(|(_, e)| to_sdk(e)).collect()))
                .send()
                .await;
            match result {
                Ok(_) => {
                    Metrics::add(&self.metrics.put_events_calls, 1);
                    return Ok(());
                }
                Err(e) => match classify(&e) {
                    Failure::Invalid(reason) => return Err(reason),
                    Failure::Retry(message) => {
                        attempt += 1;
                        Metrics::add(&self.metrics.put_events_retries, 1);
                        let delay = self.backoff.delay(attempt, call.session_id.len() as u64);
                        tracing::warn!(attempt, ?delay, error = %message, "PutEvents failed; retrying");
                        tokio::time::sleep(delay).await;
                    }
                },
            }
        }
    }
}
