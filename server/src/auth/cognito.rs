//! The identity provider of aws mode: a Cognito user pool, through
//! aws-sdk-cognitoidentityprovider.
//!
//! Sign-in is `InitiateAuth` with `USER_PASSWORD_AUTH` (the server holds the password for the
//! length of one request; SRP would buy nothing when the server is the client), refresh is
//! `REFRESH_TOKEN_AUTH`, standing is `GetUser` with the user's access token (Cognito refuses it
//! once the user is disabled, deleted or signed out everywhere) and sign-out is
//! `GlobalSignOut`. When the app client has a secret, every call that names a user carries
//! `SECRET_HASH`.
//!
//! Nothing here logs a password, a token, a challenge session or the client secret, nor the
//! text of an AWS error: those can echo request values (moto's do, e.g. the session). Only
//! the operation, the error code and the HTTP status are logged, and only for
//! [`ProviderError::Unavailable`].

use std::time::Duration;

use async_trait::async_trait;
use aws_lc_rs::hmac;
use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, AuthenticationResultType, ChallengeNameType,
};
use aws_sdk_cognitoidentityprovider::Client;
use base64::Engine as _;

use super::provider::{IdentityProvider, ProviderError, SignInOutcome, Standing, Tokens};
use super::redacted::Redacted;

/// Which user pool and app client aws mode signs in with.
#[derive(Debug, Clone)]
pub struct CognitoSettings {
    /// The pool's region, e.g. `eu-west-1`.
    pub region: String,
    /// `{region}_{id}`.
    pub user_pool_id: String,
    /// The app client; it must allow `ALLOW_USER_PASSWORD_AUTH` and `ALLOW_REFRESH_TOKEN_AUTH`.
    pub client_id: String,
    /// Set when the app client was created with a secret; then every request carries
    /// `SECRET_HASH`.
    pub client_secret: Option<Redacted<String>>,
}

impl CognitoSettings {
    /// The `iss` of the pool's tokens: `https://cognito-idp.{region}.amazonaws.com/{pool}`.
    pub fn issuer(&self) -> String {
        format!(
            "https://cognito-idp.{}.amazonaws.com/{}",
            self.region, self.user_pool_id
        )
    }

    /// Where AWS publishes the pool's signing keys: the issuer + `/.well-known/jwks.json`.
    /// (moto serves them at `{endpoint}/{pool}/.well-known/jwks.json` instead, hence the
    /// configuration may override it.)
    pub fn default_jwks_url(&self) -> String {
        format!("{}/.well-known/jwks.json", self.issuer())
    }
}

/// [`IdentityProvider`] on a Cognito user pool.
#[derive(Debug, Clone)]
pub struct CognitoProvider {
    client: Client,
    settings: CognitoSettings,
}

impl CognitoProvider {
    pub fn new(client: Client, settings: CognitoSettings) -> Self {
        Self { client, settings }
    }

    pub fn settings(&self) -> &CognitoSettings {
        &self.settings
    }

    /// `SECRET_HASH` for `username`, when the app client has a secret.
    fn secret_hash(&self, username: &str) -> Option<String> {
        self.settings
            .client_secret
            .as_ref()
            .map(|secret| secret_hash(secret, username, &self.settings.client_id))
    }

    /// Turns a sign-in or challenge answer into an outcome.
    fn outcome(
        &self,
        operation: &'static str,
        challenge: Option<&ChallengeNameType>,
        session: Option<&str>,
        result: Option<&AuthenticationResultType>,
    ) -> Result<SignInOutcome, ProviderError> {
        match (challenge, result) {
            (None, Some(result)) => tokens(operation, result).map(SignInOutcome::Tokens),
            (Some(ChallengeNameType::NewPasswordRequired), _) => {
                let session = session.ok_or_else(|| {
                    unavailable(operation, "NEW_PASSWORD_REQUIRED without a session")
                })?;
                Ok(SignInOutcome::NewPasswordRequired {
                    challenge: Redacted::new(session.to_string()),
                })
            }
            // MFA and custom challenges: Gatehouse's pool is not set up for them.
            (Some(other), _) => Err(unavailable(
                operation,
                &format!("unsupported challenge {}", other.as_str()),
            )),
            (None, None) => Err(unavailable(operation, "neither tokens nor a challenge")),
        }
    }
}

