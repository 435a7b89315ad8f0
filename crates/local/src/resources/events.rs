//! personalize-events (REST JSON): PutEvents, PutItems, PutUsers. Events are journaled and take
//! effect on the user's next recommendations at once (serving passes them to the engine as live
//! events); items and users update the dataset group's catalog. When the dataset group has a
//! metric attribution, each event's metric values are attributed to its source and journaled
//! with the events (`metric_attribution.rs`).
//! Depends on the store, the wire layer and `metric_attribution.rs`; never on the router.

use std::collections::BTreeMap;

use crate::resources::AppState;
use crate::resources::event_tracker::group_of_tracker;
use crate::resources::lifecycle::ACTIVE;
use crate::resources::metric_attribution::{self, Attributable, Horizon};
use crate::resources::schema::{ColumnKind, parse_columns};
use crate::resources::shapes::{Event, PutEventsRequest, PutItemsRequest, PutUsersRequest};
use crate::store::Entry;
use crate::store::data::{FieldValue, InteractionRow, RecordRow};
use crate::wire::codec::{OpResult, decode};
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_len};

fn check_event(i: usize, e: &Event) -> Result<(), ApiError> {
    let at = |m: &str| format!("eventList.{}.member.{m}", i + 1);
    check_len(&at("eventType"), &e.event_type, 1, 256)?;
    if let Some(id) = &e.event_id {
        check_len(&at("eventId"), id, 1, 256)?;
    }
    if let Some(id) = &e.item_id {
        check_len(&at("itemId"), id, 1, 256)?;
    }
    if let Some(id) = &e.recommendation_id {
        check_len(&at("recommendationId"), id, 1, 40)?;
    }
    if let Some(properties) = &e.properties {
        check_len(&at("properties"), properties, 1, 1024)?;
        match serde_json::from_str::<serde_json::Value>(properties) {
            Ok(serde_json::Value::Object(_)) => {}
            _ => {
                return Err(ApiError::InvalidInput(format!(
                    "{} must be a JSON object serialised as a string",
                    at("properties")
                )));
            }
        }
    }
    if let Some(impression) = &e.impression
        && (impression.is_empty() || impression.len() > 25)
    {
        return Err(ApiError::InvalidInput(format!(
            "{} must list 1 to 25 item ids",
            at("impression")
        )));
    }
    if let Some(attribution) = &e.metric_attribution {
        check_len(
            &at("metricAttribution.eventAttributionSource"),
            &attribution.event_attribution_source,
            1,
            1024,
        )?;
    }
    if !e.sent_at.is_finite() || e.sent_at < 0.0 {
        return Err(ApiError::InvalidInput(format!(
            "{} must be a timestamp",
            at("sentAt")
        )));
    }
    if e.event_value.is_some_and(|v| !v.is_finite()) {
        return Err(ApiError::InvalidInput(format!(
            "{} must be a finite number",
            at("eventValue")
        )));
    }
    Ok(())
}

/// `POST /events`.
pub fn put_events(state: &AppState, body: &[u8]) -> OpResult {
    let req: PutEventsRequest = decode(body)?;
    check_len("trackingId", &req.tracking_id, 1, 256)?;
    check_len("sessionId", &req.session_id, 1, 256)?;
    if let Some(user) = &req.user_id {
        check_len("userId", user, 1, 256)?;
    }
    if req.event_list.is_empty() || req.event_list.len() > 10 {
        return Err(ApiError::InvalidInput(
            "eventList must have between 1 and 10 events".into(),
        ));
    }
    for (i, e) in req.event_list.iter().enumerate() {
        check_event(i, e)?;
    }
    let user = req.user_id.unwrap_or(req.session_id);
    let mut store = state.lock();
    // PutEvents models InvalidInputException only: an unknown tracker is invalid input.
    let dg = group_of_tracker(&store, &req.tracking_id, ApiError::InvalidInput)?;
    // Metric attributions count every event of a metric's type, with or without an item.
    let attributed = metric_attribution::of_group(&store, &dg).map(|attribution| {
        let records: Vec<Attributable<'_>> = req
            .event_list
            .iter()
            .map(|e| Attributable {
                event_type: Some(e.event_type.as_str()),
                item_id: e.item_id.as_deref(),
                event_value: e.event_value,
                timestamp: e.sent_at as i64,
                source: metric_attribution::source_of(
                    &store,
                    e.metric_attribution
                        .as_ref()
                        .map(|m| m.event_attribution_source.as_str()),
                    e.recommendation_id.as_deref(),
                ),
            })
            .collect();
        let arn = attribution.metric_attribution_arn.clone();
        let tallies =
            metric_attribution::tally(state, &store, &arn, &dg, &records, Horizon::Recent);
        (arn, tallies)
    });
    let events: Vec<InteractionRow> = req
        .event_list
        .into_iter()
        .filter_map(|e| {
            Some(InteractionRow {
                user_id: user.clone(),
                item_id: e.item_id?,
                timestamp: e.sent_at as i64,
                event_type: Some(e.event_type),
                event_value: e.event_value,
                extra: None,
                event_id: None,
            })
        })
        .collect();
    if !events.is_empty() {
        store.commit(Entry::Events { dg, user, events });
    }
    if let Some((arn, tallies)) = attributed
        && !tallies.is_empty()
    {
        store.commit(Entry::Attributed { arn, tallies });
    }
    Ok(Vec::new())
}

