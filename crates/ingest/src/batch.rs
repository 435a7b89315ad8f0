//! Batching: turns decoded events into PutEvents calls of at most 10 events, one user/session
//! per call, keeping each session's events in order. Pure; no I/O.

use crate::record::Event;

/// PutEvents accepts 1 to 10 events per call.
pub const MAX_EVENTS_PER_CALL: usize = 10;

/// One PutEvents call: a user/session and up to ten events, each tagged with `T` (the caller's
/// handle on the record the event came from).
#[derive(Clone, Debug, PartialEq)]
pub struct Call<T> {
    pub user_id: Option<String>,
    pub session_id: String,
    pub events: Vec<(T, Event)>,
}

/// The calls of one session, to be sent one after the other (so the session's order holds);
/// different sessions can be sent concurrently.
pub type SessionCalls<T> = Vec<Call<T>>;

/// (userId, sessionId): what one PutEvents call is about.
type SessionKey = (Option<String>, String);

/// Groups events by (userId, sessionId) in order of first appearance and splits every group into
/// calls of at most [`MAX_EVENTS_PER_CALL`] events.
pub fn plan<T>(events: impl IntoIterator<Item = (T, Event)>) -> Vec<SessionCalls<T>> {
    let mut groups: Vec<(SessionKey, Vec<(T, Event)>)> = Vec::new();
    let mut index: std::collections::HashMap<SessionKey, usize> = std::collections::HashMap::new();
    for (tag, event) in events {
        let key = (event.user_id.clone(), event.session_id.clone());
        let at = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        groups[at].1.push((tag, event));
    }
    groups
        .into_iter()
        .map(|((user_id, session_id), events)| {
            let mut calls = Vec::new();
            let mut events = events.into_iter().peekable();
            while events.peek().is_some() {
                calls.push(Call {
                    user_id: user_id.clone(),
                    session_id: session_id.clone(),
                    events: events.by_ref().take(MAX_EVENTS_PER_CALL).collect(),
                });
            }
            calls
        })
        .collect()
}

/// Reorders a plan into rounds: round k holds the k-th call of every session. Sending rounds
/// one after the other (each round's calls concurrently) keeps every session in order and lets
/// the checkpoint advance through the batch as rounds finish, instead of waiting for whole
/// sessions that span the batch.
pub fn rounds<T>(plan: Vec<SessionCalls<T>>) -> Vec<Vec<Call<T>>> {
    let mut rounds: Vec<Vec<Call<T>>> = Vec::new();
    for session in plan {
        for (k, call) in session.into_iter().enumerate() {
            if rounds.len() <= k {
                rounds.push(Vec::new());
            }
            rounds[k].push(call);
        }
    }
    rounds
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(user: &str, n: usize) -> Event {
        Event {
            user_id: Some(user.into()),
            session_id: user.into(),
            event_type: "click".into(),
            sent_at: 1.0,
            item_id: Some(format!("i{n}")),
            event_value: None,
            properties: None,
            impression: Vec::new(),
            recommendation_id: None,
            event_attribution_source: None,
            event_id: format!("e{n}"),
        }
    }

    #[test]
    fn groups_by_session_in_order_and_caps_at_ten() {
        let mut input = Vec::new();
        for n in 0..25 {
            input.push((n, event(if n % 2 == 0 { "a" } else { "b" }, n)));
        }
        input.push((25, event("c", 25)));
        let plan = plan(input);
        assert_eq!(plan.len(), 3);
        let sizes: Vec<Vec<usize>> = plan
            .iter()
            .map(|s| s.iter().map(|c| c.events.len()).collect())
            .collect();
        assert_eq!(sizes, vec![vec![10, 3], vec![10, 2], vec![1]]);
        let a_tags: Vec<usize> = plan[0]
            .iter()
            .flat_map(|c| c.events.iter().map(|(t, _)| *t))
            .collect();
        assert_eq!(a_tags, (0..25).step_by(2).collect::<Vec<_>>());
        assert!(plan[0].iter().all(|c| c.session_id == "a"));
    }

    #[test]
    fn same_user_different_sessions_are_separate_calls() {
        let mut e = event("a", 1);
        e.session_id = "s2".into();
        let plan = plan(vec![(0, event("a", 0)), (1, e)]);
        assert_eq!(plan.len(), 2);
    }

    #[test]
    fn nothing_in_nothing_out() {
        assert!(plan::<usize>(Vec::new()).is_empty());
        assert!(rounds::<usize>(Vec::new()).is_empty());
    }

    #[test]
    fn rounds_take_the_kth_call_of_every_session() {
        let input: Vec<(usize, Event)> = (0..25)
            .map(|n| (n, event(if n < 21 { "a" } else { "b" }, n)))
            .collect();
        let rounds = rounds(plan(input));
        let shape: Vec<Vec<(String, usize)>> = rounds
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| (c.session_id.clone(), c.events.len()))
                    .collect()
            })
            .collect();
        assert_eq!(
            shape,
            vec![
                vec![("a".to_string(), 10), ("b".to_string(), 4)],
                vec![("a".to_string(), 10)],
                vec![("a".to_string(), 1)],
            ]
        );
        assert_eq!(
            rounds[1][0].events[0].0, 10,
            "round 2 continues session a in order"
        );
    }
}
