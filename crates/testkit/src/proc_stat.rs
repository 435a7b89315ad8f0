//! CPU time from Linux's `/proc/<pid>/stat` and `/proc/<pid>/task/<tid>/stat`, for benchmarks
//! that report CPU per request or per event next to throughput.

use std::path::Path;
use std::time::Duration;

/// Linux's USER_HZ: the unit of the clock-tick fields of `stat` (100 on every usual build).
const TICKS_PER_SECOND: u64 = 100;

/// What a `stat` line says about a process or thread.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stat<'a> {
    /// The command (or thread) name, field 2 without its parentheses.
    pub comm: &'a str,
    /// User plus system time (fields 14 and 15).
    pub cpu: Duration,
}

/// Parses one `stat` line: `pid (comm) state ...`; comm may hold spaces and parentheses, so it
/// ends at the last `)`.
pub fn parse(stat: &str) -> Option<Stat<'_>> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    // After ')': field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
    let fields: Vec<&str> = stat.get(close + 1..)?.split_whitespace().collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Stat {
        comm: stat.get(open + 1..close)?,
        cpu: Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND),
    })
}

/// The CPU time in the `stat` file at `path` (`/proc/self/stat`, `/proc/<pid>/stat`); None off
/// Linux or when the process is gone.
pub fn cpu(path: impl AsRef<Path>) -> Option<Duration> {
    let stat = std::fs::read_to_string(path).ok()?;
    parse(&stat).map(|s| s.cpu)
}

/// The CPU time of this process's threads whose name starts with `prefix` (tokio names its
/// workers after the runtime's `thread_name`); zero off Linux.
pub fn threads_cpu(prefix: &str) -> Duration {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Duration::ZERO;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
        .filter_map(|stat| {
            parse(&stat)
                .filter(|s| s.comm.starts_with(prefix))
                .map(|s| s.cpu)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_with_spaces_and_parentheses() {
        let line = "4242 (tokio (rt) 1) S 1 4242 4242 0 -1 4194560 500 0 0 0 157 43 0 0 20 0 3 0";
        assert_eq!(
            parse(line),
            Some(Stat {
                comm: "tokio (rt) 1",
                cpu: Duration::from_millis(2000),
            })
        );
        assert_eq!(parse("4242 (short) S 1"), None, "too few fields");
        assert!(cpu("/proc/self/stat").is_some_and(|c| c < Duration::from_secs(3600)));
    }
}
