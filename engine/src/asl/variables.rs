//! Workflow variables: the values a state's `Assign` stores and later states read as
//! `$name`. One [`Variables`] is one scope: the execution's top level, a Parallel branch or a
//! Map iteration. An inner scope reads every variable of the scopes around it and writes only
//! its own, which disappear with it.
//!
//! The store knows nothing about query languages: JSONPath reads it through [`Sources`] and a
//! state's assignments come in as computed values ([`Variables::check`], then
//! [`Variables::apply`]), so a JSONata state can share the same variables.
//!
//! Rules from <https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html>:
//! names are Unicode identifiers of at most 80 characters, `states` is reserved, one variable
//! holds at most 256 KiB, one `Assign` at most 256 KiB in all and an execution at most 10 MiB.

use crate::error::{names, StatesError};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The longest variable name.
pub const MAX_NAME_CHARS: usize = 80;
/// The name Step Functions reserves for JSONata's `$states`.
pub const RESERVED_NAME: &str = "states";
/// The largest value one variable may hold (serialized JSON).
pub const MAX_VARIABLE_BYTES: usize = 256 * 1024;
/// The most one `Assign` may store in all.
pub const MAX_ASSIGN_BYTES: usize = 256 * 1024;
/// The most all variables of an execution may hold at once.
pub const MAX_TOTAL_BYTES: usize = 10 * 1024 * 1024;

/// Whether `name` can name a variable: a Unicode identifier (a start character, then
/// continue characters, as Unicode Standard Annex #31 defines them) of at most 80
/// characters, and not the reserved `states`. The reason comes back as a sentence.
pub fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return Err("a variable name cannot be empty".into());
    };
    if !is_name_start(first) {
        return Err(format!(
            "'{name}' is not a valid variable name: it must start with a letter (a Unicode identifier start character)"
        ));
    }
    if let Some(bad) = chars.find(|c| !is_name_continue(*c)) {
        return Err(format!(
            "'{name}' is not a valid variable name: '{bad}' cannot appear in a name (only letters, digits and connectors such as '_'); a part of a variable cannot be assigned"
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "the variable name '{name}' is longer than {MAX_NAME_CHARS} characters"
        ));
    }
    if name == RESERVED_NAME {
        return Err(format!(
            "'{RESERVED_NAME}' is reserved by Step Functions and cannot be assigned"
        ));
    }
    Ok(())
}

/// A character that may start a variable name (Unicode XID_Start).
pub fn is_name_start(c: char) -> bool {
    unicode_ident::is_xid_start(c)
}

/// A character that may continue a variable name (Unicode XID_Continue).
pub fn is_name_continue(c: char) -> bool {
    unicode_ident::is_xid_continue(c)
}

/// The size of a value as Step Functions measures payloads: its serialized JSON, in bytes.
pub fn json_size(value: &Value) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing a `Value` into a sink that cannot fail does not fail.
    let _ = serde_json::to_writer(&mut count, value);
    count.0
}

/// The variables one scope sees. Cloning is cheap (the scopes are shared), so a Map state
/// hands every iteration its own inner scope of the same outer variables.
#[derive(Debug, Clone, Default)]
pub struct Variables {
    local: Arc<BTreeMap<String, Value>>,
    local_bytes: usize,
    outer: Option<Arc<Variables>>,
}

impl Variables {
    /// The empty top-level scope of an execution.
    pub fn new() -> Variables {
        Variables::default()
    }

    /// A new scope inside this one (a Parallel branch or a Map iteration): it reads this
    /// scope's variables and starts with none of its own.
    pub fn inner_scope(&self) -> Variables {
        Variables {
            local: Arc::default(),
            local_bytes: 0,
            outer: Some(Arc::new(self.clone())),
        }
    }

    /// The value of `$name`, from this scope or the nearest outer one that has it.
    pub fn get(&self, name: &str) -> Option<&Value> {
        let mut scope = self;
        loop {
            if let Some(v) = scope.local.get(name) {
                return Some(v);
            }
            scope = scope.outer.as_deref()?;
        }
    }