/// An item, user or action id and its properties, as `put_records` handles them.
type ItemOrUser = (String, Option<String>);

fn normalise(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// `POST /items`, `POST /users` and `POST /actions` (`next_best_action.rs`).
pub(crate) fn put_records(
    state: &AppState,
    dataset_arn: &str,
    kind: &str,
    list: Vec<ItemOrUser>,
) -> OpResult {
    check_arn("datasetArn", dataset_arn)?;
    if list.is_empty() || list.len() > 10 {
        return Err(ApiError::InvalidInput(format!(
            "{} must have between 1 and 10 entries",
            kind.to_ascii_lowercase()
        )));
    }
    let mut store = state.lock();
    let dataset = store
        .datasets
        .get(dataset_arn)
        .ok_or_else(|| ApiError::not_found(dataset_arn))?;
    if dataset.dataset_type != kind {
        return Err(ApiError::InvalidInput(format!(
            "Dataset {dataset_arn} is a {} dataset, not {kind}",
            dataset.dataset_type
        )));
    }
    if dataset.status != ACTIVE {
        return Err(ApiError::InUse(format!(
            "Dataset {dataset_arn} is in status {}",
            dataset.status
        )));
    }
    let columns = store
        .schemas
        .get(&dataset.schema_arn)
        .map(|s| parse_columns(&s.schema))
        .transpose()
        .map_err(ApiError::InvalidInput)?
        .unwrap_or_default();
    let mut records = Vec::new();
    for (i, (id, properties)) in list.into_iter().enumerate() {
        check_len("id", &id, 1, 256)?;
        let mut fields = BTreeMap::new();
        let mut created = None;
        if let Some(properties) = &properties {
            let object = match serde_json::from_str::<serde_json::Value>(properties) {
                Ok(serde_json::Value::Object(o)) => o,
                _ => {
                    return Err(ApiError::InvalidInput(format!(
                        "entry {}: properties must be a JSON object serialised as a string",
                        i + 1
                    )));
                }
            };
            for (key, value) in object {
                let column = columns
                    .iter()
                    .find(|c| normalise(&c.name) == normalise(&key))
                    .ok_or_else(|| {
                        ApiError::InvalidInput(format!(
                            "entry {}: property {key} is not a field of the dataset's schema",
                            i + 1
                        ))
                    })?;
                let field = match (&value, column.kind) {
                    (serde_json::Value::Null, _) => continue,
                    (serde_json::Value::Number(n), _) => FieldValue::Num(n.as_f64().unwrap_or(0.0)),
                    (serde_json::Value::String(s), ColumnKind::String) if column.categorical => {
                        FieldValue::List(s.split('|').map(str::to_string).collect())
                    }
                    (serde_json::Value::String(s), ColumnKind::String) => {
                        FieldValue::Str(s.clone())
                    }
                    (serde_json::Value::String(s), _) => match s.trim().parse::<f64>() {
                        Ok(n) => FieldValue::Num(n),
                        Err(_) => {
                            return Err(ApiError::InvalidInput(format!(
                                "entry {}: property {key} must be a number",
                                i + 1
                            )));
                        }
                    },
                    (serde_json::Value::Bool(b), _) => FieldValue::Str(b.to_string()),
                    _ => {
                        return Err(ApiError::InvalidInput(format!(
                            "entry {}: property {key} has an unsupported type",
                            i + 1
                        )));
                    }
                };
                if column.name == "CREATION_TIMESTAMP" {
                    if let FieldValue::Num(n) = field {
                        created = Some(n as i64);
                    }
                    continue;
                }
                fields.insert(column.name.clone(), field);
            }
        }
        records.push(RecordRow {
            id,
            fields,
            created,
            put: true,
        });
    }
    store.commit(Entry::Records {
        dataset_arn: dataset_arn.to_string(),
        records,
    });
    Ok(Vec::new())
}

/// `POST /items`.
pub fn put_items(state: &AppState, body: &[u8]) -> OpResult {
    let req: PutItemsRequest = decode(body)?;
    let list = req.items.into_iter().map(|i| (i.item_id, i.properties));
    put_records(state, &req.dataset_arn, "ITEMS", list.collect())
}

/// `POST /users`.
pub fn put_users(state: &AppState, body: &[u8]) -> OpResult {
    let req: PutUsersRequest = decode(body)?;
    let list = req.users.into_iter().map(|u| (u.user_id, u.properties));
    put_records(state, &req.dataset_arn, "USERS", list.collect())
}
