//! Personalize filter expressions: the parsed form ([`Filter`]), binding of `$PARAMETERS` at
//! request time, and evaluation against items, the user and their interactions.
//!
//! Semantics of `expr1 | expr2 | ...`: an item is kept when it matches at least one INCLUDE
//! expression (or there is none) and matches no EXCLUDE expression, i.e. the union of the
//! includes minus the union of the excludes. An expression whose `IF CurrentUser...` condition is
//! false (or whose user field is unknown) is skipped. A missing parameter is an error in an
//! INCLUDE expression and makes an EXCLUDE expression a no-op. A predicate on a field the item
//! does not have is false.

mod eval;
mod parse;

pub use eval::{BoundFilter, FilterValueError};
pub use parse::{FilterError, parse_filter};

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Filter {
    source: String,
    expressions: Vec<Expression>,
    /// Whether it selects items (`ItemID`) or actions (`ActionID`).
    #[serde(default)]
    target: Target,
}

/// What a filter selects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Target {
    /// `ItemID` expressions over `Items` and `Interactions`.
    #[default]
    Items,
    /// `ActionID` expressions over `Actions` and `Action_Interactions` (Next-Best-Action).
    Actions,
}

impl Filter {
    /// The expression text it was parsed from.
    pub fn expression(&self) -> &str {
        &self.source
    }

    /// The `$PARAMETER` names it uses (without the `$`).
    pub fn parameters(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for e in &self.expressions {
            e.condition.collect_params(&mut out);
            if let Some(g) = &e.guard {
                g.collect_params(&mut out);
            }
        }
        out
    }

    /// Whether it is one INCLUDE expression on item fields alone: no `$PARAMETER`, no `IF`
    /// guard, no interactions (an item-attribute query of a segment job).
    pub(crate) fn is_item_condition(&self) -> bool {
        fn on_items(c: &Condition) -> bool {
            match c {
                Condition::And(cs) | Condition::Or(cs) => cs.iter().all(on_items),
                Condition::Predicate(p) => matches!(p.subject, Subject::Item(_)),
            }
        }
        matches!(self.expressions.as_slice(), [e] if e.action == Action::Include
            && e.guard.is_none()
            && on_items(&e.condition))
            && self.parameters().is_empty()
    }
    /// Whether it selects actions (`ActionID`, for Next-Best-Action) rather than items.
    pub fn selects_actions(&self) -> bool {
        self.target == Target::Actions
    }

    /// Whether any expression looks at the user's interactions.
    pub fn uses_interactions(&self) -> bool {
        self.expressions
            .iter()
            .any(|e| e.condition.uses_interactions())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Action {
    Include,
    Exclude,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Expression {
    pub(crate) action: Action,
    pub(crate) condition: Condition,
    /// `IF CurrentUser.<F> ...`: the expression applies only when this holds.
    pub(crate) guard: Option<Condition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Predicate(Predicate),
}

impl Condition {
    fn collect_params(&self, out: &mut BTreeSet<String>) {
        match self {
            Condition::And(cs) | Condition::Or(cs) => cs.iter().for_each(|c| c.collect_params(out)),
            Condition::Predicate(p) => {
                for v in &p.values {
                    if let Operand::Param(name) = v {
                        out.insert(name.clone());
                    }
                }
            }
        }
    }

    fn uses_interactions(&self) -> bool {
        match self {
            Condition::And(cs) | Condition::Or(cs) => cs.iter().any(Condition::uses_interactions),
            Condition::Predicate(p) => matches!(p.subject, Subject::InteractionEventType),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Subject {
    /// `Items.<FIELD>` (upper-cased); `ITEM_ID` is the item id.
    Item(String),
    /// `Interactions.EVENT_TYPE`.
    InteractionEventType,
    /// `CurrentUser.<FIELD>` (upper-cased); `USER_ID` is the user id.
    CurrentUser(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Op {
    In,
    NotIn,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) enum Operand {
    Str(String),
    Num(f64),
    Param(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Predicate {
    pub(crate) subject: Subject,
    pub(crate) op: Op,
    pub(crate) values: Vec<Operand>,
}
