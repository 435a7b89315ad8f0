//! Recipes: ListRecipes and DescribeRecipe for the recipes the engine supports and the domain
//! use cases (`use_case.rs`) recommenders take.
//! Depends on the wire layer and the engine's recipe list only; never on the store or the router.

use crate::resources::AppState;
use crate::resources::algorithm::{algorithm_arn, feature_transformation_arn};
use crate::resources::shapes::{
    DescribeRecipeRequest, DescribeRecipeResponse, ListRecipesRequest, ListRecipesResponse, Recipe,
    RecipeSummary,
};
use crate::resources::use_case::USE_CASES;
use crate::wire::error::ApiError;
use crate::wire::names::check_arn;
use crate::wire::paging::page;

/// (name, recipe type, description) of every supported recipe.
const RECIPES: &[(&str, &str, &str)] = &[
    (
        "aws-user-personalization",
        "USER_PERSONALIZATION",
        "Personalized recommendations that adapt to live events (PutEvents).",
    ),
    (
        "aws-user-personalization-v2",
        "USER_PERSONALIZATION",
        "Personalized recommendations that adapt to live events (PutEvents).",
    ),
    (
        "aws-personalized-ranking",
        "PERSONALIZED_RANKING",
        "Ranks a given list of items for a user.",
    ),
    (
        "aws-personalized-ranking-v2",
        "PERSONALIZED_RANKING",
        "Ranks a given list of items for a user.",
    ),
    (
        "aws-popularity-count",
        "USER_PERSONALIZATION",
        "Most popular items by number of unique users.",
    ),
    (
        "aws-trending-now",
        "USER_PERSONALIZATION",
        "Items gaining popularity fastest.",
    ),
    (
        "aws-similar-items",
        "RELATED_ITEMS",
        "Items similar to a given item, from co-occurrence and metadata.",
    ),
    (
        "aws-sims",
        "RELATED_ITEMS",
        "Items similar to a given item, from item-to-item co-occurrence.",
    ),
    (
        "aws-item-affinity",
        "USER_SEGMENTATION",
        "Segments of the users most likely to interact with an item (batch segment jobs).",
    ),
    (
        "aws-item-attribute-affinity",
        "USER_SEGMENTATION",
        "Segments of the users most likely to interact with items of given attributes (batch \
         segment jobs).",
    ),
    (
        "aws-next-best-action",
        "PERSONALIZED_ACTIONS",
        "The actions a user will most likely take within the action optimization period \
         (GetActionRecommendations).",
    ),
];

/// Recipes exist since before any resource; a fixed timestamp keeps responses stable.
pub(crate) const RECIPE_DATE: f64 = 1_546_300_800.0;

/// The engine recipe that trains recipe `name` (a custom recipe or a domain use case).
pub fn engine_recipe_of(name: &str) -> Option<personalize_engine::Recipe> {
    if RECIPES.iter().any(|(n, _, _)| *n == name) {
        return personalize_engine::Recipe::from_arn(name);
    }
    USE_CASES
        .iter()
        .find(|u| u.name == name)
        .and_then(|u| personalize_engine::Recipe::from_arn(u.engine_recipe))
}

fn arn_of(name: &str) -> String {
    format!("arn:aws:personalize:::recipe/{name}")
}

pub fn list(_state: &AppState, req: ListRecipesRequest) -> Result<ListRecipesResponse, ApiError> {
    if let Some(provider) = &req.recipe_provider
        && provider != "SERVICE"
    {
        return Err(ApiError::InvalidInput(format!(
            "Invalid recipeProvider {provider}: must be SERVICE"
        )));
    }
    crate::resources::dataset_group::check_domain(req.domain.as_deref())?;
    let custom = RECIPES.iter().map(|(name, _, _)| (*name, None));
    let domain = USE_CASES.iter().map(|u| (u.name, Some(u.domain)));
    let all: Vec<RecipeSummary> = custom
        .chain(domain)
        .filter(|(_, d)| req.domain.is_none() || req.domain.as_deref() == *d)
        .map(|(name, domain)| RecipeSummary {
            name: name.into(),
            recipe_arn: arn_of(name),
            status: "ACTIVE".into(),
            creation_date_time: RECIPE_DATE,
            last_updated_date_time: RECIPE_DATE,
            domain: domain.map(Into::into),
        })
        .collect();
    let (recipes, next_token) = page(all, req.next_token.as_deref(), req.max_results)?;
    Ok(ListRecipesResponse {
        recipes,
        next_token,
    })
}

pub fn describe(
    _state: &AppState,
    req: DescribeRecipeRequest,
) -> Result<DescribeRecipeResponse, ApiError> {
    check_arn("recipeArn", &req.recipe_arn)?;
    let (name, recipe_type, description) = RECIPES
        .iter()
        .copied()
        .chain(
            USE_CASES
                .iter()
                .map(|u| (u.name, u.recipe_type, u.description)),
        )
        .find(|(name, _, _)| arn_of(name) == req.recipe_arn)
        .ok_or_else(|| ApiError::not_found(&req.recipe_arn))?;
    Ok(DescribeRecipeResponse {
        recipe: Recipe {
            name: name.into(),
            recipe_arn: req.recipe_arn.clone(),
            algorithm_arn: Some(algorithm_arn(name)),
            feature_transformation_arn: Some(feature_transformation_arn(name)),
            status: "ACTIVE".into(),
            description: description.into(),
            creation_date_time: RECIPE_DATE,
            recipe_type: recipe_type.into(),
            last_updated_date_time: RECIPE_DATE,
        },
    })
}
