//! Invoking a pipeline endpoint: what an invocation answers, and the rules a request must
//! meet before it is sent (the compatible API and the playground share them).

use serde::{Deserialize, Serialize};

use super::commit::Commit;
use super::pipeline::InputError;

/// SageMaker's limit on an InvokeEndpoint request's body: 6 MB.
pub const MAX_PAYLOAD_BYTES: usize = 6 * 1024 * 1024;
/// Rows the playground sends at most in one call.
pub const PLAYGROUND_MAX_ROWS: usize = 1000;

/// One InvokeEndpoint answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invocation {
    /// The model's answer as it gave it: for a CSV request, one label per line.
    pub body: String,
    /// The production variant that answered (SageMaker's `InvokedProductionVariant`).
    pub variant: Option<String>,
}

/// An endpoint a caller may invoke through Gatehouse, as `GET /v1/endpoints` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvocableEndpoint {
    pub name: String,
    pub status: String,
    /// The endpoint config it serves now.
    pub config: Option<String>,
    /// The commit that config was made from.
    pub commit: Option<Commit>,
    /// Whether it is the endpoint the pipeline deploys every approved model to.
    pub pipeline_endpoint: bool,
}

/// Why an invocation was not answered, in the terms SageMaker defines (each maps to one HTTP
/// status in the compatible API). Every message is a sentence for the caller; none repeats
/// the rows sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvokeError {
    /// No credentials, or credentials that are not valid (401).
    NotSignedIn,
    /// Signed in without a role allowed to invoke (403).
    Forbidden(String),
    /// The request itself is wrong: JSON, CSV, endpoint name (400).
    Invalid(String),
    /// Over SageMaker's 6 MB limit (413).
    TooLarge(String),
    /// No such endpoint, or one the pipeline does not manage (404).
    NotFound(String),
    /// The model answered with an error of its own (424), with its status.
    Model {
        message: String,
        original_status: Option<u16>,
    },
    /// The endpoint's model is not ready yet (429), retry after the seconds given.
    NotReady { message: String, retry_after: u64 },
    /// This caller's rate limit, or SageMaker's throttling (429), retry after the seconds
    /// given.
    Throttled { message: String, retry_after: u64 },
    /// SageMaker or Gatehouse's own store could not be reached or failed (503).
    Unavailable(String),
}

impl InvokeError {
    /// The HTTP status the compatible API answers.
    pub fn status(&self) -> u16 {
        match self {
            InvokeError::NotSignedIn => 401,
            InvokeError::Forbidden(_) => 403,
            InvokeError::Invalid(_) => 400,
            InvokeError::TooLarge(_) => 413,
            InvokeError::NotFound(_) => 404,
            InvokeError::Model { .. } => 424,
            InvokeError::NotReady { .. } | InvokeError::Throttled { .. } => 429,
            InvokeError::Unavailable(_) => 503,
        }
    }

    /// SageMaker's name for the error (the API's `code`).
    pub fn code(&self) -> &'static str {
        match self {
            InvokeError::NotSignedIn => "NotSignedIn",
            InvokeError::Forbidden(_) => "AccessDenied",
            InvokeError::Invalid(_) => "ValidationError",
            InvokeError::TooLarge(_) => "PayloadTooLarge",
            InvokeError::NotFound(_) => "EndpointNotFound",
            InvokeError::Model { .. } => "ModelError",
            InvokeError::NotReady { .. } => "ModelNotReadyException",
            InvokeError::Throttled { .. } => "ThrottlingException",
            InvokeError::Unavailable(_) => "ServiceUnavailable",
        }
    }

    pub fn message(&self) -> String {
        match self {
            InvokeError::NotSignedIn => "Sign in first: send `Authorization: Bearer <access \
                token>` (from POST /auth/token)."
                .into(),
            InvokeError::Forbidden(m)
            | InvokeError::Invalid(m)
            | InvokeError::TooLarge(m)
            | InvokeError::NotFound(m)
            | InvokeError::Unavailable(m) => m.clone(),
            InvokeError::Model {
                message,
                original_status,
            } => {
                let message = message.trim();
                let stop = if message.ends_with(['.', '!', '?']) {
                    ""
                } else {
                    "."
                };
                match original_status {
                    Some(status) => format!("The model answered {status}: {message}{stop}"),
                    None => format!("The model failed: {message}{stop}"),
                }
            }
            InvokeError::NotReady { message, .. } | InvokeError::Throttled { message, .. } => {
                message.clone()
            }
        }
    }

    /// Seconds to wait before trying again, for a `Retry-After`.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            InvokeError::NotReady { retry_after, .. }
            | InvokeError::Throttled { retry_after, .. } => Some(*retry_after),
            _ => None,
        }
    }
}

