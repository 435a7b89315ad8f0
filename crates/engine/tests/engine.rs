//! Behaviour of the engine through its public surface, on small synthetic data generated with a
//! fixed seed: every recipe, real-time updates, cold start, filters, determinism.

use std::collections::{BTreeMap, HashSet};

use personalize_engine::{
    Catalog, Dataset, Exploration, FieldValue, Interaction, Model, RankRequest, Recipe,
    RecommendError, RecommendRequest, Record, Scored, TrainConfig, TrainError, UpdateError,
    parse_filter, train, train_without_metrics, update,
};

const GENRES: [&str; 4] = ["Action", "Comedy", "Drama", "Horror"];
const N_ITEMS: usize = 120;
const N_USERS: usize = 150;
const PER_USER: usize = 20;
const T0: i64 = 1_700_000_000;

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn genre_of(item: usize) -> usize {
    item % 4
}

fn item_id(i: usize) -> String {
    format!("i{i}")
}

/// Users prefer genre `u % 4` (85% of their events), item popularity is skewed within a genre
/// (lower index = more popular), every 4th event is a "watch", the rest "click".
fn synth() -> Dataset {
    let mut rng = Lcg(7);
    let mut interactions = Vec::new();
    for u in 0..N_USERS {
        let mut seen = HashSet::new();
        let mut k = 0;
        while seen.len() < PER_USER {
            let genre = if rng.below(100) < 85 {
                u % 4
            } else {
                rng.below(4)
            };
            // Skewed pick within the genre: min of two uniforms.
            let rank = rng.below(N_ITEMS / 4).min(rng.below(N_ITEMS / 4));
            let item = rank * 4 + genre;
            if !seen.insert(item) {
                continue;
            }
            let event_type = if k % 4 == 3 { "watch" } else { "click" };
            let mut it = Interaction::new(
                &format!("u{u}"),
                &item_id(item),
                T0 + (k as i64) * 3600 + u as i64,
                event_type,
            );
            it.event_value = Some((k % 5) as f64);
            interactions.push(it);
            k += 1;
        }
    }
    let items = (0..N_ITEMS)
        .map(|i| {
            let mut r = Record::new(&item_id(i));
            r.fields.insert(
                "GENRES".into(),
                FieldValue::List(vec![GENRES[genre_of(i)].into()]),
            );
            r.fields.insert("PRICE".into(), FieldValue::Num(i as f64));
            r.created = Some(T0 - 86_400 * 365);
            r
        })
        .collect();
    let users = (0..N_USERS)
        .map(|u| {
            let mut r = Record::new(&format!("u{u}"));
            r.fields
                .insert("AGE".into(), FieldValue::Num(18.0 + (u % 50) as f64));
            r.fields.insert(
                "MEMBERSHIP".into(),
                FieldValue::Str(if u % 2 == 0 { "gold" } else { "basic" }.into()),
            );
            r
        })
        .collect();
    Dataset {
        interactions,
        items,
        users,
    }
}

fn cfg(recipe: Recipe) -> TrainConfig {
    let mut c = TrainConfig::new(recipe);
    c.seed = 11;
    c
}

fn catalog(d: &Dataset) -> Catalog {
    Catalog::new(d.items.clone(), d.users.clone())
}

fn req<'a>(
    user: &'a str,
    live: &'a [Interaction],
    n: usize,
    catalog: &'a Catalog,
) -> RecommendRequest<'a> {
    RecommendRequest {
        user_id: Some(user),
        item_id: None,
        live,
        num_results: n,
        filter: None,
        catalog,
        exploration: Exploration::NONE,
        now: T0 + 100 * 3600,
    }
}

fn item_req<'a>(item: &'a str, n: usize, catalog: &'a Catalog) -> RecommendRequest<'a> {
    RecommendRequest {
        user_id: None,
        item_id: Some(item),
        ..req("", &[], n, catalog)
    }
}

fn ids(list: &[Scored]) -> Vec<String> {
    list.iter().map(|s| s.item_id.clone()).collect()
}

fn genre_share(list: &[Scored], genre: usize) -> f64 {
    let hits = list
        .iter()
        .filter(|s| genre_of(s.item_id[1..].parse().expect("synthetic id")) == genre)
        .count();
    hits as f64 / list.len().max(1) as f64
}

fn history(d: &Dataset, user: &str) -> HashSet<String> {
    d.interactions
        .iter()
        .filter(|i| i.user_id == user)
        .map(|i| i.item_id.clone())
        .collect()
}

#[test]
fn model_is_send_sync_and_serde() {
    fn assert_send_sync<T: Send + Sync + serde::Serialize + serde::de::DeserializeOwned>() {}
    assert_send_sync::<Model>();
    assert_send_sync::<Catalog>();
}

#[test]
fn recipe_arns_round_trip() {
    for r in Recipe::ALL {
        assert_eq!(Recipe::from_arn(r.arn()), Some(r));
    }
    assert_eq!(
        Recipe::from_arn("arn:aws:personalize:::recipe/aws-user-personalization-v2"),
        Some(Recipe::UserPersonalization)
    );
    assert_eq!(
        Recipe::from_arn("arn:aws:personalize:::recipe/aws-personalized-ranking-v2"),
        Some(Recipe::PersonalizedRanking)
    );
    assert_eq!(
        Recipe::from_arn("arn:aws:personalize:::recipe/aws-hrnn"),
        None
    );
}

