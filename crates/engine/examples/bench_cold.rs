//! `make bench-cold`: new (cold) items on MovieLens 100K, served from their metadata. Prints a
//! table and a JSON object (last line). A program, not a timed test.
//!
//! Protocol:
//! - 10% of the items (seeded shuffle) are held out of training; the catalog keeps all items with
//!   their genres (GENRES) and release year (CREATION_TIMESTAMP, January 1st of the year).
//! - The model (user-personalization, default hyperparameters) trains on every interaction with
//!   the other items.
//! - Test users: those with at least 4 interactions on held-out items. In time order, the first
//!   half of those are sent as live events (PutEvents); the rest are the targets.
//! - Then one top-10 per user: hit rate (at least one target in it) and recall@10
//!   (hits / min(targets, 10)), for
//!   - engine, as served: GetRecommendations (warm and cold items compete; no exploration);
//!   - engine, as served with Personalize's default exploration (weight 0.3, 30 days), the
//!     held-out items without CREATION_TIMESTAMP (so they are new: explored, best first);
//!   - engine among held-out items: GetPersonalizedRanking of the held-out items not clicked;
//!   - baseline genre match, among the same held-out items: held-out items have no interactions,
//!     so no popularity; it ranks them by genre overlap with the clicked items (sum of Jaccard of
//!     genres), ties by newer release year, then id;
//!   - the engine before this feature, as served: it ignored the live events and never listed
//!     held-out items (the catalog without them gives the same answers), so it scores 0.
//! - Split A (shared/BENCHMARKS.md, user-personalization with HPO as in bench-quality): NDCG@10
//!   with the full catalog (items only in the test part are cold and now scored) and without the
//!   feature (the catalog without the items the model does not know: what was served before),
//!   and the top-10 latency ratio of the two.
//!
//! Usage: bench_cold --data DIR [--seed 42]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Instant;

use personalize_engine::metrics::{hits_at_k, ndcg_at_k, recall_at_k};
use personalize_engine::{
    Catalog, Dataset, Exploration, Model, RankRequest, Recipe, RecommendRequest, Record,
    TrainConfig, train_without_metrics,
};
use serde_json::{Value, json};

#[path = "support/movielens.rs"]
mod movielens;
#[path = "support/rng.rs"]
mod rng;
use movielens::{Data, Movie, arg, interactions, load, request, tail_split};
use rng::Rng;

/// Epoch seconds of January 1st of `year` (proleptic Gregorian).
fn january_first(year: i64) -> i64 {
    let y = year - 1;
    let days =
        365 * (year - 1970) + (y / 4 - y / 100 + y / 400) - (1969 / 4 - 1969 / 100 + 1969 / 400);
    days * 86_400
}

fn recommend(model: &Model, req: &RecommendRequest<'_>) -> Result<Vec<String>, String> {
    Ok(model
        .recommend(req)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|s| s.item_id)
        .collect())
}

#[derive(Default)]
struct HitRate {
    hits: usize,
    recall: f64,
    users: usize,
}

impl HitRate {
    fn add(&mut self, top10: &[String], targets: &[String]) {
        self.hits += usize::from(hits_at_k(top10, targets, 10) > 0);
        self.recall += recall_at_k(top10, targets, 10);
        self.users += 1;
    }
    fn json(&self) -> Value {
        let n = self.users.max(1) as f64;
        json!({"hit_rate_at_10": self.hits as f64 / n, "recall_at_10": self.recall / n, "users": self.users})
    }
}

fn jaccard(a: &[String], b: &[String]) -> f64 {
    let common = a.iter().filter(|g| b.contains(g)).count();
    let union = a.len() + b.len() - common;
    if union == 0 {
        0.0
    } else {
        common as f64 / union as f64
    }
}

