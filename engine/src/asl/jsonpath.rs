//! JSONPath as Step Functions' JSONPath dialect uses it: `$` (the state input), `$$` (the
//! context object) or `$name` (a workflow variable), then `.field`, `['field']`, `[index]`,
//! `[*]`, `[start:end:step]`, unions `[a,b]`, recursive descent `..field` and filters
//! `[?(@.a > 1)]`.
//!
//! A path made only of fields and indexes is *definite*: it selects one value and fails
//! when that value is absent. Any other path selects a list (possibly empty), which is how
//! Step Functions returns wildcard and filter matches.

use crate::asl::variables::{is_name_continue, is_name_start, Sources};
use serde_json::{Map, Value};
use std::fmt;

mod filter;
use filter::filter_matches;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PathError {
    #[error("invalid JSONPath '{path}': {reason}")]
    Syntax { path: String, reason: String },
    #[error("the JSONPath '{path}' could not be found in the input '{input}'")]
    NoMatch { path: String, input: String },
    #[error("the JSONPath '{path}' reads the variable '${name}', which has no value here: no state before this one in its scope assigned it")]
    UndefinedVariable { path: String, name: String },
    #[error("the JSONPath '{path}' could not be found in the value of the variable '${name}': '{value}'")]
    NoMatchInVariable {
        path: String,
        name: String,
        value: String,
    },
    #[error("unable to apply the reference path '{path}': {reason}")]
    CannotSet { path: String, reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Root {
    /// `$`: the data the state is working on.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a workflow variable.
    Variable(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Index(i64),
    Wildcard,
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Union(Vec<UnionMember>),
    Descendant(Option<String>),
    Filter(Filter),
}

#[derive(Debug, Clone, PartialEq)]
enum UnionMember {
    Field(String),
    Index(i64),
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Exists(Vec<Step>),
    Compare(Vec<Step>, Comparison, Value),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Comparison {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A parsed JSONPath.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    source: String,
    root: Root,
    steps: Vec<Step>,
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl JsonPath {
    pub fn parse(source: &str) -> Result<JsonPath, PathError> {
        let syntax = |reason: &str| PathError::Syntax {
            path: source.to_string(),
            reason: reason.to_string(),
        };
        let (root, rest) = if let Some(rest) = source.strip_prefix("$$") {
            (Root::Context, rest)
        } else if let Some(rest) = source.strip_prefix('$') {
            match rest.chars().next() {
                Some(c) if is_name_start(c) => {
                    let end = rest
                        .char_indices()
                        .find(|(_, c)| !is_name_continue(*c))
                        .map_or(rest.len(), |(i, _)| i);
                    (Root::Variable(rest[..end].to_string()), &rest[end..])
                }
                _ => (Root::Input, rest),
            }
        } else {
            return Err(syntax(
                "a path must start with '$' (the input), '$$' (the context object) or '$name' (a variable)",
            ));
        };
        let mut parser = StepParser {
            chars: rest.chars().collect(),
            pos: 0,
        };
        let steps = parser.steps(false).map_err(|reason| syntax(&reason))?;
        if parser.pos != parser.chars.len() {
            return Err(syntax("unexpected trailing characters"));
        }
        Ok(JsonPath {
            source: source.to_string(),
            root,
            steps,
        })
    }

    pub fn root(&self) -> &Root {
        &self.root
    }

    /// The variable this path reads (`x` for `$x.a`), if it reads one.
    pub fn variable(&self) -> Option<&str> {
        match &self.root {
            Root::Variable(name) => Some(name),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Fields and indexes only: selects at most one value.
    pub fn is_definite(&self) -> bool {
        self.steps
            .iter()
            .all(|s| matches!(s, Step::Field(_) | Step::Index(_)))
    }

    /// A reference path (what `ResultPath` accepts): definite, on the state's data.
    pub fn is_reference_path(&self) -> bool {
        self.root == Root::Input && self.is_definite()
    }

    /// A definite path on the state's data or on a variable (what the `…Path` fields that
    /// take a reference path accept besides `ResultPath`).
    pub fn is_data_reference_path(&self) -> bool {
        self.root != Root::Context && self.is_definite()
    }

    /// The document the path starts from, or why there is none.
    fn document<'a>(&self, sources: &Sources<'a>) -> Result<&'a Value, PathError> {
        match &self.root {
            Root::Input => Ok(sources.input),
            Root::Context => Ok(sources.context),
            Root::Variable(name) => {
                sources
                    .variables
                    .get(name)
                    .ok_or_else(|| PathError::UndefinedVariable {
                        path: self.source.clone(),
                        name: name.clone(),
                    })
            }
        }
    }

    /// Selects from the state's data (`$`), the context object (`$$`) or a variable
    /// (`$name`).
    pub fn select(&self, sources: &Sources) -> Result<Value, PathError> {
        let doc = self.document(sources)?;
        let found = apply_steps(&self.steps, doc);
        if self.is_definite() {
            found
                .into_iter()
                .next()
                .cloned()
                .ok_or_else(|| match &self.root {
                    Root::Variable(name) => PathError::NoMatchInVariable {
                        path: self.source.clone(),
                        name: name.clone(),
                        value: doc.to_string(),
                    },
                    _ => PathError::NoMatch {
                        path: self.source.clone(),
                        input: doc.to_string(),
                    },
                })
        } else {
            Ok(Value::Array(found.into_iter().cloned().collect()))
        }
    }

    /// Whether a definite path finds a value (what `IsPresent` tests); a variable that has
    /// no value is not present.
    pub fn is_present(&self, sources: &Sources) -> bool {
        self.document(sources)
            .is_ok_and(|doc| !apply_steps(&self.steps, doc).is_empty())
    }

    /// Places `value` at this reference path inside `target`, creating the missing objects
    /// on the way, as `ResultPath` does.
    pub fn set(&self, target: Value, value: Value) -> Result<Value, PathError> {
        if !self.is_reference_path() {
            return Err(PathError::CannotSet {
                path: self.source.clone(),
                reason: "only a reference path of fields and indexes can receive a result".into(),
            });
        }
        if self.steps.is_empty() {
            return Ok(value);
        }
        let mut target = target;
        set_in(&mut target, &self.steps, value).map_err(|reason| PathError::CannotSet {
            path: self.source.clone(),
            reason,
        })?;
        Ok(target)
    }
}

fn set_in(target: &mut Value, steps: &[Step], value: Value) -> Result<(), String> {
    let Some((first, rest)) = steps.split_first() else {
        *target = value;
        return Ok(());
    };
    match first {
        Step::Field(name) => {
            let Value::Object(map) = target else {
                return Err(format!(
                    "the field '{name}' cannot be added to a non-object value {target}"
                ));
            };
            if rest.is_empty() {
                map.insert(name.clone(), value);
                return Ok(());
            }
            let slot = map
                .entry(name.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            set_in(slot, rest, value)
        }
        Step::Index(index) => {
            let Value::Array(items) = target else {
                return Err(format!(
                    "the index [{index}] needs an array, found {target}"
                ));
            };
            let slot = normalise_index(*index, items.len())
                .and_then(|at| items.get_mut(at))
                .ok_or_else(|| format!("the index [{index}] is outside the array"))?;
            set_in(slot, rest, value)
        }
        _ => Err("only fields and indexes can be assigned".into()),
    }
}

fn apply_steps<'a>(steps: &[Step], doc: &'a Value) -> Vec<&'a Value> {
    let mut current = vec![doc];
    for step in steps {
        let mut next = Vec::new();
        for node in current {
            apply_step(step, node, &mut next);
        }
        current = next;
    }
    current
}

fn normalise_index(index: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let at = if index < 0 { len + index } else { index };
    (0..len).contains(&at).then_some(at as usize)
}

fn apply_step<'a>(step: &Step, node: &'a Value, out: &mut Vec<&'a Value>) {
    match step {
        Step::Field(name) => {
            if let Some(v) = node.as_object().and_then(|m| m.get(name)) {
                out.push(v);
            }
        }
        Step::Index(index) => {
            if let Some(items) = node.as_array() {
                if let Some(item) =
                    normalise_index(*index, items.len()).and_then(|at| items.get(at))
                {
                    out.push(item);
                }
            }
        }
        Step::Wildcard => match node {
            Value::Object(map) => out.extend(map.values()),
            Value::Array(items) => out.extend(items.iter()),
            _ => {}
        },
        Step::Slice(start, end, step) => {
            if let Some(items) = node.as_array() {
                out.extend(
                    slice_indexes(items.len(), *start, *end, *step).filter_map(|i| items.get(i)),
                );
            }
        }
        Step::Union(members) => {
            for member in members {
                match member {
                    UnionMember::Field(name) => apply_step(&Step::Field(name.clone()), node, out),
                    UnionMember::Index(i) => apply_step(&Step::Index(*i), node, out),
                }
            }
        }
        Step::Descendant(name) => collect_descendants(node, name.as_deref(), out),
        Step::Filter(filter) => {
            let candidates: Vec<&Value> = match node {
                Value::Array(items) => items.iter().collect(),
                Value::Object(map) => map.values().collect(),
                _ => Vec::new(),
            };
            out.extend(candidates.into_iter().filter(|c| filter_matches(filter, c)));
        }
    }
}

/// The indexes `[start:end:step]` selects, with Python-like negative bounds.
pub(crate) fn slice_indexes(
    len: usize,
    start: Option<i64>,
    end: Option<i64>,
    step: Option<i64>,
) -> impl Iterator<Item = usize> {
    let len = len as i64;
    let step = step.unwrap_or(1).max(1);
    let clamp = |v: i64| {
        let v = if v < 0 { len + v } else { v };
        v.clamp(0, len)
    };
    let start = clamp(start.unwrap_or(0));
    let end = clamp(end.unwrap_or(len));
    (start..end).step_by(step as usize).map(|i| i as usize)
}

fn collect_descendants<'a>(node: &'a Value, name: Option<&str>, out: &mut Vec<&'a Value>) {
    match node {
        Value::Object(map) => {
            for (key, value) in map {
                if name.is_none_or(|n| n == key) {
                    out.push(value);
                }
            }
            for value in map.values() {
                collect_descendants(value, name, out);
            }
        }
        Value::Array(items) => {
            if name.is_none() {
                out.extend(items.iter());
            }
            for value in items {
                collect_descendants(value, name, out);
            }
        }
        _ => {}
    }
}

struct StepParser {
    chars: Vec<char>,
    pos: usize,
}

impl StepParser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    /// The text read since `start`.
    fn read_since(&self, start: usize) -> String {
        self.chars
            .get(start..self.pos)
            .unwrap_or_default()
            .iter()
            .collect()
    }

    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    /// Steps until the end, or (inside a filter) until an operator or `)`.
    fn steps(&mut self, in_filter: bool) -> Result<Vec<Step>, String> {
        let mut steps = Vec::new();
        while let Some(c) = self.peek() {
            match c {
                '.' if self.peek_at(1) == Some('.') => {
                    self.pos += 2;
                    if self.eat('*') {
                        steps.push(Step::Descendant(None));
                    } else {
                        let name = self.field_name()?;
                        steps.push(Step::Descendant(Some(name)));
                    }
                }
                '.' => {
                    self.pos += 1;
                    if self.eat('*') {
                        steps.push(Step::Wildcard);
                    } else {
                        steps.push(Step::Field(self.field_name()?));
                    }
                }
                '[' => {
                    self.pos += 1;
                    steps.push(self.bracket()?);
                }
                _ if in_filter => break,
                other => return Err(format!("unexpected character '{other}'")),
            }
        }
        Ok(steps)
    }

    fn field_name(&mut self) -> Result<String, String> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if matches!(
                c,
                '.' | '[' | ']' | ' ' | ')' | '=' | '<' | '>' | '!' | '&' | '|' | ','
            ) {
                break;
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Err("empty field name".into());
        }
        Ok(self.read_since(start))
    }

    fn quoted(&mut self) -> Result<String, String> {
        let quote = self.peek().ok_or("unterminated string")?;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err("unterminated string".into()),
                Some('\\') => {
                    let escaped = self.peek_at(1).ok_or("unterminated string")?;
                    out.push(escaped);
                    self.pos += 2;
                }
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn integer(&mut self) -> Result<Option<i64>, String> {
        self.skip_spaces();
        let start = self.pos;
        if self.peek() == Some('-') {
            self.pos += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == start {
            return Ok(None);
        }
        let text = self.read_since(start);
        self.skip_spaces();
        text.parse::<i64>()
            .map(Some)
            .map_err(|_| format!("'{text}' is not an integer"))
    }

    fn bracket(&mut self) -> Result<Step, String> {
        self.skip_spaces();
        let step = match self.peek() {
            Some('*') => {
                self.pos += 1;
                Step::Wildcard
            }
            Some('?') => {
                self.pos += 1;
                if !self.eat('(') {
                    return Err("a filter must be written [?(...)]".into());
                }
                let filter = self.filter_or()?;
                self.skip_spaces();
                if !self.eat(')') {
                    return Err("missing ')' closing the filter".into());
                }
                Step::Filter(filter)
            }
            Some('\'') | Some('"') => {
                let mut names = vec![self.quoted()?];
                self.skip_spaces();
                while self.eat(',') {
                    self.skip_spaces();
                    names.push(self.quoted()?);
                    self.skip_spaces();
                }
                if names.len() == 1 {
                    Step::Field(names.remove(0))
                } else {
                    Step::Union(names.into_iter().map(UnionMember::Field).collect())
                }
            }
            _ => {
                let first = self.integer()?;
                if self.peek() == Some(':') {
                    self.pos += 1;
                    let end = self.integer()?;
                    let step = if self.eat(':') { self.integer()? } else { None };
                    if step == Some(0) {
                        return Err("a slice step cannot be 0".into());
                    }
                    Step::Slice(first, end, step)
                } else {
                    let first = first.ok_or("expected an index, a slice, '*' or a name")?;
                    let mut indexes = vec![first];
                    while self.eat(',') {
                        indexes.push(self.integer()?.ok_or("expected an index after ','")?);
                    }
                    if indexes.len() == 1 {
                        Step::Index(first)
                    } else {
                        Step::Union(indexes.into_iter().map(UnionMember::Index).collect())
                    }
                }
            }
        };
        self.skip_spaces();
        if !self.eat(']') {
            return Err("missing ']'".into());
        }
        Ok(step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asl::variables::Variables;
    use serde_json::json;

    fn select(path: &str, input: &Value) -> Result<Value, PathError> {
        JsonPath::parse(path)?.select(&Sources::new(input, &Value::Null, &Variables::new()))
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html
    // ("Reference paths": the example document and its results)
    #[test]
    fn reference_paths_from_the_paths_page() {
        let input = json!({"foo": 123, "bar": ["a", "b", "c"], "car": {"cdr": true}});
        assert_eq!(select("$.foo", &input).unwrap(), json!(123));
        assert_eq!(select("$.bar", &input).unwrap(), json!(["a", "b", "c"]));
        assert_eq!(select("$.car.cdr", &input).unwrap(), json!(true));
        assert_eq!(select("$['car']['cdr']", &input).unwrap(), json!(true));
        assert_eq!(select("$.bar[1]", &input).unwrap(), json!("b"));
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html
    // (InputPath "$.a" and a wildcard "$.a[*]" selecting a list)
    #[test]
    fn wildcard_and_slice_select_lists() {
        let input = json!({"a": [1, 2, 3, 4]});
        assert_eq!(select("$.a[0,1]", &input).unwrap(), json!([1, 2]));
        assert_eq!(select("$.a[*]", &input).unwrap(), json!([1, 2, 3, 4]));
        assert_eq!(select("$.a[1:3]", &input).unwrap(), json!([2, 3]));
        assert_eq!(select("$.a[1:]", &input).unwrap(), json!([2, 3, 4]));
        assert_eq!(select("$.a[-1]", &input).unwrap(), json!(4));
        assert_eq!(select("$.a[::2]", &input).unwrap(), json!([1, 3]));
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html
    // (Step Functions accepts the JsonPath filter syntax of the Jayway implementation)
    #[test]
    fn filters_and_recursive_descent() {
        let input = json!({"items": [{"n": "x", "p": 5}, {"n": "y", "p": 15}, {"n": "z"}]});
        assert_eq!(
            select("$.items[?(@.p > 10)].n", &input).unwrap(),
            json!(["y"])
        );
        assert_eq!(
            select("$.items[?(@.p)].n", &input).unwrap(),
            json!(["x", "y"])
        );
        assert_eq!(
            select("$.items[?(@.n == 'x' || @.n == 'z')].n", &input).unwrap(),
            json!(["x", "z"])
        );
        assert_eq!(select("$..n", &input).unwrap(), json!(["x", "y", "z"]));
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html
    // (paths follow the Jayway JsonPath syntax, fields in dot or bracket notation; in
    // bracket notation a quote inside a quoted name is escaped with a backslash)
    #[test]
    fn bracket_names_with_escaped_quotes() {
        let input = json!({"a'b": 1, "say \"hi\"": 2, "back\\slash": 3});
        assert_eq!(select(r"$['a\'b']", &input).unwrap(), json!(1));
        assert_eq!(select(r#"$["say \"hi\""]"#, &input).unwrap(), json!(2));
        assert_eq!(select(r"$['back\\slash']", &input).unwrap(), json!(3));
        assert_eq!(select(r"$['a\'b','nope']", &input).unwrap(), json!([1]));
        let path = JsonPath::parse(r"$['a\'b']").unwrap();
        assert!(path.is_reference_path());
        assert_eq!(path.set(json!({}), json!(7)).unwrap(), json!({"a'b": 7}));
        assert!(matches!(
            JsonPath::parse(r"$['a\']"),
            Err(PathError::Syntax { .. })
        ));
    }

    #[test]
    fn a_missing_definite_path_is_an_error_naming_the_path() {
        let err = select("$.missing", &json!({"a": 1})).unwrap_err();
        assert!(err.to_string().contains("$.missing"), "{err}");
        assert_eq!(select("$.a[*]", &json!({"a": []})).unwrap(), json!([]));
    }

    #[test]
    fn context_root_reads_the_context_object() {
        let path = JsonPath::parse("$$.Execution.Id").unwrap();
        let ctx = json!({"Execution": {"Id": "arn:x"}});
        let none = Variables::new();
        assert_eq!(
            path.select(&Sources::new(&json!({}), &ctx, &none)).unwrap(),
            json!("arn:x")
        );
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
    // ("Using variables in JSONPath states": "$x or $order.numItems"; ResultPath cannot use
    // variables)
    #[test]
    fn variables_are_read_with_a_dollar_and_their_name() {
        let mut vars = Variables::new();
        vars.apply(
            json!({"x": 3, "order": {"numItems": 2, "items": ["a", "b"]}})
                .as_object()
                .unwrap()
                .clone(),
        );
        let read = |p: &str| {
            JsonPath::parse(p).unwrap().select(&Sources::new(
                &json!({"x": "input"}),
                &json!({}),
                &vars,
            ))
        };
        assert_eq!(read("$x").unwrap(), json!(3));
        assert_eq!(read("$.x").unwrap(), json!("input"));
        assert_eq!(read("$order.numItems").unwrap(), json!(2));
        assert_eq!(read("$order.items[1]").unwrap(), json!("b"));
        assert_eq!(read("$order.items[*]").unwrap(), json!(["a", "b"]));
        assert_eq!(read("$order['numItems']").unwrap(), json!(2));
        let undefined = read("$nope.a").unwrap_err();
        assert!(
            matches!(&undefined, PathError::UndefinedVariable { name, .. } if name == "nope"),
            "{undefined}"
        );
        assert!(undefined.to_string().contains("no state before this one"));
        let missing = read("$order.none").unwrap_err();
        assert!(
            missing
                .to_string()
                .contains("value of the variable '$order'"),
            "{missing}"
        );
        let path = JsonPath::parse("$order.numItems").unwrap();
        assert_eq!(path.variable(), Some("order"));
        assert!(!path.is_reference_path());
        assert!(path.is_data_reference_path());
        assert!(matches!(
            path.set(json!({}), json!(1)),
            Err(PathError::CannotSet { .. })
        ));
        let empty = json!({});
        let sources = Sources::new(&empty, &empty, &vars);
        assert!(path.is_present(&sources));
        assert!(!JsonPath::parse("$nope").unwrap().is_present(&sources));
        for bad in ["$x-y", "$_x"] {
            assert!(
                matches!(JsonPath::parse(bad), Err(PathError::Syntax { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn syntax_errors_are_reported() {
        for bad in ["foo", "$.", "$[", "$.a[1", "$.a[?(@.b >)]", "$.a]"] {
            assert!(
                matches!(JsonPath::parse(bad), Err(PathError::Syntax { .. })),
                "{bad} should not parse"
            );
        }
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html
    // ("Use ResultPath to include the result with the input": $.taskresult is added)
    #[test]
    fn set_creates_missing_fields_and_replaces_at_root() {
        let input = json!({"comment": "x", "details": "y"});
        let path = JsonPath::parse("$.taskresult").unwrap();
        assert_eq!(
            path.set(input.clone(), json!("Hello, AWS Step Functions!"))
                .unwrap(),
            json!({"comment": "x", "details": "y", "taskresult": "Hello, AWS Step Functions!"})
        );
        let nested = JsonPath::parse("$.a.b.c").unwrap();
        assert_eq!(
            nested.set(json!({}), json!(1)).unwrap(),
            json!({"a": {"b": {"c": 1}}})
        );
        let root = JsonPath::parse("$").unwrap();
        assert_eq!(root.set(input, json!(7)).unwrap(), json!(7));
        assert!(matches!(
            nested.set(json!({"a": 3}), json!(1)),
            Err(PathError::CannotSet { .. })
        ));
        assert!(matches!(
            JsonPath::parse("$.a[*]").unwrap().set(json!({}), json!(1)),
            Err(PathError::CannotSet { .. })
        ));
    }
}
