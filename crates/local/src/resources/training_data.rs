//! `trainingDataConfig` (solutions and recommenders): which dataset columns training reads. The
//! check of `excludedDatasetColumns` / `includedDatasetColumns`, and the filter applied to the
//! engine's training data (EVENT_VALUE of interactions, the fields of items and users).
//! Depends on the store's shapes, the wire errors and the engine's data types only.

use std::collections::BTreeMap;

use personalize_engine as engine;

use crate::store::model::TrainingDataConfig;
use crate::wire::error::ApiError;

/// The columns a dataset type cannot leave out of training.
fn required_columns(dataset_type: &str) -> Option<&'static [&'static str]> {
    Some(match dataset_type {
        "INTERACTIONS" => &["USER_ID", "ITEM_ID", "TIMESTAMP", "EVENT_TYPE"],
        "ITEMS" => &["ITEM_ID"],
        "USERS" => &["USER_ID"],
        _ => return None,
    })
}

fn check_columns(
    member: &str,
    columns: Option<&BTreeMap<String, Vec<String>>>,
    excluded: bool,
) -> Result<(), ApiError> {
    for (dataset_type, names) in columns.into_iter().flatten() {
        let required = required_columns(dataset_type).ok_or_else(|| {
            ApiError::InvalidInput(format!(
                "Invalid dataset type {dataset_type} in trainingDataConfig.{member}: must be \
                 INTERACTIONS, ITEMS or USERS"
            ))
        })?;
        if names.len() > 50 {
            return Err(ApiError::InvalidInput(format!(
                "trainingDataConfig.{member}.{dataset_type} may name at most 50 columns"
            )));
        }
        if excluded
            && let Some(name) = names
                .iter()
                .find(|n| required.iter().any(|r| r.eq_ignore_ascii_case(n)))
        {
            return Err(ApiError::InvalidInput(format!(
                "Column {name} of {dataset_type} is required for training and cannot be \
                 excluded"
            )));
        }
    }
    Ok(())
}

/// Checks a `trainingDataConfig`: known dataset types, required columns kept, and not both
/// lists for one dataset type.
pub fn check(training: &TrainingDataConfig) -> Result<(), ApiError> {
    check_columns(
        "excludedDatasetColumns",
        training.excluded_dataset_columns.as_ref(),
        true,
    )?;
    check_columns(
        "includedDatasetColumns",
        training.included_dataset_columns.as_ref(),
        false,
    )?;
    if let (Some(ex), Some(inc)) = (
        &training.excluded_dataset_columns,
        &training.included_dataset_columns,
    ) && let Some(t) = ex.keys().find(|t| inc.contains_key(*t))
    {
        return Err(ApiError::InvalidInput(format!(
            "trainingDataConfig gives both excludedDatasetColumns and \
             includedDatasetColumns for {t}"
        )));
    }
    Ok(())
}

/// Keeps or drops a column of `dataset_type` as `trainingDataConfig` says.
fn keeps(config: Option<&TrainingDataConfig>, dataset_type: &str, column: &str) -> bool {
    let named = |m: Option<&BTreeMap<String, Vec<String>>>| {
        m.and_then(|m| m.get(dataset_type))
            .map(|cols| cols.iter().any(|c| c.eq_ignore_ascii_case(column)))
    };
    if named(config.and_then(|c| c.excluded_dataset_columns.as_ref())) == Some(true) {
        return false;
    }
    named(config.and_then(|c| c.included_dataset_columns.as_ref())) != Some(false)
}

/// Drops what `config` leaves out of training from the engine's data: interactions' EVENT_VALUE,
/// and item and user fields.
pub(crate) fn apply(
    config: Option<&TrainingDataConfig>,
    interactions: &mut [engine::Interaction],
    items: &mut [engine::Record],
    users: &mut [engine::Record],
) {
    if !keeps(config, "INTERACTIONS", "EVENT_VALUE") {
        for i in interactions.iter_mut() {
            i.event_value = None;
        }
    }
    for (records, dataset_type) in [(items, "ITEMS"), (users, "USERS")] {
        for r in records.iter_mut() {
            r.fields.retain(|k, _| keeps(config, dataset_type, k));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(t: &str, names: &[&str]) -> Option<BTreeMap<String, Vec<String>>> {
        Some(BTreeMap::from([(
            t.to_owned(),
            names.iter().map(|n| (*n).to_owned()).collect(),
        )]))
    }

    #[test]
    fn excluded_and_included_columns_filter_the_training_data() {
        let mut interactions = vec![engine::Interaction {
            event_value: Some(3.0),
            ..engine::Interaction::new("u", "i", 1, "click")
        }];
        let record = engine::Record {
            id: "i".into(),
            fields: BTreeMap::from([
                ("GENRES".to_owned(), engine::FieldValue::Str("a".into())),
                ("PRICE".to_owned(), engine::FieldValue::Num(1.0)),
            ]),
            created: None,
        };
        let mut items = vec![record.clone()];
        let mut users = vec![record];
        let config = TrainingDataConfig {
            excluded_dataset_columns: columns("INTERACTIONS", &["event_value"]),
            included_dataset_columns: columns("ITEMS", &["PRICE"]),
        };
        check(&config).expect("valid");
        apply(Some(&config), &mut interactions, &mut items, &mut users);
        assert_eq!(interactions[0].event_value, None);
        assert_eq!(items[0].fields.keys().collect::<Vec<_>>(), ["PRICE"]);
        assert_eq!(users[0].fields.len(), 2, "USERS is not named: all kept");
    }

    #[test]
    fn required_columns_and_both_lists_for_one_type_are_refused() {
        let required = TrainingDataConfig {
            excluded_dataset_columns: columns("INTERACTIONS", &["ITEM_ID"]),
            included_dataset_columns: None,
        };
        assert!(check(&required).is_err());
        let both = TrainingDataConfig {
            excluded_dataset_columns: columns("ITEMS", &["PRICE"]),
            included_dataset_columns: columns("ITEMS", &["GENRES"]),
        };
        assert!(check(&both).is_err());
        let unknown = TrainingDataConfig {
            excluded_dataset_columns: columns("ACTIONS", &["X"]),
            included_dataset_columns: None,
        };
        assert!(check(&unknown).is_err());
    }
}
