//! aws-trending-now: items whose interactions grow fastest from one interval to the next, the
//! intervals ending at the newest training interaction. The trend is computed at training time
//! (a request carries only one user's live events, which say nothing about global growth);
//! the requesting user's history is still excluded from their list.

use crate::TrainError;
use crate::corpus::Sequence;

/// Parses Personalize's `trend_discovery_frequency` ("30 mins", "1 hour", "3 hours", "1 day";
/// a bare number is seconds) into seconds.
pub(crate) fn parse_interval(raw: &str) -> Result<i64, TrainError> {
    let bad = |reason: &str| TrainError::HyperParameter {
        name: "trend_discovery_frequency".to_owned(),
        value: raw.to_owned(),
        reason: reason.to_owned(),
    };
    let s = raw.trim().to_ascii_lowercase();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| bad("expected a number and a unit, e.g. \"1 hour\""))?;
    let unit_secs = match unit.trim() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hour" | "hours" => 3600.0,
        "d" | "day" | "days" => 86400.0,
        _ => return Err(bad("unit must be minutes, hours or days")),
    };
    let secs = (n * unit_secs).round();
    if secs < 1.0 {
        return Err(bad("must be at least one second"));
    }
    Ok(secs as i64)
}

/// Growth score per item: `(current - previous) / (previous + 1)` for items that grew, with the
/// current count as a small tie-breaker; 0 for items that did not grow.
pub(crate) fn growth(n_items: usize, seqs: &[Sequence], interval: i64) -> Vec<f32> {
    let end = seqs
        .iter()
        .filter_map(|s| s.last().map(|&(_, t)| t))
        .max()
        .unwrap_or(0);
    let (cur_start, prev_start) = (end - interval, end - 2 * interval);
    let mut cur = vec![0.0f64; n_items];
    let mut prev = vec![0.0f64; n_items];
    for seq in seqs {
        for &(i, t) in seq {
            if t > cur_start {
                cur[i as usize] += 1.0;
            } else if t > prev_start {
                prev[i as usize] += 1.0;
            }
        }
    }
    let max_cur = cur.iter().copied().fold(1.0f64, f64::max);
    cur.iter()
        .zip(&prev)
        .map(|(&c, &p)| {
            if c > p {
                ((c - p) / (p + 1.0) + 1e-3 * c / max_cur) as f32
            } else {
                0.0
            }
        })
        .collect()
}
