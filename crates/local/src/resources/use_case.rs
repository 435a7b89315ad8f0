//! Domain use cases: the recipes of VIDEO_ON_DEMAND and ECOMMERCE dataset groups that
//! CreateRecommender takes (`arn:aws:personalize:::recipe/aws-vod-top-picks`, ...), what
//! GetRecommendations needs for each (the AWS developer guide's "use cases" pages), and the
//! engine recipe that serves each one. Plain data: depends on nothing else in the crate.

/// Whether GetRecommendations needs a `userId` or an `itemId` for a use case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    Required,
    /// Used when given (`CurrentUser` filters), never required.
    Optional,
    NotUsed,
}

/// One domain use case and its engine mapping.
#[derive(Clone, Copy, Debug)]
pub struct UseCase {
    /// The recipe name (`aws-vod-top-picks`); the ARN is `arn:aws:personalize:::recipe/<name>`.
    pub name: &'static str,
    /// `VIDEO_ON_DEMAND` or `ECOMMERCE`.
    pub domain: &'static str,
    /// What DescribeRecipe reports as `recipeType`.
    pub recipe_type: &'static str,
    /// The engine recipe that trains and serves it.
    pub engine_recipe: &'static str,
    /// Training uses only events of this type (the one the use case names), else every event.
    pub event_type: Option<&'static str>,
    pub user_id: Need,
    pub item_id: Need,
    /// Items the requesting user interacted with through this event type are left out
    /// automatically (as AWS does for "because you watched X", "more like X", "also viewed").
    pub exclude_seen: Option<&'static str>,
    /// Personalized for the user: `itemExplorationConfig` applies.
    pub explores: bool,
    /// Training needs item records (an Items dataset).
    pub needs_items: bool,
    pub description: &'static str,
}

const fn use_case(
    name: &'static str,
    domain: &'static str,
    engine_recipe: &'static str,
    event_type: Option<&'static str>,
    (user_id, item_id): (Need, Need),
    description: &'static str,
) -> UseCase {
    let related = matches!(item_id, Need::Required);
    UseCase {
        name,
        domain,
        recipe_type: if related {
            "RELATED_ITEMS"
        } else {
            "USER_PERSONALIZATION"
        },
        engine_recipe,
        event_type,
        user_id,
        item_id,
        exclude_seen: None,
        explores: false,
        needs_items: false,
        description,
    }
}

pub const VIDEO_ON_DEMAND: &str = "VIDEO_ON_DEMAND";
pub const ECOMMERCE: &str = "ECOMMERCE";

const USER: (Need, Need) = (Need::Required, Need::NotUsed);
const USER_AND_ITEM: (Need, Need) = (Need::Required, Need::Required);
const ITEM: (Need, Need) = (Need::Optional, Need::Required);

/// Every domain use case, VIDEO_ON_DEMAND first.
pub const USE_CASES: &[UseCase] = &[
    UseCase {
        exclude_seen: Some("Watch"),
        ..use_case(
            "aws-vod-because-you-watched-x",
            VIDEO_ON_DEMAND,
            "aws-sims",
            Some("Watch"),
            USER_AND_ITEM,
            "Videos other users also watched, based on a video you specify (Watch events).",
        )
    },
    UseCase {
        exclude_seen: Some("Watch"),
        needs_items: true,
        ..use_case(
            "aws-vod-more-like-x",
            VIDEO_ON_DEMAND,
            "aws-similar-items",
            None,
            USER_AND_ITEM,
            "Videos similar to a video you specify (co-interactions and item metadata).",
        )
    },
    use_case(
        "aws-vod-most-popular",
        VIDEO_ON_DEMAND,
        "aws-popularity-count",
        Some("Watch"),
        USER,
        "The most watched videos (Watch events).",
    ),
    use_case(
        "aws-vod-trending-now",
        VIDEO_ON_DEMAND,
        "aws-trending-now",
        None,
        USER,
        "Videos gaining popularity fastest.",
    ),
    UseCase {
        explores: true,
        ..use_case(
            "aws-vod-top-picks",
            VIDEO_ON_DEMAND,
            "aws-user-personalization",
            None,
            USER,
            "Personalized video recommendations for a user (Watch and Click events).",
        )
    },
    use_case(
        "aws-ecomm-popular-items-by-views",
        ECOMMERCE,
        "aws-popularity-count",
        Some("View"),
        USER,
        "Most viewed items (View events).",
    ),
    use_case(
        "aws-ecomm-popular-items-by-purchases",
        ECOMMERCE,
        "aws-popularity-count",
        Some("Purchase"),
        USER,
        "Best sellers (Purchase events).",
    ),
    use_case(
        "aws-ecomm-frequently-bought-together",
        ECOMMERCE,
        "aws-sims",
        Some("Purchase"),
        ITEM,
        "Items customers frequently buy together with an item you specify (Purchase events).",
    ),
    UseCase {
        exclude_seen: Some("View"),
        ..use_case(
            "aws-ecomm-customers-who-viewed-x-also-viewed",
            ECOMMERCE,
            "aws-sims",
            Some("View"),
            USER_AND_ITEM,
            "Items customers also viewed, based on an item you specify (View events).",
        )
    },
    UseCase {
        explores: true,
        ..use_case(
            "aws-ecomm-recommended-for-you",
            ECOMMERCE,
            "aws-user-personalization",
            None,
            USER,
            "Personalized item recommendations for a user (View and Purchase events).",
        )
    },
];

const PREFIX: &str = "arn:aws:personalize:::recipe/";

impl UseCase {
    /// `arn:aws:personalize:::recipe/<name>`.
    pub fn arn(&self) -> String {
        format!("{PREFIX}{}", self.name)
    }

    /// The ARN of the engine recipe behind it.
    pub fn engine_recipe_arn(&self) -> String {
        format!("{PREFIX}{}", self.engine_recipe)
    }
}

/// The use case whose recipe ARN is `arn`.
pub fn by_arn(arn: &str) -> Option<&'static UseCase> {
    let name = arn.strip_prefix(PREFIX)?;
    USE_CASES.iter().find(|u| u.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_use_case_maps_to_an_engine_recipe_of_the_right_kind() {
        for u in USE_CASES {
            let recipe = personalize_engine::Recipe::from_arn(&u.engine_recipe_arn())
                .unwrap_or_else(|| panic!("{} maps to an unknown recipe", u.name));
            assert_eq!(
                recipe.is_item_based(),
                u.item_id == Need::Required,
                "{}: item-based use cases need itemId",
                u.name
            );
            assert!(!u.explores || recipe == personalize_engine::Recipe::UserPersonalization);
            assert!(u.name.starts_with(if u.domain == VIDEO_ON_DEMAND {
                "aws-vod-"
            } else {
                "aws-ecomm-"
            }));
            assert_eq!(by_arn(&u.arn()).map(|f| f.name), Some(u.name));
        }
        assert!(by_arn("arn:aws:personalize:::recipe/aws-user-personalization").is_none());
    }
}