#[test]
fn too_little_data_is_refused_with_a_reason() {
    let mut d = synth();
    d.interactions.truncate(500);
    let err = train(&d, &cfg(Recipe::PopularityCount)).expect_err("500 interactions are too few");
    assert!(
        matches!(
            err,
            TrainError::NotEnoughData {
                interactions: 500,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("1000"), "{err}");
}

#[test]
fn bad_hyperparameter_is_refused() {
    let d = synth();
    let mut c = cfg(Recipe::UserPersonalization);
    c.hyper_parameters
        .insert("algorithm".into(), "magic".into());
    let err = train(&d, &c).expect_err("unknown algorithm");
    assert!(err.to_string().contains("algorithm"), "{err}");
}

#[test]
fn user_personalization_is_personal_excludes_history_and_reports_metrics() {
    let d = synth();
    let m = train(&d, &cfg(Recipe::UserPersonalization)).expect("trains");
    let metrics = m.metrics();
    for key in [
        "coverage",
        "mean_reciprocal_rank_at_25",
        "normalized_discounted_cumulative_gain_at_5",
        "normalized_discounted_cumulative_gain_at_10",
        "normalized_discounted_cumulative_gain_at_25",
        "precision_at_5",
        "precision_at_10",
        "precision_at_25",
    ] {
        let v = metrics[key];
        assert!((0.0..=1.0).contains(&v), "{key}={v}");
    }
    assert!(
        metrics["normalized_discounted_cumulative_gain_at_10"] > 0.05,
        "{metrics:?}"
    );
    let c = catalog(&d);
    for u in [0, 1, 2, 3] {
        let user = format!("u{u}");
        let recs = m.recommend(&req(&user, &[], 10, &c)).expect("recommends");
        assert_eq!(recs.len(), 10);
        assert!(
            genre_share(&recs, u % 4) >= 0.7,
            "user {u} gets their genre: {:?}",
            ids(&recs)
        );
        let hist = history(&d, &user);
        assert!(
            recs.iter().all(|s| !hist.contains(&s.item_id)),
            "history excluded"
        );
        assert!(
            recs.windows(2).all(|w| w[0].score >= w[1].score),
            "scores descend"
        );
    }
}

#[test]
fn ials_is_chosen_when_the_budget_is_small_and_is_personal() {
    let d = synth();
    let mut c = cfg(Recipe::UserPersonalization);
    c.hyper_parameters
        .insert("memory_budget_mb".into(), "0.01".into());
    let m = train_without_metrics(&d, &c).expect("trains");
    assert_eq!(m.hyper_parameters()["algorithm"], "ials");
    let cat = catalog(&d);
    let recs = m.recommend(&req("u2", &[], 10, &cat)).expect("recommends");
    assert!(genre_share(&recs, 2) >= 0.7, "{:?}", ids(&recs));
}

#[test]
fn hpo_picks_hyperparameters_that_reproduce_the_model() {
    let d = synth();
    let mut c = cfg(Recipe::UserPersonalization);
    c.perform_hpo = true;
    let tuned = train_without_metrics(&d, &c).expect("trains with HPO");
    let mut fixed = cfg(Recipe::UserPersonalization);
    fixed.hyper_parameters = tuned.hyper_parameters();
    let again = train_without_metrics(&d, &fixed).expect("trains with the tuned values");
    let cat = catalog(&d);
    assert_eq!(
        tuned
            .recommend(&req("u5", &[], 10, &cat))
            .expect("recommends"),
        again
            .recommend(&req("u5", &[], 10, &cat))
            .expect("recommends")
    );
}

#[test]
fn training_is_deterministic_for_a_seed_and_survives_serialisation() {
    let d = synth();
    for recipe in [Recipe::UserPersonalization, Recipe::Sims] {
        let a = train(&d, &cfg(recipe)).expect("trains");
        let b = train(&d, &cfg(recipe)).expect("trains");
        assert_eq!(a.metrics(), b.metrics());
        let json = serde_json::to_string(&a).expect("serialises");
        let c: Model = serde_json::from_str(&json).expect("deserialises");
        let bytes = bincode::serde::encode_to_vec(&a, bincode::config::standard())
            .expect("bincode encodes");
        let (e, _): (Model, usize) =
            bincode::serde::decode_from_slice(&bytes, bincode::config::standard())
                .expect("bincode decodes");
        let cat = catalog(&d);
        let r = |m: &Model| {
            if recipe.is_item_based() {
                m.recommend(&item_req("i0", 25, &cat)).expect("recommends")
            } else {
                m.recommend(&req("u7", &[], 25, &cat)).expect("recommends")
            }
        };
        assert_eq!(r(&a), r(&b));
        assert_eq!(ids(&r(&a)), ids(&r(&c)));
        assert_eq!(r(&a), r(&e));
    }
    let mut ials = cfg(Recipe::UserPersonalization);
    ials.hyper_parameters
        .insert("algorithm".into(), "ials".into());
    let a = train_without_metrics(&d, &ials).expect("trains");
    let b = train_without_metrics(&d, &ials).expect("trains");
    let cat = catalog(&d);
    assert_eq!(
        a.recommend(&req("u3", &[], 25, &cat)),
        b.recommend(&req("u3", &[], 25, &cat))
    );
}

fn rank_of(list: &[Scored], item: &str) -> usize {
    list.iter()
        .position(|s| s.item_id == item)
        .unwrap_or(usize::MAX)
}

#[test]
fn live_events_change_the_next_recommendations_without_retraining() {
    let d = synth();
    let cat = catalog(&d);
    for recipe_alg in ["ease", "ials"] {
        let mut c = cfg(Recipe::UserPersonalization);
        c.hyper_parameters
            .insert("algorithm".into(), recipe_alg.into());
        let m = train_without_metrics(&d, &c).expect("trains");
        // u0 likes Action (genre 0); they now watch Comedy (genre 1) items.
        let hist = history(&d, "u0");
        let comedy: Vec<usize> = (0..N_ITEMS)
            .filter(|&i| genre_of(i) == 1 && !hist.contains(&item_id(i)))
            .collect();
        let before = m
            .recommend(&req("u0", &[], N_ITEMS, &cat))
            .expect("recommends");
        let live: Vec<Interaction> = comedy[..6]
            .iter()
            .enumerate()
            .map(|(k, &i)| Interaction::new("u0", &item_id(i), T0 + 1_000_000 + k as i64, "click"))
            .collect();
        let after = m
            .recommend(&req("u0", &live, N_ITEMS, &cat))
            .expect("recommends");
        let probe = item_id(comedy[6]);
        assert!(
            rank_of(&after, &probe) < rank_of(&before, &probe),
            "{recipe_alg}: {probe} moves up"
        );
        let top_before = genre_share(&before[..10], 1);
        let top_after = genre_share(&after[..10], 1);
        assert!(
            top_after > top_before,
            "{recipe_alg}: comedy share {top_before} -> {top_after}"
        );
        assert!(
            after
                .iter()
                .all(|s| !live.iter().any(|e| e.item_id == s.item_id)),
            "live items excluded"
        );
    }
}

#[test]
fn cold_users_get_popular_items_then_personal_ones_after_a_few_events() {
    let d = synth();
    let cat = catalog(&d);
    let m = train_without_metrics(&d, &cfg(Recipe::UserPersonalization)).expect("trains");
    let pop = train_without_metrics(&d, &cfg(Recipe::PopularityCount)).expect("trains");
    let nobody = m
        .recommend(&req("stranger", &[], 10, &cat))
        .expect("recommends");
    let popular = pop
        .recommend(&req("stranger", &[], 10, &cat))
        .expect("recommends");
    assert_eq!(ids(&nobody), ids(&popular), "no history: popular items");
    let live: Vec<Interaction> = [3usize, 7, 11, 15]
        .iter()
        .enumerate()
        .map(|(k, &i)| Interaction::new("newcomer", &item_id(i), T0 + k as i64, "click"))
        .collect();
    let recs = m
        .recommend(&req("newcomer", &live, 10, &cat))
        .expect("recommends");
    assert!(
        genre_share(&recs, 3) >= 0.7,
        "horror fan gets horror: {:?}",
        ids(&recs)
    );
}

#[test]
fn popularity_count_ranks_by_unique_users() {
    let d = synth();
    let m = train(&d, &cfg(Recipe::PopularityCount)).expect("trains");
    let cat = catalog(&d);
    let recs = m
        .recommend(&req("stranger", &[], N_ITEMS, &cat))
        .expect("recommends");
    let mut users: BTreeMap<&str, HashSet<&str>> = BTreeMap::new();
    for i in &d.interactions {
        users.entry(&i.item_id).or_default().insert(&i.user_id);
    }
    let counts: Vec<usize> = recs
        .iter()
        .map(|s| users[s.item_id.as_str()].len())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]), "{counts:?}");
    assert!(m.metrics().contains_key("precision_at_25"));
}

