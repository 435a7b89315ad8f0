//! Metric attributions: CreateMetricAttribution, UpdateMetricAttribution,
//! DeleteMetricAttribution, ListMetricAttributionMetrics (Describe and List: `resource.rs`), the
//! metric expressions, and the attribution of events to metrics per event attribution source.
//!
//! What AWS documents and this module honours (Amazon Personalize developer guide, "Measuring
//! recommendation impact with a metric attribution", "Guidelines and requirements for a metric
//! attribution", "Event metrics and attribution reports", "Publishing metric attribution reports
//! to Amazon S3"):
//! - at most one metric attribution per dataset group, at most 10 metrics each; functions
//!   `SAMPLECOUNT()` and `SUM(Items.COLUMN)` / `SUM(Interactions.COLUMN)` on numeric columns;
//!   the Interactions dataset must have an `EVENT_TYPE` column;
//! - an event's source is its `metricAttribution.eventAttributionSource`, else the campaign or
//!   recommender behind its `recommendationId`, else `SOURCE_NAME_UNDEFINED`;
//! - values are aggregated over 15-minute windows; records 14 days old or older are left out;
//!   only data recorded after the metric attribution was created is reported.
//!
//! Values attributed here are kept in the store until `cloudwatch.rs` has published them
//! (PutEvents and incremental imports), or written to the S3 output by `import.rs` (bulk imports
//! with `publishAttributionMetricsToS3`).
//! Depends on the store, the wire layer, the serving bridge (item metadata) and the runtime's
//! recommendation ids; never on the router.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_with::skip_serializing_none;

use crate::resources::AppState;
use crate::resources::dataset_group::require_active;
use crate::resources::lifecycle::{self, ACTIVE, is_deleting};
use crate::resources::resource::{ByArn, begin_delete, first_child, get, reserve};
use crate::resources::runtime::source_of_recommendation;
use crate::resources::schema::{ColumnKind, parse_columns};
use crate::resources::serving;
use crate::store::data::{Tally, TallyKey};
use crate::store::model::{MetricAttribute, MetricAttribution, MetricAttributionOutput};
use crate::store::{Entry, Store};
use crate::wire::codec::Empty;
use crate::wire::error::ApiError;
use crate::wire::names::{check_arn, check_name};
use crate::wire::paging::page;

/// The source of an event that names neither an attribution source nor a known recommendation.
pub const SOURCE_NAME_UNDEFINED: &str = "SOURCE_NAME_UNDEFINED";
/// AWS aggregates metric values over 15-minute windows.
pub const WINDOW_SECS: i64 = 15 * 60;
/// Records 14 days old or older are not reported.
pub const MAX_AGE_SECS: i64 = 14 * 24 * 3600;
/// CloudWatch takes data at most two hours ahead of its clock.
const MAX_AHEAD_SECS: i64 = 2 * 3600;
/// Most metrics one metric attribution may have.
pub const MAX_METRICS: usize = 10;
/// The longest metric name CloudWatch accepts (the Personalize model allows 256).
const MAX_METRIC_NAME: usize = 255;

/// The input of `CreateMetricAttribution`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateMetricAttribution {
    pub name: String,
    pub dataset_group_arn: String,
    pub metrics: Vec<MetricAttribute>,
    pub metrics_output_config: MetricAttributionOutput,
}

/// The input of `UpdateMetricAttribution`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateMetricAttribution {
    pub metric_attribution_arn: Option<String>,
    pub add_metrics: Option<Vec<MetricAttribute>>,
    pub remove_metrics: Option<Vec<String>>,
    pub metrics_output_config: Option<MetricAttributionOutput>,
}

/// The output of Create and UpdateMetricAttribution.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricAttributionArn {
    pub metric_attribution_arn: String,
}

/// The input of `ListMetricAttributionMetrics`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMetrics {
    pub metric_attribution_arn: Option<String>,
    pub next_token: Option<String>,
    pub max_results: Option<i64>,
}

