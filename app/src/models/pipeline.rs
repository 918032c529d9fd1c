//! What the pipeline control plane talks about: executions, their history, pending approvals
//! and the SageMaker resources a run creates. Shared by the server (the port and its adapters)
//! and the browser (the pages), so plain data plus the validation both sides need.

use serde::{Deserialize, Serialize};

/// An instant as milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The server's clock (server only: wasm32 has no system clock).
    #[cfg(feature = "ssr")]
    pub fn now() -> Timestamp {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp(since.as_millis() as i64)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// `2026-11-25 16:04:05` (UTC): what the pages show.
    pub fn utc(self) -> String {
        let secs = self.0.div_euclid(1000);
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        format!(
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60
        )
    }

    /// `2026-11-25T16:04:05.123Z`: what APIs and `datetime` attributes carry.
    pub fn rfc3339(self) -> String {
        let ms = self.0.rem_euclid(1000);
        format!("{}.{ms:03}Z", self.utc().replacen(' ', "T", 1))
    }

    /// Midnight UTC of a `YYYY-MM-DD` date, as a date-range filter reads it.
    pub fn from_date(text: &str) -> Option<Timestamp> {
        let mut parts = text.trim().splitn(3, '-');
        let y: i64 = parts.next()?.parse().ok()?;
        let m: u32 = parts.next()?.parse().ok()?;
        let d: u32 = parts.next()?.parse().ok()?;
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
            return None;
        }
        Some(Timestamp(days_from_civil(y, m, d) * 86_400_000))
    }
}

/// A duration in milliseconds as people read it: `850 ms`, `42 s`, `3 min 5 s`, `2 h 7 min`.
pub fn human_duration(millis: i64) -> String {
    let millis = millis.max(0);
    if millis < 1000 {
        return format!("{millis} ms");
    }
    let secs = millis / 1000;
    match secs {
        0..=59 => format!("{secs} s"),
        60..=3599 => format!("{} min {} s", secs / 60, secs % 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

// Howard Hinnant's algorithms (public domain): civil date <-> days since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub(crate) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The status of an execution, as Step Functions names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionStatus {
    Running,
    Succeeded,
    Failed,
    TimedOut,
    Aborted,
}

impl ExecutionStatus {
    pub const ALL: [ExecutionStatus; 5] = [
        ExecutionStatus::Running,
        ExecutionStatus::Succeeded,
        ExecutionStatus::Failed,
        ExecutionStatus::TimedOut,
        ExecutionStatus::Aborted,
    ];

    /// The Step Functions API name (`RUNNING`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "RUNNING",
            ExecutionStatus::Succeeded => "SUCCEEDED",
            ExecutionStatus::Failed => "FAILED",
            ExecutionStatus::TimedOut => "TIMED_OUT",
            ExecutionStatus::Aborted => "ABORTED",
        }
    }

    /// The API name, case-insensitively; `None` for anything else.
    pub fn parse(text: &str) -> Option<ExecutionStatus> {
        let text = text.trim();
        ExecutionStatus::ALL
            .into_iter()
            .find(|s| s.as_str().eq_ignore_ascii_case(text))
    }

    /// What a person reads.
    pub fn label(self) -> &'static str {
        match self {
            ExecutionStatus::Running => "Running",
            ExecutionStatus::Succeeded => "Succeeded",
            ExecutionStatus::Failed => "Failed",
            ExecutionStatus::TimedOut => "Timed out",
            ExecutionStatus::Aborted => "Aborted",
        }
    }
}

/// A rule an input broke, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

