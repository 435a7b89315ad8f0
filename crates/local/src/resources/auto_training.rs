//! Auto-training: the `rate(N days)` schedule (its one parser) and the scheduler that starts a
//! solution's AUTOTRAIN versions when they are due. Depends on the store, the solution and
//! solution-version modules and the training driver; never on the router.

use std::sync::Weak;
use std::time::Duration;

use crate::resources::Shared;
use crate::resources::lifecycle::{ACTIVE, is_creating};
use crate::resources::solution_version::{insert_version, versions_of};
use crate::resources::training;
use crate::store::model::{AutoTrainingConfig, Solution};
use crate::wire::error::ApiError;

/// Days between automatic trainings when the solution gives no schedule.
pub const DEFAULT_DAYS: u32 = 7;

/// The schedule a solution gets when auto-training is on and it gives none.
pub const DEFAULT_SCHEDULE: &str = "rate(7 days)";

/// The days of `rate(N day[s])`, when the expression has that form.
pub fn parse_rate_days(expr: &str) -> Option<u32> {
    expr.strip_prefix("rate(")
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|r| r.strip_suffix(" days").or_else(|| r.strip_suffix(" day")))
        .and_then(|n| n.parse::<u32>().ok())
}

/// Checks `rate(N day[s])` with N in 1..=30.
pub fn check_schedule(config: Option<&AutoTrainingConfig>) -> Result<(), ApiError> {
    let Some(expr) = config.and_then(|c| c.scheduling_expression.as_deref()) else {
        return Ok(());
    };
    match parse_rate_days(expr) {
        Some(1..=30) => Ok(()),
        _ => Err(ApiError::InvalidInput(format!(
            "Invalid schedulingExpression {expr}: must be rate(N days) with N between 1 and 30"
        ))),
    }
}

/// Days between a solution's automatic trainings (its checked schedule, else the default).
fn interval_days(solution: &Solution) -> u32 {
    solution
        .solution_config
        .as_ref()
        .and_then(|c| c.auto_training_config.as_ref())
        .and_then(|a| a.scheduling_expression.as_deref())
        .and_then(parse_rate_days)
        .unwrap_or(DEFAULT_DAYS)
}

/// Auto-training (`performAutoTraining`, AWS's default): a solution's first AUTOTRAIN version
/// `first_delay` after creation, then one every `rate(N days)` after its newest version. Runs
/// every `tick` until the server stops.
pub async fn run(state: Weak<Shared>, first_delay: Duration) {
    let tick = (first_delay / 4).clamp(Duration::from_millis(50), Duration::from_secs(60));
    loop {
        tokio::time::sleep(tick).await;
        let Some(state) = state.upgrade() else { return };
        let due: Vec<String> = {
            let mut store = state.lock();
            let now = store.now();
            let mut due = Vec::new();
            let solutions: Vec<Solution> = store
                .solutions
                .values()
                .filter(|s| s.status == ACTIVE && s.perform_auto_training == Some(true))
                .cloned()
                .collect();
            for solution in solutions {
                let versions = versions_of(&store, &solution.solution_arn);
                if versions.iter().any(|v| is_creating(&v.status)) {
                    continue;
                }
                let next = match versions.first() {
                    None => solution.creation_date_time + first_delay.as_secs_f64(),
                    Some(v) => {
                        v.creation_date_time + f64::from(interval_days(&solution)) * 86_400.0
                    }
                };
                if now >= next {
                    due.push(insert_version(
                        &mut store,
                        &solution,
                        None,
                        "AUTOTRAIN".into(),
                    ));
                }
            }
            due
        };
        for arn in due {
            tracing::info!(%arn, "auto-training started a solution version");
            training::start(&state, arn);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rate_in_days_only() {
        assert_eq!(parse_rate_days("rate(1 day)"), Some(1));
        assert_eq!(parse_rate_days("rate(14 days)"), Some(14));
        assert_eq!(parse_rate_days("rate(2 hours)"), None);
        assert_eq!(parse_rate_days("cron(0 0 * * ? *)"), None);
        assert_eq!(parse_rate_days(DEFAULT_SCHEDULE), Some(DEFAULT_DAYS));
        let config = |e: &str| AutoTrainingConfig {
            scheduling_expression: Some(e.into()),
        };
        assert!(check_schedule(Some(&config("rate(30 days)"))).is_ok());
        assert!(check_schedule(Some(&config("rate(31 days)"))).is_err());
        assert!(check_schedule(Some(&config("rate(0 days)"))).is_err());
        assert!(check_schedule(None).is_ok());
    }
}