/// The output of `ListMetricAttributionMetrics`.
#[skip_serializing_none]
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListedMetrics {
    pub metrics: Vec<MetricAttribute>,
    pub next_token: Option<String>,
}

/// What a metric computes for each event of its event type.
#[derive(Clone, Debug, PartialEq)]
pub enum Function {
    /// `SAMPLECOUNT()`: one per event.
    SampleCount,
    /// `SUM(Items.COLUMN)`: the event's item's value of the Items column.
    SumItems(String),
    /// `SUM(Interactions.EVENT_VALUE)`: the event's value.
    SumEventValue,
}

impl Function {
    /// The `MATH_FUNCTION` column of the S3 report (`samplecount`, `sum`).
    pub fn math_name(&self) -> &'static str {
        match self {
            Function::SampleCount => "samplecount",
            Function::SumItems(_) | Function::SumEventValue => "sum",
        }
    }
}

/// Parses `SAMPLECOUNT()` or `SUM(<Items|Interactions>.<COLUMN>)` (names case-insensitive) into
/// the function and, for `SUM`, the dataset type and column as written.
fn parse_expression(expression: &str) -> Result<(bool, Option<(String, String)>), String> {
    let compact: String = expression.chars().filter(|c| !c.is_whitespace()).collect();
    let upper = compact.to_ascii_uppercase();
    if upper == "SAMPLECOUNT()" {
        return Ok((true, None));
    }
    let inner = upper
        .strip_prefix("SUM(")
        .and_then(|r| r.strip_suffix(')'))
        .map(|_| &compact[4..compact.len() - 1])
        .ok_or_else(|| {
            format!(
                "expression {expression} is not one of the available functions: \
                 SUM(DatasetType.COLUMN_NAME) or SAMPLECOUNT()"
            )
        })?;
    let (dataset, column) = inner.split_once('.').ok_or_else(|| {
        format!("expression {expression}: SUM() takes DatasetType.COLUMN_NAME, as SUM(Items.PRICE)")
    })?;
    if column.is_empty() {
        return Err(format!("expression {expression} names no column"));
    }
    Ok((false, Some((dataset.to_string(), column.to_string()))))
}

/// The numeric columns (uppercase) of dataset group `dg`'s dataset of `dataset_type`, or why
/// there are none.
fn numeric_columns(store: &Store, dg: &str, dataset_type: &str) -> Result<Vec<String>, String> {
    let dataset = store
        .datasets
        .values()
        .find(|d| d.dataset_group_arn == dg && d.dataset_type == dataset_type)
        .ok_or_else(|| format!("dataset group {dg} has no {dataset_type} dataset"))?;
    let schema = store
        .schemas
        .get(&dataset.schema_arn)
        .ok_or_else(|| format!("the schema of {} is gone", dataset.dataset_arn))?;
    Ok(parse_columns(&schema.schema)?
        .into_iter()
        .filter(|c| {
            !c.categorical
                && matches!(
                    c.kind,
                    ColumnKind::Int | ColumnKind::Long | ColumnKind::Float | ColumnKind::Double
                )
        })
        .map(|c| c.name.to_ascii_uppercase())
        .collect())
}

