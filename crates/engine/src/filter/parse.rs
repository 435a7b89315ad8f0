//! The filter expression parser: tokens with their positions, and a recursive-descent grammar
//! `expr ('|' expr)*`, `expr := (INCLUDE|EXCLUDE) (ItemID|ActionID) WHERE cond [IF user_cond]`,
//! `cond := and (OR and)*`, `and := atom (AND atom)*`, `atom := '(' cond ')' | subject op values`.
//! An `ItemID` expression reads `Items.<F>` and `Interactions.EVENT_TYPE`; an `ActionID` one
//! reads `Actions.<F>` and `Action_Interactions.EVENT_TYPE`; one filter keeps to one of the two.

use thiserror::Error;

use super::{Action, Condition, Expression, Filter, Op, Operand, Predicate, Subject, Target};

/// Why an expression does not parse. Positions are 1-based character offsets.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FilterError {
    #[error("filter syntax error at position {position}: {message}")]
    Syntax { position: usize, message: String },
    #[error("filter not supported at position {position}: {message}")]
    Unsupported { position: usize, message: String },
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Num(f64),
    Param(String),
    Sym(&'static str),
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Word(w) => format!("`{w}`"),
            Tok::Str(s) => format!("string \"{s}\""),
            Tok::Num(n) => format!("number {n}"),
            Tok::Param(p) => format!("parameter ${p}"),
            Tok::Sym(s) => format!("`{s}`"),
            Tok::End => "end of expression".to_owned(),
        }
    }
}