    /// The variables this scope assigned itself (not those it reads from outer scopes).
    pub fn local(&self) -> &BTreeMap<String, Value> {
        &self.local
    }

    /// Whether no variable at all is visible here.
    pub fn is_empty(&self) -> bool {
        self.local.is_empty() && self.outer.as_ref().is_none_or(|o| o.is_empty())
    }

    /// Bytes held by every variable visible here (this scope and the outer ones).
    pub fn total_bytes(&self) -> usize {
        self.local_bytes + self.outer.as_ref().map_or(0, |o| o.total_bytes())
    }

    /// Whether storing `assigned` keeps within Step Functions' limits: each value at most
    /// 256 KiB, all of them at most 256 KiB, and every variable of the execution together at
    /// most 10 MiB (counted over this scope and the scopes around it). The failure is
    /// `States.DataLimitExceeded`, which no retrier or catcher handles.
    pub fn check(&self, assigned: &Map<String, Value>) -> Result<(), StatesError> {
        let mut sum = 0usize;
        let mut replaced = 0usize;
        for (name, value) in assigned {
            let size = json_size(value);
            if size > MAX_VARIABLE_BYTES {
                return Err(StatesError::new(
                    names::DATA_LIMIT_EXCEEDED,
                    format!(
                        "The value assigned to the variable '{name}' has a size of {size} bytes, exceeding the maximum of {MAX_VARIABLE_BYTES} bytes for one variable."
                    ),
                ));
            }
            sum += size;
            if let Some(old) = self.local.get(name) {
                replaced += json_size(old);
            }
        }
        if sum > MAX_ASSIGN_BYTES {
            return Err(StatesError::new(
                names::DATA_LIMIT_EXCEEDED,
                format!(
                    "The variables of one Assign have a combined size of {sum} bytes, exceeding the maximum of {MAX_ASSIGN_BYTES} bytes."
                ),
            ));
        }
        let total = self.total_bytes() - replaced.min(self.local_bytes) + sum;
        if total > MAX_TOTAL_BYTES {
            return Err(StatesError::new(
                names::DATA_LIMIT_EXCEEDED,
                format!(
                    "The variables of the execution would have a combined size of {total} bytes, exceeding the maximum of {MAX_TOTAL_BYTES} bytes."
                ),
            ));
        }
        Ok(())
    }

    /// Stores a state's assignments in this scope, all at once (every value was computed
    /// from the variables as they were when the state was entered).
    pub fn apply(&mut self, assigned: Map<String, Value>) {
        if assigned.is_empty() {
            return;
        }
        let local = Arc::make_mut(&mut self.local);
        for (name, value) in assigned {
            self.local_bytes += json_size(&value);
            if let Some(old) = local.insert(name, value) {
                self.local_bytes -= json_size(&old);
            }
        }
    }
}

/// What a path or an expression of a state reads: the state's data (`$`), the context
/// object (`$$`) and the workflow variables (`$name`).
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    pub input: &'a Value,
    pub context: &'a Value,
    pub variables: &'a Variables,
}

impl<'a> Sources<'a> {
    pub fn new(input: &'a Value, context: &'a Value, variables: &'a Variables) -> Self {
        Sources {
            input,
            context,
            variables,
        }
    }

    /// The same context and variables over other data (`$` changes as a state proceeds:
    /// its input, its effective input, its result).
    pub fn with_input(self, input: &'a Value) -> Self {
        Sources { input, ..self }
    }