/// The cold-item protocol (see the module docs).
fn cold_items(data: &Data, seed: u64) -> Result<Value, String> {
    let mut order: Vec<u32> = data.movies.iter().map(|m| m.id).collect();
    let mut rng = Rng(seed);
    for k in (1..order.len()).rev() {
        order.swap(k, (rng.next_u64() % (k as u64 + 1)) as usize);
    }
    let held: HashSet<u32> = order[..order.len().div_ceil(10)].iter().copied().collect();
    let items: Vec<Record> = data
        .items
        .iter()
        .zip(&data.movies)
        .map(|(r, m)| {
            let mut r = r.clone();
            r.created = m.year.map(january_first);
            r
        })
        .collect();
    let catalog = Catalog::new(items.clone(), data.users.clone());
    // The same, but the held-out items without a creation time: new, hence explored.
    let undated = Catalog::new(
        items
            .iter()
            .map(|r| {
                let mut r = r.clone();
                if r.id.parse().is_ok_and(|i: u32| held.contains(&i)) {
                    r.created = None;
                }
                r
            })
            .collect(),
        data.users.clone(),
    );
    let without = Catalog::new(
        items
            .iter()
            .filter(|r| r.id.parse().is_ok_and(|i: u32| !held.contains(&i)))
            .cloned()
            .collect(),
        data.users.clone(),
    );
    let mut rows = Vec::new();
    for (&u, seq) in &data.by_user {
        let warm: Vec<(i64, u32)> = seq
            .iter()
            .copied()
            .filter(|(_, i)| !held.contains(i))
            .collect();
        rows.extend(interactions(u, &warm));
    }
    let ds = Dataset {
        interactions: rows,
        items,
        users: data.users.clone(),
    };
    let mut cfg = TrainConfig::new(Recipe::UserPersonalization);
    cfg.seed = 42;
    let model = train_without_metrics(&ds, &cfg).map_err(|e| e.to_string())?;
    let movies: HashMap<u32, &Movie> = data.movies.iter().map(|m| (m.id, m)).collect();
    let (mut served, mut explored, mut served_without, mut ranked, mut baseline) = (
        HitRate::default(),
        HitRate::default(),
        HitRate::default(),
        HitRate::default(),
        HitRate::default(),
    );
    let mut cold_listed = 0usize;
    for (&u, seq) in &data.by_user {
        let cold: Vec<(i64, u32)> = seq
            .iter()
            .copied()
            .filter(|(_, i)| held.contains(i))
            .collect();
        if cold.len() < 4 {
            continue;
        }
        let (clicked, targets) = cold.split_at(cold.len() / 2);
        let live = interactions(u, &clicked.to_vec());
        let targets: Vec<String> = targets.iter().map(|(_, i)| i.to_string()).collect();
        let user = u.to_string();
        let now = clicked.last().map_or(0, |&(t, _)| t);
        let top = recommend(
            &model,
            &RecommendRequest {
                now,
                ..request(&user, &live, 10, &catalog)
            },
        )?;
        cold_listed += top
            .iter()
            .filter(|id| id.parse().is_ok_and(|i: u32| held.contains(&i)))
            .count();
        served.add(&top, &targets);
        let exploring = RecommendRequest {
            now,
            exploration: Exploration::default(),
            ..request(&user, &live, 10, &undated)
        };
        explored.add(&recommend(&model, &exploring)?, &targets);
        served_without.add(
            &recommend(
                &model,
                &RecommendRequest {
                    now,
                    ..request(&user, &live, 10, &without)
                },
            )?,
            &targets,
        );
        let clicked_ids: HashSet<u32> = clicked.iter().map(|&(_, i)| i).collect();
        let mut candidates: Vec<String> = order[..held.len()]
            .iter()
            .filter(|i| !clicked_ids.contains(i))
            .map(u32::to_string)
            .collect();
        candidates.sort();
        let engine: Vec<String> = model
            .rank_filtered(&RankRequest {
                user_id: &user,
                live: &live,
                items: &candidates,
                filter: None,
                catalog: &catalog,
            })
            .map_err(|e| e.to_string())?
            .into_iter()
            .take(10)
            .map(|s| s.item_id)
            .collect();
        ranked.add(&engine, &targets);
        let session: Vec<&Vec<String>> = clicked
            .iter()
            .filter_map(|(_, i)| movies.get(i).map(|m| &m.genres))
            .collect();
        let mut by_genre: Vec<(f64, i64, &String)> = candidates
            .iter()
            .filter_map(|id| {
                let m = movies.get(&id.parse().ok()?)?;
                let overlap: f64 = session.iter().map(|g| jaccard(&m.genres, g)).sum();
                Some((overlap, m.year.unwrap_or(0), id))
            })
            .collect();
        by_genre.sort_by(|a, b| b.0.total_cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(b.2)));
        let genre_top: Vec<String> = by_genre.iter().take(10).map(|x| x.2.clone()).collect();
        baseline.add(&genre_top, &targets);
    }
    let users = served.users.max(1) as f64;
    Ok(json!({
        "held_out_items": held.len(),
        "test_users": served.users,
        "engine_served": served.json(),
        "engine_served_held_out_items_per_list": cold_listed as f64 / users,
        "engine_served_exploring_undated": explored.json(),
        "without_feature_served": served_without.json(),
        "engine_among_held_out": ranked.json(),
        "baseline_genre_match_among_held_out": baseline.json(),
    }))
}