fn tokenize(src: &str) -> Result<Vec<(Tok, usize)>, FilterError> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        if c.is_whitespace() {
            i += 1;
        } else if c == '"' || c == '\'' {
            let mut s = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(FilterError::Syntax {
                            position: pos,
                            message: "unterminated string".to_owned(),
                        });
                    }
                    Some(&ch) if ch == c => {
                        i += 1;
                        break;
                    }
                    Some(&'\\') if chars.get(i + 1).is_some() => {
                        s.push(chars[i + 1]);
                        i += 2;
                    }
                    Some(&ch) => {
                        s.push(ch);
                        i += 1;
                    }
                }
            }
            out.push((Tok::Str(s), pos));
        } else if c == '$' {
            let start = i + 1;
            i += 1;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            if i == start {
                return Err(FilterError::Syntax {
                    position: pos,
                    message: "`$` must be followed by a parameter name".to_owned(),
                });
            }
            out.push((Tok::Param(chars[start..i].iter().collect()), pos));
        } else if c.is_ascii_digit()
            || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_ascii_digit()
                    || chars[i] == '.'
                    || chars[i] == 'e'
                    || chars[i] == 'E')
            {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            let n = text.parse::<f64>().map_err(|_| FilterError::Syntax {
                position: pos,
                message: format!("`{text}` is not a number"),
            })?;
            out.push((Tok::Num(n), pos));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push((Tok::Word(chars[start..i].iter().collect()), pos));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            let sym: &'static str = match two.as_str() {
                "<=" => "<=",
                ">=" => ">=",
                "!=" => "!=",
                "<>" => "<>",
                _ => match c {
                    '(' => "(",
                    ')' => ")",
                    ',' => ",",
                    '.' => ".",
                    '|' => "|",
                    '=' => "=",
                    '<' => "<",
                    '>' => ">",
                    _ => {
                        return Err(FilterError::Syntax {
                            position: pos,
                            message: format!("unexpected character `{c}`"),
                        });
                    }
                },
            };
            i += sym.len();
            out.push((Tok::Sym(sym), pos));
        }
    }
    out.push((Tok::End, chars.len() + 1));
    Ok(out)
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    at: usize,
    /// What the expressions so far select (set by the first).
    target: Option<Target>,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.at.min(self.toks.len() - 1)].0
    }

    fn pos(&self) -> usize {
        self.toks[self.at.min(self.toks.len() - 1)].1
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.at < self.toks.len() - 1 {
            self.at += 1;
        }
        t
    }

    fn error(&self, expected: &str) -> FilterError {
        FilterError::Syntax {
            position: self.pos(),
            message: format!("expected {expected}, found {}", self.peek().describe()),
        }
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Word(x) if x.eq_ignore_ascii_case(w))
    }

    fn expect_word(&mut self, w: &str) -> Result<(), FilterError> {
        if self.is_word(w) {
            self.bump();
            Ok(())
        } else {
            Err(self.error(&format!("`{w}`")))
        }
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Sym(x) if *x == s)
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), FilterError> {
        if self.is_sym(s) {
            self.bump();
            Ok(())
        } else {
            Err(self.error(&format!("`{s}`")))
        }
    }

    fn filter(&mut self) -> Result<Vec<Expression>, FilterError> {
        let mut exprs = vec![self.expression()?];
        while self.is_sym("|") {
            self.bump();
            exprs.push(self.expression()?);
        }
        if *self.peek() != Tok::End {
            return Err(self.error("`|`, `AND`, `OR`, `IF` or the end of the expression"));
        }
        Ok(exprs)
    }

    fn expression(&mut self) -> Result<Expression, FilterError> {
        let action = if self.is_word("INCLUDE") {
            Action::Include
        } else if self.is_word("EXCLUDE") {
            Action::Exclude
        } else {
            return Err(self.error("`INCLUDE` or `EXCLUDE`"));
        };
        self.bump();
        if self.is_word("UserID") {
            return Err(FilterError::Unsupported {
                position: self.pos(),
                message: "user filters (`UserID`) are not supported; use `ItemID`".to_owned(),
            });
        }
        let pos = self.pos();
        let target = if self.is_word("ActionID") {
            Target::Actions
        } else {
            self.expect_word("ItemID")?;
            Target::Items
        };
        if target == Target::Actions {
            self.bump();
        }
        match self.target {
            Some(first) if first != target => {
                return Err(FilterError::Syntax {
                    position: pos,
                    message: "one filter selects either ItemID or ActionID, not both".to_owned(),
                });
            }
            _ => self.target = Some(target),
        }
        self.expect_word("WHERE")?;
        let condition = self.or_condition(false)?;
        let guard = if self.is_word("IF") {
            self.bump();
            Some(self.or_condition(true)?)
        } else {
            None
        };
        Ok(Expression {
            action,
            condition,
            guard,
        })
    }

    fn or_condition(&mut self, user: bool) -> Result<Condition, FilterError> {
        let mut parts = vec![self.and_condition(user)?];
        while self.is_word("OR") {
            self.bump();
            parts.push(self.and_condition(user)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Condition::Or(parts)
        })
    }

    fn and_condition(&mut self, user: bool) -> Result<Condition, FilterError> {
        let mut parts = vec![self.atom(user)?];
        while self.is_word("AND") {
            self.bump();
            parts.push(self.atom(user)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Condition::And(parts)
        })
    }

    fn atom(&mut self, user: bool) -> Result<Condition, FilterError> {
        if self.is_sym("(") {
            self.bump();
            let c = self.or_condition(user)?;
            self.expect_sym(")")?;
            return Ok(c);
        }
        let subject = self.subject(user)?;
        let op = self.op()?;
        let values = if matches!(op, Op::In | Op::NotIn) {
            self.expect_sym("(")?;
            let mut values = vec![self.operand()?];
            while self.is_sym(",") {
                self.bump();
                values.push(self.operand()?);
            }
            self.expect_sym(")")?;
            values
        } else {
            vec![self.operand()?]
        };
        Ok(Condition::Predicate(Predicate {
            subject,
            op,
            values,
        }))
    }

    fn subject(&mut self, user: bool) -> Result<Subject, FilterError> {
        let pos = self.pos();
        let dataset = match self.bump() {
            Tok::Word(w) => w,
            _ => {
                self.at -= 1;
                let what = if user {
                    "`CurrentUser.<FIELD>`"
                } else if self.target == Some(Target::Actions) {
                    "`Actions.<FIELD>` or `Action_Interactions.EVENT_TYPE`"
                } else {
                    "`Items.<FIELD>` or `Interactions.EVENT_TYPE`"
                };
                return Err(self.error(what));
            }
        };
        self.expect_sym(".")?;
        let field = match self.bump() {
            Tok::Word(w) => w.to_ascii_uppercase(),
            _ => {
                self.at -= 1;
                return Err(self.error("a field name"));
            }
        };
        let unsupported = |message: String| FilterError::Unsupported {
            position: pos,
            message,
        };
        let actions = self.target == Some(Target::Actions);
        let (records, events) = if actions {
            ("actions", "action_interactions")
        } else {
            ("items", "interactions")
        };
        let dataset_lower = dataset.to_ascii_lowercase();
        match (dataset_lower.as_str(), user) {
            (d, false) if d == records && actions && field == "ACTION_ID" => {
                Ok(Subject::Item("ITEM_ID".to_owned()))
            }
            (d, false) if d == records => Ok(Subject::Item(field)),
            (d, false) if d == events && field == "EVENT_TYPE" => Ok(Subject::InteractionEventType),
            (d, false) if d == events => Err(unsupported(format!(
                "only {dataset}.EVENT_TYPE is supported, not {dataset}.{field}"
            ))),
            ("currentuser", true) => Ok(Subject::CurrentUser(field)),
            ("currentuser", false) => Err(FilterError::Syntax {
                position: pos,
                message: "CurrentUser conditions belong after `IF`".to_owned(),
            }),
            (_, true) => Err(FilterError::Syntax {
                position: pos,
                message: format!("expected `CurrentUser.<FIELD>` after IF, found `{dataset}`"),
            }),
            _ if actions => Err(FilterError::Syntax {
                position: pos,
                message: format!(
                    "expected `Actions`, `Action_Interactions` or `CurrentUser` in an ActionID \
                     expression, found `{dataset}`"
                ),
            }),
            _ => Err(FilterError::Syntax {
                position: pos,
                message: format!(
                    "expected `Items`, `Interactions` or `CurrentUser`, found `{dataset}`"
                ),
            }),
        }
    }

    fn op(&mut self) -> Result<Op, FilterError> {
        if self.is_word("IN") {
            self.bump();
            return Ok(Op::In);
        }
        if self.is_word("NOT") {
            self.bump();
            self.expect_word("IN")?;
            return Ok(Op::NotIn);
        }
        let op = match self.peek() {
            Tok::Sym("=") => Op::Eq,
            Tok::Sym("!=") | Tok::Sym("<>") => Op::Ne,
            Tok::Sym("<") => Op::Lt,
            Tok::Sym("<=") => Op::Le,
            Tok::Sym(">") => Op::Gt,
            Tok::Sym(">=") => Op::Ge,
            _ => return Err(self.error("an operator (IN, NOT IN, =, !=, <, <=, >, >=)")),
        };
        self.bump();
        Ok(op)
    }

    fn operand(&mut self) -> Result<Operand, FilterError> {
        match self.peek().clone() {
            Tok::Str(s) => {
                self.bump();
                Ok(Operand::Str(s))
            }
            Tok::Num(n) => {
                self.bump();
                Ok(Operand::Num(n))
            }
            Tok::Param(p) => {
                self.bump();
                Ok(Operand::Param(p))
            }
            _ => Err(self.error("a quoted string, a number or a $PARAMETER")),
        }
    }
}