/// The function of `metric` in dataset group `dg`: its expression parsed and its column checked
/// against the dataset's schema.
pub fn compile(store: &Store, dg: &str, metric: &MetricAttribute) -> Result<Function, String> {
    let (count, sum) = parse_expression(&metric.expression)?;
    let Some((dataset, column)) = sum else {
        debug_assert!(count);
        return Ok(Function::SampleCount);
    };
    let (dataset_type, wanted) = match dataset.to_ascii_uppercase().as_str() {
        "ITEMS" => ("ITEMS", column.to_ascii_uppercase()),
        "INTERACTIONS" => ("INTERACTIONS", column.to_ascii_uppercase()),
        _ => {
            return Err(format!(
                "expression {}: SUM() applies to columns of the Items or Interactions dataset, \
                 not {dataset}",
                metric.expression
            ));
        }
    };
    let columns = numeric_columns(store, dg, dataset_type)
        .map_err(|e| format!("expression {}: {e}", metric.expression))?;
    if !columns.contains(&wanted) {
        return Err(format!(
            "expression {}: {column} is not a numeric column of the {dataset_type} dataset's \
             schema (numeric columns: {})",
            metric.expression,
            if columns.is_empty() {
                "none".to_string()
            } else {
                columns.join(", ")
            }
        ));
    }
    match dataset_type {
        "ITEMS" => Ok(Function::SumItems(wanted)),
        _ if wanted == "EVENT_VALUE" => Ok(Function::SumEventValue),
        _ => Err(format!(
            "expression {}: personalize-local records only EVENT_VALUE of an interaction (its \
             other columns are not kept), so SUM(Interactions.{column}) cannot be computed; use \
             SUM(Interactions.EVENT_VALUE) or an Items column",
            metric.expression
        )),
    }
}

/// Checks metrics to add to dataset group `dg`'s metric attribution beside `existing`.
fn check_metrics(
    store: &Store,
    dg: &str,
    metrics: &[MetricAttribute],
    existing: &[MetricAttribute],
) -> Result<(), ApiError> {
    let invalid = ApiError::InvalidInput;
    if let Some(interactions) = store
        .datasets
        .values()
        .find(|d| d.dataset_group_arn == dg && d.dataset_type == "INTERACTIONS")
    {
        let has_event_type = store
            .schemas
            .get(&interactions.schema_arn)
            .and_then(|s| parse_columns(&s.schema).ok())
            .is_some_and(|columns| columns.iter().any(|c| c.name == "EVENT_TYPE"));
        if !has_event_type {
            return Err(invalid(format!(
                "The Interactions dataset {} has no EVENT_TYPE column: a metric attribution \
                 reports per event type",
                interactions.dataset_arn
            )));
        }
    }
    for (i, metric) in metrics.iter().enumerate() {
        if metric.metric_name.is_empty() || metric.metric_name.len() > MAX_METRIC_NAME {
            return Err(invalid(format!(
                "metricName must have 1 to {MAX_METRIC_NAME} characters (the longest metric \
                 name CloudWatch accepts)"
            )));
        }
        if metric.event_type.is_empty() {
            return Err(invalid(format!(
                "metric {}: eventType must not be empty",
                metric.metric_name
            )));
        }
        if metrics[..i]
            .iter()
            .any(|m| m.metric_name == metric.metric_name)
        {
            return Err(invalid(format!(
                "metric {} is given twice",
                metric.metric_name
            )));
        }
        if existing.iter().any(|m| m.metric_name == metric.metric_name) {
            return Err(ApiError::AlreadyExists(format!(
                "The metric attribution already has a metric named {}",
                metric.metric_name
            )));
        }
        compile(store, dg, metric).map_err(invalid)?;
    }
    Ok(())
}

fn check_output(output: &MetricAttributionOutput) -> Result<(), ApiError> {
    if let Some(s3) = &output.s3_data_destination {
        crate::resources::objects::parse_location(&s3.path).map_err(|_| {
            ApiError::InvalidInput(format!(
                "metricsOutputConfig.s3DataDestination.path {} must be s3://bucket/prefix",
                s3.path
            ))
        })?;
    }
    Ok(())
}

