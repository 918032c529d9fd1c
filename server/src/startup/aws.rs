//! aws mode's side of start-up: Cognito, its JWKS and DynamoDB for identity, sessions and the
//! audit log; Step Functions, SageMaker and S3 for the pipeline. Only in builds with the `aws`
//! feature.

use std::sync::Arc;

use app::audit::AuditLog;
use app::control_plane::ControlPlane;

use super::{AwsSdkConfig, Identity, StartupError};
use crate::access::Access;
use crate::audit::dynamo::DynamoAuditLog;
use crate::auth::cognito::CognitoProvider;
use crate::auth::{HttpJwks, KeySource, TokenVerifier};
use crate::config::Config;
use crate::guard::throttle::{SignInThrottle, ThrottlePolicy};
use crate::pipeline::aws::AwsControlPlane;
use crate::sessions::dynamo_store::DynamoSessionStore;
use crate::sessions::SessionBackend;
use crate::shared_state::dynamo::{CoordinationTable, DynamoBallots, DynamoFailureCounts};

/// Identity and pipeline on AWS, with the SDK configuration given or, without one, the one
/// the SDK reads from the environment.
pub(super) async fn aws_mode(
    config: &Config,
    aws: Option<AwsSdkConfig>,
) -> Result<(Identity, Arc<dyn ControlPlane>), StartupError> {
    let sdk = match aws {
        Some(sdk) => sdk,
        None => sdk_from_environment().await,
    };
    Ok((
        aws_identity(config, &sdk).await?,
        aws_pipeline(config, &sdk)?,
    ))
}

async fn sdk_from_environment() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(aws_timeouts())
        .load()
        .await
}

/// aws mode's audit log, for `gatehouse audit verify`.
pub async fn aws_audit_log(config: &Config) -> DynamoAuditLog {
    let sdk = sdk_from_environment().await;
    DynamoAuditLog::new(
        aws_sdk_dynamodb::Client::new(&sdk),
        config.aws.audit_table.clone(),
    )
}

/// aws mode's pipeline: the Step Functions state machine named by the settings, with
/// SageMaker and S3 in the same account and region. Makes no AWS call: a wrong ARN or a
/// missing permission shows on the pages that need it, not as a server that will not start.
fn aws_pipeline(
    config: &Config,
    sdk: &aws_config::SdkConfig,
) -> Result<Arc<dyn ControlPlane>, StartupError> {
    let Some(arn) = config.pipeline.state_machine_arn.as_deref() else {
        return Err(StartupError::NotConfigured(
            "aws mode drives the pipeline's Step Functions state machine: set \
             GATEHOUSE_STATE_MACHINE_ARN (or --state-machine-arn)"
                .into(),
        ));
    };
    let pipeline = AwsControlPlane::new(sdk, arn)
        .map_err(|e| StartupError::NotConfigured(format!("GATEHOUSE_STATE_MACHINE_ARN: {e}")))?;
    tracing::info!(state_machine = arn, "pipeline on AWS Step Functions");
    Ok(Arc::new(pipeline))
}

/// Cognito for users, its JWKS (fetched over HTTPS, cached by kid) for tokens, DynamoDB for
/// sessions.
async fn aws_identity(
    config: &Config,
    sdk: &aws_config::SdkConfig,
) -> Result<Identity, StartupError> {
    let region = sdk.region().map(|region| region.as_ref());
    let settings = config
        .aws
        .cognito(region)
        .map_err(StartupError::NotConfigured)?;
    let issuer = config
        .aws
        .cognito_issuer
        .clone()
        .unwrap_or_else(|| settings.issuer());
    let jwks_url = config
        .aws
        .cognito_jwks_url
        .clone()
        .unwrap_or_else(|| settings.default_jwks_url());
    let verifier = TokenVerifier::new(
        issuer,
        settings.client_id.clone(),
        KeySource::Http(HttpJwks::new(&jwks_url)?),
    );
    let provider =
        CognitoProvider::new(aws_sdk_cognitoidentityprovider::Client::new(sdk), settings);
    let store = DynamoSessionStore::new(
        aws_sdk_dynamodb::Client::new(sdk),
        config.aws.session_table.clone(),
    );
    if config.aws.create_session_table {
        store
            .ensure_table()
            .await
            .map_err(|error| StartupError::NotConfigured(format!("session table: {error}")))?;
    }
    let audit = DynamoAuditLog::new(
        aws_sdk_dynamodb::Client::new(sdk),
        config.aws.audit_table.clone(),
    );
    if config.aws.create_audit_table {
        audit
            .ensure_table()
            .await
            .map_err(|error| StartupError::NotConfigured(format!("audit table: {error}")))?;
    }
    let audit: Arc<dyn AuditLog> = Arc::new(audit);
    let coordination = CoordinationTable::new(
        aws_sdk_dynamodb::Client::new(sdk),
        config.aws.coordination_table.clone(),
    );
    if config.aws.create_coordination_table {
        coordination
            .ensure_table()
            .await
            .map_err(|error| StartupError::NotConfigured(format!("coordination table: {error}")))?;
    }
    let access = Access {
        provider: Arc::new(provider),
        audit: Arc::clone(&audit),
        verifier,
        throttle: SignInThrottle::new(
            ThrottlePolicy::default(),
            Arc::new(DynamoFailureCounts::new(coordination.clone())),
        ),
        policy: config.sessions.policy(),
    };
    Ok(Identity {
        access: Arc::new(access),
        audit,
        signer: None,
        users: None,
        initial_admin: None,
        sessions: SessionBackend::Dynamo(store),
        ballots: Arc::new(DynamoBallots::new(coordination)),
    })
}

/// AWS calls sit on the request path of a person waiting for a page: a stalled connection
/// must become an error, not a hung request (the SDK sets no operation timeout by itself).
pub fn aws_timeouts() -> aws_config::timeout::TimeoutConfig {
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(3))
        .operation_attempt_timeout(std::time::Duration::from_secs(10))
        .operation_timeout(std::time::Duration::from_secs(30))
        .build()
}