#[test]
fn trending_now_finds_the_item_that_grows_fastest() {
    let mut d = synth();
    let end = d
        .interactions
        .iter()
        .map(|i| i.timestamp)
        .max()
        .expect("data");
    // i119 (rare) is suddenly taken by 30 users in the last hour.
    for u in 0..30 {
        d.interactions.push(Interaction::new(
            &format!("u{u}"),
            "i119",
            end + 600 + u,
            "click",
        ));
    }
    let mut c = cfg(Recipe::TrendingNow);
    c.hyper_parameters
        .insert("trend_discovery_frequency".into(), "1 hour".into());
    let m = train(&d, &c).expect("trains");
    let cat = catalog(&d);
    let recs = m.recommend(&req("u100", &[], 5, &cat)).expect("recommends");
    assert_eq!(recs[0].item_id, "i119");
    c.hyper_parameters
        .insert("trend_discovery_frequency".into(), "fortnightly".into());
    assert!(train(&d, &c).is_err());
}

#[test]
fn sims_neighbours_share_the_genre_and_honour_its_hyperparameters() {
    let d = synth();
    let cat = catalog(&d);
    let m = train(&d, &cfg(Recipe::Sims)).expect("trains");
    let recs = m.recommend(&item_req("i4", 10, &cat)).expect("recommends");
    assert_eq!(recs.len(), 10);
    assert!(genre_share(&recs, 0) >= 0.7, "{:?}", ids(&recs));
    assert!(
        !recs.iter().any(|s| s.item_id == "i4"),
        "the item itself is not its neighbour"
    );
    // Unknown item: popular items.
    let pop = train_without_metrics(&d, &cfg(Recipe::PopularityCount)).expect("trains");
    let unknown = m
        .recommend(&item_req("nope", 10, &cat))
        .expect("recommends");
    assert_eq!(
        ids(&unknown),
        ids(&pop.recommend(&req("x", &[], 10, &cat)).expect("recommends"))
    );
    // A huge min_cointeraction_count leaves no neighbours: popular backfill only.
    let mut strict = cfg(Recipe::Sims);
    strict
        .hyper_parameters
        .insert("min_cointeraction_count".into(), "1000".into());
    let s = train_without_metrics(&d, &strict).expect("trains");
    let r = s.recommend(&item_req("i4", 10, &cat)).expect("recommends");
    assert!(
        r.iter().all(|x| x.score == 0.0),
        "no co-interaction reaches 1000"
    );
    // Full popularity discount favours less popular neighbours than none.
    let avg_pop = |factor: &str| {
        let mut c = cfg(Recipe::Sims);
        c.hyper_parameters
            .insert("popularity_discount_factor".into(), factor.into());
        c.hyper_parameters
            .insert("min_cointeraction_count".into(), "1".into());
        let m = train_without_metrics(&d, &c).expect("trains");
        let r = m.recommend(&item_req("i4", 10, &cat)).expect("recommends");
        r.iter()
            .map(|s| s.item_id[1..].parse::<f64>().expect("id"))
            .sum::<f64>()
            / 10.0
    };
    assert!(
        avg_pop("1.0") > avg_pop("0.0"),
        "higher index = less popular in the generator"
    );
    // Item recipes need an itemId.
    assert!(matches!(
        m.recommend(&req("u1", &[], 10, &cat)),
        Err(RecommendError::ItemIdRequired { .. })
    ));
}

