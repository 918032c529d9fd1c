//! Choice rules: comparisons (and their `…Path` forms), type tests, `And`/`Or`/`Not`.

use crate::asl::jsonpath::JsonPath;
use crate::asl::variables::Sources;
use crate::error::StatesError;
use serde_json::{Map, Value};
use std::cmp::Ordering;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Equals,
    LessThan,
    GreaterThan,
    LessThanEquals,
    GreaterThanEquals,
    Matches,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeTest {
    IsNull,
    IsPresent,
    IsNumeric,
    IsString,
    IsBoolean,
    IsTimestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Literal(Value),
    Path(JsonPath),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
    Compare {
        variable: JsonPath,
        kind: Kind,
        relation: Relation,
        operand: Operand,
    },
    Test {
        variable: JsonPath,
        test: TypeTest,
        expected: bool,
    },
}

const COMPARISONS: &[(&str, Kind, Relation)] = &[
    ("StringEquals", Kind::String, Relation::Equals),
    ("StringLessThan", Kind::String, Relation::LessThan),
    ("StringGreaterThan", Kind::String, Relation::GreaterThan),
    (
        "StringLessThanEquals",
        Kind::String,
        Relation::LessThanEquals,
    ),
    (
        "StringGreaterThanEquals",
        Kind::String,
        Relation::GreaterThanEquals,
    ),
    ("StringMatches", Kind::String, Relation::Matches),
    ("NumericEquals", Kind::Numeric, Relation::Equals),
    ("NumericLessThan", Kind::Numeric, Relation::LessThan),
    ("NumericGreaterThan", Kind::Numeric, Relation::GreaterThan),
    (
        "NumericLessThanEquals",
        Kind::Numeric,
        Relation::LessThanEquals,
    ),
    (
        "NumericGreaterThanEquals",
        Kind::Numeric,
        Relation::GreaterThanEquals,
    ),
    ("BooleanEquals", Kind::Boolean, Relation::Equals),
    ("TimestampEquals", Kind::Timestamp, Relation::Equals),
    ("TimestampLessThan", Kind::Timestamp, Relation::LessThan),
    (
        "TimestampGreaterThan",
        Kind::Timestamp,
        Relation::GreaterThan,
    ),
    (
        "TimestampLessThanEquals",
        Kind::Timestamp,
        Relation::LessThanEquals,
    ),
    (
        "TimestampGreaterThanEquals",
        Kind::Timestamp,
        Relation::GreaterThanEquals,
    ),
];

const TESTS: &[(&str, TypeTest)] = &[
    ("IsNull", TypeTest::IsNull),
    ("IsPresent", TypeTest::IsPresent),
    ("IsNumeric", TypeTest::IsNumeric),
    ("IsString", TypeTest::IsString),
    ("IsBoolean", TypeTest::IsBoolean),
    ("IsTimestamp", TypeTest::IsTimestamp),
];

/// Fields a rule may carry besides its operator.
const STRUCTURAL: &[&str] = &["Variable", "Next", "Comment", "Assign", "Output"];

/// `Next` and `Assign` belong to a top-level rule: they say what happens when it matches.
fn top_level_only(rule: &Map<String, Value>) -> Option<&'static str> {
    ["Next", "Assign"]
        .into_iter()
        .find(|field| rule.contains_key(*field))
}

/// Whether `name` is a JSONPath rule's comparison or type test (`StringEquals`, `IsNull`,
/// their `…Path` forms).
pub fn is_operator(name: &str) -> bool {
    let base = name.strip_suffix("Path").unwrap_or(name);
    COMPARISONS.iter().any(|(n, _, _)| *n == base) || TESTS.iter().any(|(n, _)| *n == name)
}

