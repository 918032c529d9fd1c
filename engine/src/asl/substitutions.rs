//! `${Name}` placeholders resolved from a map before the definition is parsed, as SAM's
//! `DefinitionSubstitutions` do.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Replaces every `${Name}` found in the string values (and keys) of `definition` whose
/// name is in `substitutions`; returns the names that had no value.
pub fn substitute(
    definition: &mut Value,
    substitutions: &BTreeMap<String, String>,
) -> BTreeSet<String> {
    let mut unresolved = BTreeSet::new();
    walk(definition, substitutions, &mut unresolved);
    unresolved
}

fn walk(value: &mut Value, subs: &BTreeMap<String, String>, unresolved: &mut BTreeSet<String>) {
    match value {
        Value::String(s) => *s = replace(s, subs, unresolved),
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, subs, unresolved)),
        Value::Object(map) => {
            let entries = std::mem::take(map);
            for (key, mut v) in entries {
                walk(&mut v, subs, unresolved);
                map.insert(replace(&key, subs, unresolved), v);
            }
        }
        _ => {}
    }
}

fn replace(
    text: &str,
    subs: &BTreeMap<String, String>,
    unresolved: &mut BTreeSet<String>,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                match subs.get(name) {
                    Some(v) => out.push_str(v),
                    None => {
                        unresolved.insert(name.to_string());
                        out.push_str(&rest[start..start + 3 + end]);
                    }
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-resource-statemachine.html
    // (DefinitionSubstitutions: "${Name}" placeholders replaced by the mapped values)
    #[test]
    fn placeholders_are_replaced_in_strings_and_reported_when_missing() {
        let mut def = json!({"S3Uri": "s3://${Bucket}/iris.csv", "Role": "${Role}", "n": 1,
            "list": ["${Bucket}"], "Format.$": "States.Format('s3://${Bucket}/{}', $.x)"});
        let subs = BTreeMap::from([("Bucket".to_string(), "ml-models".to_string())]);
        let unresolved = substitute(&mut def, &subs);
        assert_eq!(def["S3Uri"], json!("s3://ml-models/iris.csv"));
        assert_eq!(def["list"], json!(["ml-models"]));
        assert_eq!(
            def["Format.$"],
            json!("States.Format('s3://ml-models/{}', $.x)")
        );
        assert_eq!(def["Role"], json!("${Role}"));
        assert_eq!(
            unresolved.into_iter().collect::<Vec<_>>(),
            vec!["Role".to_string()]
        );
    }
}