#[test]
fn similar_items_uses_metadata_for_items_with_little_data() {
    let d = synth();
    let mut cat = catalog(&d);
    let m = train(&d, &cfg(Recipe::SimilarItems)).expect("trains");
    let mut new_item = Record::new("fresh-horror");
    new_item
        .fields
        .insert("GENRES".into(), FieldValue::List(vec!["Horror".into()]));
    cat.upsert_item(new_item);
    let recs = m
        .recommend(&item_req("fresh-horror", 10, &cat))
        .expect("recommends");
    assert_eq!(recs.len(), 10);
    assert!(genre_share(&recs, 3) >= 0.9, "{:?}", ids(&recs));
    let known = m.recommend(&item_req("i8", 10, &cat)).expect("recommends");
    assert!(genre_share(&known, 0) >= 0.7, "{:?}", ids(&known));
    // The new item can surface as a neighbour of a known horror item.
    let horror = m.recommend(&item_req("i3", 200, &cat)).expect("recommends");
    assert!(horror.iter().any(|s| s.item_id == "fresh-horror"));
}

#[test]
fn personalized_ranking_orders_known_items_and_puts_unknown_last() {
    let d = synth();
    let m = train(&d, &cfg(Recipe::PersonalizedRanking)).expect("trains");
    let items: Vec<String> = vec![
        "unknown-a".into(),
        item_id(1),
        item_id(2),
        "unknown-b".into(),
        item_id(5),
    ];
    let ranked = m.rank("u2", &[], &items);
    assert_eq!(ranked.len(), 5);
    assert_eq!(ranked[0].item_id, "i2", "drama fan: the drama item first");
    assert_eq!(
        ids(&ranked[3..]),
        vec!["unknown-a".to_owned(), "unknown-b".to_owned()]
    );
    assert!(ranked[3..].iter().all(|s| s.score == 0.0));
    let known_total: f64 = ranked[..3].iter().map(|s| s.score).sum();
    assert!((known_total - 1.0).abs() < 1e-6 || known_total == 0.0);
    // Live events change the ranking.
    let live: Vec<Interaction> = [1usize, 5, 9, 13, 17]
        .iter()
        .map(|&i| Interaction::new("u2", &item_id(i + 20), T0 + 9_999_999, "click"))
        .collect();
    let reranked = m.rank("u2", &live, &items);
    assert_ne!(
        reranked[0].item_id,
        "i2",
        "after comedy events, comedy moves up: {:?}",
        ids(&reranked)
    );
}

