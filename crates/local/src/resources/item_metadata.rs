//! `metadataColumns` of GetRecommendations and GetPersonalizedRanking, for campaigns and
//! recommenders alike: which Items columns a request may ask for, and each returned item's
//! `metadata` with their values from the dataset group's items.
//! Depends on the store, the wire layer and the engine's catalog; never on the router.

use std::collections::BTreeMap;

use personalize_engine as engine;

use crate::resources::schema::parse_columns;
use crate::resources::shapes::PredictedItem;
use crate::store::Store;
use crate::store::model::{Dataset, DatasetSchema};
use crate::wire::error::ApiError;

/// AWS's documented limit on the columns of one request (the model allows more).
const MAX_COLUMNS: usize = 10;

/// The only dataset type `metadataColumns` takes.
const ITEMS: &str = "ITEMS";

/// The Items columns a request asks for, checked against what serves it: `owner` (the campaign
/// or recommender, named in errors) must have metadata enabled, the only key is `ITEMS`, and
/// every column is a column of dataset group `dg`'s Items schema. `None`: no metadata asked.
pub(crate) fn requested(
    store: &Store,
    dg: &str,
    owner: &str,
    enabled: bool,
    columns: Option<&BTreeMap<String, Vec<String>>>,
) -> Result<Option<Vec<String>>, ApiError> {
    let Some(columns) = columns.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    if !enabled {
        return Err(ApiError::InvalidInput(format!(
            "metadataColumns needs metadata in recommendations: {owner} was not created or \
             updated with enableMetadataWithRecommendations=true"
        )));
    }
    if let Some(other) = columns.keys().find(|k| k.as_str() != ITEMS) {
        return Err(ApiError::InvalidInput(format!(
            "metadataColumns supports the ITEMS dataset only, not {other}"
        )));
    }
    let wanted = columns.get(ITEMS).cloned().unwrap_or_default();
    if wanted.len() > MAX_COLUMNS {
        return Err(ApiError::InvalidInput(format!(
            "metadataColumns.ITEMS names {} columns; at most {MAX_COLUMNS} are allowed",
            wanted.len()
        )));
    }
    let known = items_columns(store, dg).ok_or_else(|| {
        ApiError::InvalidInput(format!(
            "metadataColumns: dataset group {dg} has no Items dataset"
        ))
    })?;
    if let Some(unknown) = wanted
        .iter()
        .find(|c| !known.iter().any(|k| k.eq_ignore_ascii_case(c)))
    {
        return Err(ApiError::InvalidInput(format!(
            "metadataColumns: {unknown} is not a column of the Items dataset of {dg} (columns: \
             {})",
            known.join(", ")
        )));
    }
    Ok(Some(wanted))
}

/// The column names of dataset group `dg`'s Items schema, if it has an Items dataset.
fn items_columns(store: &Store, dg: &str) -> Option<Vec<String>> {
    let dataset: &Dataset = store
        .datasets
        .values()
        .find(|d| d.dataset_group_arn == dg && d.dataset_type.eq_ignore_ascii_case(ITEMS))?;
    let schema: &DatasetSchema = store.schemas.get(&dataset.schema_arn)?;
    let columns = parse_columns(&schema.schema).ok()?;
    Some(columns.into_iter().map(|c| c.name).collect())
}

fn field_text(value: &engine::FieldValue) -> String {
    match value {
        engine::FieldValue::Str(s) => s.clone(),
        engine::FieldValue::Num(n) => n.to_string(),
        engine::FieldValue::List(l) => l.join("|"),
    }
}

/// Sets each item's `metadata` to the values of `columns` (a column the item has no value for is
/// left out, as AWS leaves out nulls).
pub(crate) fn attach(catalog: &engine::Catalog, columns: &[String], items: &mut [PredictedItem]) {
    for item in items {
        let record = catalog.item(&item.item_id);
        let metadata = columns
            .iter()
            .filter_map(|c| {
                let (_, v) = record?
                    .fields
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(c))?;
                Some((c.clone(), field_text(v)))
            })
            .collect();
        item.metadata = Some(metadata);
    }
}
