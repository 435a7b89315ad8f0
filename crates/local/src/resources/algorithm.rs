//! Algorithms and feature transformations: DescribeAlgorithm and DescribeFeatureTransformation
//! for the `algorithmArn` and `featureTransformationArn` DescribeRecipe returns
//! (`.../algorithm/<recipe>`, `.../feature-transformation/<recipe>`).
//!
//! An algorithm's hyperparameters are the ones the engine reads for the recipe (see
//! `personalize_engine`'s crate docs), with the ranges it accepts and, where fixed, the default
//! it uses; `isTunable` marks those it searches with `performHPO`. `ease_lambda` has no fixed
//! default (it scales with the data), so it has a range but no default value. No feature
//! transformation takes parameters (`featureTransformationParameters` is refused at
//! CreateSolution), so `defaultParameters` is empty.
//! Depends on the engine's recipe list and the wire layer only.

use std::collections::BTreeMap;

use personalize_engine as engine;

use crate::resources::AppState;
use crate::resources::recipe::{RECIPE_DATE, engine_recipe_of};
use crate::resources::shapes::{
    Algorithm, AlgorithmImage, DefaultCategoricalHyperParameterRange,
    DefaultContinuousHyperParameterRange, DefaultHyperParameterRanges,
    DefaultIntegerHyperParameterRange, DescribeAlgorithmRequest, DescribeAlgorithmResponse,
    DescribeFeatureTransformationRequest, DescribeFeatureTransformationResponse,
    FeatureTransformation,
};
use crate::wire::error::ApiError;
use crate::wire::names::check_arn;

const ALGORITHM_PREFIX: &str = "arn:aws:personalize:::algorithm/";
const FEATURE_TRANSFORMATION_PREFIX: &str = "arn:aws:personalize:::feature-transformation/";

/// The `algorithmArn` of recipe `name`.
pub fn algorithm_arn(name: &str) -> String {
    format!("{ALGORITHM_PREFIX}{name}")
}

/// The `featureTransformationArn` of recipe `name`.
pub fn feature_transformation_arn(name: &str) -> String {
    format!("{FEATURE_TRANSFORMATION_PREFIX}{name}")
}

/// The values a hyperparameter takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Range {
    Integer(i64, i64),
    Continuous(f64, f64),
    Categorical(&'static [&'static str]),
}

/// One hyperparameter the engine reads.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HyperParameter {
    pub name: &'static str,
    pub range: Range,
    /// The value used when none is given (None: it depends on the data).
    pub default: Option<&'static str>,
    /// Searched by `performHPO` when not given.
    pub tunable: bool,
}

const fn hp(
    name: &'static str,
    range: Range,
    default: Option<&'static str>,
    tunable: bool,
) -> HyperParameter {
    HyperParameter {
        name,
        range,
        default,
        tunable,
    }
}

const BOOL: Range = Range::Categorical(&["true", "false"]);

/// User-Personalization and Personalized-Ranking: EASE or iALS over recency-weighted histories.
const FACTORIZATION: &[HyperParameter] = &[
    hp(
        "algorithm",
        Range::Categorical(&["auto", "ease", "ials"]),
        Some("auto"),
        false,
    ),
    hp(
        "memory_budget_mb",
        Range::Continuous(0.0, 1e9),
        Some("4096"),
        false,
    ),
    hp("ease_lambda", Range::Continuous(1e-6, 1e12), None, true),
    hp(
        "hidden_dimension",
        Range::Integer(1, 1024),
        Some("64"),
        false,
    ),
    hp(
        "regularization",
        Range::Continuous(0.0, 1e9),
        Some("5"),
        true,
    ),
    hp("alpha", Range::Continuous(0.0, 1e9), Some("8"), true),
    hp("iterations", Range::Integer(1, 1000), Some("15"), false),
    hp("cg_steps", Range::Integer(1, 100), Some("3"), false),
    hp(
        "training_recency_decay",
        Range::Continuous(0.01, 1.0),
        Some("0.95"),
        false,
    ),
    hp(
        "recency_decay",
        Range::Continuous(0.01, 1.0),
        Some("0.9"),
        true,
    ),
    hp("recency_mask", BOOL, Some("true"), false),
    hp("apply_recency_bias", BOOL, Some("true"), false),
];