#[test]
fn ranking_with_a_filter_leaves_out_the_rejected_items() {
    let d = synth();
    let c = catalog(&d);
    let m = train(&d, &cfg(Recipe::PersonalizedRanking)).expect("trains");
    let items: Vec<String> = (0..12).map(item_id).chain(["unknown".into()]).collect();
    let filter = parse_filter("EXCLUDE ItemID WHERE Items.GENRES IN ($G)").expect("parses");
    let values: BTreeMap<String, String> = [("G".to_owned(), "\"Drama\"".to_owned())].into();
    let request = RankRequest {
        user_id: "u2",
        live: &[],
        items: &items,
        filter: Some((&filter, &values)),
        catalog: &c,
    };
    let ranked = m.rank_filtered(&request).expect("ranks");
    let expected: Vec<String> = items
        .iter()
        .filter(|id| id.as_str() == "unknown" || genre_of(id[1..].parse().expect("id")) != 2)
        .cloned()
        .collect();
    assert_eq!(ranked.len(), expected.len(), "{:?}", ids(&ranked));
    assert!(ids(&ranked).iter().all(|id| expected.contains(id)));
    assert_eq!(ranked.last().map(|s| s.item_id.as_str()), Some("unknown"));
    // Without a filter it is `rank`.
    let plain = m
        .rank_filtered(&RankRequest {
            filter: None,
            ..request
        })
        .expect("ranks");
    assert_eq!(plain, m.rank("u2", &[], &items));
    // An INCLUDE expression without its value is an error.
    let include = parse_filter("INCLUDE ItemID WHERE Items.GENRES IN ($G)").expect("parses");
    let err = m.rank_filtered(&RankRequest {
        filter: Some((&include, &BTreeMap::new())),
        ..request
    });
    assert!(matches!(err, Err(RecommendError::Filter(_))), "{err:?}");
}

#[test]
fn update_folds_new_interactions_and_items_into_the_model() {
    let d = synth();
    let c = catalog(&d);
    let m = train(&d, &cfg(Recipe::UserPersonalization)).expect("trains");
    // New: a user with three horror items, and an item nobody had seen, watched by ten users.
    let mut d2 = d.clone();
    for (k, item) in [3usize, 7, 11].iter().enumerate() {
        d2.interactions.push(Interaction::new(
            "newcomer",
            &item_id(*item),
            T0 + 50 * 3600 + k as i64,
            "click",
        ));
    }
    for u in 0..10 {
        d2.interactions.push(Interaction::new(
            &format!("u{u}"),
            "brand-new",
            T0 + 60 * 3600,
            "click",
        ));
    }
    let m2 = update(&m, &d2).expect("updates");
    assert_eq!(m2.item_count(), m.item_count() + 1);
    assert_eq!(m2.hyper_parameters(), m.hyper_parameters());
    assert_eq!(m2.metrics(), m.metrics());
    // The newcomer's history is in the model now: it is personal and excludes those items,
    // where the previous model could only answer popular items.
    let before = m.recommend(&req("newcomer", &[], 10, &c)).expect("answers");
    let after = m2
        .recommend(&req("newcomer", &[], 10, &c))
        .expect("answers");
    assert_ne!(ids(&before), ids(&after));
    assert!(
        after
            .iter()
            .all(|s| !["i3", "i7", "i11"].contains(&s.item_id.as_str()))
    );
    assert!(genre_share(&after, 3) >= 0.5, "{:?}", ids(&after));
    // A user whose history did not change gets the same list (the weights are kept).
    let user = "u40";
    assert_eq!(
        ids(&m.recommend(&req(user, &[], 10, &c)).expect("answers")),
        ids(&m2.recommend(&req(user, &[], 10, &c)).expect("answers"))
    );
    // Recipes without learnt item weights to keep are refused.
    let pop = train(&d, &cfg(Recipe::PopularityCount)).expect("trains");
    assert!(matches!(
        update(&pop, &d2),
        Err(UpdateError::NotSupported { .. })
    ));
}

#[test]
fn event_type_and_value_threshold_select_the_training_events() {
    let d = synth();
    let mut c = cfg(Recipe::PopularityCount);
    c.event_type = Some("watch".into());
    // 150 users x 5 watches = 750 < 1000.
    assert!(matches!(
        train(&d, &c),
        Err(TrainError::NotEnoughData {
            interactions: 750,
            ..
        })
    ));
    let mut c = cfg(Recipe::PopularityCount);
    c.event_value_threshold = Some(1.0);
    let m = train_without_metrics(&d, &c).expect("trains on values >= 1");
    let cat = catalog(&d);
    // The history that counts excludes value-0 events, so they may be recommended again.
    let u = "u0";
    let zero: HashSet<String> = d
        .interactions
        .iter()
        .filter(|i| i.user_id == u && i.event_value == Some(0.0))
        .map(|i| i.item_id.clone())
        .collect();
    let all = m
        .recommend(&req(u, &[], N_ITEMS, &cat))
        .expect("recommends");
    assert!(all.iter().any(|s| zero.contains(&s.item_id)));
}