pub use super::commit::Commit;
/// Step Functions' rule for execution names: 1-80 characters, none of whitespace,
/// `< > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /` or control characters.
pub fn check_execution_name(name: &str) -> Result<(), InputError> {
    if name.trim().is_empty() {
        return Err(InputError("An execution needs a name.".into()));
    }
    if name.chars().count() > 80 {
        return Err(InputError(
            "An execution name can be at most 80 characters long.".into(),
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "<>{}[]?*\"#%\\^|~`$&,;:/".contains(*c))
    {
        return Err(InputError(format!(
            "An execution name cannot contain {}.",
            describe_char(bad)
        )));
    }
    Ok(())
}

fn describe_char(c: char) -> String {
    if c.is_whitespace() {
        "spaces or other whitespace".into()
    } else if c.is_control() {
        "control characters".into()
    } else {
        format!("'{c}'")
    }
}

/// Which execution a request means: its name (unique within the pipeline's state machine) or
/// its full ARN.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ExecutionRef {
    Name(String),
    Arn(String),
}

impl ExecutionRef {
    /// Reads what a URL or an API request carries. An ARN must be a Step Functions execution
    /// ARN (`arn:<partition>:states:<region>:<account>:execution:<machine>:<name>`).
    pub fn parse(text: &str) -> Result<ExecutionRef, InputError> {
        let text = text.trim();
        if text.starts_with("arn:") {
            let parts: Vec<&str> = text.split(':').collect();
            let well_formed = matches!(
                parts.as_slice(),
                [_, partition, "states", region, account, "execution", machine, name]
                    if !partition.is_empty()
                        && !region.is_empty()
                        && account.len() == 12
                        && account.bytes().all(|b| b.is_ascii_digit())
                        && !machine.is_empty()
                        && check_execution_name(name).is_ok()
            );
            if !well_formed {
                return Err(InputError(format!(
                    "'{}' is not a Step Functions execution ARN \
                     (arn:aws:states:REGION:ACCOUNT:execution:STATE_MACHINE:NAME).",
                    shorten(text, 200)
                )));
            }
            Ok(ExecutionRef::Arn(text.to_string()))
        } else {
            check_execution_name(text).map_err(|e| {
                InputError(format!(
                    "'{}' is not an execution name: {e}",
                    shorten(text, 100)
                ))
            })?;
            Ok(ExecutionRef::Name(text.to_string()))
        }
    }

    /// The execution's name: the last field of an ARN.
    pub fn name(&self) -> &str {
        match self {
            ExecutionRef::Name(name) => name,
            ExecutionRef::Arn(arn) => arn.rsplit(':').next().unwrap_or(arn),
        }
    }
}

/// At most `max` characters of `text`, for quoting user input back without echoing a megabyte
/// (and for bounded stored fields): a cut text ends in "…", which counts toward `max`.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let kept: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

/// What CodePipeline (or an operator) asks for: a named run of one image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartRequest {
    pub name: String,
    /// The pipeline's `commitID`: it also names the training job, model, transform job,
    /// endpoint config and endpoint, so it must be a valid SageMaker name.
    pub commit_id: String,
    pub image_uri: String,
}

impl StartRequest {
    /// Every rule a start must meet before anything is sent anywhere.
    pub fn validate(&self) -> Result<(), InputError> {
        check_execution_name(&self.name)?;
        check_commit_id(&self.commit_id)?;
        check_image_uri(&self.image_uri)
    }

    /// The execution input, exactly the CodePipeline contract.
    #[cfg(feature = "ssr")]
    pub fn input_json(&self) -> String {
        serde_json::json!({"commitID": self.commit_id, "imageUri": self.image_uri}).to_string()
    }
}

/// SageMaker's name rule (`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`): the commit ID becomes the
/// training job's name and every resource after it.
pub fn check_commit_id(commit_id: &str) -> Result<(), InputError> {
    let id = commit_id;
    if id.trim().is_empty() {
        return Err(InputError("A run needs a commit ID.".into()));
    }
    if id.len() > 63 {
        return Err(InputError(
            "A commit ID can be at most 63 characters (it names the SageMaker training job)."
                .into(),
        ));
    }
    let ok = id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-');
    if !ok {
        return Err(InputError(format!(
            "'{}' is not a commit ID: use letters, digits and single hyphens, \
             like 1a2b3c4d-2026-11-25-10-00-00.",
            shorten(id, 80)
        )));
    }
    Ok(())
}

/// A container image reference: `registry/repository[:tag][@sha256:digest]`, the registry a
/// host name (with a dot, or `localhost`) and optional port, as ECR writes
/// `123456789012.dkr.ecr.eu-west-1.amazonaws.com/model:1a2b3c4d-…`.
pub fn check_image_uri(uri: &str) -> Result<(), InputError> {
    let refuse = || {
        Err(InputError(format!(
            "'{}' is not a container image URI: expected REGISTRY/REPOSITORY:TAG, like \
             123456789012.dkr.ecr.eu-west-1.amazonaws.com/iris-model:1a2b3c4d.",
            shorten(uri, 120)
        )))
    };
    if uri.is_empty() || uri.len() > 255 || uri.contains("://") {
        return refuse();
    }
    let Some((registry, rest)) = uri.split_once('/') else {
        return refuse();
    };
    let (host, port) = registry.split_once(':').unwrap_or((registry, ""));
    let host_ok = (host.contains('.') || host == "localhost")
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    let port_ok = port.is_empty() || (port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()));
    let (path_and_tag, digest) = match rest.split_once('@') {
        Some((p, d)) => (p, Some(d)),
        None => (rest, None),
    };
    let (path, tag) = match path_and_tag.rsplit_once(':') {
        Some((p, t)) => (p, Some(t)),
        None => (path_and_tag, None),
    };
    let path_ok = !path.is_empty()
        && path.split('/').all(|c| {
            !c.is_empty()
                && c.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        });
    let tag_ok = tag.is_none_or(|t| {
        !t.is_empty()
            && t.len() <= 128
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    });
    let digest_ok = digest.is_none_or(|d| {
        d.split_once(':').is_some_and(|(alg, hex)| {
            !alg.is_empty() && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
        })
    });
    if host_ok && port_ok && path_ok && tag_ok && digest_ok {
        Ok(())
    } else {
        refuse()
    }
}