/// Split A NDCG@10 of user-personalization with and without cold items in the catalog.
fn split_a(data: &Data) -> Result<Value, String> {
    let mut rows = Vec::new();
    let mut tests = Vec::new();
    for (&u, seq) in &data.by_user {
        let (a, b) = tail_split(seq);
        rows.extend(interactions(u, &a));
        tests.push((u.to_string(), b));
    }
    let ds = Dataset {
        interactions: rows,
        items: data.items.clone(),
        users: data.users.clone(),
    };
    let mut cfg = TrainConfig::new(Recipe::UserPersonalization);
    cfg.seed = 42;
    cfg.perform_hpo = true;
    let model = train_without_metrics(&ds, &cfg).map_err(|e| e.to_string())?;
    let full = Catalog::new(data.items.clone(), data.users.clone());
    let known: Vec<Record> = data
        .items
        .iter()
        .filter(|r| is_known(&model, &r.id))
        .cloned()
        .collect();
    let cold = data.items.len() - known.len();
    let without = Catalog::new(known, data.users.clone());
    let mut out = BTreeMap::new();
    for (name, catalog) in [("with", &full), ("without", &without)] {
        let (mut ndcg, mut lat) = (0.0, Vec::new());
        for (u, b) in &tests {
            let t0 = Instant::now();
            let top = recommend(&model, &request(u, &[], 10, catalog))?;
            lat.push(t0.elapsed().as_secs_f64());
            std::hint::black_box(&top);
            let ranked = recommend(&model, &request(u, &[], 25, catalog))?;
            let target: Vec<String> = b.iter().map(|(_, i)| i.to_string()).collect();
            ndcg += ndcg_at_k(&ranked, &target, 10);
        }
        lat.sort_by(f64::total_cmp);
        out.insert(
            name,
            json!({"ndcg_at_10": ndcg / tests.len() as f64, "top10_p50_ms": lat[lat.len() / 2] * 1e3}),
        );
    }
    Ok(json!({"cold_items_in_catalog": cold, "with": out["with"], "without": out["without"]}))
}

/// Whether the model knows `id` (a user with no history ranks known items by popularity > 0).
fn is_known(model: &Model, id: &str) -> bool {
    model.rank("", &[], &[id.to_owned()])[0].score > 0.0
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let dir = arg(&args, "--data").ok_or("usage: bench_cold --data DIR [--seed 42]")?;
    let seed = arg(&args, "--seed")
        .and_then(|s| s.parse().ok())
        .unwrap_or(42u64);
    let data = load(&dir)?;
    let t0 = Instant::now();
    let cold = cold_items(&data, seed)?;
    eprintln!(
        "bench_cold: cold items done in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    let t0 = Instant::now();
    let a = split_a(&data)?;
    eprintln!(
        "bench_cold: split A done in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    let f = |v: &Value| v.as_f64().map_or("-".to_owned(), |x| format!("{x:.4}"));
    println!(
        "cold items: {} held out of training, {} test users (>= 4 held-out interactions: first half sent as live events, the rest are targets)",
        cold["held_out_items"], cold["test_users"]
    );
    println!("{:<58} {:>9} {:>9}", "top-10", "HR@10", "recall@10");
    for (name, key) in [
        ("engine, as served (warm and cold compete)", "engine_served"),
        (
            "engine, as served, exploration 0.3, held-out items undated",
            "engine_served_exploring_undated",
        ),
        (
            "engine before this feature, as served",
            "without_feature_served",
        ),
        (
            "engine among held-out items (personalized ranking)",
            "engine_among_held_out",
        ),
        (
            "baseline genre match among held-out items",
            "baseline_genre_match_among_held_out",
        ),
    ] {
        println!(
            "{:<58} {:>9} {:>9}",
            name,
            f(&cold[key]["hit_rate_at_10"]),
            f(&cold[key]["recall_at_10"])
        );
    }
    println!(
        "held-out items per served list: {}",
        f(&cold["engine_served_held_out_items_per_list"])
    );
    let with = a["with"]["ndcg_at_10"].as_f64().unwrap_or(f64::NAN);
    let without = a["without"]["ndcg_at_10"].as_f64().unwrap_or(f64::NAN);
    let latency = a["with"]["top10_p50_ms"].as_f64().unwrap_or(f64::NAN)
        / a["without"]["top10_p50_ms"].as_f64().unwrap_or(f64::NAN);
    println!(
        "split A NDCG@10 ({} cold items in the catalog): with {with:.4}, without {without:.4} ({:+.2}%); top-10 p50 ratio with/without {latency:.2}",
        a["cold_items_in_catalog"],
        (with / without - 1.0) * 100.0
    );
    println!(
        "{}",
        json!({"cold_items": cold, "split_a": a, "summary": {
            "engine_hr10_among_held_out": cold["engine_among_held_out"]["hit_rate_at_10"],
            "baseline_hr10": cold["baseline_genre_match_among_held_out"]["hit_rate_at_10"],
            "split_a_ndcg10_change": with / without - 1.0,
            "top10_p50_ratio": latency,
        }})
    );
    Ok(())
}