#[test]
fn filters_apply_with_personalize_semantics() {
    let d = synth();
    let cat = catalog(&d);
    let m = train_without_metrics(&d, &cfg(Recipe::UserPersonalization)).expect("trains");
    let run =
        |expr: &str, values: &[(&str, &str)], user: &str| -> Result<Vec<Scored>, RecommendError> {
            let f = parse_filter(expr).expect("parses");
            let v: BTreeMap<String, String> = values
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            let mut r = req(user, &[], 20, &cat);
            r.filter = Some((&f, &v));
            m.recommend(&r)
        };
    let genre = |s: &Scored| genre_of(s.item_id[1..].parse().expect("id"));
    let price = |s: &Scored| s.item_id[1..].parse::<f64>().expect("id");
    // INCLUDE with a parameter.
    let r = run(
        "INCLUDE ItemID WHERE Items.GENRES IN ($G)",
        &[("G", "\"Comedy\",\"Drama\"")],
        "u0",
    )
    .expect("ok");
    assert_eq!(r.len(), 20);
    assert!(r.iter().all(|s| [1, 2].contains(&genre(s))));
    // Missing INCLUDE parameter: error. Missing EXCLUDE parameter: ignored.
    assert!(matches!(
        run("INCLUDE ItemID WHERE Items.GENRES IN ($G)", &[], "u0"),
        Err(RecommendError::Filter(_))
    ));
    let unfiltered = m.recommend(&req("u0", &[], 20, &cat)).expect("ok");
    assert_eq!(
        run("EXCLUDE ItemID WHERE Items.GENRES IN ($G)", &[], "u0").expect("ok"),
        unfiltered
    );
    // Numeric comparison.
    assert!(
        run("EXCLUDE ItemID WHERE Items.PRICE > 10", &[], "u0")
            .expect("ok")
            .iter()
            .all(|s| price(s) <= 10.0)
    );
    // Union of includes minus excludes.
    let r = run(
        "INCLUDE ItemID WHERE Items.GENRES IN (\"Action\") | INCLUDE ItemID WHERE Items.GENRES IN (\"Horror\") | EXCLUDE ItemID WHERE Items.PRICE < 40",
        &[],
        "u1",
    )
    .expect("ok");
    assert!(!r.is_empty());
    assert!(
        r.iter()
            .all(|s| [0, 3].contains(&genre(s)) && price(s) >= 40.0)
    );
    // IF CurrentUser: u0 is gold, u1 basic.
    let expr =
        "INCLUDE ItemID WHERE Items.GENRES IN (\"Drama\") IF CurrentUser.MEMBERSHIP = \"gold\"";
    assert!(
        run(expr, &[], "u0")
            .expect("ok")
            .iter()
            .all(|s| genre(s) == 2)
    );
    assert!(
        run(expr, &[], "u1")
            .expect("ok")
            .iter()
            .any(|s| genre(s) != 2)
    );
    // Interactions: re-include what the user clicked (history is otherwise excluded).
    let mut c = cfg(Recipe::UserPersonalization);
    c.hyper_parameters
        .insert("exclude_interacted_items".into(), "false".into());
    let keep = train_without_metrics(&d, &c).expect("trains");
    let f = parse_filter("EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"watch\")")
        .expect("parses");
    let v = BTreeMap::new();
    let mut r = req("u0", &[], N_ITEMS, &cat);
    r.filter = Some((&f, &v));
    let watched: HashSet<String> = d
        .interactions
        .iter()
        .filter(|i| i.user_id == "u0" && i.event_type == "watch")
        .map(|i| i.item_id.clone())
        .collect();
    let out = keep.recommend(&r).expect("ok");
    assert!(out.iter().all(|s| !watched.contains(&s.item_id)));
    // Every catalog item is a candidate: the known ones and the few nobody interacted with
    // (scored from their genre).
    assert!(cat.item_count() > keep.item_count());
    assert_eq!(out.len(), cat.item_count() - watched.len());
    // INCLUDE by interactions asks for interacted items: the history is not excluded then.
    let f = parse_filter("INCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"watch\")")
        .expect("parses");
    let mut r = req("u0", &[], N_ITEMS, &cat);
    r.filter = Some((&f, &v));
    let again: HashSet<String> = m
        .recommend(&r)
        .expect("ok")
        .into_iter()
        .map(|s| s.item_id)
        .collect();
    assert_eq!(again, watched);
}

#[test]
fn exploration_mixes_in_fresh_items_only_when_weighted() {
    let d = synth();
    let mut cat = catalog(&d);
    let m = train_without_metrics(&d, &cfg(Recipe::UserPersonalization)).expect("trains");
    let now = T0 + 100 * 3600;
    for k in 0..5 {
        let mut r = Record::new(&format!("new{k}"));
        r.created = Some(now - 86_400);
        cat.upsert_item(r);
    }
    let mut r = req("u0", &[], 20, &cat);
    r.now = now;
    let plain = m.recommend(&r).expect("ok");
    assert!(
        !plain.iter().any(|s| s.item_id.starts_with("new")),
        "weight 0: none"
    );
    r.exploration = Exploration {
        weight: 0.2,
        item_age_cut_off_days: 30.0,
    };
    let explored = m.recommend(&r).expect("ok");
    assert_eq!(explored.len(), 20);
    let fresh = explored
        .iter()
        .filter(|s| s.item_id.starts_with("new"))
        .count();
    assert_eq!(fresh, 4, "round(0.2 * 20) slots: {:?}", ids(&explored));
    r.exploration = Exploration {
        weight: 0.2,
        item_age_cut_off_days: 0.5,
    };
    let too_old = m.recommend(&r).expect("ok");
    assert!(
        !too_old.iter().any(|s| s.item_id.starts_with("new")),
        "older than the cut-off"
    );
}