/// One row of the executions list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionSummary {
    pub arn: String,
    pub name: String,
    pub status: ExecutionStatus,
    pub started: Timestamp,
    pub stopped: Option<Timestamp>,
    /// Parsed from the execution's name when it carries the commit ID (the pipeline's
    /// convention), else from its input when the adapter knows it without another call.
    pub commit: Option<Commit>,
    /// The state a running execution is in, when known.
    pub current_state: Option<String>,
}

/// Everything DescribeExecution tells about one execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionDetail {
    pub summary: ExecutionSummary,
    pub state_machine_arn: String,
    /// The input and output JSON as the execution holds them.
    pub input: Option<String>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// A filter and a page of the executions list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionQuery {
    pub status: Option<ExecutionStatus>,
    /// 1..=1000.
    pub max_results: usize,
    /// From the previous page; `None` for the first.
    pub next_token: Option<String>,
}

/// A page of executions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecutionPage {
    pub executions: Vec<ExecutionSummary>,
    pub next_token: Option<String>,
}

/// One event of an execution's history. Task tokens are removed before an event leaves the
/// adapter (the parameters of a `.waitForTaskToken` task carry one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEvent {
    pub id: i64,
    pub previous_id: Option<i64>,
    /// `ExecutionStarted`, `TaskStateEntered`, `TaskScheduled`, …
    pub kind: String,
    pub at: Timestamp,
    /// The state an `…StateEntered`/`…StateExited` event is about.
    pub state: Option<String>,
    /// The event's details object as JSON (AWS's `…EventDetails`), tokens redacted.
    pub details: Option<String>,
}

/// A `.waitForTaskToken` task waiting for a person: the decision DESIGN.md flow 2 describes.
/// The token stays inside the adapter; only its SHA-256 leaves it, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingApproval {
    pub execution: ExecutionSummary,
    /// The waiting state's name.
    pub state: String,
    /// The `TaskScheduled` event that opened it.
    pub scheduled_event_id: i64,
    pub waiting_since: Timestamp,
    /// When the state gives up (its `TimeoutSeconds`), if it has one.
    pub deadline: Option<Timestamp>,
    /// Where the batch transform wrote its predictions (`s3_batch_output` in the payload).
    pub transform_output: Option<String>,
    /// Hex SHA-256 of the task token.
    pub token_sha256: String,
}

/// Approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Approved,
    Rejected,
}

/// A person's decision on a pending approval (DESIGN.md flow 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub verdict: Verdict,
    pub by: String,
    pub comment: String,
    pub at: Timestamp,
}

