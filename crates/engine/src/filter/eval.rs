//! Filter evaluation: `$PARAMETER` binding and `IF` guards resolved once per request into a
//! [`BoundFilter`], then a cheap per-item test.

use std::collections::BTreeMap;

use thiserror::Error;

use super::{Action, Condition, Filter, Op, Operand, Predicate, Subject};
use crate::data::{FieldValue, Record};

/// Why a filter cannot be applied with the given values.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FilterValueError {
    #[error("missing value for filter parameter ${name}, which an INCLUDE expression requires")]
    MissingParameter { name: String },
    #[error("invalid value for filter parameter ${name}: {reason}")]
    InvalidParameter { name: String, reason: String },
}

/// A filter with its parameters bound and its `IF` guards decided, for one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BoundFilter {
    includes: Vec<Condition>,
    excludes: Vec<Condition>,
    uses_interactions: bool,
    includes_interactions: bool,
}

/// Splits a filterValues entry (`"\"a\",\"b\""`, or `5`) into values.
fn split_values(name: &str, raw: &str) -> Result<Vec<Operand>, FilterValueError> {
    let mut out = Vec::new();
    let mut chars = raw.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&c) = chars.peek() else { break };
        if c == '"' || c == '\'' {
            chars.next();
            let mut s = String::new();
            let mut closed = false;
            while let Some(ch) = chars.next() {
                if ch == '\\' {
                    if let Some(n) = chars.next() {
                        s.push(n);
                    }
                } else if ch == c {
                    closed = true;
                    break;
                } else {
                    s.push(ch);
                }
            }
            if !closed {
                return Err(FilterValueError::InvalidParameter {
                    name: name.to_owned(),
                    reason: "unterminated quoted value".to_owned(),
                });
            }
            out.push(Operand::Str(s));
        } else {
            let mut s = String::new();
            while let Some(&ch) = chars.peek() {
                if ch == ',' {
                    break;
                }
                s.push(ch);
                chars.next();
            }
            let s = s.trim().to_owned();
            match s.parse::<f64>() {
                Ok(n) if n.is_finite() => out.push(Operand::Num(n)),
                _ => out.push(Operand::Str(s)),
            }
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        match chars.next() {
            None => break,
            Some(',') => continue,
            Some(other) => {
                return Err(FilterValueError::InvalidParameter {
                    name: name.to_owned(),
                    reason: format!("expected `,` between values, found `{other}`"),
                });
            }
        }
    }
    if out.is_empty() {
        return Err(FilterValueError::InvalidParameter {
            name: name.to_owned(),
            reason: "no value given".to_owned(),
        });
    }
    Ok(out)
}

enum Bind {
    Bound(Condition),
    MissingParam(String),
}

fn bind_condition(
    c: &Condition,
    values: &BTreeMap<String, String>,
) -> Result<Bind, FilterValueError> {
    match c {
        Condition::And(cs) | Condition::Or(cs) => {
            let mut out = Vec::with_capacity(cs.len());
            for sub in cs {
                match bind_condition(sub, values)? {
                    Bind::Bound(b) => out.push(b),
                    missing => return Ok(missing),
                }
            }
            Ok(Bind::Bound(if matches!(c, Condition::And(_)) {
                Condition::And(out)
            } else {
                Condition::Or(out)
            }))
        }
        Condition::Predicate(p) => {
            let mut bound = Vec::with_capacity(p.values.len());
            for v in &p.values {
                match v {
                    Operand::Param(name) => {
                        let raw = values.get(name).or_else(|| values.get(&format!("${name}")));
                        match raw {
                            None => return Ok(Bind::MissingParam(name.clone())),
                            Some(raw) => bound.extend(split_values(name, raw)?),
                        }
                    }
                    other => bound.push(other.clone()),
                }
            }
            Ok(Bind::Bound(Condition::Predicate(Predicate {
                subject: p.subject.clone(),
                op: p.op,
                values: bound,
            })))
        }
    }
}