#[test]
fn models_do_not_depend_on_the_thread_count() {
    let d = synth();
    let cat = catalog(&d);
    let run = |threads: usize, algorithm: &str| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool");
        let mut c = cfg(Recipe::UserPersonalization);
        c.hyper_parameters
            .insert("algorithm".into(), algorithm.into());
        let m = pool.install(|| train(&d, &c)).expect("trains");
        (
            m.metrics(),
            m.recommend(&req("u9", &[], 25, &cat)).expect("recommends"),
        )
    };
    for algorithm in ["ease", "ials"] {
        assert_eq!(run(1, algorithm), run(3, algorithm), "{algorithm}");
    }
}

/// An item of the catalog that no training interaction mentions.
fn cold_item(id: &str, genre: usize) -> Record {
    let mut r = Record::new(id);
    r.fields.insert(
        "GENRES".into(),
        FieldValue::List(vec![GENRES[genre].into()]),
    );
    r
}

/// The genre of a synthetic item, or of a cold item named `cold-<genre>-<k>`.
fn genre_of_id(id: &str) -> usize {
    match id.strip_prefix("cold-") {
        Some(rest) => rest[..1].parse().expect("cold-<genre>-<k>"),
        None => genre_of(id[1..].parse().expect("synthetic id")),
    }
}

fn share_of(list: &[Scored], genre: usize) -> f64 {
    let hits = list
        .iter()
        .filter(|s| genre_of_id(&s.item_id) == genre)
        .count();
    hits as f64 / list.len().max(1) as f64
}

#[test]
fn a_live_event_on_a_cold_item_moves_recommendations_towards_its_metadata() {
    let d = synth();
    let mut cat = catalog(&d);
    for k in 0..3 {
        cat.upsert_item(cold_item(&format!("cold-3-{k}"), 3));
    }
    for algorithm in ["ease", "ials"] {
        let mut c = cfg(Recipe::UserPersonalization);
        c.hyper_parameters
            .insert("algorithm".into(), algorithm.into());
        let m = train_without_metrics(&d, &c).expect("trains");
        // u0 likes Action; three clicks on cold horror items.
        let before = m.recommend(&req("u0", &[], 10, &cat)).expect("ok");
        let live: Vec<Interaction> = (0..3)
            .map(|k| Interaction::new("u0", &format!("cold-3-{k}"), T0 + 9_000_000 + k, "click"))
            .collect();
        let after = m.recommend(&req("u0", &live, 10, &cat)).expect("ok");
        assert!(
            share_of(&after, 3) >= share_of(&before, 3) + 0.3,
            "{algorithm}: horror {:?} -> {:?}",
            ids(&before),
            ids(&after)
        );
        assert!(
            after.iter().all(|s| !s.item_id.starts_with("cold-")),
            "{algorithm}: the clicked cold items are excluded: {:?}",
            ids(&after)
        );
        // The same clicks on items the catalog does not have change nothing.
        let unknown: Vec<Interaction> = (0..3)
            .map(|k| Interaction::new("u0", &format!("gone-{k}"), T0 + 9_000_000 + k, "click"))
            .collect();
        assert_eq!(
            m.recommend(&req("u0", &unknown, 10, &cat)).expect("ok"),
            before
        );
        // GetPersonalizedRanking counts them too.
        let items: Vec<String> = (0..8).map(item_id).collect();
        let rank = |live: &[Interaction]| {
            let r = m.rank_filtered(&RankRequest {
                user_id: "u0",
                live,
                items: &items,
                filter: None,
                catalog: &cat,
            });
            // The position of the best horror item.
            let ranked = r.expect("ranks");
            ranked
                .iter()
                .position(|s| genre_of_id(&s.item_id) == 3)
                .expect("horror items are in the list")
        };
        assert!(rank(&live) < rank(&[]), "{algorithm}");
    }
}

#[test]
fn a_cold_item_whose_genre_matches_the_session_ranks_for_that_user() {
    let d = synth();
    let mut cat = catalog(&d);
    for genre in 0..4 {
        cat.upsert_item(cold_item(&format!("cold-{genre}-0"), genre));
    }
    let m = train_without_metrics(&d, &cfg(Recipe::UserPersonalization)).expect("trains");
    for user in 0..4usize {
        let u = format!("u{user}");
        let top = m.recommend(&req(&u, &[], 10, &cat)).expect("ok");
        let cold: Vec<String> = ids(&top)
            .into_iter()
            .filter(|id| id.starts_with("cold-"))
            .collect();
        assert_eq!(
            cold,
            vec![format!("cold-{}-0", user % 4)],
            "{u}: {:?}",
            ids(&top)
        );
        assert!(top.iter().all(|s| s.score >= 0.0));
    }
    // Ranked among known items of the other genres, it comes first.
    let mut items: Vec<String> = (0..12).filter(|i| genre_of(*i) != 2).map(item_id).collect();
    items.push("cold-2-0".into());
    items.push("cold-0-0".into());
    let ranked = m
        .rank_filtered(&RankRequest {
            user_id: "u2",
            live: &[],
            items: &items,
            filter: None,
            catalog: &cat,
        })
        .expect("ranks");
    assert_eq!(ranked[0].item_id, "cold-2-0", "{:?}", ids(&ranked));
    assert!(ranked[0].score > 0.0);
    // `rank` without a catalog knows no cold item: they come last.
    let plain = m.rank("u2", &[], &items);
    assert_eq!(
        ids(&plain[plain.len() - 2..]),
        vec!["cold-2-0".to_owned(), "cold-0-0".to_owned()]
    );
}