/// `Base64(HMAC-SHA256(key = client secret, message = username + client id))`, as Cognito
/// defines `SECRET_HASH`.
pub fn secret_hash(secret: &Redacted<String>, username: &str, client_id: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.expose().as_bytes());
    let mut context = hmac::Context::with_key(&key);
    context.update(username.as_bytes());
    context.update(client_id.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(context.sign().as_ref())
}

/// The tokens of an `AuthenticationResult`. Sign-in must yield all three; a refresh yields no
/// refresh token unless the pool rotates them.
fn tokens(
    operation: &'static str,
    result: &AuthenticationResultType,
) -> Result<Tokens, ProviderError> {
    let (Some(access), Some(id)) = (result.access_token(), result.id_token()) else {
        return Err(unavailable(operation, "tokens missing from the answer"));
    };
    Ok(Tokens {
        access: Redacted::new(access.to_string()),
        id: Redacted::new(id.to_string()),
        refresh: result
            .refresh_token()
            .map(|token| Redacted::new(token.to_string())),
        expires_in: Duration::from_secs(u64::try_from(result.expires_in()).unwrap_or(0)),
    })
}

/// What went wrong with one call, as far as the error mapping needs to know.
enum Failure {
    /// Cognito answered with an error code (`NotAuthorizedException`, ...).
    Service {
        code: Option<String>,
        message: Option<String>,
        status: u16,
    },
    /// The request never got an answer: DNS, connect, TLS, timeout, or an unreadable one.
    Transport(&'static str),
}

impl Failure {
    fn of<E: ProvideErrorMetadata>(error: &SdkError<E>) -> Self {
        match error {
            SdkError::ServiceError(service) => Failure::Service {
                code: service.err().code().map(str::to_string),
                message: service.err().message().map(str::to_string),
                status: service.raw().status().as_u16(),
            },
            SdkError::TimeoutError(_) => Failure::Transport("timeout"),
            SdkError::DispatchFailure(_) => Failure::Transport("dispatch failure"),
            SdkError::ResponseError(_) => Failure::Transport("unreadable response"),
            SdkError::ConstructionFailure(_) => Failure::Transport("request construction"),
            _ => Failure::Transport("unknown SDK error"),
        }
    }

    fn code(&self) -> Option<&str> {
        match self {
            Failure::Service { code, .. } => code.as_deref(),
            Failure::Transport(_) => None,
        }
    }

    /// The failure as [`ProviderError::Unavailable`], logged at warn (code and status only).
    fn unavailable(&self, operation: &'static str) -> ProviderError {
        let what = match self {
            Failure::Service { code, status, .. } => format!(
                "{} (HTTP {status})",
                code.as_deref().unwrap_or("unnamed service error")
            ),
            Failure::Transport(kind) => (*kind).to_string(),
        };
        unavailable(operation, &what)
    }
}

fn unavailable(operation: &'static str, what: &str) -> ProviderError {
    tracing::warn!(operation, error = what, "Cognito call failed");
    ProviderError::Unavailable(format!("{operation}: {what}"))
}

#[async_trait]
impl IdentityProvider for CognitoProvider {
    async fn sign_in(
        &self,
        username: &str,
        password: &Redacted<String>,
    ) -> Result<SignInOutcome, ProviderError> {
        const OPERATION: &str = "InitiateAuth(USER_PASSWORD_AUTH)";
        let mut request = self
            .client
            .initiate_auth()
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .client_id(&self.settings.client_id)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password.expose());
        if let Some(hash) = self.secret_hash(username) {
            request = request.auth_parameters("SECRET_HASH", hash);
        }
        match request.send().await {
            Ok(output) => self.outcome(
                OPERATION,
                output.challenge_name(),
                output.session(),
                output.authentication_result(),
            ),
            Err(error) => {
                let failure = Failure::of(&error);
                Err(match failure.code() {
                    // Disabled users get NotAuthorizedException too; unconfirmed ones (who
                    // signed themselves up and never confirmed) may not sign in either.
                    Some(
                        "NotAuthorizedException"
                        | "UserNotFoundException"
                        | "UserNotConfirmedException",
                    ) => ProviderError::BadCredentials,
                    // An administrator reset the password: only a new temporary password
                    // helps, and Gatehouse has no self-service reset to offer.
                    Some("PasswordResetRequiredException") => ProviderError::PasswordRejected(
                        "an administrator has required a password reset; ask them for a new \
                         temporary password"
                            .into(),
                    ),
                    _ => failure.unavailable(OPERATION),
                })
            }
        }
    }