const EXCLUDE_INTERACTED: HyperParameter =
    hp("exclude_interacted_items", BOOL, Some("true"), false);

const TREND_FREQUENCY: HyperParameter = hp(
    "trend_discovery_frequency",
    Range::Categorical(&["30 mins", "1 hour", "3 hours", "1 day"]),
    Some("1 day"),
    false,
);

/// SIMS and Similar-Items: item-to-item co-occurrence.
fn neighbours(min_cointeractions: &'static str) -> [HyperParameter; 4] {
    [
        hp(
            "popularity_discount_factor",
            Range::Continuous(0.0, 1.0),
            Some("0.5"),
            false,
        ),
        hp(
            "min_cointeraction_count",
            Range::Integer(0, 1_000_000),
            Some(min_cointeractions),
            false,
        ),
        hp(
            "max_neighbors",
            Range::Integer(1, 10_000),
            Some("250"),
            false,
        ),
        hp(
            "max_user_history_length",
            Range::Integer(2, 100_000),
            Some("200"),
            false,
        ),
    ]
}

/// The hyperparameters the engine reads for `recipe`.
pub fn hyper_parameters(recipe: engine::Recipe) -> Vec<HyperParameter> {
    use engine::Recipe::*;
    match recipe {
        UserPersonalization => {
            let mut all = FACTORIZATION.to_vec();
            all.push(EXCLUDE_INTERACTED);
            all
        }
        // User segments are ranked by the same factorization model.
        PersonalizedRanking | ItemAffinity | ItemAttributeAffinity => FACTORIZATION.to_vec(),
        PopularityCount => vec![EXCLUDE_INTERACTED],
        TrendingNow => vec![TREND_FREQUENCY, EXCLUDE_INTERACTED],
        Sims => neighbours("3").to_vec(),
        SimilarItems => {
            let mut all = neighbours("1").to_vec();
            all.push(hp(
                "metadata_weight_shrinkage",
                Range::Continuous(0.0, 1e9),
                Some("10"),
                false,
            ));
            all
        }
    }
}

/// The Next-Best-Action recipe, whose model is not an [`engine::Recipe`].
const NEXT_BEST_ACTION: &str = "aws-next-best-action";

/// The hyperparameters of the Next-Best-Action model (`next_best_action.rs` checks them).
fn next_best_action_parameters() -> Vec<HyperParameter> {
    vec![hp(
        "action_optimization_period",
        Range::Integer(7, 28),
        Some("14"),
        false,
    )]
}

/// The recipe an algorithm or feature-transformation ARN names, and the hyperparameters its
/// model reads.
fn recipe_named<'a>(
    arn: &'a str,
    prefix: &str,
) -> Result<(&'a str, Vec<HyperParameter>), ApiError> {
    let name = arn
        .strip_prefix(prefix)
        .ok_or_else(|| ApiError::not_found(arn))?;
    if name == NEXT_BEST_ACTION {
        return Ok((name, next_best_action_parameters()));
    }
    engine_recipe_of(name)
        .map(|r| (name, hyper_parameters(r)))
        .ok_or_else(|| ApiError::not_found(arn))
}

