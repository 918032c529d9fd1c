//! The typed form of a state machine definition and its parser. Parsing validates as it
//! goes and reports every problem with the state and field it concerns.

use crate::asl::choice::{parse_timestamp, Condition};
use crate::asl::query::QueryLanguage;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::sync::Arc;

mod fields;
mod handlers;
mod jsonata_fields;
mod map_state;
mod scopes;
mod types;
pub use map_state::MaxConcurrency;
pub use types::*;

use fields::{
    allowed_fields, parse_assign, parse_path, parse_path_field, parse_seconds, parse_template,
    parse_text_source, COMMON,
};
use handlers::{parse_catch, parse_retry};

/// One problem found in a definition, located like `States.Train.Retry[0].ErrorEquals`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub location: String,
    pub message: String,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Why a definition was rejected: every issue found, not only the first.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid state machine definition: {}", issues.iter().map(|i| i.to_string()).collect::<Vec<_>>().join("; "))]
pub struct DefinitionError {
    pub issues: Vec<Issue>,
}

impl StateMachine {
    pub fn state(&self, name: &str) -> Option<&Arc<State>> {
        self.states.get(name)
    }

    /// Parses and validates a whole definition.
    pub fn parse(definition: &Value) -> Result<StateMachine, DefinitionError> {
        let mut issues = Vec::new();
        let machine = parse_machine(definition, "", None, &mut issues);
        if let Some(m) = &machine {
            scopes::check(m, &mut issues);
        }
        match machine {
            Some(m) if issues.is_empty() => Ok(m),
            _ => Err(DefinitionError { issues }),
        }
    }

    pub fn parse_str(text: &str) -> Result<StateMachine, DefinitionError> {
        let value: Value = serde_json::from_str(text).map_err(|e| DefinitionError {
            issues: vec![Issue {
                location: "(definition)".into(),
                message: format!("not valid JSON: {e}"),
            }],
        })?;
        Self::parse(&value)
    }
}

struct Ctx<'a> {
    issues: &'a mut Vec<Issue>,
    location: String,
}

/// The query languages a part of a definition is read with.
#[derive(Debug, Clone, Copy)]
struct Languages {
    /// The top-level machine's: when it is JSONata, no state may be JSONPath.
    top: QueryLanguage,
    /// What a state without `QueryLanguage` uses.
    default: QueryLanguage,
}

/// AWS's sentence for a JSONPath state (or branch) in a JSONata state machine.
const JSONPATH_UNDER_JSONATA: &str =
    "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine";

/// The `QueryLanguage` of a state or a nested machine, or `inherited` without one.
fn read_language(
    obj: &serde_json::Map<String, Value>,
    inherited: Languages,
    ctx: &mut Ctx,
) -> Option<QueryLanguage> {
    let Some(value) = obj.get("QueryLanguage") else {
        return Some(inherited.default);
    };
    match QueryLanguage::parse(value) {
        Ok(QueryLanguage::JsonPath) if inherited.top == QueryLanguage::Jsonata => {
            ctx.issue("QueryLanguage", JSONPATH_UNDER_JSONATA);
            None
        }
        Ok(language) => Some(language),
        Err(e) => {
            ctx.issue("QueryLanguage", e);
            None
        }
    }
}

impl Ctx<'_> {
    fn issue(&mut self, field: &str, message: impl Into<String>) {
        let location = if field.is_empty() {
            self.location.clone()
        } else if self.location.is_empty() {
            field.to_string()
        } else {
            format!("{}.{}", self.location, field)
        };
        self.issues.push(Issue {
            location,
            message: message.into(),
        });
    }
}

fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() {
        rest.to_string()
    } else {
        format!("{prefix}.{rest}")
    }
}

