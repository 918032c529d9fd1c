//! A start's input as an operator gives it (execution name, commit ID, image URI) and an
//! execution named by name or ARN: any text is accepted or refused with a sentence, never a
//! panic, and an accepted reference reads back as itself.
#![no_main]

use app::models::pipeline::{ExecutionRef, StartRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.splitn(3, '\n');
    let name = parts.next().unwrap_or_default().to_string();
    let commit_id = parts.next().unwrap_or_default().to_string();
    let image_uri = parts.next().unwrap_or_default().to_string();
    let request = StartRequest {
        name: name.clone(),
        commit_id,
        image_uri,
    };
    if let Err(error) = request.validate() {
        assert!(!error.0.is_empty(), "a refusal says why");
    }
    match ExecutionRef::parse(&text) {
        Ok(reference) => {
            let again = match &reference {
                ExecutionRef::Name(name) => ExecutionRef::parse(name),
                ExecutionRef::Arn(arn) => ExecutionRef::parse(arn),
            };
            assert_eq!(again.as_ref(), Ok(&reference));
            assert!(!reference.name().is_empty());
        }
        Err(error) => assert!(!error.0.is_empty(), "a refusal says why"),
    }
});
