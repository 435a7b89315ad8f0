//! `make bench-quality`: recommendation quality, fit time and serving latency of the engine on
//! MovieLens 100K, next to the numpy/scipy EASE and `implicit` iALS baselines run in the same
//! invocation (hack/bench/baselines.py). Protocols: shared/BENCHMARKS.md. Prints a table and a
//! JSON object (last line).
//!
//! Usage: bench_quality --data DIR [--python PYTHON --baselines hack/bench/baselines.py]

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Instant;

use personalize_engine::metrics::{ndcg_at_k, precision_at_k, recall_at_k, reciprocal_rank_at_k};
use personalize_engine::{
    Catalog, Dataset, Interaction, Model, Recipe, TrainConfig, train_without_metrics,
};
use serde_json::{Value, json};

#[path = "support/movielens.rs"]
mod movielens;
use movielens::{Data, Seq, arg, interactions, load, request, tail_split};

#[derive(Default)]
struct Scores {
    ndcg10: f64,
    recall10: f64,
    precision10: f64,
    mrr25: f64,
    users: usize,
}

impl Scores {
    fn add(&mut self, ranked: &[String], target: &[String]) {
        self.ndcg10 += ndcg_at_k(ranked, target, 10);
        self.recall10 += recall_at_k(ranked, target, 10);
        self.precision10 += precision_at_k(ranked, target, 10);
        self.mrr25 += reciprocal_rank_at_k(ranked, target, 25);
        self.users += 1;
    }
    fn json(&self) -> Value {
        let n = self.users.max(1) as f64;
        json!({"ndcg_at_10": self.ndcg10 / n, "recall_at_10": self.recall10 / n,
               "precision_at_10": self.precision10 / n, "mrr_at_25": self.mrr25 / n, "users": self.users})
    }
}

fn ids(list: Vec<personalize_engine::Scored>) -> Vec<String> {
    list.into_iter().map(|s| s.item_id).collect()
}

/// The top `n` for a user whose history is `hist` (known to the model) plus `live` events. For
/// item-to-item recipes the query is the newest event, and the user's items are removed here
/// (the item request knows no user), so every recipe is scored on the same task.
fn top_n(
    model: &Model,
    user: &str,
    hist: &[String],
    live: &[Interaction],
    n: usize,
    catalog: &Catalog,
) -> Result<Vec<String>, String> {
    if !model.recipe().is_item_based() {
        return Ok(ids(model
            .recommend(&request(user, live, n, catalog))
            .map_err(|e| e.to_string())?));
    }
    let query = live
        .last()
        .map(|e| e.item_id.as_str())
        .or(hist.last().map(String::as_str))
        .unwrap_or("");
    let mut req = request(user, &[], n + hist.len() + live.len(), catalog);
    req.user_id = None;
    req.item_id = Some(query);
    let seen: std::collections::HashSet<&str> = hist
        .iter()
        .map(String::as_str)
        .chain(live.iter().map(|e| e.item_id.as_str()))
        .collect();
    let mut out = ids(model.recommend(&req).map_err(|e| e.to_string())?);
    out.retain(|i| !seen.contains(i.as_str()));
    out.truncate(n);
    Ok(out)
}

fn cfg(recipe: Recipe, hpo: bool, hp: &[(&str, String)]) -> TrainConfig {
    let mut c = TrainConfig::new(recipe);
    c.perform_hpo = hpo;
    c.seed = 42;
    c.hyper_parameters = hp
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    c
}

