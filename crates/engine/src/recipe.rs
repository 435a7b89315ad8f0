//! The recipes personalize-local serves, and their Personalize ARNs.

use serde::{Deserialize, Serialize};

/// A Personalize recipe (the `-v2` variants map to the same engine recipe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Recipe {
    UserPersonalization,
    PersonalizedRanking,
    PopularityCount,
    TrendingNow,
    SimilarItems,
    Sims,
    /// USER_SEGMENTATION: users for an item (batch segment jobs only).
    ItemAffinity,
    /// USER_SEGMENTATION: users for items with given attributes (batch segment jobs only).
    ItemAttributeAffinity,
}

const PREFIX: &str = "arn:aws:personalize:::recipe/";

impl Recipe {
    /// All recipes.
    pub const ALL: [Recipe; 8] = [
        Recipe::UserPersonalization,
        Recipe::PersonalizedRanking,
        Recipe::PopularityCount,
        Recipe::TrendingNow,
        Recipe::SimilarItems,
        Recipe::Sims,
        Recipe::ItemAffinity,
        Recipe::ItemAttributeAffinity,
    ];

    /// Parses a recipe ARN (`arn:aws:personalize:::recipe/aws-sims`) or a bare recipe name.
    pub fn from_arn(arn: &str) -> Option<Recipe> {
        let name = arn.strip_prefix(PREFIX).unwrap_or(arn);
        Some(match name {
            "aws-user-personalization" | "aws-user-personalization-v2" => {
                Recipe::UserPersonalization
            }
            "aws-personalized-ranking" | "aws-personalized-ranking-v2" => {
                Recipe::PersonalizedRanking
            }
            "aws-popularity-count" => Recipe::PopularityCount,
            "aws-trending-now" => Recipe::TrendingNow,
            "aws-similar-items" => Recipe::SimilarItems,
            "aws-sims" => Recipe::Sims,
            "aws-item-affinity" => Recipe::ItemAffinity,
            "aws-item-attribute-affinity" => Recipe::ItemAttributeAffinity,
            _ => return None,
        })
    }

    /// The canonical ARN of the recipe.
    pub fn arn(&self) -> &'static str {
        match self {
            Recipe::UserPersonalization => "arn:aws:personalize:::recipe/aws-user-personalization",
            Recipe::PersonalizedRanking => "arn:aws:personalize:::recipe/aws-personalized-ranking",
            Recipe::PopularityCount => "arn:aws:personalize:::recipe/aws-popularity-count",
            Recipe::TrendingNow => "arn:aws:personalize:::recipe/aws-trending-now",
            Recipe::SimilarItems => "arn:aws:personalize:::recipe/aws-similar-items",
            Recipe::Sims => "arn:aws:personalize:::recipe/aws-sims",
            Recipe::ItemAffinity => "arn:aws:personalize:::recipe/aws-item-affinity",
            Recipe::ItemAttributeAffinity => {
                "arn:aws:personalize:::recipe/aws-item-attribute-affinity"
            }
        }
    }

    /// Whether requests name an item (`itemId`) rather than a user.
    pub fn is_item_based(&self) -> bool {
        matches!(self, Recipe::SimilarItems | Recipe::Sims)
    }

    /// Whether it is a USER_SEGMENTATION recipe (answers batch segment jobs, not requests).
    pub fn is_user_segmentation(&self) -> bool {
        matches!(self, Recipe::ItemAffinity | Recipe::ItemAttributeAffinity)
    }
}