impl Filter {
    /// Binds `$PARAMETER` values (keys with or without the `$`) and decides `IF` guards for
    /// `user` (`user_id` answers `CurrentUser.USER_ID`).
    pub fn bind(
        &self,
        values: &BTreeMap<String, String>,
        user_id: Option<&str>,
        user: Option<&Record>,
    ) -> Result<BoundFilter, FilterValueError> {
        let mut out = BoundFilter::default();
        for e in &self.expressions {
            let condition = match bind_condition(&e.condition, values)? {
                Bind::Bound(c) => c,
                Bind::MissingParam(name) => match e.action {
                    Action::Include => return Err(FilterValueError::MissingParameter { name }),
                    Action::Exclude => continue,
                },
            };
            if let Some(guard) = &e.guard {
                let holds = match bind_condition(guard, values)? {
                    Bind::Bound(g) => eval_user(&g, user_id, user),
                    Bind::MissingParam(name) => match e.action {
                        Action::Include => return Err(FilterValueError::MissingParameter { name }),
                        Action::Exclude => false,
                    },
                };
                if !holds {
                    continue;
                }
            }
            out.uses_interactions |= condition.uses_interactions();
            out.includes_interactions |=
                e.action == Action::Include && condition.uses_interactions();
            match e.action {
                Action::Include => out.includes.push(condition),
                Action::Exclude => out.excludes.push(condition),
            }
        }
        Ok(out)
    }
}

impl BoundFilter {
    /// Whether the item passes: it matches some INCLUDE (or there is none) and no EXCLUDE.
    /// `item_events` are the event types of the user's interactions with this item.
    pub fn allows(&self, item_id: &str, item: Option<&Record>, item_events: &[&str]) -> bool {
        let matches = |c: &Condition| eval_item(c, item_id, item, item_events);
        (self.includes.is_empty() || self.includes.iter().any(matches))
            && !self.excludes.iter().any(matches)
    }

    /// Whether evaluation needs the user's interactions.
    pub fn uses_interactions(&self) -> bool {
        self.uses_interactions
    }

    /// Whether an applying INCLUDE expression selects by the user's interactions (it asks for
    /// items the user interacted with, so the history is not excluded).
    pub fn includes_interactions(&self) -> bool {
        self.includes_interactions
    }

    /// Whether the filter keeps everything (no expression applies).
    pub fn is_empty(&self) -> bool {
        self.includes.is_empty() && self.excludes.is_empty()
    }
}

fn eval_item(c: &Condition, item_id: &str, item: Option<&Record>, events: &[&str]) -> bool {
    match c {
        Condition::And(cs) => cs.iter().all(|c| eval_item(c, item_id, item, events)),
        Condition::Or(cs) => cs.iter().any(|c| eval_item(c, item_id, item, events)),
        Condition::Predicate(p) => match &p.subject {
            Subject::Item(field) if field == "ITEM_ID" => {
                compare(&FieldValue::Str(item_id.to_owned()), p.op, &p.values)
            }
            Subject::Item(field) => item.is_some_and(|r| match r.field(field) {
                Some(v) => compare(v, p.op, &p.values),
                // The creation time is a record attribute, not a field.
                None if field == "CREATION_TIMESTAMP" => r
                    .created
                    .is_some_and(|c| compare(&FieldValue::Num(c as f64), p.op, &p.values)),
                None => false,
            }),
            Subject::InteractionEventType => match p.op {
                Op::NotIn | Op::Ne => events
                    .iter()
                    .any(|e| !p.values.iter().any(|v| operand_eq_str(v, e))),
                _ => events
                    .iter()
                    .any(|e| compare(&FieldValue::Str((*e).to_owned()), p.op, &p.values)),
            },
            Subject::CurrentUser(_) => false,
        },
    }
}

fn eval_user(c: &Condition, user_id: Option<&str>, user: Option<&Record>) -> bool {
    match c {
        Condition::And(cs) => cs.iter().all(|c| eval_user(c, user_id, user)),
        Condition::Or(cs) => cs.iter().any(|c| eval_user(c, user_id, user)),
        Condition::Predicate(p) => match &p.subject {
            Subject::CurrentUser(field) if field == "USER_ID" => {
                user_id.is_some_and(|id| compare(&FieldValue::Str(id.to_owned()), p.op, &p.values))
            }
            Subject::CurrentUser(field) => user
                .and_then(|r| r.field(field))
                .is_some_and(|v| compare(v, p.op, &p.values)),
            _ => false,
        },
    }
}