pub fn create(
    state: &AppState,
    req: CreateMetricAttribution,
) -> Result<MetricAttributionArn, ApiError> {
    check_name("name", &req.name)?;
    check_arn("datasetGroupArn", &req.dataset_group_arn)?;
    check_output(&req.metrics_output_config)?;
    if req.metrics.is_empty() {
        return Err(ApiError::InvalidInput(
            "metrics must list at least one metric".into(),
        ));
    }
    if req.metrics.len() > MAX_METRICS {
        return Err(ApiError::LimitExceeded(format!(
            "A metric attribution can have at most {MAX_METRICS} metrics"
        )));
    }
    if state.config.cloudwatch_endpoint.is_none() {
        // AWS publishes every metric attribution's reports to CloudWatch; without an endpoint
        // they would be computed for nobody.
        return Err(ApiError::InvalidInput(
            "personalize-local has no CloudWatch endpoint (--cloudwatch-endpoint or \
             AWS_ENDPOINT_URL_CLOUDWATCH) to publish metric attribution reports to"
                .into(),
        ));
    }
    let (arn, mut store) = reserve::<MetricAttribution>(state, "metric-attribution", &req.name)?;
    require_active(&store, &req.dataset_group_arn)?;
    if let Some(existing) = first_child::<MetricAttribution>(&store, &req.dataset_group_arn) {
        return Err(ApiError::AlreadyExists(format!(
            "Dataset group {} already has a metric attribution: {} (at most one per dataset \
             group)",
            req.dataset_group_arn, existing.metric_attribution_arn
        )));
    }
    check_metrics(&store, &req.dataset_group_arn, &req.metrics, &[])?;
    let now = store.now();
    store.commit(Entry::MetricAttribution(MetricAttribution {
        name: req.name,
        metric_attribution_arn: arn.clone(),
        dataset_group_arn: req.dataset_group_arn,
        metrics_output_config: req.metrics_output_config,
        status: lifecycle::initial_status(state).into(),
        creation_date_time: now,
        last_updated_date_time: now,
        failure_reason: None,
    }));
    store.commit(Entry::AttributionMetrics {
        arn: arn.clone(),
        metrics: req.metrics,
    });
    drop(store);
    lifecycle::start_create(state, arn.clone());
    Ok(MetricAttributionArn {
        metric_attribution_arn: arn,
    })
}

/// The `metricAttributionArn` of a request whose model leaves it optional.
fn required_arn(arn: Option<String>) -> Result<String, ApiError> {
    let arn =
        arn.ok_or_else(|| ApiError::InvalidInput("metricAttributionArn is required".into()))?;
    check_arn("metricAttributionArn", &arn)?;
    Ok(arn)
}

pub fn update(
    state: &AppState,
    req: UpdateMetricAttribution,
) -> Result<MetricAttributionArn, ApiError> {
    let arn = required_arn(req.metric_attribution_arn)?;
    if let Some(output) = &req.metrics_output_config {
        check_output(output)?;
    }
    let mut store = state.lock();
    let mut attribution = get::<MetricAttribution>(&store, &arn)?.clone();
    if attribution.status != ACTIVE {
        return Err(ApiError::InUse(format!(
            "Metric attribution {arn} is in status {}, not ACTIVE",
            attribution.status
        )));
    }
    let mut metrics = store
        .attribution_metrics
        .get(&arn)
        .cloned()
        .unwrap_or_default();
    let remove = req.remove_metrics.unwrap_or_default();
    for name in &remove {
        if !metrics.iter().any(|m| &m.metric_name == name) {
            return Err(ApiError::InvalidInput(format!(
                "removeMetrics: metric attribution {arn} has no metric named {name}"
            )));
        }
    }
    metrics.retain(|m| !remove.contains(&m.metric_name));
    let add = req.add_metrics.unwrap_or_default();
    check_metrics(&store, &attribution.dataset_group_arn, &add, &metrics)?;
    metrics.extend(add);
    if metrics.len() > MAX_METRICS {
        return Err(ApiError::InvalidInput(format!(
            "A metric attribution can have at most {MAX_METRICS} metrics; this update leaves {}",
            metrics.len()
        )));
    }
    if metrics.is_empty() {
        return Err(ApiError::InvalidInput(
            "A metric attribution must keep at least one metric".into(),
        ));
    }
    if let Some(output) = req.metrics_output_config {
        attribution.metrics_output_config = output;
    }
    attribution.last_updated_date_time = store.now();
    store.commit(Entry::MetricAttribution(attribution));
    store.commit(Entry::AttributionMetrics {
        arn: arn.clone(),
        metrics,
    });
    // Values of removed metrics are not published any more.
    if let Some(pending) = store.attribution_pending.get(&arn) {
        let gone: Vec<Tally> = pending
            .iter()
            .filter(|(key, _)| remove.contains(&key.metric))
            .map(|(key, value)| Tally {
                key: key.clone(),
                value: *value,
            })
            .collect();
        if !gone.is_empty() {
            store.commit(Entry::AttributionPublished {
                arn: arn.clone(),
                tallies: gone,
            });
        }
    }
    Ok(MetricAttributionArn {
        metric_attribution_arn: arn,
    })
}