pub fn parse_timestamp(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

impl Condition {
    /// Parses one rule object (without its `Next`, which the caller handles).
    pub fn parse(rule: &Map<String, Value>) -> Result<Condition, String> {
        let operators: Vec<&String> = rule
            .keys()
            .filter(|k| !STRUCTURAL.contains(&k.as_str()))
            .collect();
        let [operator] = operators.as_slice() else {
            return Err(format!(
                "a choice rule needs exactly one operator, found {}",
                if operators.is_empty() {
                    "none".to_string()
                } else {
                    operators
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ));
        };
        let operator = operator.as_str();
        let value = &rule[operator];
        match operator {
            "And" | "Or" => {
                let Some(items) = value.as_array().filter(|a| !a.is_empty()) else {
                    return Err(format!("'{operator}' must be a non-empty array of rules"));
                };
                let mut parsed = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let obj = item
                        .as_object()
                        .ok_or_else(|| format!("{operator}[{i}] must be an object"))?;
                    if let Some(field) = top_level_only(obj) {
                        return Err(format!(
                            "{operator}[{i}]: a nested rule cannot have '{field}'"
                        ));
                    }
                    parsed.push(Self::parse(obj).map_err(|e| format!("{operator}[{i}]: {e}"))?);
                }
                return Ok(if operator == "And" {
                    Condition::And(parsed)
                } else {
                    Condition::Or(parsed)
                });
            }
            "Not" => {
                let obj = value.as_object().ok_or("'Not' must be an object")?;
                if let Some(field) = top_level_only(obj) {
                    return Err(format!("Not: a nested rule cannot have '{field}'"));
                }
                return Ok(Condition::Not(Box::new(
                    Self::parse(obj).map_err(|e| format!("Not: {e}"))?,
                )));
            }
            _ => {}
        }
        let variable = match rule.get("Variable") {
            Some(Value::String(v)) => JsonPath::parse(v).map_err(|e| format!("'Variable': {e}"))?,
            _ => return Err(format!("'{operator}' needs a 'Variable' path")),
        };
        if let Some((_, test)) = TESTS.iter().find(|(name, _)| *name == operator) {
            let expected = value
                .as_bool()
                .ok_or_else(|| format!("'{operator}' must be true or false"))?;
            return Ok(Condition::Test {
                variable,
                test: *test,
                expected,
            });
        }
        let (base, is_path) = match operator.strip_suffix("Path") {
            Some(base) if base != "StringMatches" => (base, true),
            _ => (operator, false),
        };
        let Some((_, kind, relation)) = COMPARISONS.iter().find(|(name, _, _)| *name == base)
        else {
            return Err(format!("unknown choice operator '{operator}'"));
        };
        let operand = if is_path {
            let text = value
                .as_str()
                .ok_or_else(|| format!("'{operator}' must be a path string"))?;
            Operand::Path(JsonPath::parse(text).map_err(|e| format!("'{operator}': {e}"))?)
        } else {
            let ok = match kind {
                Kind::String => value.is_string(),
                Kind::Numeric => value.is_number(),
                Kind::Boolean => value.is_boolean(),
                Kind::Timestamp => value.as_str().and_then(parse_timestamp).is_some(),
            };
            if !ok {
                return Err(format!(
                    "'{operator}' has a value of the wrong type: {value}"
                ));
            }
            Operand::Literal(value.clone())
        };
        Ok(Condition::Compare {
            variable,
            kind: *kind,
            relation: *relation,
            operand,
        })
    }

    /// Whether the rule holds; its paths read the state's effective input, the context
    /// object or workflow variables.
    pub fn evaluate(&self, sources: &Sources) -> Result<bool, StatesError> {
        match self {
            Condition::And(all) => {
                for c in all {
                    if !c.evaluate(sources)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Condition::Or(any) => {
                for c in any {
                    if c.evaluate(sources)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Condition::Not(inner) => Ok(!inner.evaluate(sources)?),
            Condition::Test {
                variable,
                test,
                expected,
            } => {
                if *test == TypeTest::IsPresent {
                    return Ok(variable.is_present(sources) == *expected);
                }
                let value = select(variable, sources)?;
                let holds = match test {
                    TypeTest::IsNull => value.is_null(),
                    TypeTest::IsNumeric => value.is_number(),
                    TypeTest::IsString => value.is_string(),
                    TypeTest::IsBoolean => value.is_boolean(),
                    TypeTest::IsTimestamp => value.as_str().and_then(parse_timestamp).is_some(),
                    TypeTest::IsPresent => true,
                };
                Ok(holds == *expected)
            }
            Condition::Compare {
                variable,
                kind,
                relation,
                operand,
            } => {
                let left = select(variable, sources)?;
                let right = match operand {
                    Operand::Literal(v) => v.clone(),
                    Operand::Path(p) => select(p, sources)?,
                };
                Ok(compare(&left, *kind, *relation, &right))
            }
        }
    }
}

fn select(path: &JsonPath, sources: &Sources) -> Result<Value, StatesError> {
    path.select(sources).map_err(|_| {
        StatesError::runtime(format!(
            "Invalid path '{path}': The choice state's condition path references an invalid value."
        ))
    })
}

/// A comparison between values of the wrong types is simply false, as in Step Functions.
fn compare(left: &Value, kind: Kind, relation: Relation, right: &Value) -> bool {
    let ordering = match kind {
        Kind::String => match (left.as_str(), right.as_str()) {
            (Some(l), Some(r)) if relation == Relation::Matches => return wildcard_match(r, l),
            (Some(l), Some(r)) => Some(l.cmp(r)),
            _ => None,
        },
        Kind::Numeric => match (left, right) {
            (Value::Number(l), Value::Number(r)) => l
                .as_f64()
                .zip(r.as_f64())
                .and_then(|(l, r)| l.partial_cmp(&r)),
            _ => None,
        },
        Kind::Boolean => match (left.as_bool(), right.as_bool()) {
            (Some(l), Some(r)) => Some(l.cmp(&r)),
            _ => None,
        },
        Kind::Timestamp => match (
            left.as_str().and_then(parse_timestamp),
            right.as_str().and_then(parse_timestamp),
        ) {
            (Some(l), Some(r)) => Some(l.cmp(&r)),
            _ => None,
        },
    };
    let Some(ordering) = ordering else {
        return false;
    };
    match relation {
        Relation::Equals => ordering == Ordering::Equal,
        Relation::LessThan => ordering == Ordering::Less,
        Relation::GreaterThan => ordering == Ordering::Greater,
        Relation::LessThanEquals => ordering != Ordering::Greater,
        Relation::GreaterThanEquals => ordering != Ordering::Less,
        Relation::Matches => false,
    }
}

/// `StringMatches`: `*` matches any run of characters; `\*` and `\\` are literal.
fn wildcard_match(pattern: &str, text: &str) -> bool {
    #[derive(PartialEq)]
    enum Token {
        Any,
        Char(char),
    }
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => tokens.push(Token::Char(chars.next().unwrap_or('\\'))),
            '*' => tokens.push(Token::Any),
            other => tokens.push(Token::Char(other)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    // Classic greedy wildcard matching with backtracking to the last star.
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match tokens.get(p) {
            Some(Token::Char(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(Token::Any) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    tokens[p..].iter().all(|tok| *tok == Token::Any)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::variables::Variables;
    use serde_json::json;

    fn holds(rule: Value, input: Value) -> Result<bool, StatesError> {
        Condition::parse(rule.as_object().unwrap())
            .unwrap()
            .evaluate(&Sources::new(&input, &json!({}), &Variables::new()))
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html
    // (the "Choice Rules" examples: NumericEquals, And with NumericGreaterThanEquals/NumericLessThan)
    #[test]
    fn numeric_and_boolean_rules_from_the_docs() {
        let rule = json!({"Variable": "$.value", "NumericEquals": 0});
        assert!(holds(rule.clone(), json!({"value": 0})).unwrap());
        assert!(holds(rule.clone(), json!({"value": 0.0})).unwrap());
        assert!(!holds(rule, json!({"value": 1})).unwrap());
        let and = json!({"And": [
            {"Variable": "$.value", "NumericGreaterThanEquals": 20},
            {"Variable": "$.value", "NumericLessThan": 30}
        ]});
        assert!(holds(and.clone(), json!({"value": 20})).unwrap());
        assert!(!holds(and, json!({"value": 30})).unwrap());
        let not = json!({"Not": {"Variable": "$.type", "StringEquals": "Private"}});
        assert!(holds(not.clone(), json!({"type": "Public"})).unwrap());
        assert!(!holds(not, json!({"type": "Private"})).unwrap());
        assert!(holds(
            json!({"Variable": "$.b", "BooleanEquals": true}),
            json!({"b": true})
        )
        .unwrap());
        // Type mismatch is false, not an error.
        assert!(!holds(
            json!({"Variable": "$.b", "NumericEquals": 1}),
            json!({"b": "1"})
        )
        .unwrap());
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html
    // (StringMatches: "log-*.txt" and escaped "\\*")
    #[test]
    fn string_rules_and_matches() {
        let m = json!({"Variable": "$.f", "StringMatches": "log-*.txt"});
        assert!(holds(m.clone(), json!({"f": "log-2019.txt"})).unwrap());
        assert!(holds(m.clone(), json!({"f": "log-.txt"})).unwrap());
        assert!(!holds(m, json!({"f": "log-2019.txt.bak"})).unwrap());
        let esc = json!({"Variable": "$.f", "StringMatches": "a\\*b"});
        assert!(holds(esc.clone(), json!({"f": "a*b"})).unwrap());
        assert!(!holds(esc, json!({"f": "axb"})).unwrap());
        assert!(holds(
            json!({"Variable": "$.s", "StringLessThan": "b"}),
            json!({"s": "a"})
        )
        .unwrap());
        assert!(holds(
            json!({"Variable": "$.s", "StringGreaterThanEquals": "a"}),
            json!({"s": "a"})
        )
        .unwrap());
        assert!(holds(
            json!({"Variable": "$.s", "StringEqualsPath": "$.t"}),
            json!({"s": "x", "t": "x"})
        )
        .unwrap());
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html
    // (TimestampEquals "2001-01-01T12:00:00Z", IsPresent/IsNull/IsNumeric/IsString/IsBoolean/IsTimestamp)
    #[test]
    fn timestamps_and_type_tests() {
        let ts = json!({"Variable": "$.t", "TimestampGreaterThan": "2001-01-01T12:00:00Z"});
        assert!(holds(ts.clone(), json!({"t": "2016-03-14T01:59:00Z"})).unwrap());
        assert!(!holds(ts, json!({"t": "not a time"})).unwrap());
        assert!(holds(
            json!({"Variable": "$.t", "TimestampEqualsPath": "$.u"}),
            json!({"t": "2001-01-01T12:00:00Z", "u": "2001-01-01T13:00:00+01:00"})
        )
        .unwrap());
        assert!(!holds(json!({"Variable": "$.x", "IsPresent": true}), json!({})).unwrap());
        assert!(holds(json!({"Variable": "$.x", "IsPresent": false}), json!({})).unwrap());
        assert!(holds(
            json!({"Variable": "$.x", "IsNull": true}),
            json!({"x": null})
        )
        .unwrap());
        assert!(holds(
            json!({"Variable": "$.x", "IsNumeric": true}),
            json!({"x": 1.5})
        )
        .unwrap());
        assert!(holds(
            json!({"Variable": "$.x", "IsString": false}),
            json!({"x": 1})
        )
        .unwrap());
        assert!(holds(
            json!({"Variable": "$.x", "IsBoolean": true}),
            json!({"x": false})
        )
        .unwrap());
        assert!(holds(
            json!({"Variable": "$.x", "IsTimestamp": true}),
            json!({"x": "2016-08-18T17:33:00Z"})
        )
        .unwrap());
        // A missing variable is a runtime error for every test except IsPresent.
        let err = holds(json!({"Variable": "$.x", "IsNull": true}), json!({})).unwrap_err();
        assert_eq!(err.error, "States.Runtime");
    }

    #[test]
    fn parse_errors_name_the_problem() {
        let parse = |v: Value| Condition::parse(v.as_object().unwrap()).unwrap_err();
        assert!(parse(json!({"Variable": "$.x"})).contains("none"));
        assert!(parse(json!({"Variable": "$.x", "StringEquals": 1})).contains("wrong type"));
        assert!(parse(json!({"Variable": "$.x", "Bogus": 1})).contains("unknown choice operator"));
        assert!(parse(json!({"NumericEquals": 1})).contains("Variable"));
        assert!(
            parse(json!({"And": [{"Variable": "$.x", "IsNull": true, "Next": "A"}]}))
                .contains("Next")
        );
        assert!(
            parse(json!({"Not": {"Variable": "$.x", "IsNull": true, "Assign": {"a": 1}}}))
                .contains("'Assign'")
        );
    }
}