fn operand_eq_str(v: &Operand, s: &str) -> bool {
    match v {
        Operand::Str(x) => x == s,
        Operand::Num(n) => s.trim().parse::<f64>().is_ok_and(|x| x == *n),
        Operand::Param(_) => false,
    }
}

fn operand_num(v: &Operand) -> Option<f64> {
    match v {
        Operand::Num(n) => Some(*n),
        Operand::Str(s) => s.trim().parse().ok(),
        Operand::Param(_) => None,
    }
}

fn value_eq(field: &FieldValue, v: &Operand) -> bool {
    match field {
        FieldValue::Num(n) => operand_num(v).is_some_and(|x| x == *n),
        other => other.categories().iter().any(|s| operand_eq_str(v, s)),
    }
}

fn compare(field: &FieldValue, op: Op, values: &[Operand]) -> bool {
    match op {
        Op::In => values.iter().any(|v| value_eq(field, v)),
        Op::NotIn => !values.iter().any(|v| value_eq(field, v)),
        Op::Eq => values.first().is_some_and(|v| value_eq(field, v)),
        Op::Ne => values.first().is_some_and(|v| !value_eq(field, v)),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let lhs = match field {
                FieldValue::Num(n) => Some(*n),
                FieldValue::Str(s) => s.trim().parse::<f64>().ok(),
                FieldValue::List(_) => None,
            };
            match (lhs, values.first().and_then(operand_num)) {
                (Some(a), Some(b)) => match op {
                    Op::Lt => a < b,
                    Op::Le => a <= b,
                    Op::Gt => a > b,
                    _ => a >= b,
                },
                _ => false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::parse_filter;

    #[test]
    fn parameter_values_are_split_like_filter_values() {
        assert_eq!(
            split_values("G", "\"Comedy\", \"Drama\"").expect("valid"),
            vec![Operand::Str("Comedy".into()), Operand::Str("Drama".into())]
        );
        assert_eq!(
            split_values("P", "10").expect("valid"),
            vec![Operand::Num(10.0)]
        );
        assert_eq!(
            split_values("P", "'a,b',c").expect("valid"),
            vec![Operand::Str("a,b".into()), Operand::Str("c".into())]
        );
        assert!(split_values("G", "\"open").is_err());
        assert!(split_values("G", "").is_err());
    }

    #[test]
    fn creation_timestamp_compares_with_the_record_creation_time() {
        let f =
            parse_filter("INCLUDE ItemID WHERE Items.CREATION_TIMESTAMP >= 1000").expect("parses");
        let b = f.bind(&BTreeMap::new(), None, None).expect("binds");
        let mut fresh = Record::new("a");
        fresh.created = Some(2000);
        let mut old = Record::new("b");
        old.created = Some(10);
        assert!(b.allows("a", Some(&fresh), &[]));
        assert!(!b.allows("b", Some(&old), &[]));
        assert!(!b.allows("c", None, &[]));
    }

    #[test]
    fn include_union_minus_exclude_union() {
        let f = parse_filter(
            "INCLUDE ItemID WHERE Items.ITEM_ID IN (\"a\", \"b\") | INCLUDE ItemID WHERE Items.ITEM_ID IN (\"c\") | EXCLUDE ItemID WHERE Items.ITEM_ID IN (\"b\")",
        )
        .expect("parses");
        let b = f.bind(&BTreeMap::new(), None, None).expect("binds");
        let kept: Vec<&str> = ["a", "b", "c", "d"]
            .into_iter()
            .filter(|id| b.allows(id, None, &[]))
            .collect();
        assert_eq!(kept, vec!["a", "c"]);
    }

    #[test]
    fn interactions_event_type_and_user_guards() {
        let f = parse_filter("EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"purchase\") IF CurrentUser.USER_ID = \"u1\"").expect("parses");
        let u1 = f.bind(&BTreeMap::new(), Some("u1"), None).expect("binds");
        assert!(!u1.allows("x", None, &["click", "purchase"]));
        assert!(u1.allows("x", None, &["click"]));
        let u2 = f.bind(&BTreeMap::new(), Some("u2"), None).expect("binds");
        assert!(u2.is_empty(), "guard false: the expression does not apply");
    }
}