/// Checks the rows an invocation sends, as SageMaker's CSV contract reads them (RFC 4180,
/// no header, one row per line): something to send, under the 6 MB limit, and every row
/// with as many fields as the first. Answers the number of rows. What each field means is
/// the model's to judge (it answers a `ModelError` when it cannot read one).
pub fn check_rows(data: &str) -> Result<usize, RowsError> {
    if data.len() > MAX_PAYLOAD_BYTES {
        return Err(RowsError::TooLarge(data.len()));
    }
    // A row ends at LF, CRLF or a lone CR: the csv crate the local SageMaker reads with ends
    // a record at each, as Python's csv module does. A line break inside quotes ends the row
    // too, since a batch transform's `SplitType: Line` splits there whatever the quotes say;
    // the half-rows are then refused as not CSV.
    let rows: Vec<&str> = data
        .split(['\n', '\r'])
        .filter(|l| !l.trim().is_empty())
        .collect();
    let Some(first) = rows.first() else {
        return Err(RowsError::Invalid(InputError(
            "There is nothing to send: give at least one row of comma-separated feature values."
                .into(),
        )));
    };
    let width = fields(first, 1)?;
    for (i, row) in rows.iter().enumerate().skip(1) {
        let n = fields(row, i + 1)?;
        if n != width {
            return Err(RowsError::Invalid(InputError(format!(
                "Row {} has {n} values but row 1 has {width}: every row needs the same \
                 features, in the same order.",
                i + 1
            ))));
        }
    }
    Ok(rows.len())
}

/// Why rows cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowsError {
    /// Over SageMaker's payload limit (the size in bytes).
    TooLarge(usize),
    Invalid(InputError),
}

impl RowsError {
    pub fn message(&self) -> String {
        match self {
            RowsError::TooLarge(bytes) => format!(
                "The rows are {:.1} MB; SageMaker takes at most 6 MB in one call. Send fewer \
                 rows per call.",
                *bytes as f64 / (1024.0 * 1024.0)
            ),
            RowsError::Invalid(InputError(message)) => message.clone(),
        }
    }
}

/// The number of fields of one CSV row (quoted fields may hold commas; a quote inside one
/// is doubled), or why it is not a CSV row.
fn fields(row: &str, number: usize) -> Result<usize, RowsError> {
    let bad = |why: &str| {
        RowsError::Invalid(InputError(format!("Row {number} is not a CSV row: {why}.")))
    };
    let mut count = 1;
    let mut chars = row.chars().peekable();
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        match c {
            '"' if at_field_start => {
                // A quoted field: up to the closing quote, `""` being a quote inside it.
                loop {
                    match chars.next() {
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                        }
                        Some('"') => break,
                        Some(_) => {}
                        None => return Err(bad("a quoted value is never closed")),
                    }
                }
                match chars.peek() {
                    None | Some(',') => {}
                    Some(_) => return Err(bad("text follows a quoted value before the comma")),
                }
                at_field_start = false;
            }
            '"' => {
                return Err(bad(
                    "a quote in the middle of a value (quote the whole value)",
                ))
            }
            ',' => {
                count += 1;
                at_field_start = true;
            }
            _ => at_field_start = false,
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(data: &str) -> String {
        match check_rows(data) {
            Err(RowsError::Invalid(InputError(message))) => message,
            other => panic!("{data:?} was not refused as invalid: {other:?}"),
        }
    }

    #[test]
    fn rows_are_counted_blank_lines_skipped_and_crlf_read() {
        assert_eq!(check_rows("5.1,3.5,1.4,0.2"), Ok(1));
        assert_eq!(
            check_rows("5.1,3.5,1.4,0.2\r\n\r\n6.2,2.9,4.3,1.3\r\n"),
            Ok(2)
        );
        // Quoted values may hold commas and doubled quotes.
        assert_eq!(check_rows("\"a,b\",1\n\"say \"\"hi\"\"\",2"), Ok(2));
    }

    /// Found by the `inference_rows` fuzz target: `)\r\u{5}` was one row here and two
    /// records for the csv crate the model reads with, so the model would have answered
    /// two predictions for one row. A lone CR ends a row, as it ends a record there.
    #[test]
    fn a_lone_carriage_return_ends_a_row_as_the_reader_ends_a_record() {
        assert_eq!(check_rows(")\r\u{5}"), Ok(2));
        assert_eq!(check_rows("1,2\r3,4\r"), Ok(2));
        // A line break inside quotes is where SplitType Line cuts the row: refused.
        assert!(invalid("\"two\r\nlines\",1").contains("Row 1"));
    }

    #[test]
    fn nothing_to_send_uneven_rows_and_broken_quotes_are_refused_with_the_row() {
        assert!(invalid("").contains("nothing to send"));
        assert!(invalid(" \n\n").contains("nothing to send"));
        let uneven = invalid("1,2,3,4\n1,2,3");
        assert!(
            uneven.contains("Row 2 has 3 values but row 1 has 4"),
            "{uneven}"
        );
        assert!(invalid("1,\"2,3").contains("Row 1"));
        assert!(invalid("1,2\n1,x\"y").contains("Row 2"));
        assert!(invalid("\"a\"b,1").contains("text follows a quoted value"));
    }

    #[test]
    fn over_six_megabytes_is_too_large() {
        let row = "5.1,3.5,1.4,0.2\n";
        let data = row.repeat(MAX_PAYLOAD_BYTES / row.len() + 1);
        match check_rows(&data) {
            Err(error @ RowsError::TooLarge(_)) => {
                assert!(error.message().contains("at most 6 MB"))
            }
            other => panic!("{other:?}"),
        }
        let fits = row.repeat(MAX_PAYLOAD_BYTES / row.len());
        assert!(check_rows(&fits).is_ok());
    }
}