    /// The same data and variables with another context object.
    pub fn with_context(self, context: &'a Value) -> Self {
        Sources { context, ..self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
    // ("Variable name syntax": Unicode ID_Start then ID_Continue characters, at most 80;
    // "Reserved variable: $states"; "you cannot assign a value to a part of a variable")
    #[test]
    fn names_follow_the_unicode_identifier_rules() {
        for good in [
            "productName",
            "count",
            "available",
            "x",
            "nextX",
            "café",
            "数量",
            "a_1",
        ] {
            assert_eq!(check_name(good), Ok(()), "{good}");
        }
        assert_eq!(check_name(&"a".repeat(80)), Ok(()));
        assert!(check_name(&"a".repeat(81)).unwrap_err().contains("80"));
        for bad in ["", "1x", "_x", "x.y", "x[2]", "my-var", "a b", "$x"] {
            let reason = check_name(bad).expect_err(bad);
            let named = if bad.is_empty() {
                reason == "a variable name cannot be empty"
            } else {
                reason.starts_with(&format!("'{bad}' is not a valid variable name"))
            };
            assert!(named, "{bad}: {reason}");
        }
        assert!(check_name("states").unwrap_err().contains("reserved"));
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
    // ("Variable scope": inner scopes read outer variables; their own go out of scope)
    #[test]
    fn an_inner_scope_reads_outward_and_writes_its_own() {
        let mut top = Variables::new();
        top.apply(map(json!({"x": 42, "items": [1, 2, 3]})));
        let mut inner = top.inner_scope();
        assert_eq!(inner.get("x"), Some(&json!(42)));
        inner.apply(map(json!({"innerX": 42})));
        assert_eq!(inner.get("innerX"), Some(&json!(42)));
        assert_eq!(top.get("innerX"), None);
        assert_eq!(inner.local().len(), 1);
        assert!(!inner.is_empty());
        assert!(Variables::new().is_empty());
        assert!(Variables::new().inner_scope().is_empty());
    }

    // https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html ("Limits":
    // 256 KiB per variable, 256 KiB per Assign — "you could assign X and Y to 128KiB, but
    // you could not assign both X and Y to 256KiB in the same Assign field" — 10 MiB in all)
    #[test]
    fn limits_from_the_docs() {
        // A JSON string of n characters takes n + 2 bytes with its quotes.
        let sized = |bytes: usize| Value::String("x".repeat(bytes - 2));
        let vars = Variables::new();
        let half = sized(128 * 1024);
        assert!(vars
            .check(&map(json!({"X": half.clone(), "Y": half.clone()})))
            .is_ok());
        let full = sized(256 * 1024);
        assert!(vars.check(&map(json!({"X": full.clone()}))).is_ok());
        let err = vars
            .check(&map(json!({"X": full.clone(), "Y": full.clone()})))
            .unwrap_err();
        assert_eq!(err.error, "States.DataLimitExceeded");
        assert!(err.cause.contains("combined size"), "{}", err.cause);
        let err = vars
            .check(&map(json!({"X": sized(256 * 1024 + 1)})))
            .unwrap_err();
        assert_eq!(err.error, "States.DataLimitExceeded");
        assert!(err.cause.contains("'X'"), "{}", err.cause);

        // 40 variables of 256 KiB are exactly 10 MiB; one byte more is refused, but
        // replacing a variable counts its new size instead of its old one.
        let mut all = Variables::new();
        for i in 0..40 {
            let one = map(json!({format!("v{i}"): full.clone()}));
            all.check(&one).unwrap();
            all.apply(one);
        }
        assert_eq!(all.total_bytes(), MAX_TOTAL_BYTES);
        let err = all.check(&map(json!({"more": 1}))).unwrap_err();
        assert!(err.cause.contains("10485760"), "{}", err.cause);
        assert!(all.check(&map(json!({"v0": 1}))).is_ok());
        // An inner scope counts the outer variables too.
        let err = all
            .inner_scope()
            .check(&map(json!({"more": 1})))
            .unwrap_err();
        assert_eq!(err.error, "States.DataLimitExceeded");
    }

    #[test]
    fn sizes_follow_serialized_json() {
        assert_eq!(json_size(&json!({"a": [1, true, null]})), 19);
        assert_eq!(json_size(&json!("é")), 4);
        let mut vars = Variables::new();
        vars.apply(map(json!({"a": "xyz"})));
        assert_eq!(vars.total_bytes(), 5);
        vars.apply(map(json!({"a": 1})));
        assert_eq!(vars.total_bytes(), 1);
    }
}