    async fn complete_new_password(
        &self,
        username: &str,
        challenge: &Redacted<String>,
        new_password: &Redacted<String>,
    ) -> Result<SignInOutcome, ProviderError> {
        const OPERATION: &str = "RespondToAuthChallenge(NEW_PASSWORD_REQUIRED)";
        let mut request = self
            .client
            .respond_to_auth_challenge()
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .client_id(&self.settings.client_id)
            .session(challenge.expose())
            .challenge_responses("USERNAME", username)
            .challenge_responses("NEW_PASSWORD", new_password.expose());
        if let Some(hash) = self.secret_hash(username) {
            request = request.challenge_responses("SECRET_HASH", hash);
        }
        match request.send().await {
            Ok(output) => self.outcome(
                OPERATION,
                output.challenge_name(),
                output.session(),
                output.authentication_result(),
            ),
            Err(error) => {
                let failure = Failure::of(&error);
                Err(match (&failure, failure.code()) {
                    (Failure::Service { message, .. }, Some("InvalidPasswordException")) => {
                        // Cognito's text names the rule ("Password not long enough"), never
                        // the password.
                        ProviderError::PasswordRejected(
                            message
                                .clone()
                                .filter(|text| !text.is_empty())
                                .unwrap_or_else(|| {
                                    "it does not meet the password policy".to_string()
                                }),
                        )
                    }
                    // AWS: "Invalid session for the user, session is expired." (also a user
                    // deleted meanwhile). moto answers an unknown session with
                    // ResourceNotFoundException; in AWS that code would mean an unknown app
                    // client, which the sign-in before this would already have hit.
                    (
                        _,
                        Some(
                            "NotAuthorizedException"
                            | "ExpiredCodeException"
                            | "UserNotFoundException"
                            | "ResourceNotFoundException",
                        ),
                    ) => ProviderError::Expired,
                    _ => failure.unavailable(OPERATION),
                })
            }
        }
    }

    /// `REFRESH_TOKEN_AUTH`. With a client secret, `SECRET_HASH` is computed over `username`,
    /// which must be the user's Cognito user name as the tokens carry it (the access token's
    /// `username`, the id token's `cognito:username`), not an alias such as an email address:
    /// for a pool that signs in by email that name is the user's `sub`, and it is what AWS
    /// checks the hash of a refresh against. moto checks it against the name the refresh
    /// token was issued to, the same name for Gatehouse's pools (plain user names).
    async fn refresh(
        &self,
        username: &str,
        refresh_token: &Redacted<String>,
    ) -> Result<Tokens, ProviderError> {
        const OPERATION: &str = "InitiateAuth(REFRESH_TOKEN_AUTH)";
        let mut request = self
            .client
            .initiate_auth()
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .client_id(&self.settings.client_id)
            .auth_parameters("REFRESH_TOKEN", refresh_token.expose());
        if let Some(hash) = self.secret_hash(username) {
            request = request.auth_parameters("SECRET_HASH", hash);
        }
        match request.send().await {
            Ok(output) => match output.authentication_result() {
                Some(result) => tokens(OPERATION, result),
                None => Err(unavailable(OPERATION, "no tokens in the answer")),
            },
            Err(error) => {
                let failure = Failure::of(&error);
                Err(match failure.code() {
                    // Expired, revoked (sign-out) or unknown refresh token; user disabled or
                    // deleted.
                    Some("NotAuthorizedException" | "UserNotFoundException") => {
                        ProviderError::Expired
                    }
                    _ => failure.unavailable(OPERATION),
                })
            }
        }
    }

