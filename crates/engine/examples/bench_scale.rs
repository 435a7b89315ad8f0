//! Scale check (a program, not a test): trains recipes on synthetic data with power-law item
//! popularity and user activity, and prints fit time, peak memory and request latency.
//!
//! Usage: bench_scale [--items N] [--users N] [--interactions N] [--recipes up,sims,pop]

use std::time::Instant;

use personalize_engine::{
    Catalog, Dataset, Exploration, Interaction, Recipe, RecommendRequest, TrainConfig, train,
};

#[path = "support/rng.rs"]
mod rng;
use rng::Rng;

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|p| args.get(p + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| {
            l.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n_items = arg(&args, "--items", 100_000);
    let n_users = arg(&args, "--users", 50_000);
    let n_inter = arg(&args, "--interactions", 2_000_000);
    let recipes = args
        .iter()
        .position(|a| a == "--recipes")
        .and_then(|p| args.get(p + 1).cloned())
        .unwrap_or_else(|| "up,sims,pop".to_owned());
    let mut rng = Rng(42);
    let t0 = Instant::now();
    // Item ids are shuffled against popularity so that index order means nothing.
    let interactions: Vec<Interaction> = (0..n_inter)
        .map(|k| {
            let u = rng.power_law(n_users);
            let i = (rng.power_law(n_items) * 7919) % n_items;
            Interaction::new(
                &format!("u{u}"),
                &format!("i{i}"),
                1_600_000_000 + k as i64,
                "click",
            )
        })
        .collect();
    let data = Dataset {
        interactions,
        items: Vec::new(),
        users: Vec::new(),
    };
    println!(
        "generated {n_inter} interactions ({n_users} users, {n_items} items) in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
    let catalog = Catalog::default();
    for name in recipes.split(',') {
        let recipe = match name {
            "up" => Recipe::UserPersonalization,
            "sims" => Recipe::Sims,
            "pop" => Recipe::PopularityCount,
            _ => continue,
        };
        let mut cfg = TrainConfig::new(recipe);
        cfg.seed = 1;
        let t0 = Instant::now();
        let model = match train(&data, &cfg) {
            Ok(m) => m,
            Err(e) => {
                println!("{name}: {e}");
                continue;
            }
        };
        let fit = t0.elapsed().as_secs_f64();
        let mut lat: Vec<f64> = (0..200)
            .map(|k| {
                let user = format!("u{}", k * 13 % n_users);
                let item = format!("i{}", k * 17 % n_items);
                let req = RecommendRequest {
                    user_id: Some(&user),
                    item_id: Some(&item),
                    live: &[],
                    num_results: 25,
                    filter: None,
                    catalog: &catalog,
                    exploration: Exploration::NONE,
                    now: 0,
                };
                let t = Instant::now();
                let _ = std::hint::black_box(model.recommend(&req));
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        lat.sort_by(f64::total_cmp);
        println!(
            "{name}: train (HPO off, with metrics) {fit:.1}s, algorithm {}, ndcg@10 {:.4}, top-25 p50 {:.2} ms p99 {:.2} ms, peak RSS so far {:.0} MB",
            model.algorithm(),
            model
                .metrics()
                .get("normalized_discounted_cumulative_gain_at_10")
                .copied()
                .unwrap_or(f64::NAN),
            lat[lat.len() / 2],
            lat[lat.len() * 99 / 100],
            peak_rss_mb()
        );
    }
}