/// Parses a Personalize filter expression.
pub fn parse_filter(expression: &str) -> Result<Filter, FilterError> {
    let toks = tokenize(expression)?;
    let mut p = Parser {
        toks,
        at: 0,
        target: None,
    };
    let expressions = p.filter()?;
    Ok(Filter {
        source: expression.to_owned(),
        expressions,
        target: p.target.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_pos(expr: &str) -> usize {
        match parse_filter(expr) {
            Err(
                FilterError::Syntax { position, .. } | FilterError::Unsupported { position, .. },
            ) => position,
            Ok(f) => panic!("{expr:?} parsed: {f:?}"),
        }
    }

    #[test]
    fn action_filters_select_actions_and_read_action_data() {
        for expr in [
            "EXCLUDE ActionID WHERE Action_Interactions.EVENT_TYPE IN (\"NOT_TAKEN\")",
            "INCLUDE ActionID WHERE Action_Interactions.EVENT_TYPE IN ($EVENT_TYPE)",
            "EXCLUDE ActionID WHERE Actions.CATEGORY IN ($CATEGORY)",
            "INCLUDE ActionID WHERE Actions.VALUE > $VALUE IF CurrentUser.MEMBERSHIP = $PREMIUM",
        ] {
            let f = parse_filter(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
            assert!(f.selects_actions(), "{expr}");
        }
        assert!(
            !parse_filter("EXCLUDE ItemID WHERE Items.X IN (\"a\")")
                .expect("parses")
                .selects_actions()
        );
        assert_eq!(err_pos("EXCLUDE ActionID WHERE Items.X IN (\"a\")"), 24);
        assert_eq!(err_pos("EXCLUDE ItemID WHERE Actions.X IN (\"a\")"), 22);
        assert_eq!(
            err_pos(
                "EXCLUDE ActionID WHERE Actions.X IN (\"a\") | EXCLUDE ItemID WHERE Items.X > 1"
            ),
            53
        );
        assert_eq!(
            err_pos("EXCLUDE ActionID WHERE Action_Interactions.EVENT_VALUE > 1"),
            24
        );
    }

    #[test]
    fn parses_the_documented_forms() {
        for expr in [
            "EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"watch\")",
            "INCLUDE ItemID WHERE Items.GENRES IN ($GENRE)",
            "INCLUDE ItemID WHERE Items.GENRES NOT IN (\"Horror\", \"Drama\")",
            "EXCLUDE ItemID WHERE Items.PRICE > 10",
            "INCLUDE ItemID WHERE Items.PRICE >= 1.5 AND Items.PRICE <= $MAX",
            "INCLUDE ItemID WHERE Items.GENRES IN (\"Comedy\") OR (Items.PRICE < 5 AND Items.GENRES IN (\"Drama\"))",
            "INCLUDE ItemID WHERE Items.GENRES IN (\"Comedy\") IF CurrentUser.AGE > 18",
            "INCLUDE ItemID WHERE Items.GENRES IN ($G) | EXCLUDE ItemID WHERE Items.PRICE > 100 | EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN ('click')",
            "include ItemID where Items.genres in ('x')",
        ] {
            parse_filter(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
        }
    }

    #[test]
    fn lists_its_parameters() {
        let f = parse_filter("INCLUDE ItemID WHERE Items.GENRES IN ($G) AND Items.PRICE < $MAX IF CurrentUser.AGE > $AGE").expect("parses");
        let names: Vec<String> = f.parameters().into_iter().collect();
        assert_eq!(names, vec!["AGE", "G", "MAX"]);
        assert!(!f.uses_interactions());
        assert!(
            parse_filter("EXCLUDE ItemID WHERE Interactions.EVENT_TYPE IN (\"x\")")
                .expect("parses")
                .uses_interactions()
        );
    }

    #[test]
    fn syntax_errors_name_their_position() {
        assert_eq!(err_pos("EXCLUDE ItemID WHER Items.X IN (\"a\")"), 16);
        assert_eq!(err_pos("REMOVE ItemID WHERE Items.X IN (\"a\")"), 1);
        assert_eq!(err_pos("EXCLUDE ItemID WHERE Items.X IN (\"a\""), 37);
        assert_eq!(err_pos("EXCLUDE ItemID WHERE Items.X IN (\"a)"), 34);
        assert_eq!(err_pos("EXCLUDE ItemID WHERE Items.X ~ 3"), 30);
        assert_eq!(err_pos("EXCLUDE ItemID WHERE Items.X > 3 |"), 35);
        assert_eq!(err_pos("INCLUDE UserID WHERE Users.AGE > 3"), 9);
        assert_eq!(
            err_pos("EXCLUDE ItemID WHERE Interactions.EVENT_VALUE > 3"),
            22
        );
        assert_eq!(err_pos("EXCLUDE ItemID WHERE CurrentUser.AGE > 3"), 22);
        let msg = parse_filter("EXCLUDE ItemID WHER Items.X IN (\"a\")")
            .expect_err("bad")
            .to_string();
        assert!(
            msg.contains("position 16") && msg.contains("WHERE"),
            "{msg}"
        );
    }
}