pub fn delete(state: &AppState, req: ByArn<MetricAttribution>) -> Result<Empty, ApiError> {
    let (arn, mut store, _) = begin_delete(state, req)?;
    lifecycle::start_delete(state, &mut store, &arn);
    Ok(Empty {})
}

pub fn list_metrics(state: &AppState, req: ListMetrics) -> Result<ListedMetrics, ApiError> {
    // A bad nextToken is InvalidNextTokenException whatever else the request lacks.
    page(
        Vec::<()>::new(),
        req.next_token
            .as_deref()
            .filter(|t| !t.starts_with("page-")),
        req.max_results,
    )?;
    let arn = required_arn(req.metric_attribution_arn)?;
    let store = state.lock();
    get::<MetricAttribution>(&store, &arn)?;
    let metrics = store
        .attribution_metrics
        .get(&arn)
        .cloned()
        .unwrap_or_default();
    let (metrics, next_token) = page(metrics, req.next_token.as_deref(), req.max_results)?;
    Ok(ListedMetrics {
        metrics,
        next_token,
    })
}

/// The metric attribution of dataset group `dg` that takes new data (not being deleted).
pub fn of_group<'s>(store: &'s Store, dg: &str) -> Option<&'s MetricAttribution> {
    store
        .metric_attributions
        .values()
        .find(|m| m.dataset_group_arn == dg && !is_deleting(&m.status))
}

/// The attribution source of an event: its `eventAttributionSource`, else the campaign or
/// recommender that served its `recommendationId`, else `SOURCE_NAME_UNDEFINED`.
pub fn source_of(store: &Store, explicit: Option<&str>, recommendation_id: Option<&str>) -> String {
    explicit
        .map(str::to_string)
        .or_else(|| recommendation_id.and_then(|id| source_of_recommendation(store, id)))
        .unwrap_or_else(|| SOURCE_NAME_UNDEFINED.to_string())
}

/// An event or imported interaction as attribution needs it.
pub struct Attributable<'a> {
    pub event_type: Option<&'a str>,
    pub item_id: Option<&'a str>,
    pub event_value: Option<f64>,
    /// Epoch seconds.
    pub timestamp: i64,
    pub source: String,
}

/// Which records a tally is for: CloudWatch only takes data less than 14 days old.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Horizon {
    /// Leave out records 14 days old or older, or over 2 hours ahead (CloudWatch takes neither).
    Recent,
    /// Every record (the S3 report of a bulk import).
    All,
}