/// Reads a machine: the whole definition (`outer` `None`) or a Parallel branch or Map
/// processor, whose states inherit the top-level query language.
fn parse_machine(
    value: &Value,
    location: &str,
    outer: Option<Languages>,
    issues: &mut Vec<Issue>,
) -> Option<StateMachine> {
    let mut ctx = Ctx {
        issues,
        location: location.to_string(),
    };
    let top_level = outer.is_none();
    let Some(obj) = value.as_object() else {
        ctx.issue("", "a state machine must be a JSON object");
        return None;
    };
    let inherited = outer.unwrap_or(Languages {
        top: QueryLanguage::JsonPath,
        default: QueryLanguage::JsonPath,
    });
    let language = read_language(obj, inherited, &mut ctx)?;
    let languages = Languages {
        top: if top_level { language } else { inherited.top },
        default: language,
    };
    let mut allowed = vec!["StartAt", "States", "Comment", "Version", "QueryLanguage"];
    if top_level {
        allowed.push("TimeoutSeconds");
    } else {
        allowed.push("ProcessorConfig");
    }
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            ctx.issue(key, "unknown field");
        }
    }
    let start_at = match obj.get("StartAt") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            ctx.issue("StartAt", "must be a string");
            None
        }
        None => {
            ctx.issue("StartAt", "missing required field StartAt");
            None
        }
    };
    let timeout_seconds = match obj.get("TimeoutSeconds") {
        None => None,
        Some(v) => match v.as_u64() {
            Some(n) if n > 0 => Some(n),
            _ => {
                ctx.issue("TimeoutSeconds", "must be a positive integer");
                None
            }
        },
    };
    let Some(states_obj) = obj.get("States").and_then(Value::as_object) else {
        ctx.issue("States", "missing required object States");
        return None;
    };
    if states_obj.is_empty() {
        ctx.issue("States", "must contain at least one state");
    }
    let mut states = BTreeMap::new();
    for (name, state_value) in states_obj {
        let state_location = join(location, &format!("States.{name}"));
        if name.chars().count() > 80 {
            ctx.issue(
                &format!("States.{name}"),
                "a state name has at most 80 characters",
            );
        }
        if let Some(state) = parse_state(name, state_value, &state_location, languages, ctx.issues)
        {
            states.insert(name.clone(), Arc::new(state));
        }
    }
    let start_at = start_at?;
    if !states_obj.contains_key(&start_at) {
        ctx.issue(
            "StartAt",
            format!("'{start_at}' is not a state of this machine"),
        );
        return None;
    }
    check_transitions(&start_at, &states, &mut ctx);
    Some(StateMachine {
        comment: obj
            .get("Comment")
            .and_then(Value::as_str)
            .map(str::to_string),
        start_at,
        states,
        timeout_seconds,
        language,
    })
}

