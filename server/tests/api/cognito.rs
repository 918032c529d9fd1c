//! The Cognito identity provider against moto's Cognito (with the SECRET_HASH check that
//! testsupport/moto/launcher.py adds; everything else here is moto 5.2.5 as released).

use std::collections::BTreeSet;

use aws_sdk_cognitoidentityprovider::types::{
    ExplicitAuthFlowsType, MessageActionType, PasswordPolicyType, UserPoolPolicyType,
};
use aws_sdk_cognitoidentityprovider::Client;
use base64::Engine as _;
use server::auth::cognito::{CognitoProvider, CognitoSettings};
use server::auth::{
    AuthError, HttpJwks, IdentityProvider, KeySource, ProviderError, Redacted, Role, SignInOutcome,
    Standing, TokenVerifier, Tokens,
};

use crate::moto::MotoServer;

pub(crate) const PASSWORD: &str = "Correct-Horse-7";
pub(crate) const TEMPORARY: &str = "Temporary-Pass-1";

/// A user pool of its own on the shared moto: two app clients (one with a secret), the four
/// role groups, and users.
pub(crate) struct Pool {
    pub admin: Client,
    pub pool_id: String,
    pub endpoint: String,
    pub public: CognitoSettings,
    pub confidential: CognitoSettings,
}

impl Pool {
    pub async fn new() -> Pool {
        let moto = MotoServer::shared();
        let config = moto.sdk_config().await;
        let admin = Client::new(&config);
        let policy = PasswordPolicyType::builder()
            .minimum_length(12)
            .require_uppercase(true)
            .require_lowercase(true)
            .require_numbers(true)
            .require_symbols(true)
            .build();
        let created = admin
            .create_user_pool()
            .pool_name("gatehouse-test")
            .policies(
                UserPoolPolicyType::builder()
                    .password_policy(policy)
                    .build(),
            )
            .send()
            .await
            .expect("create user pool");
        let pool_id = created
            .user_pool()
            .and_then(|pool| pool.id())
            .expect("pool id")
            .to_string();
        let public = Self::app_client(&admin, &pool_id, false).await;
        let confidential = Self::app_client(&admin, &pool_id, true).await;
        for group in Role::ALL {
            admin
                .create_group()
                .user_pool_id(&pool_id)
                .group_name(group.as_str())
                .send()
                .await
                .expect("create group");
        }
        Pool {
            admin,
            pool_id,
            endpoint: moto.endpoint_url().to_string(),
            public,
            confidential,
        }
    }

    async fn app_client(admin: &Client, pool_id: &str, secret: bool) -> CognitoSettings {
        let created = admin
            .create_user_pool_client()
            .user_pool_id(pool_id)
            .client_name(if secret { "confidential" } else { "public" })
            .generate_secret(secret)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .send()
            .await
            .expect("create app client");
        let client = created.user_pool_client().expect("app client");
        CognitoSettings {
            region: "us-east-1".into(),
            user_pool_id: pool_id.to_string(),
            client_id: client.client_id().expect("client id").to_string(),
            client_secret: client
                .client_secret()
                .map(|secret| Redacted::new(secret.to_string())),
        }
    }

    fn provider(&self, settings: &CognitoSettings) -> CognitoProvider {
        CognitoProvider::new(self.admin.clone(), settings.clone())
    }

    /// A verifier as aws mode builds one, with the keys fetched over HTTP from where moto
    /// publishes them.
    fn verifier(&self, settings: &CognitoSettings) -> TokenVerifier {
        let jwks = format!("{}/{}/.well-known/jwks.json", self.endpoint, self.pool_id);
        TokenVerifier::new(
            settings.issuer(),
            settings.client_id.clone(),
            KeySource::Http(HttpJwks::new(&jwks).expect("JWKS address")),
        )
    }

    /// A user who can sign in: created by an admin, password set as permanent.
    pub async fn user(&self, username: &str, groups: &[Role]) {
        self.admin
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(username)
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .expect("create user");
        self.admin
            .admin_set_user_password()
            .user_pool_id(&self.pool_id)
            .username(username)
            .password(PASSWORD)
            .permanent(true)
            .send()
            .await
            .expect("set password");
        for group in groups {
            self.admin
                .admin_add_user_to_group()
                .user_pool_id(&self.pool_id)
                .username(username)
                .group_name(group.as_str())
                .send()
                .await
                .expect("add to group");
        }
    }