#[test]
fn exploration_picks_cold_items_without_timestamps_best_first() {
    let d = synth();
    let mut cat = catalog(&d);
    let m = train_without_metrics(&d, &cfg(Recipe::UserPersonalization)).expect("trains");
    let now = T0 + 100 * 3600;
    // Cold items without metadata: never scored, only explored.
    let mut bare = Record::new("cold-bare");
    cat.upsert_item(bare.clone());
    bare.id = "cold-old".into();
    bare.created = Some(now - 90 * 86_400);
    cat.upsert_item(bare);
    let mut r = req("u0", &[], 10, &cat);
    r.now = now;
    let plain = m.recommend(&r).expect("ok");
    assert!(!ids(&plain).contains(&"cold-bare".to_owned()), "weight 0");
    r.exploration = Exploration::default();
    let explored = m.recommend(&r).expect("ok");
    assert_eq!(explored.len(), 10);
    assert!(
        ids(&explored).contains(&"cold-bare".to_owned()),
        "an item with neither a creation time nor interactions is new: {:?}",
        ids(&explored)
    );
    assert!(
        !ids(&explored).contains(&"cold-old".to_owned()),
        "created before the cut-off"
    );
    // Among fresh items, the user's score decides (one result, weight 1: it is explored): an
    // action fan (u0) gets the action cold item, a horror fan (u3) the horror one.
    cat.upsert_item(cold_item("cold-0-x", 0));
    cat.upsert_item(cold_item("cold-3-x", 3));
    for (user, expected) in [("u0", "cold-0-x"), ("u3", "cold-3-x")] {
        let mut r = req(user, &[], 1, &cat);
        r.now = now;
        r.exploration = Exploration {
            weight: 1.0,
            item_age_cut_off_days: 30.0,
        };
        assert_eq!(ids(&m.recommend(&r).expect("ok")), vec![expected], "{user}");
    }
}

#[test]
fn warm_answers_do_not_change_without_cold_items() {
    let d = synth();
    // The catalog of the items that have interactions: no cold item.
    let interacted: HashSet<&str> = d.interactions.iter().map(|i| i.item_id.as_str()).collect();
    let warm_items = Catalog::new(
        d.items
            .iter()
            .filter(|r| interacted.contains(r.id.as_str()))
            .cloned()
            .collect(),
        d.users.clone(),
    );
    assert!(warm_items.item_count() < N_ITEMS, "synth has cold items");
    let empty = Catalog::default();
    let mut bare_cold = warm_items.clone();
    // A cold item without metadata has no representation; without exploration it changes nothing.
    bare_cold.upsert_item(Record::new("cold-bare"));
    for recipe in [Recipe::UserPersonalization, Recipe::PersonalizedRanking] {
        let m = train_without_metrics(&d, &cfg(recipe)).expect("trains");
        for u in ["u0", "u5", "u42", "nobody"] {
            let live = [Interaction::new(u, "cold-bare", T0 + 9_000_000, "click")];
            let a = m.recommend(&req(u, &[], 15, &warm_items)).expect("ok");
            assert_eq!(a, m.recommend(&req(u, &[], 15, &empty)).expect("ok"));
            assert_eq!(a, m.recommend(&req(u, &live, 15, &bare_cold)).expect("ok"));
        }
    }
}

#[test]
fn a_cold_item_with_only_a_description_is_represented_by_its_words() {
    let d = synth();
    const WORDS: [&str; 4] = [
        "explosions, a car chase and a lone hero",
        "jokes, laughs and a wedding gone wrong",
        "a family in tears before the courtroom",
        "ghosts haunt the blood-stained mansion",
    ];
    let describe = |r: &Record, words: &str| {
        let mut r = r.clone();
        r.fields
            .insert("DESCRIPTION".into(), FieldValue::Str(words.into()));
        r
    };
    let items: Vec<Record> = d
        .items
        .iter()
        .enumerate()
        .map(|(i, r)| describe(r, WORDS[genre_of(i)]))
        .collect();
    let mut cat = Catalog::new(items, d.users.clone());
    // No genre: only a text that shares words with the horror items.
    let mut ghost = Record::new("cold-3-text");
    ghost.fields.insert(
        "DESCRIPTION".into(),
        FieldValue::Str("The ghosts of an old mansion".into()),
    );
    cat.upsert_item(ghost);
    let m = train_without_metrics(&d, &cfg(Recipe::UserPersonalization)).expect("trains");
    let before = m.recommend(&req("u0", &[], 10, &cat)).expect("ok");
    let live = [Interaction::new(
        "u0",
        "cold-3-text",
        T0 + 9_000_000,
        "click",
    )];
    let after = m.recommend(&req("u0", &live, 10, &cat)).expect("ok");
    assert!(
        share_of(&after, 3) > share_of(&before, 3),
        "{:?} -> {:?}",
        ids(&before),
        ids(&after)
    );
}