/// The values `records` contribute to the metrics of metric attribution `arn` (in dataset group
/// `dg`), summed per metric, source and 15-minute window. Records whose item has no value of a
/// `SUM(Items.X)` column contribute nothing to it.
pub fn tally(
    state: &AppState,
    store: &Store,
    arn: &str,
    dg: &str,
    records: &[Attributable<'_>],
    horizon: Horizon,
) -> Vec<Tally> {
    let Some(metrics) = store.attribution_metrics.get(arn) else {
        return Vec::new();
    };
    let compiled: Vec<(&MetricAttribute, Function)> = metrics
        .iter()
        .filter_map(|m| compile(store, dg, m).ok().map(|f| (m, f)))
        .collect();
    if compiled.is_empty() {
        return Vec::new();
    }
    let needs_items = compiled
        .iter()
        .any(|(_, f)| matches!(f, Function::SumItems(_)));
    let catalog = needs_items.then(|| state.serving.catalog(store, dg));
    let now = unix_now();
    let mut sums: BTreeMap<TallyKey, f64> = BTreeMap::new();
    for record in records {
        if horizon == Horizon::Recent
            && (now - record.timestamp >= MAX_AGE_SECS || record.timestamp - now > MAX_AHEAD_SECS)
        {
            continue;
        }
        for (metric, function) in &compiled {
            if record.event_type != Some(metric.event_type.as_str()) {
                continue;
            }
            let value = match function {
                Function::SampleCount => Some(1.0),
                Function::SumEventValue => record.event_value,
                Function::SumItems(column) => match (&catalog, record.item_id) {
                    (Some(catalog), Some(item)) => serving::item_number(catalog, item, column),
                    _ => None,
                },
            };
            let Some(value) = value else { continue };
            let key = TallyKey {
                metric: metric.metric_name.clone(),
                source: record.source.clone(),
                window: record.timestamp.div_euclid(WINDOW_SECS) * WINDOW_SECS,
            };
            *sums.entry(key).or_default() += value;
        }
    }
    sums.into_iter()
        .map(|(key, value)| Tally { key, value })
        .collect()
}

/// The S3 report of `tallies` of metric attribution `arn` (in dataset group `dg`), as AWS
/// documents it ("Publishing metric attribution reports to Amazon S3"):
/// `METRIC_NAME,EVENT_TYPE,VALUE,MATH_FUNCTION,EVENT_ATTRIBUTION_SOURCE,TIMESTAMP`, one row per
/// metric, source and 15-minute window (`TIMESTAMP`: the window's start, epoch seconds).
pub fn s3_report(store: &Store, arn: &str, dg: &str, tallies: &[Tally]) -> Result<String, String> {
    let metrics = store
        .attribution_metrics
        .get(arn)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| format!("writing the metric report: {e}");
    out.write_record([
        "METRIC_NAME",
        "EVENT_TYPE",
        "VALUE",
        "MATH_FUNCTION",
        "EVENT_ATTRIBUTION_SOURCE",
        "TIMESTAMP",
    ])
    .map_err(fail)?;
    for tally in tallies {
        let Some(metric) = metrics.iter().find(|m| m.metric_name == tally.key.metric) else {
            continue;
        };
        let function = compile(store, dg, metric)?;
        let (value, window) = (format!("{:?}", tally.value), tally.key.window.to_string());
        out.write_record([
            metric.metric_name.as_str(),
            metric.event_type.as_str(),
            value.as_str(),
            function.math_name(),
            tally.key.source.as_str(),
            window.as_str(),
        ])
        .map_err(fail)?;
    }
    let bytes = out
        .into_inner()
        .map_err(|e| format!("writing the metric report: {e}"))?;
    String::from_utf8(bytes).map_err(|e| format!("writing the metric report: {e}"))
}

/// Seconds since the epoch.
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expressions_parse_case_insensitively() {
        assert_eq!(parse_expression("SAMPLECOUNT()"), Ok((true, None)));
        assert_eq!(parse_expression(" samplecount( ) "), Ok((true, None)));
        assert_eq!(
            parse_expression("SUM(Items.PRICE)"),
            Ok((false, Some(("Items".into(), "PRICE".into()))))
        );
        assert_eq!(
            parse_expression("sum(interactions.event_value)"),
            Ok((false, Some(("interactions".into(), "event_value".into()))))
        );
        assert!(parse_expression("AVG(Items.PRICE)").is_err());
        assert!(parse_expression("SUM(PRICE)").is_err());
        assert!(parse_expression("SUM(Items.)").is_err());
    }
}