/// Every transition target exists, and every state is reachable from `StartAt`.
fn check_transitions(start_at: &str, states: &BTreeMap<String, Arc<State>>, ctx: &mut Ctx) {
    let targets = |state: &State| -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(next) = &state.next {
            out.push(("Next".to_string(), next.clone()));
        }
        if let StateKind::Choice { choices, default } = &state.kind {
            for (i, c) in choices.iter().enumerate() {
                out.push((format!("Choices[{i}].Next"), c.next.clone()));
            }
            if let Some(d) = default {
                out.push(("Default".to_string(), d.clone()));
            }
        }
        for (i, c) in state.catch.iter().enumerate() {
            out.push((format!("Catch[{i}].Next"), c.next.clone()));
        }
        out
    };
    for (name, state) in states {
        for (field, target) in targets(state) {
            if !states.contains_key(&target) {
                ctx.issue(
                    &format!("States.{name}.{field}"),
                    format!("'{target}' is not a state of this machine"),
                );
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut queue = VecDeque::from([start_at.to_string()]);
    while let Some(name) = queue.pop_front() {
        if !seen.insert(name.clone()) {
            continue;
        }
        if let Some(state) = states.get(&name) {
            queue.extend(targets(state).into_iter().map(|(_, t)| t));
        }
    }
    for name in states.keys() {
        if !seen.contains(name) {
            ctx.issue(
                &format!("States.{name}"),
                "the state is unreachable from StartAt",
            );
        }
    }
}

fn parse_state(
    name: &str,
    value: &Value,
    location: &str,
    languages: Languages,
    issues: &mut Vec<Issue>,
) -> Option<State> {
    let mut ctx = Ctx {
        issues,
        location: location.to_string(),
    };
    let Some(obj) = value.as_object() else {
        ctx.issue("", "a state must be a JSON object");
        return None;
    };
    let language = read_language(obj, languages, &mut ctx)?;
    let jsonata = language == QueryLanguage::Jsonata;
    let Some(kind_name) = obj.get("Type").and_then(Value::as_str) else {
        ctx.issue("Type", "missing required field Type");
        return None;
    };
    let allowed = if jsonata {
        jsonata_fields::allowed_fields(kind_name)
    } else {
        allowed_fields(kind_name)
    };
    if allowed.is_empty() {
        ctx.issue("Type", format!("unknown state type '{kind_name}'"));
        return None;
    }
    for key in obj.keys() {
        if !COMMON.contains(&key.as_str()) && !allowed.contains(&key.as_str()) {
            if key == "Assign" {
                ctx.issue(
                    key,
                    format!("a {kind_name} state cannot assign variables: Assign is allowed on Pass, Task, Choice, Wait, Parallel and Map states"),
                );
            } else {
                ctx.issue(key, jsonata_fields::unknown_field(key, kind_name, language));
            }
        }
    }
    // Branches and item processors inherit the language of the machine the state is in,
    // not the state's own `QueryLanguage`.
    let branch_languages = languages;
    let terminal_by_type = matches!(kind_name, "Choice" | "Succeed" | "Fail");
    let next = obj.get("Next").and_then(Value::as_str).map(str::to_string);
    let end = obj.get("End").and_then(Value::as_bool).unwrap_or(false);
    if !terminal_by_type {
        match (&next, end) {
            (Some(_), true) => ctx.issue("Next", "a state cannot have both Next and End"),
            (None, false) => ctx.issue(
                "Next",
                "the state is not terminal: it needs Next or \"End\": true",
            ),
            _ => {}
        }
        if obj.get("Next").is_some_and(|v| !v.is_string()) {
            ctx.issue("Next", "must be a state name");
        }
    }
    let kind = match kind_name {
        "Pass" => StateKind::Pass {
            result: obj.get("Result").cloned(),
        },
        "Task" => {
            let resource = match obj.get("Resource") {
                Some(Value::String(r)) if !r.is_empty() => r.clone(),
                _ => {
                    ctx.issue("Resource", "missing required field Resource");
                    String::new()
                }
            };
            let (timeout, heartbeat) = if jsonata {
                (
                    jsonata_fields::parse_seconds(obj, "TimeoutSeconds", &mut ctx),
                    jsonata_fields::parse_seconds(obj, "HeartbeatSeconds", &mut ctx),
                )
            } else {
                (
                    parse_seconds(obj, "TimeoutSeconds", &mut ctx),
                    parse_seconds(obj, "HeartbeatSeconds", &mut ctx),
                )
            };
            if let (Some(Seconds::Fixed(t)), Some(Seconds::Fixed(h))) = (&timeout, &heartbeat) {
                if h >= t {
                    ctx.issue(
                        "HeartbeatSeconds",
                        format!("must be smaller than TimeoutSeconds ({h} >= {t})"),
                    );
                }
            }
            StateKind::Task(TaskSpec {
                resource,
                timeout,
                heartbeat,
            })
        }
        "Choice" => {
            let mut choices = Vec::new();
            match obj.get("Choices").and_then(Value::as_array) {
                Some(items) if !items.is_empty() => {
                    for (i, item) in items.iter().enumerate() {
                        let field = format!("Choices[{i}]");
                        let Some(rule) = item.as_object() else {
                            ctx.issue(&field, "must be an object");
                            continue;
                        };
                        let Some(next) = rule.get("Next").and_then(Value::as_str) else {
                            ctx.issue(
                                &format!("{field}.Next"),
                                "a top-level choice rule needs Next",
                            );
                            continue;
                        };
                        if jsonata {
                            if let Some(branch) =
                                jsonata_fields::parse_rule(rule, i, next, &mut ctx)
                            {
                                choices.push(branch);
                            }
                            continue;
                        }
                        for key in ["Condition", "Output"] {
                            if rule.contains_key(key) {
                                ctx.issue(
                                    &format!("{field}.{key}"),
                                    jsonata_fields::unknown_field(key, "Choice rule", language),
                                );
                            }
                        }
                        let assign = parse_assign(rule, &format!("{field}.Assign"), &mut ctx);
                        match Condition::parse(rule) {
                            Ok(condition) => choices.push(ChoiceBranch {
                                condition: Rule::Path(condition),
                                next: next.to_string(),
                                assign,
                                output: None,
                            }),
                            Err(e) => ctx.issue(&field, e),
                        }
                    }
                }
                _ => ctx.issue("Choices", "must be a non-empty array of choice rules"),
            }
            StateKind::Choice {
                choices,
                default: obj
                    .get("Default")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            }
        }
        "Wait" if jsonata => jsonata_fields::parse_wait(obj, &mut ctx)?,
        "Wait" => {
            let present: Vec<&str> = ["Seconds", "Timestamp", "SecondsPath", "TimestampPath"]
                .into_iter()
                .filter(|f| obj.contains_key(*f))
                .collect();
            if present.len() != 1 {
                ctx.issue("", "a Wait state needs exactly one of Seconds, Timestamp, SecondsPath, TimestampPath");
                return None;
            }
            match present[0] {
                "Seconds" => match obj["Seconds"].as_u64() {
                    Some(n) => StateKind::Wait(WaitFor::Seconds(n)),
                    None => {
                        ctx.issue("Seconds", "must be a non-negative integer");
                        return None;
                    }
                },
                "Timestamp" => match obj["Timestamp"].as_str().and_then(parse_timestamp) {
                    Some(t) => StateKind::Wait(WaitFor::Timestamp(t)),
                    None => {
                        ctx.issue(
                            "Timestamp",
                            "must be an RFC 3339 timestamp such as 2016-03-14T01:59:00Z",
                        );
                        return None;
                    }
                },
                "SecondsPath" => StateKind::Wait(WaitFor::SecondsPath(parse_path(
                    obj,
                    "SecondsPath",
                    &mut ctx,
                )?)),
                _ => StateKind::Wait(WaitFor::TimestampPath(parse_path(
                    obj,
                    "TimestampPath",
                    &mut ctx,
                )?)),
            }
        }
        "Succeed" => StateKind::Succeed,
        "Fail" if jsonata => StateKind::Fail {
            error: jsonata_fields::parse_text(obj, "Error", &mut ctx),
            cause: jsonata_fields::parse_text(obj, "Cause", &mut ctx),
        },
        "Fail" => StateKind::Fail {
            error: parse_text_source(obj, "Error", &mut ctx),
            cause: parse_text_source(obj, "Cause", &mut ctx),
        },
        "Parallel" => {
            let mut branches = Vec::new();
            match obj.get("Branches").and_then(Value::as_array) {
                Some(items) if !items.is_empty() => {
                    for (i, item) in items.iter().enumerate() {
                        let loc = join(location, &format!("Branches[{i}]"));
                        if let Some(m) =
                            parse_machine(item, &loc, Some(branch_languages), ctx.issues)
                        {
                            branches.push(Arc::new(m));
                        }
                    }
                }
                _ => ctx.issue("Branches", "must be a non-empty array of branches"),
            }
            StateKind::Parallel { branches }
        }
        "Map" => map_state::parse(obj, location, branch_languages, language, &mut ctx)?,
        _ => return None,
    };
    if jsonata {
        return Some(State {
            name: name.to_string(),
            input_path: PathField::Default,
            output_path: PathField::Default,
            result_path: PathField::Default,
            parameters: None,
            result_selector: None,
            next: if terminal_by_type { None } else { next },
            retry: parse_retry(obj, &mut ctx),
            catch: parse_catch(obj, language, &mut ctx),
            assign: jsonata_fields::parse_assign(obj, "Assign", "Assign", &mut ctx),
            kind,
            language,
            arguments: jsonata_fields::parse_payload(obj, "Arguments", &mut ctx),
            output: jsonata_fields::parse_payload(obj, "Output", &mut ctx),
        });
    }
    let parameters = if kind_name == "Map" {
        None
    } else {
        parse_template(obj, "Parameters", &mut ctx)
    };
    Some(State {
        name: name.to_string(),
        input_path: parse_path_field(obj, "InputPath", false, &mut ctx),
        output_path: parse_path_field(obj, "OutputPath", false, &mut ctx),
        result_path: parse_path_field(obj, "ResultPath", true, &mut ctx),
        parameters,
        result_selector: parse_template(obj, "ResultSelector", &mut ctx),
        next: if terminal_by_type { None } else { next },
        retry: parse_retry(obj, &mut ctx),
        catch: parse_catch(obj, language, &mut ctx),
        assign: parse_assign(obj, "Assign", &mut ctx),
        kind,
        language,
        arguments: None,
        output: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn issues(def: Value) -> Vec<String> {
        StateMachine::parse(&def)
            .unwrap_err()
            .issues
            .into_iter()
            .map(|i| i.to_string())
            .collect()
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/concepts-amazon-states-language.html
    // (the "Hello World" example: one Pass state with Result and End)
    #[test]
    fn hello_world_from_the_docs_parses() {
        let m = StateMachine::parse(&json!({
            "Comment": "A Hello World example of the Amazon States Language using a Pass state",
            "StartAt": "HelloWorld",
            "States": {"HelloWorld": {"Type": "Pass", "Result": "Hello World!", "End": true}}
        }))
        .unwrap();
        assert_eq!(m.start_at, "HelloWorld");
        assert!(m.state("HelloWorld").unwrap().next.is_none());
    }

    #[test]
    fn errors_name_the_state_and_field() {
        let found = issues(json!({"States": {"A": {"Type": "Pass", "End": true}}}));
        assert!(
            found.iter().any(|i| i.contains("StartAt: missing")),
            "{found:?}"
        );

        let found = issues(json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "Next": "Nowhere"},
            "B": {"Type": "Pass"},
            "C": {"Type": "Task", "Resource": "x", "InputPath": "nope", "End": true,
                  "Parameters": {"v.$": "States.Frobnicate(1)"}}
        }}));
        let joined = found.join("\n");
        assert!(
            joined.contains("States.A.Next: 'Nowhere' is not a state"),
            "{joined}"
        );
        assert!(
            joined.contains("States.B.Next: the state is not terminal"),
            "{joined}"
        );
        assert!(
            joined.contains("States.B: the state is unreachable"),
            "{joined}"
        );
        assert!(
            joined.contains("States.C.InputPath: invalid JSONPath 'nope'"),
            "{joined}"
        );
        assert!(
            joined.contains(
                "States.C.Parameters: 'v.$': unknown intrinsic function 'States.Frobnicate'"
            ),
            "{joined}"
        );
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/transforming-data.html (a
    // JSONata state may sit in a JSONPath machine; JSONata states have Arguments and Output
    // instead of the five JSONPath fields) and the common state fields ("If the state does
    // not contain a QueryLanguage field, then it will use the query language specified in
    // the top-level QueryLanguage field"); the refusal of a JSONPath state in a JSONata
    // machine is worded as Step Functions' validation words it.
    #[test]
    fn query_languages_mix_as_aws_allows() {
        let machine = StateMachine::parse(&json!({"QueryLanguage": "JSONata", "StartAt": "P",
            "States": {"P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "B", "States": {"B": {"Type": "Pass", "Output": "{% 1 %}", "End": true}}}]}}}))
        .unwrap();
        assert_eq!(machine.language, QueryLanguage::Jsonata);
        let StateKind::Parallel { branches } = &machine.state("P").unwrap().kind else {
            panic!("not a Parallel state")
        };
        assert_eq!(
            branches[0].state("B").unwrap().language,
            QueryLanguage::Jsonata
        );
        let mixed = StateMachine::parse(&json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": {"x": "{% $states.input %}"}, "Next": "B"},
            "B": {"Type": "Pass", "InputPath": "$.x", "End": true}}}))
        .unwrap();
        assert_eq!(mixed.state("A").unwrap().language, QueryLanguage::Jsonata);
        assert_eq!(mixed.state("B").unwrap().language, QueryLanguage::JsonPath);

        let found = issues(json!({"QueryLanguage": "JSONata", "StartAt": "A",
            "States": {"A": {"Type": "Pass", "QueryLanguage": "JSONPath", "End": true}}}));
        assert_eq!(
            found,
            vec!["States.A.QueryLanguage: 'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine"]
        );
        let found = issues(json!({"QueryLanguage": "JSONPath-ish", "StartAt": "A",
            "States": {"A": {"Type": "Pass", "End": true}}}));
        assert!(found[0].starts_with("QueryLanguage: must be"), "{found:?}");

        let found = issues(json!({"StartAt": "A",
            "States": {"A": {"Type": "Pass", "Output": "{% $states.input %}", "End": true}}}));
        assert!(
            found[0].starts_with("States.A.Output: 'Output' is a JSONata field"),
            "{found:?}"
        );
        let found = issues(
            json!({"QueryLanguage": "JSONata", "StartAt": "T", "States": {
            "T": {"Type": "Task", "Resource": "r", "InputPath": "$.a", "Parameters": {}, "ResultSelector": {},
                  "ResultPath": "$.r", "OutputPath": "$", "TimeoutSecondsPath": "$.t", "Next": "C"},
            "C": {"Type": "Choice", "Default": "W", "Choices": [{"Variable": "$.a", "IsNull": true, "Next": "W"}]},
            "W": {"Type": "Wait", "SecondsPath": "$.s", "Next": "M"},
            "M": {"Type": "Map", "ItemsPath": "$.i", "Next": "F", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}},
            "F": {"Type": "Fail", "ErrorPath": "$.e"}}}),
        );
        let joined = found.join("\n");
        for field in [
            "T.InputPath",
            "T.Parameters",
            "T.ResultSelector",
            "T.ResultPath",
            "T.OutputPath",
            "T.TimeoutSecondsPath",
            "W.SecondsPath",
            "M.ItemsPath",
            "F.ErrorPath",
        ] {
            assert!(
                joined.contains(&format!(
                    "States.{field}: '{}' is a JSONPath field",
                    field.split('.').nth(1).unwrap()
                )),
                "{field}: {joined}"
            );
        }
        assert!(
            joined.contains(
                "States.C.Choices[0].Variable: 'Variable' belongs to JSONPath choice rules"
            ),
            "{joined}"
        );
        assert!(
            joined.contains("States.C.Choices[0].Condition: a JSONata choice rule needs Condition"),
            "{joined}"
        );
        let found = issues(
            json!({"StartAt": "T", "States": {"T": {"Type": "Task", "Resource": "r", "End": true,
            "Catch": [{"ErrorEquals": ["States.ALL"], "Output": {}, "Next": "T"}]}}}),
        );
        assert!(
            found[0].starts_with("States.T.Catch[0].Output: 'Output' is a JSONata field"),
            "{found:?}"
        );
        let found = issues(
            json!({"QueryLanguage": "JSONata", "StartAt": "A", "States": {"A": {"Type": "Pass",
            "Output": {"x": ["{% 1 + %}"]}, "Assign": {"v.$": "$.x"}, "End": true}}}),
        );
        assert!(
            found.iter().any(|i| i.starts_with(
                "States.A: Output/x[0]: the JSONata expression '1 +' is not valid: S0"
            )),
            "{found:?}"
        );
        assert!(
            found.iter().any(|i| i
                .starts_with("States.A.Assign: 'v.$': a JSONata state does not use '.$' names")),
            "{found:?}"
        );
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
    // ("States that support variables": Pass, Task, Map, Parallel, Choice, Wait; "the Assign
    // field is available at the top level of each state (except Succeed and Fail), inside
    // Choice state rules, and inside Catch fields")
    #[test]
    fn assign_is_read_where_the_docs_allow_it() {
        let machine = StateMachine::parse(&json!({"StartAt": "P", "States": {
            "P": {"Type": "Pass", "Assign": {"a": 1}, "Next": "W"},
            "W": {"Type": "Wait", "Seconds": 0, "Assign": {"b": 1}, "Next": "C"},
            "C": {"Type": "Choice", "Assign": {"c": 1}, "Default": "T",
                  "Choices": [{"Variable": "$a", "NumericEquals": 1, "Assign": {"d": 1}, "Next": "T"}]},
            "T": {"Type": "Task", "Resource": "r", "Assign": {"e.$": "$.x"}, "Next": "Par",
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"f.$": "$.Cause"}, "Next": "Par"}]},
            "Par": {"Type": "Parallel", "Assign": {"g": 1}, "Next": "M",
                    "Branches": [{"StartAt": "B", "States": {"B": {"Type": "Succeed"}}}]},
            "M": {"Type": "Map", "Assign": {"h": 1}, "End": true, "MaxConcurrencyPath": "$a",
                  "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}}
        }}))
        .unwrap();
        let names = |state: &str| -> Vec<String> {
            machine
                .state(state)
                .unwrap()
                .assign
                .as_ref()
                .unwrap()
                .names()
                .map(str::to_string)
                .collect()
        };
        assert_eq!(names("P"), vec!["a"]);
        assert_eq!(names("M"), vec!["h"]);
        let StateKind::Choice { choices, .. } = &machine.state("C").unwrap().kind else {
            panic!("not a choice")
        };
        assert!(choices[0].assign.is_some());
        assert!(machine.state("T").unwrap().catch[0].assign.is_some());

        for kind in [
            json!({"Type": "Succeed"}),
            json!({"Type": "Fail", "Error": "E"}),
        ] {
            let mut state = kind.clone();
            state["Assign"] = json!({"x": 1});
            let found = issues(json!({"StartAt": "A", "States": {"A": state}}));
            assert!(
                found[0].contains("States.A.Assign: a")
                    && found[0].contains("cannot assign variables"),
                "{found:?}"
            );
        }
        let found = issues(json!({"StartAt": "A", "States": {"A": {"Type": "Pass",
            "Assign": {"x.y": 1, "states": 2}, "End": true}}}));
        assert!(found[0].starts_with("States.A.Assign: 'x.y'"), "{found:?}");
        assert!(found[1].contains("reserved"), "{found:?}");
        let found = issues(
            json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Default": "D",
            "Choices": [{"Not": {"Variable": "$.a", "IsNull": true, "Assign": {"x": 1}}, "Next": "D"}]},
            "D": {"Type": "Succeed"}}}),
        );
        assert!(
            found[0].contains("a nested rule cannot have 'Assign'"),
            "{found:?}"
        );
        let found = issues(
            json!({"StartAt": "C", "States": {"C": {"Type": "Choice", "Default": "D",
            "Choices": [{"Variable": "$.a", "IsNull": true, "Assign": {"1x": 1}, "Next": "D"}]},
            "D": {"Type": "Succeed"}}}),
        );
        assert!(
            found[0].starts_with("States.C.Choices[0].Assign: '1x'"),
            "{found:?}"
        );
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
    // ("Using variables in JSONPath states": a variable can be read in any field that
    // accepts a JSONPath expression "with the exception of ResultPath")
    #[test]
    fn result_path_cannot_read_a_variable() {
        let found = issues(json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "ResultPath": "$x.y", "Next": "T"},
            "T": {"Type": "Task", "Resource": "r", "End": true,
                  "Catch": [{"ErrorEquals": ["States.ALL"], "ResultPath": "$err", "Next": "A"}]}}}));
        assert!(
            found[0].starts_with("States.A.ResultPath: '$x.y' reads a variable"),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("States.T.Catch[0].ResultPath: '$err' reads a variable"),
            "{found:?}"
        );
        // Every other path field may.
        StateMachine::parse(&json!({"StartAt": "A", "States": {
            "A": {"Type": "Pass", "InputPath": "$x", "OutputPath": "$y.z", "Parameters": {"p.$": "$v"}, "Next": "W"},
            "W": {"Type": "Wait", "SecondsPath": "$s", "Next": "F"},
            "F": {"Type": "Fail", "ErrorPath": "$e", "CausePath": "States.Format('{}', $c)"}}}))
        .unwrap();
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
    // ("Variable scope": "a variable assigned in an inner scope cannot have the same name
    // as one assigned in an outer scope"; a catcher's Assign belongs to the scope in which
    // the Parallel/Map state exists)
    #[test]
    fn inner_scopes_cannot_assign_outer_names() {
        let found = issues(json!({"StartAt": "Init", "States": {
            "Init": {"Type": "Pass", "Assign": {"myVariable": 1}, "Next": "P"},
            "P": {"Type": "Parallel", "Next": "M", "Branches": [
                {"StartAt": "B", "States": {"B": {"Type": "Pass", "Assign": {"myVariable": 2, "own": 1}, "End": true}}},
                {"StartAt": "B2", "States": {"B2": {"Type": "Pass", "Assign": {"own": 2}, "End": true}}}
            ]},
            "M": {"Type": "Map", "End": true,
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Assign": {"caught": 1}, "Next": "Init"}],
                  "ItemProcessor": {"StartAt": "I", "States": {
                      "I": {"Type": "Choice", "Default": "J",
                            "Choices": [{"Variable": "$.a", "IsNull": true, "Assign": {"caught": 1}, "Next": "J"}]},
                      "J": {"Type": "Map", "End": true, "ItemProcessor": {"StartAt": "K", "States": {
                          "K": {"Type": "Pass", "Assign": {"myVariable.$": "$"}, "End": true}}}}}}}
        }}));
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(
            found[0].starts_with("States.M.ItemProcessor.States.I.Choices[0].Assign: the variable 'caught' is assigned in an outer scope"),
            "{found:?}"
        );
        assert!(
            found[1].starts_with("States.M.ItemProcessor.States.J.ItemProcessor.States.K.Assign: the variable 'myVariable'"),
            "{found:?}"
        );
        assert!(
            found[2].starts_with("States.P.Branches[0].States.B.Assign: the variable 'myVariable'"),
            "{found:?}"
        );
        // Reading an outer variable, or one no state assigns, is accepted when the
        // definition is created (a read of an unassigned variable fails when it runs).
        StateMachine::parse(&json!({"StartAt": "Init", "States": {
            "Init": {"Type": "Pass", "Assign": {"x": 1}, "Next": "M"},
            "M": {"Type": "Map", "ItemsPath": "$x", "End": true, "ItemProcessor": {"StartAt": "I", "States": {
                "I": {"Type": "Pass", "Assign": {"innerX.$": "$x", "other.$": "$neverAssigned"}, "End": true}}}}}}))
        .unwrap();
    }

    #[test]
    fn retry_catch_and_reference_paths_are_checked() {
        let found = issues(json!({"StartAt": "A", "States": {
            "A": {"Type": "Task", "Resource": "r", "End": true, "ResultPath": "$.a[*]",
                  "Retry": [{"ErrorEquals": ["States.ALL", "X"], "BackoffRate": 0.5}],
                  "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Gone"}]}
        }}));
        let joined = found.join("\n");
        assert!(
            joined.contains("States.A.ResultPath: '$.a[*]' is not a reference path"),
            "{joined}"
        );
        assert!(
            joined.contains("States.A.Retry[0].ErrorEquals: States.ALL must appear alone"),
            "{joined}"
        );
        assert!(joined.contains("States.A.Retry[0].BackoffRate"), "{joined}");
        assert!(
            joined.contains("States.A.Catch[0].Next: 'Gone' is not a state"),
            "{joined}"
        );
        // https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html
        // (HeartbeatSeconds must be smaller than TimeoutSeconds)
        let found = issues(json!({"StartAt": "A", "States": {
            "A": {"Type": "Task", "Resource": "r", "End": true, "TimeoutSeconds": 10, "HeartbeatSeconds": 10}}}));
        assert!(
            found[0].contains("States.A.HeartbeatSeconds: must be smaller than TimeoutSeconds"),
            "{found:?}"
        );
    }

    #[test]
    fn nested_branches_are_validated_with_their_location() {
        let found = issues(json!({"StartAt": "P", "States": {
            "P": {"Type": "Parallel", "End": true, "Branches": [
                {"StartAt": "X", "States": {"X": {"Type": "Wait", "End": true}}}
            ]}
        }}));
        assert!(
            found[0].starts_with("States.P.Branches[0].States.X"),
            "{found:?}"
        );
    }
}