    async fn standing(
        &self,
        _username: &str,
        access_token: &Redacted<String>,
    ) -> Result<Standing, ProviderError> {
        const OPERATION: &str = "GetUser";
        let request = self.client.get_user().access_token(access_token.expose());
        match request.send().await {
            Ok(_) => Ok(Standing::Active),
            Err(error) => {
                let failure = Failure::of(&error);
                match failure.code() {
                    // Revoked token (sign-out everywhere), disabled user, deleted user, or a
                    // password reset an administrator forced.
                    Some(
                        "NotAuthorizedException"
                        | "UserNotFoundException"
                        | "PasswordResetRequiredException"
                        | "UserNotConfirmedException",
                    ) => Ok(Standing::Revoked),
                    _ => Err(failure.unavailable(OPERATION)),
                }
            }
        }
    }

    /// `RevokeToken` with the session's refresh token: it ends this sign-in only (the refresh
    /// token and the access tokens issued from it), as AWS documents. Without a refresh token
    /// there is nothing per-session to revoke, so `GlobalSignOut` ends them all.
    async fn sign_out(
        &self,
        access_token: &Redacted<String>,
        refresh_token: Option<&Redacted<String>>,
    ) -> Result<(), ProviderError> {
        let (operation, sent) = match refresh_token {
            Some(refresh_token) => {
                let mut request = self
                    .client
                    .revoke_token()
                    .token(refresh_token.expose())
                    .client_id(&self.settings.client_id);
                if let Some(secret) = &self.settings.client_secret {
                    request = request.client_secret(secret.expose());
                }
                let sent = request.send().await;
                ("RevokeToken", sent.map(|_| ()).map_err(|e| Failure::of(&e)))
            }
            None => {
                let sent = self
                    .client
                    .global_sign_out()
                    .access_token(access_token.expose())
                    .send()
                    .await;
                (
                    "GlobalSignOut",
                    sent.map(|_| ()).map_err(|e| Failure::of(&e)),
                )
            }
        };
        match sent {
            Ok(()) => Ok(()),
            Err(failure) => match failure.code() {
                // Already signed out, expired, or the user is gone: nothing to end.
                Some("NotAuthorizedException" | "UserNotFoundException") => Ok(()),
                _ => Err(failure.unavailable(operation)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> CognitoSettings {
        CognitoSettings {
            region: "eu-west-1".into(),
            user_pool_id: "eu-west-1_AbC123".into(),
            client_id: "client".into(),
            client_secret: Some(Redacted::new("very secret".into())),
        }
    }

    #[test]
    fn issuer_and_jwks_url_are_the_pools() {
        let settings = settings();
        assert_eq!(
            settings.issuer(),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123"
        );
        assert_eq!(
            settings.default_jwks_url(),
            "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC123/.well-known/jwks.json"
        );
    }

    #[test]
    fn debug_never_shows_the_client_secret() {
        assert!(!format!("{:?}", settings()).contains("very secret"));
    }

    #[test]
    fn secret_hash_is_base64_hmac_sha256_of_username_and_client_id() {
        // Reference value: python3 -c 'import hmac,hashlib,base64;
        //   print(base64.b64encode(hmac.new(b"secret", b"anaclient", hashlib.sha256).digest()).decode())'
        let hash = secret_hash(&Redacted::new("secret".into()), "ana", "client");
        assert_eq!(hash, "gpYaeMoXSS9IvHXaT9s8abxoWL9KY/6BzvsnZsQ8xzs=");
    }
}