struct Variant {
    name: &'static str,
    recipe: Recipe,
    hp: Vec<(&'static str, String)>,
    hpo: bool,
}

fn run_variant(v: &Variant, data: &Data, catalog: &Catalog) -> Result<Value, String> {
    // Split A.
    let mut train_rows = Vec::new();
    let mut tests: Vec<(String, Seq, Seq)> = Vec::new();
    for (&u, seq) in &data.by_user {
        let (a, b) = tail_split(seq);
        train_rows.extend(interactions(u, &a));
        tests.push((u.to_string(), a, b));
    }
    let ds = Dataset {
        interactions: train_rows,
        items: data.items.clone(),
        users: data.users.clone(),
    };
    let t0 = Instant::now();
    let model =
        train_without_metrics(&ds, &cfg(v.recipe, v.hpo, &v.hp)).map_err(|e| e.to_string())?;
    let train_hpo_s = t0.elapsed().as_secs_f64();
    let tuned: Vec<(&str, String)> = model
        .hyper_parameters()
        .into_iter()
        .map(|(k, val)| (leak(k), val))
        .collect();
    let fixed = cfg(v.recipe, false, &tuned);
    let mut fits = Vec::new();
    for _ in 0..3 {
        let t0 = Instant::now();
        let _m: Model = train_without_metrics(&ds, &fixed).map_err(|e| e.to_string())?;
        fits.push(t0.elapsed().as_secs_f64());
    }
    fits.sort_by(f64::total_cmp);
    let mut a = Scores::default();
    let mut lat = Vec::new();
    let hist_ids = |a: &Seq| -> Vec<String> { a.iter().map(|(_, i)| i.to_string()).collect() };
    for (u, a_seq, b) in &tests {
        let hist = hist_ids(a_seq);
        let t0 = Instant::now();
        let top10 = top_n(&model, u, &hist, &[], 10, catalog)?;
        lat.push(t0.elapsed().as_secs_f64() * 1e6);
        std::hint::black_box(&top10);
        let ranked = top_n(&model, u, &hist, &[], 25, catalog)?;
        let target: Vec<String> = b.iter().map(|(_, i)| i.to_string()).collect();
        a.add(&ranked, &target);
    }
    lat.sort_by(f64::total_cmp);
    // Replay on the Split A model: events applied as live events, no retraining.
    let (mut hits, mut rr, mut n) = (0usize, 0.0f64, 0usize);
    for (u, a_seq, b) in &tests {
        let uid: u32 = u.parse().map_err(|_| "user id".to_owned())?;
        let events = interactions(uid, b);
        let hist = hist_ids(a_seq);
        for k in 0..events.len() {
            let ranked = top_n(&model, u, &hist, &events[..k], 10, catalog)?;
            n += 1;
            if let Some(p) = ranked.iter().position(|x| *x == events[k].item_id) {
                hits += 1;
                rr += 1.0 / (p + 1) as f64;
            }
        }
    }
    // Split B: 10 folds; test users are cold (their input arrives as live events).
    let mut b_sum: BTreeMap<String, f64> = BTreeMap::new();
    for k in 0..10u32 {
        let mut rows = Vec::new();
        let mut cases = Vec::new();
        for (&u, seq) in &data.by_user {
            if u % 10 == k {
                let (inp, tgt) = tail_split(seq);
                cases.push((u.to_string(), interactions(u, &inp), tgt));
            } else {
                rows.extend(interactions(u, seq));
            }
        }
        let ds = Dataset {
            interactions: rows,
            items: data.items.clone(),
            users: data.users.clone(),
        };
        let m =
            train_without_metrics(&ds, &cfg(v.recipe, v.hpo, &v.hp)).map_err(|e| e.to_string())?;
        let mut s = Scores::default();
        for (u, live, tgt) in &cases {
            let ranked = top_n(&m, u, &[], live, 25, catalog)?;
            let target: Vec<String> = tgt.iter().map(|(_, i)| i.to_string()).collect();
            s.add(&ranked, &target);
        }
        if let Value::Object(obj) = s.json() {
            for (key, val) in obj {
                if key != "users" {
                    *b_sum.entry(key).or_insert(0.0) += val.as_f64().unwrap_or(0.0) / 10.0;
                }
            }
        }
    }
    let mut split_a = a.json();
    split_a["params"] = json!(model.hyper_parameters());
    split_a["fit_seconds"] = json!(fits[1]);
    split_a["train_with_hpo_seconds"] = json!(train_hpo_s);
    split_a["replay_hr_at_10"] = json!(hits as f64 / n.max(1) as f64);
    split_a["replay_mrr_at_10"] = json!(rr / n.max(1) as f64);
    split_a["top10_p50_ms"] = json!(lat[lat.len() / 2] / 1000.0);
    split_a["top10_p99_ms"] = json!(lat[lat.len() * 99 / 100] / 1000.0);
    Ok(json!({"split_a": split_a, "split_b": b_sum, "algorithm": model.algorithm()}))
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let dir = arg(&args, "--data")
        .ok_or("usage: bench_quality --data DIR [--python PY --baselines SCRIPT] [--only NAME]")?;
    let data = load(&dir)?;
    let catalog = Catalog::new(data.items.clone(), data.users.clone());
    let only = arg(&args, "--only");
    // --hp k=v,k=v: extra hyperparameters for the user-personalization variants (experiments).
    let extra: Vec<(&'static str, String)> = arg(&args, "--hp")
        .map(|s| {
            s.split(',')
                .filter_map(|kv| kv.split_once('='))
                .map(|(k, v)| (leak(k.to_owned()), v.to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let mut variants = vec![
        Variant {
            name: "engine popularity-count",
            recipe: Recipe::PopularityCount,
            hp: vec![],
            hpo: false,
        },
        Variant {
            name: "engine trending-now (1 day)",
            recipe: Recipe::TrendingNow,
            hp: vec![],
            hpo: false,
        },
        Variant {
            name: "engine sims (newest item as query)",
            recipe: Recipe::Sims,
            hp: vec![],
            hpo: false,
        },
        Variant {
            name: "engine similar-items (newest item as query)",
            recipe: Recipe::SimilarItems,
            hp: vec![],
            hpo: false,
        },
        Variant {
            name: "engine user-personalization (auto: EASE)",
            recipe: Recipe::UserPersonalization,
            hp: vec![],
            hpo: true,
        },
        Variant {
            name: "engine user-personalization (iALS)",
            recipe: Recipe::UserPersonalization,
            hp: vec![("algorithm", "ials".into())],
            hpo: true,
        },
    ];
    for v in &mut variants {
        if v.recipe == Recipe::UserPersonalization {
            v.hp.extend(extra.iter().cloned());
        }
    }
    let mut results = serde_json::Map::new();
    for v in &variants {
        if only.as_deref().is_some_and(|o| !v.name.contains(o)) {
            continue;
        }
        let t0 = Instant::now();
        let r = run_variant(v, &data, &catalog)?;
        eprintln!(
            "bench_quality: {} done in {:.1}s",
            v.name,
            t0.elapsed().as_secs_f64()
        );
        results.insert(v.name.to_owned(), r);
    }
    let mut baselines = Value::Null;
    if let (Some(py), Some(script)) = (arg(&args, "--python"), arg(&args, "--baselines")) {
        let out = Command::new(py)
            .arg(script)
            .arg(&dir)
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("baselines: {e}"))?;
        if !out.status.success() {
            return Err(format!("baselines.py failed: {}", out.status));
        }
        baselines =
            serde_json::from_slice(&out.stdout).map_err(|e| format!("baselines JSON: {e}"))?;
    }
    // Table.
    println!(
        "{:<44} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {:>10}",
        "model", "A ndcg10", "A rec10", "B ndcg10", "replayHR", "fit s", "p50 ms", "params"
    );
    let row = |name: &str, r: &Value| {
        let a = &r["split_a"];
        let f = |v: &Value| v.as_f64().map_or("-".to_owned(), |x| format!("{x:.4}"));
        println!(
            "{:<44} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9} {}",
            name,
            f(&a["ndcg_at_10"]),
            f(&a["recall_at_10"]),
            f(&r["split_b"]["ndcg_at_10"]),
            f(&a["replay_hr_at_10"]),
            f(&a["fit_seconds"]),
            f(&a["top10_p50_ms"]),
            a["params"]
        );
    };
    for (name, r) in &results {
        row(name, r);
    }
    if let Value::Object(b) = &baselines {
        for (name, r) in b {
            if r.is_object() {
                row(&format!("baseline {name}"), r);
            }
        }
    }
    let ease_fit = baselines["ease_numpy"]["split_a"]["fit_seconds"].as_f64();
    let best_baseline = ["ease_numpy", "ials_implicit"]
        .iter()
        .filter_map(|k| baselines[*k]["split_a"]["ndcg_at_10"].as_f64())
        .fold(f64::NAN, f64::max);
    let up = results.get("engine user-personalization (auto: EASE)");
    let summary = up.map(|r| {
        let a = &r["split_a"];
        json!({
            "up_ndcg10_split_a": a["ndcg_at_10"],
            "best_baseline_ndcg10_split_a": if best_baseline.is_nan() { Value::Null } else { json!(best_baseline) },
            "up_replay_hr10": a["replay_hr_at_10"],
            "fit_ratio_to_numpy_ease": match (a["fit_seconds"].as_f64(), ease_fit) { (Some(x), Some(y)) => json!(x / y), _ => Value::Null },
            "top10_p50_ms": a["top10_p50_ms"],
        })
    });
    if let Some(s) = &summary {
        println!(
            "summary: user-personalization NDCG@10 A {} vs best baseline {}; replay HR@10 {}; fit ratio to numpy EASE {}; top-10 p50 {} ms",
            s["up_ndcg10_split_a"],
            s["best_baseline_ndcg10_split_a"],
            s["up_replay_hr10"],
            s["fit_ratio_to_numpy_ease"],
            s["top10_p50_ms"]
        );
    }
    println!(
        "{}",
        json!({"engine": results, "baselines": baselines, "summary": summary})
    );
    Ok(())
}