pub fn describe(
    _state: &AppState,
    req: DescribeAlgorithmRequest,
) -> Result<DescribeAlgorithmResponse, ApiError> {
    check_arn("algorithmArn", &req.algorithm_arn)?;
    let (name, params) = recipe_named(&req.algorithm_arn, ALGORITHM_PREFIX)?;
    let mut ranges = DefaultHyperParameterRanges {
        integer_hyper_parameter_ranges: Vec::new(),
        continuous_hyper_parameter_ranges: Vec::new(),
        categorical_hyper_parameter_ranges: Vec::new(),
    };
    for p in &params {
        let name = p.name.to_string();
        match p.range {
            Range::Integer(min_value, max_value) => {
                ranges
                    .integer_hyper_parameter_ranges
                    .push(DefaultIntegerHyperParameterRange {
                        name,
                        min_value,
                        max_value,
                        is_tunable: p.tunable,
                    })
            }
            Range::Continuous(min_value, max_value) => ranges
                .continuous_hyper_parameter_ranges
                .push(DefaultContinuousHyperParameterRange {
                    name,
                    min_value,
                    max_value,
                    is_tunable: p.tunable,
                }),
            Range::Categorical(values) => ranges.categorical_hyper_parameter_ranges.push(
                DefaultCategoricalHyperParameterRange {
                    name,
                    values: values.iter().map(|v| v.to_string()).collect(),
                    is_tunable: p.tunable,
                },
            ),
        }
    }
    let defaults: BTreeMap<String, String> = params
        .iter()
        .filter_map(|p| p.default.map(|d| (p.name.to_string(), d.to_string())))
        .collect();
    Ok(DescribeAlgorithmResponse {
        algorithm: Algorithm {
            name: name.to_string(),
            algorithm_arn: req.algorithm_arn.clone(),
            algorithm_image: AlgorithmImage {
                name: format!("personalize-engine {name}"),
                docker_uri: format!("personalize-local/personalize-engine:{name}"),
            },
            default_hyper_parameters: defaults,
            default_hyper_parameter_ranges: ranges,
            training_input_mode: "File".into(),
            creation_date_time: RECIPE_DATE,
            last_updated_date_time: RECIPE_DATE,
        },
    })
}

pub fn describe_feature_transformation(
    _state: &AppState,
    req: DescribeFeatureTransformationRequest,
) -> Result<DescribeFeatureTransformationResponse, ApiError> {
    check_arn("featureTransformationArn", &req.feature_transformation_arn)?;
    let (name, _) = recipe_named(
        &req.feature_transformation_arn,
        FEATURE_TRANSFORMATION_PREFIX,
    )?;
    Ok(DescribeFeatureTransformationResponse {
        feature_transformation: FeatureTransformation {
            name: name.to_string(),
            feature_transformation_arn: req.feature_transformation_arn.clone(),
            default_parameters: BTreeMap::new(),
            creation_date_time: RECIPE_DATE,
            last_updated_date_time: RECIPE_DATE,
            status: "ACTIVE".into(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every default lies in its own range; a name is listed once. (The conformance suite trains
    /// every recipe with its defaults given explicitly.)
    #[test]
    fn defaults_are_values_the_engine_accepts() {
        for recipe in engine::Recipe::ALL {
            let params = hyper_parameters(recipe);
            let mut names = std::collections::HashSet::new();
            for p in &params {
                assert!(names.insert(p.name), "{recipe:?} lists {} twice", p.name);
                if let (Some(d), Range::Categorical(values)) = (p.default, p.range) {
                    assert!(
                        values.contains(&d),
                        "{recipe:?} {}: {d} not a value",
                        p.name
                    );
                }
                if let (Some(d), Range::Integer(lo, hi)) = (p.default, p.range) {
                    let v: i64 = d.parse().expect("integer default");
                    assert!((lo..=hi).contains(&v), "{recipe:?} {}", p.name);
                }
                if let (Some(d), Range::Continuous(lo, hi)) = (p.default, p.range) {
                    let v: f64 = d.parse().expect("number default");
                    assert!(v >= lo && v <= hi, "{recipe:?} {}", p.name);
                }
            }
        }
        assert!(
            hyper_parameters(engine::Recipe::UserPersonalization)
                .iter()
                .any(|p| p.name == "ease_lambda" && p.default.is_none() && p.tunable)
        );
    }
}