impl Decision {
    /// `{"decision","by","comment","at"}`: the task output of an approval, and the cause of
    /// a rejection.
    #[cfg(feature = "ssr")]
    pub fn to_json(&self) -> String {
        let verdict = match self.verdict {
            Verdict::Approved => "approved",
            Verdict::Rejected => "rejected",
        };
        serde_json::json!({
            "decision": verdict,
            "by": self.by,
            "comment": self.comment,
            "at": self.at.rfc3339(),
        })
        .to_string()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingJob {
    pub name: String,
    pub status: String,
    pub created: Option<Timestamp>,
    pub ended: Option<Timestamp>,
    pub image: Option<String>,
    pub model_artifacts: Option<String>,
    pub failure_reason: Option<String>,
    /// The hyperparameters it trained with, sorted by name.
    pub hyperparameters: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    pub name: String,
    pub image: Option<String>,
    pub model_data_url: Option<String>,
    pub created: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransformJob {
    pub name: String,
    pub status: String,
    pub model_name: Option<String>,
    pub input_uri: Option<String>,
    pub output_path: Option<String>,
    pub created: Option<Timestamp>,
    pub ended: Option<Timestamp>,
    pub failure_reason: Option<String>,
}

/// One stored object as a listing describes it, without its content: what Gatehouse knows
/// before deciding whether to read it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StoredObject {
    pub uri: String,
    /// Bytes.
    pub size: u64,
    /// What tells one write of the object from another besides its time: S3's ETag (as S3
    /// gives it, quoted), or a local file's device and inode numbers (`<dev>:<inode>`; the
    /// engine writes a file whole under a temporary name and renames it into place, so each
    /// write is a new inode).
    pub version: Option<String>,
    /// When the object was last written, as precisely as the backend tells it: S3's
    /// `LastModified` (whole seconds), a local file's modification time (nanoseconds), both
    /// as `<seconds>.<nanoseconds>` since the Unix epoch.
    pub modified: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductionVariant {
    pub variant: String,
    pub model_name: String,
    pub instance_type: Option<String>,
    pub instance_count: Option<i32>,
    /// `InitialVariantWeight` as SageMaker gives it (`1`, `0.5`): traffic splits between the
    /// variants in proportion to their weights.
    pub weight: Option<String>,
}

impl EndpointConfig {
    /// Each variant's share of the traffic, in percent (rounded), in variant order.
    pub fn traffic_shares(&self) -> Vec<u32> {
        traffic_shares(self.variants.iter().map(|v| v.weight.as_deref()))
    }
}

/// Shares of the traffic, in percent (rounded), of variants with these weights; a variant
/// without a weight counts as weight 1, as SageMaker's default.
fn traffic_shares<'a>(weights: impl Iterator<Item = Option<&'a str>>) -> Vec<u32> {
    let weights: Vec<f64> = weights
        .map(|w| {
            w.and_then(|w| w.parse::<f64>().ok())
                .filter(|w| w.is_finite() && *w >= 0.0)
                .unwrap_or(1.0)
        })
        .collect();
    let total: f64 = weights.iter().sum();
    weights
        .iter()
        .map(|w| {
            if total > 0.0 {
                (w / total * 100.0).round() as u32
            } else {
                0
            }
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointConfig {
    pub name: String,
    pub variants: Vec<ProductionVariant>,
    pub created: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    pub name: String,
    pub config_name: Option<String>,
    /// `Creating`, `InService`, `Updating`, `Failed`, …
    pub status: String,
    /// While `Updating`: the endpoint config it is moving to (the old one serves meanwhile).
    pub pending_config_name: Option<String>,
    pub created: Option<Timestamp>,
    pub modified: Option<Timestamp>,
    /// Why the last change failed: set when SageMaker rolled an update back (the endpoint
    /// is InService on its old config) or when the endpoint is `Failed`.
    pub failure_reason: Option<String>,
    /// Its production variants as it serves them now (empty where only listed, not
    /// described).
    #[serde(default)]
    pub variants: Vec<VariantNow>,
}

impl Endpoint {
    /// Each variant's share of the traffic now, in percent (rounded), in variant order.
    pub fn traffic_shares(&self) -> Vec<u32> {
        traffic_shares(self.variants.iter().map(|v| v.weight.as_deref()))
    }
}

/// A production variant as an endpoint serves it now (DescribeEndpoint's summary of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VariantNow {
    pub variant: String,
    /// `CurrentWeight` as text (`1`, `0.5`).
    pub weight: Option<String>,
    pub instances: Option<i32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortened_text_keeps_within_its_bound_ellipsis_included() {
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcd", 3), "ab…");
        assert_eq!(shorten("äöüß", 2), "ä…");
        assert_eq!(shorten("abc", 0), "…");
    }

    #[test]
    fn timestamps_print_as_utc() {
        assert_eq!(Timestamp(0).utc(), "1970-01-01 00:00:00");
        assert_eq!(
            Timestamp(1_764_086_645_123).rfc3339(),
            "2025-11-25T16:04:05.123Z"
        );
        assert_eq!(
            Timestamp::from_date("2025-11-25"),
            Some(Timestamp(1_764_028_800_000))
        );
        assert_eq!(Timestamp::from_date("2025-13-01"), None);
        assert_eq!(Timestamp::from_date("yesterday"), None);
    }

    #[test]
    fn traffic_splits_by_weight_and_a_missing_weight_counts_as_one() {
        let variant = |name: &str, weight: Option<&str>| ProductionVariant {
            variant: name.into(),
            model_name: format!("{name}-model"),
            instance_type: None,
            instance_count: Some(1),
            weight: weight.map(str::to_string),
        };
        let config = |variants| EndpointConfig {
            name: "c".into(),
            variants,
            created: None,
        };
        assert_eq!(
            config(vec![variant("a", Some("3")), variant("b", Some("1"))]).traffic_shares(),
            vec![75, 25]
        );
        assert_eq!(
            config(vec![variant("a", None), variant("b", Some("1.0"))]).traffic_shares(),
            vec![50, 50]
        );
        assert_eq!(
            config(vec![variant("a", Some("0")), variant("b", Some("0"))]).traffic_shares(),
            vec![0, 0]
        );
    }

    #[test]
    fn execution_refs_are_names_or_execution_arns() {
        assert_eq!(
            ExecutionRef::parse("abc-1").unwrap(),
            ExecutionRef::Name("abc-1".into())
        );
        let arn = "arn:aws:states:eu-west-1:123456789012:execution:pipeline:abc-1";
        assert_eq!(ExecutionRef::parse(arn).unwrap().name(), "abc-1");
        for bad in [
            "arn:aws:states:eu-west-1:123456789012:stateMachine:pipeline",
            "arn:aws:states:eu-west-1:12345:execution:pipeline:abc",
            "arn:aws:s3:::bucket",
            "arn:",
        ] {
            assert!(
                ExecutionRef::parse(bad)
                    .unwrap_err()
                    .0
                    .contains("not a Step Functions execution ARN"),
                "{bad}"
            );
        }
        // Step Functions' name rule, each broken part named (StartExecution, `name`: 1-80
        // characters, no whitespace).
        let refusal = |text: &str| ExecutionRef::parse(text).unwrap_err().0;
        assert_eq!(
            refusal(""),
            "'' is not an execution name: An execution needs a name."
        );
        assert!(
            refusal("has space").ends_with("cannot contain spaces or other whitespace."),
            "{}",
            refusal("has space")
        );
        assert!(
            refusal(&"x".repeat(81)).ends_with("at most 80 characters long."),
            "{}",
            refusal(&"x".repeat(81))
        );
    }

    #[test]
    fn start_requests_are_checked_field_by_field() {
        let good = StartRequest {
            name: "1a2b3c4d-2025-11-25-16-04-05".into(),
            commit_id: "1a2b3c4d-2025-11-25-16-04-05".into(),
            image_uri: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/iris-model:1a2b3c4d".into(),
        };
        assert_eq!(good.validate(), Ok(()));
        assert_eq!(
            good.input_json(),
            r#"{"commitID":"1a2b3c4d-2025-11-25-16-04-05","imageUri":"123456789012.dkr.ecr.eu-west-1.amazonaws.com/iris-model:1a2b3c4d"}"#
        );
        let with = |f: &dyn Fn(&mut StartRequest)| {
            let mut r = good.clone();
            f(&mut r);
            r.validate()
        };
        // Each refusal names the field that broke its rule.
        let refusal = |f: &dyn Fn(&mut StartRequest)| with(f).unwrap_err().0;
        assert_eq!(
            refusal(&|r| r.name = String::new()),
            "An execution needs a name."
        );
        assert!(refusal(&|r| r.commit_id = "has_underscore".into())
            .starts_with("'has_underscore' is not a commit ID"));
        assert!(refusal(&|r| r.commit_id = "x".repeat(64)).contains("at most 63 characters"));
        for uri in [
            "not an image",
            "https://example.com/x:1",
            "model:latest",
            "Registry.io/UPPER:1",
            "localhost:5000/m:",
        ] {
            let refused = refusal(&|r| r.image_uri = uri.into());
            assert!(
                refused.contains("is not a container image URI"),
                "{uri}: {refused}"
            );
        }
        for uri in [
            "localhost:5000/iris:dev",
            "ghcr.io/org/iris@sha256:0123456789abcdef0123456789abcdef",
        ] {
            assert_eq!(with(&|r| r.image_uri = uri.into()), Ok(()), "{uri}");
        }
    }

    #[test]
    fn decisions_serialise_as_the_pipeline_expects() {
        let d = Decision {
            verdict: Verdict::Rejected,
            by: "ana".into(),
            comment: "say \"no\"\n".into(),
            at: Timestamp(0),
        };
        let v: serde_json::Value = serde_json::from_str(&d.to_json()).unwrap();
        assert_eq!(v["decision"], "rejected");
        assert_eq!(v["comment"], "say \"no\"\n");
        assert_eq!(v["at"], "1970-01-01T00:00:00.000Z");
    }
}