    /// An admin disables the user.
    pub async fn disable(&self, username: &str) {
        self.admin
            .admin_disable_user()
            .user_pool_id(&self.pool_id)
            .username(username)
            .send()
            .await
            .expect("disable");
    }

    /// An admin deletes the user.
    pub async fn delete(&self, username: &str) {
        self.admin
            .admin_delete_user()
            .user_pool_id(&self.pool_id)
            .username(username)
            .send()
            .await
            .expect("delete");
    }

    /// An admin signs the user out everywhere.
    pub async fn global_sign_out(&self, username: &str) {
        self.admin
            .admin_user_global_sign_out()
            .user_pool_id(&self.pool_id)
            .username(username)
            .send()
            .await
            .expect("global sign-out");
    }

    /// A user as an admin leaves them: a temporary password, FORCE_CHANGE_PASSWORD.
    pub async fn new_user(&self, username: &str) {
        self.admin
            .admin_create_user()
            .user_pool_id(&self.pool_id)
            .username(username)
            .temporary_password(TEMPORARY)
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .expect("create user");
    }
}

async fn standing(
    provider: &CognitoProvider,
    username: &str,
    access: &Redacted<String>,
) -> Standing {
    provider.standing(username, access).await.expect("standing")
}

fn secret(value: &str) -> Redacted<String> {
    Redacted::new(value.to_string())
}

async fn sign_in(provider: &CognitoProvider, username: &str, password: &str) -> Tokens {
    match provider.sign_in(username, &secret(password)).await {
        Ok(SignInOutcome::Tokens(tokens)) => tokens,
        other => panic!("expected tokens, got {other:?}"),
    }
}

/// The `iss` a token carries, read without verifying it.
fn unverified_issuer(token: &str) -> String {
    let payload = token.split('.').nth(1).expect("a JWT");
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    let claims: serde_json::Value = serde_json::from_slice(&json).expect("JSON claims");
    claims["iss"].as_str().expect("iss").to_string()
}

/// Both tokens verify with our verifier, as `username` with `roles`.
async fn assert_verifies(
    verifier: &TokenVerifier,
    tokens: &Tokens,
    username: &str,
    roles: &[Role],
) {
    let roles: BTreeSet<Role> = roles.iter().copied().collect();
    let access = verifier
        .verify_access(tokens.access.expose())
        .await
        .expect("the access token verifies");
    assert_eq!(access.identity.username, username);
    assert_eq!(access.identity.roles, roles);
    let id = verifier
        .verify_id(tokens.id.expose())
        .await
        .expect("the id token verifies");
    assert_eq!(id.identity.username, username);
    assert_eq!(id.identity.subject, access.identity.subject);
    assert_eq!(id.identity.roles, roles);
}

#[tokio::test]
async fn sign_in_yields_tokens_that_verify_with_roles_from_groups_for_both_app_clients() {
    let pool = Pool::new().await;
    pool.user("ana", &[Role::Approver, Role::Viewer]).await;
    for settings in [&pool.public, &pool.confidential] {
        let tokens = sign_in(&pool.provider(settings), "ana", PASSWORD).await;
        assert!(tokens.refresh.is_some(), "sign-in yields a refresh token");
        assert!(tokens.expires_in.as_secs() > 0);
        // moto writes the issuer AWS would; ours is computed the same way.
        assert_eq!(unverified_issuer(tokens.access.expose()), settings.issuer());
        assert_verifies(
            &pool.verifier(settings),
            &tokens,
            "ana",
            &[Role::Approver, Role::Viewer],
        )
        .await;
    }
}

#[tokio::test]
async fn tokens_of_one_app_client_do_not_verify_for_the_other() {
    let pool = Pool::new().await;
    pool.user("ana", &[Role::Viewer]).await;
    let tokens = sign_in(&pool.provider(&pool.public), "ana", PASSWORD).await;
    let other = pool.verifier(&pool.confidential);
    // AWS: an access token's `client_id` and an ID token's `aud` name the app client the
    // tokens were issued to; a verifier checks them against its own
    // (https://docs.aws.amazon.com/cognito/latest/developerguide/amazon-cognito-user-pools-using-tokens-verifying-a-jwt.html).
    let access = other.verify_access(tokens.access.expose()).await;
    assert!(
        matches!(access, Err(AuthError::WrongClientId)),
        "{access:?}"
    );
    let id = other.verify_id(tokens.id.expose()).await;
    assert!(matches!(id, Err(AuthError::WrongAudience)), "{id:?}");
}

#[tokio::test]
async fn a_wrong_client_secret_is_refused() {
    // moto 5.2.5 ignores SECRET_HASH on USER_PASSWORD_AUTH; the launcher adds AWS's check.
    let pool = Pool::new().await;
    pool.user("ana", &[]).await;
    let mut wrong = pool.confidential.clone();
    wrong.client_secret = Some(secret("not the secret"));
    let outcome = pool
        .provider(&wrong)
        .sign_in("ana", &secret(PASSWORD))
        .await;
    assert!(
        matches!(outcome, Err(ProviderError::BadCredentials)),
        "{outcome:?}"
    );
    let mut missing = pool.confidential.clone();
    missing.client_secret = None;
    let outcome = pool
        .provider(&missing)
        .sign_in("ana", &secret(PASSWORD))
        .await;
    assert!(
        matches!(outcome, Err(ProviderError::BadCredentials)),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_are_bad_credentials() {
    let pool = Pool::new().await;
    pool.user("ana", &[]).await;
    for settings in [&pool.public, &pool.confidential] {
        let provider = pool.provider(settings);
        let wrong = provider.sign_in("ana", &secret("Wrong-Password-1")).await;
        assert!(
            matches!(wrong, Err(ProviderError::BadCredentials)),
            "{wrong:?}"
        );
        let unknown = provider.sign_in("nobody", &secret(PASSWORD)).await;
        assert!(
            matches!(unknown, Err(ProviderError::BadCredentials)),
            "{unknown:?}"
        );
    }
}

#[tokio::test]
async fn a_new_user_must_choose_a_password_that_meets_the_policy() {
    let pool = Pool::new().await;
    for (settings, username) in [(&pool.public, "bo"), (&pool.confidential, "cy")] {
        pool.new_user(username).await;
        let provider = pool.provider(settings);
        let challenge = match provider.sign_in(username, &secret(TEMPORARY)).await {
            Ok(SignInOutcome::NewPasswordRequired { challenge }) => challenge,
            other => panic!("expected the new-password challenge, got {other:?}"),
        };
        assert_eq!(format!("{challenge:?}"), "[redacted]");

        // moto enforces the pool's password policy, as Cognito does.
        let weak = provider
            .complete_new_password(username, &challenge, &secret("short"))
            .await;
        let Err(ProviderError::PasswordRejected(rule)) = weak else {
            panic!("expected the weak password to be refused, got {weak:?}");
        };
        assert!(
            !rule.contains("short"),
            "the rule never quotes the password"
        );

        let chosen = "Brand-New-Pass-9";
        let tokens = match provider
            .complete_new_password(username, &challenge, &secret(chosen))
            .await
        {
            Ok(SignInOutcome::Tokens(tokens)) => tokens,
            other => panic!("expected tokens, got {other:?}"),
        };
        assert_verifies(&pool.verifier(settings), &tokens, username, &[]).await;
        // The new password is the password now.
        sign_in(&provider, username, chosen).await;
    }
}

#[tokio::test]
async fn an_unknown_challenge_session_has_expired() {
    let pool = Pool::new().await;
    pool.new_user("bo").await;
    let outcome = pool
        .provider(&pool.public)
        .complete_new_password("bo", &secret("not-a-session"), &secret("Brand-New-Pass-9"))
        .await;
    assert!(
        matches!(outcome, Err(ProviderError::Expired)),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn refresh_yields_new_tokens_that_verify() {
    let pool = Pool::new().await;
    pool.user("ana", &[Role::Operator]).await;
    // The confidential client checks SECRET_HASH on refresh (moto does that itself).
    for settings in [&pool.public, &pool.confidential] {
        let provider = pool.provider(settings);
        let tokens = sign_in(&provider, "ana", PASSWORD).await;
        let refresh = tokens.refresh.clone().expect("refresh token");
        let refreshed = provider.refresh("ana", &refresh).await.expect("refresh");
        assert_ne!(refreshed.access.expose(), tokens.access.expose());
        assert_verifies(
            &pool.verifier(settings),
            &refreshed,
            "ana",
            &[Role::Operator],
        )
        .await;

        let unknown = provider
            .refresh("ana", &secret("not-a-refresh-token"))
            .await;
        assert!(
            matches!(unknown, Err(ProviderError::Expired)),
            "{unknown:?}"
        );
    }
    // A refresh whose SECRET_HASH is computed for another user name is refused.
    let provider = pool.provider(&pool.confidential);
    let tokens = sign_in(&provider, "ana", PASSWORD).await;
    let refresh = tokens.refresh.expect("refresh token");
    let outcome = provider.refresh("someone-else", &refresh).await;
    assert!(
        matches!(outcome, Err(ProviderError::Expired)),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_disabled_user_loses_standing_and_cannot_sign_in() {
    // moto 5.2.5's GetUser refuses a disabled user itself (NotAuthorizedException): no
    // extension needed.
    let pool = Pool::new().await;
    pool.user("ana", &[Role::Viewer]).await;
    let provider = pool.provider(&pool.confidential);
    let tokens = sign_in(&provider, "ana", PASSWORD).await;
    assert_eq!(
        standing(&provider, "ana", &tokens.access).await,
        Standing::Active
    );
    pool.disable("ana").await;
    assert_eq!(
        standing(&provider, "ana", &tokens.access).await,
        Standing::Revoked
    );
    let again = provider.sign_in("ana", &secret(PASSWORD)).await;
    assert!(
        matches!(again, Err(ProviderError::BadCredentials)),
        "{again:?}"
    );
}

#[tokio::test]
async fn a_deleted_user_loses_standing() {
    let pool = Pool::new().await;
    pool.user("ana", &[Role::Viewer]).await;
    let provider = pool.provider(&pool.public);
    let tokens = sign_in(&provider, "ana", PASSWORD).await;
    pool.delete("ana").await;
    assert_eq!(
        standing(&provider, "ana", &tokens.access).await,
        Standing::Revoked
    );
    let again = provider.sign_in("ana", &secret(PASSWORD)).await;
    assert!(
        matches!(again, Err(ProviderError::BadCredentials)),
        "{again:?}"
    );
}

#[tokio::test]
async fn sign_out_revokes_this_sign_in_only() {
    let pool = Pool::new().await;
    pool.user("ana", &[Role::Admin]).await;
    for client in [&pool.confidential, &pool.public] {
        let provider = pool.provider(client);
        let other_device = sign_in(&provider, "ana", PASSWORD).await;
        let tokens = sign_in(&provider, "ana", PASSWORD).await;
        let refresh = tokens.refresh.clone().expect("refresh token");
        provider
            .sign_out(&tokens.access, Some(&refresh))
            .await
            .expect("sign out");
        let outcome = provider.refresh("ana", &refresh).await;
        assert!(
            matches!(outcome, Err(ProviderError::Expired)),
            "{outcome:?}"
        );
        assert_eq!(
            standing(&provider, "ana", &tokens.access).await,
            Standing::Revoked
        );
        // The other sign-in lives on.
        assert_eq!(
            standing(&provider, "ana", &other_device.access).await,
            Standing::Active
        );
        let other_refresh = other_device.refresh.clone().expect("refresh token");
        provider
            .refresh("ana", &other_refresh)
            .await
            .expect("the other sign-in still refreshes");
        // Signing out twice is fine: best effort, nothing left to end.
        provider
            .sign_out(&tokens.access, Some(&refresh))
            .await
            .expect("sign out again");
    }
}

#[tokio::test]
async fn sign_out_without_a_refresh_token_ends_every_sign_in() {
    let pool = Pool::new().await;
    pool.user("ana", &[Role::Admin]).await;
    let provider = pool.provider(&pool.confidential);
    let first = sign_in(&provider, "ana", PASSWORD).await;
    let second = sign_in(&provider, "ana", PASSWORD).await;
    provider
        .sign_out(&second.access, None)
        .await
        .expect("sign out");
    for tokens in [&first, &second] {
        assert_eq!(
            standing(&provider, "ana", &tokens.access).await,
            Standing::Revoked
        );
    }
    sign_in(&provider, "ana", PASSWORD).await;
}

#[tokio::test]
async fn an_unreachable_pool_is_unavailable() {
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_sdk_cognitoidentityprovider::config::Region::new(
            "us-east-1",
        ))
        .credentials_provider(aws_sdk_cognitoidentityprovider::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        // A port nothing listens on (the discard port, closed on loopback).
        .endpoint_url("http://127.0.0.1:9")
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .load()
        .await;
    let provider = CognitoProvider::new(
        Client::new(&config),
        CognitoSettings {
            region: "us-east-1".into(),
            user_pool_id: "us-east-1_nothing".into(),
            client_id: "client".into(),
            client_secret: None,
        },
    );
    let outcome = provider.sign_in("ana", &secret(PASSWORD)).await;
    assert!(
        matches!(outcome, Err(ProviderError::Unavailable(_))),
        "{outcome:?}"
    );
}
