//! Local mode's identity provider: the local user store checks passwords, the local signer
//! issues Cognito-shaped tokens, and refresh tokens are random strings kept only as hashes.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_lc_rs::digest::{digest, SHA256};
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rusqlite::params;
use time::OffsetDateTime;

use super::local_keys::LocalSigner;
use super::provider::{IdentityProvider, ProviderError, SignInOutcome, Standing, Tokens};
use super::redacted::Redacted;
use super::verifier::{TokenUse, TokenVerifier};
use crate::db::Database;
use crate::users::{LocalUser, LocalUsers, UserError};
use app::models::identity::Identity;

/// Lifetimes of local tokens: Cognito's defaults (1 h access and id, 30 days refresh).
#[derive(Debug, Clone, Copy)]
pub struct LocalTokenLifetimes {
    pub access: Duration,
    pub refresh: Duration,
}

impl Default for LocalTokenLifetimes {
    fn default() -> Self {
        Self {
            access: Duration::from_secs(3600),
            refresh: Duration::from_secs(30 * 24 * 3600),
        }
    }
}

#[derive(Debug)]
pub struct LocalProvider {
    users: LocalUsers,
    db: Database,
    signer: Arc<LocalSigner>,
    verifier: TokenVerifier,
    lifetimes: LocalTokenLifetimes,
}

impl LocalProvider {
    pub fn new(db: Database, signer: Arc<LocalSigner>, lifetimes: LocalTokenLifetimes) -> Self {
        Self {
            users: LocalUsers::new(db.clone()),
            db,
            verifier: signer.verifier(),
            signer,
            lifetimes,
        }
    }

    async fn tokens_for(&self, user: LocalUser) -> Result<Tokens, ProviderError> {
        let identity = Identity {
            subject: user.subject,
            username: user.username,
            roles: user.roles,
        };
        let access = self
            .signer
            .issue(&identity, TokenUse::Access, self.lifetimes.access)
            .map_err(unavailable)?;
        let id = self
            .signer
            .issue(&identity, TokenUse::Id, self.lifetimes.access)
            .map_err(unavailable)?;
        let refresh = self.store_refresh_token(&identity.username).await?;
        Ok(Tokens {
            access,
            id,
            refresh: Some(refresh),
            expires_in: self.lifetimes.access,
        })
    }

    async fn store_refresh_token(&self, username: &str) -> Result<Redacted<String>, ProviderError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| ProviderError::Unavailable("no randomness for a refresh token".into()))?;
        let token = URL_SAFE_NO_PAD.encode(bytes);
        let hash = token_hash(&token);
        let name = username.to_string();
        let expires = unix_now().saturating_add(self.lifetimes.refresh.as_secs() as i64);
        self.db
            .call(move |connection| {
                let now = unix_now();
                // Expired hashes are useless; sweeping them here keeps the table small
                // without a background job.
                connection.execute(
                    "DELETE FROM local_refresh_tokens WHERE expires_unix <= ?1",
                    [now],
                )?;
                connection.execute(
                    "INSERT INTO local_refresh_tokens (token_hash, username, expires_unix)
                     VALUES (?1, ?2, ?3)",
                    params![hash, name, expires],
                )?;
                Ok(())
            })
            .await
            .map_err(|error| ProviderError::Unavailable(error.to_string()))?;
        Ok(Redacted::new(token))
    }

    /// Deletes the refresh token and says whether it was a live one of `username`'s. Each
    /// refresh token works once: a refresh hands out a new one.
    async fn redeem_refresh_token(
        &self,
        username: &str,
        token: &str,
    ) -> Result<bool, ProviderError> {
        let hash = token_hash(token);
        let name = username.to_string();
        self.db
            .call(move |connection| {
                let deleted = connection.execute(
                    "DELETE FROM local_refresh_tokens
                      WHERE token_hash = ?1 AND username = ?2 AND expires_unix > ?3",
                    params![hash, name, unix_now()],
                )?;
                Ok(deleted == 1)
            })
            .await
            .map_err(|error| ProviderError::Unavailable(error.to_string()))
    }
}

#[async_trait]
impl IdentityProvider for LocalProvider {
    async fn sign_in(
        &self,
        username: &str,
        password: &Redacted<String>,
    ) -> Result<SignInOutcome, ProviderError> {
        match self.users.authenticate(username, password.expose()).await {
            Ok(Some(user)) => Ok(SignInOutcome::Tokens(self.tokens_for(user).await?)),
            Ok(None) => Err(ProviderError::BadCredentials),
            Err(error) => Err(users_unavailable(error)),
        }
    }

    async fn complete_new_password(
        &self,
        _username: &str,
        _challenge: &Redacted<String>,
        _new_password: &Redacted<String>,
    ) -> Result<SignInOutcome, ProviderError> {
        // Local sign-in never issues the challenge, so no challenge session can be valid.
        Err(ProviderError::Expired)
    }

    async fn refresh(
        &self,
        username: &str,
        refresh_token: &Redacted<String>,
    ) -> Result<Tokens, ProviderError> {
        if !self
            .redeem_refresh_token(username, refresh_token.expose())
            .await?
        {
            return Err(ProviderError::Expired);
        }
        match self.users.find(username).await {
            Ok(Some(user)) => self.tokens_for(user).await,
            Ok(None) => Err(ProviderError::Expired),
            Err(error) => Err(users_unavailable(error)),
        }
    }

    /// Revoked when the user is gone, or when their subject or roles changed since the token
    /// was issued: a demoted user must not keep the old role until the token expires.
    async fn standing(
        &self,
        username: &str,
        access_token: &Redacted<String>,
    ) -> Result<Standing, ProviderError> {
        let Ok(verified) = self.verifier.verify_access(access_token.expose()).await else {
            return Ok(Standing::Revoked);
        };
        match self.users.find(username).await {
            Ok(Some(user))
                if user.subject == verified.identity.subject
                    && user.roles == verified.identity.roles =>
            {
                Ok(Standing::Active)
            }
            Ok(_) => Ok(Standing::Revoked),
            Err(error) => Err(users_unavailable(error)),
        }
    }

    async fn sign_out(
        &self,
        _access_token: &Redacted<String>,
        refresh_token: Option<&Redacted<String>>,
    ) -> Result<(), ProviderError> {
        let Some(refresh_token) = refresh_token else {
            return Ok(());
        };
        let hash = token_hash(refresh_token.expose());
        self.db
            .call(move |connection| {
                connection.execute(
                    "DELETE FROM local_refresh_tokens WHERE token_hash = ?1",
                    [hash],
                )?;
                Ok(())
            })
            .await
            .map_err(|error| ProviderError::Unavailable(error.to_string()))
    }
}

fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(digest(&SHA256, token.as_bytes()).as_ref())
}

fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn unavailable(error: impl std::fmt::Display) -> ProviderError {
    ProviderError::Unavailable(error.to_string())
}

fn users_unavailable(error: UserError) -> ProviderError {
    ProviderError::Unavailable(error.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use app::models::identity::Role;

    struct Fixture {
        provider: LocalProvider,
        users: LocalUsers,
        _folder: tempdir::Folder,
    }

    mod tempdir {
        pub struct Folder(pub std::path::PathBuf);
        impl Drop for Folder {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    async fn fixture() -> Fixture {
        static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let unique = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let folder = std::env::temp_dir().join(format!(
            "gatehouse-local-provider-{}-{unique}",
            std::process::id()
        ));
        let signer =
            LocalSigner::load_or_create(&folder, "https://issuer.test", "client").expect("signer");
        let db = Database::in_memory().expect("db");
        let users = LocalUsers::new(db.clone());
        users
            .add(
                "ada",
                "correct horse battery",
                BTreeSet::from([Role::Approver]),
            )
            .await
            .expect("user");
        Fixture {
            provider: LocalProvider::new(db, Arc::new(signer), LocalTokenLifetimes::default()),
            users,
            _folder: tempdir::Folder(folder),
        }
    }

    fn secret(value: &str) -> Redacted<String> {
        Redacted::new(value.to_string())
    }

    async fn sign_in(fixture: &Fixture) -> Tokens {
        match fixture
            .provider
            .sign_in("ada", &secret("correct horse battery"))
            .await
        {
            Ok(SignInOutcome::Tokens(tokens)) => tokens,
            other => panic!("expected tokens, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_right_password_yields_tokens_the_verifier_accepts() {
        let fixture = fixture().await;
        let tokens = sign_in(&fixture).await;
        let verifier = fixture.provider.verifier.clone();
        let access = verifier
            .verify_access(tokens.access.expose())
            .await
            .expect("access");
        assert_eq!(access.identity.username, "ada");
        assert_eq!(access.identity.roles, BTreeSet::from([Role::Approver]));
        verifier.verify_id(tokens.id.expose()).await.expect("id");
        assert!(tokens.refresh.is_some());
    }

    #[tokio::test]
    async fn a_wrong_password_and_an_unknown_user_look_the_same() {
        let fixture = fixture().await;
        for (user, password) in [("ada", "wrong password!"), ("nobody", "whatever12345")] {
            let error = fixture
                .provider
                .sign_in(user, &secret(password))
                .await
                .expect_err("refused");
            assert!(matches!(error, ProviderError::BadCredentials), "{error:?}");
        }
    }

    #[tokio::test]
    async fn a_refresh_token_works_once_and_not_after_sign_out() {
        let fixture = fixture().await;
        let tokens = sign_in(&fixture).await;
        let refresh = tokens.refresh.clone().expect("refresh token");
        let renewed = fixture
            .provider
            .refresh("ada", &refresh)
            .await
            .expect("refresh");
        assert!(matches!(
            fixture.provider.refresh("ada", &refresh).await,
            Err(ProviderError::Expired)
        ));
        let next = renewed.refresh.expect("rotated");
        assert!(matches!(
            fixture.provider.refresh("someone-else", &next).await,
            Err(ProviderError::Expired)
        ));
        fixture
            .provider
            .sign_out(&renewed.access, Some(&next))
            .await
            .expect("sign out");
        assert!(matches!(
            fixture.provider.refresh("ada", &next).await,
            Err(ProviderError::Expired)
        ));
    }

    #[tokio::test]
    async fn standing_is_revoked_when_the_user_is_removed_or_their_roles_change() {
        let fixture = fixture().await;
        let tokens = sign_in(&fixture).await;
        let standing = fixture.provider.standing("ada", &tokens.access).await;
        assert_eq!(standing.expect("standing"), Standing::Active);

        fixture
            .users
            .set_roles("ada", BTreeSet::from([Role::Viewer]))
            .await
            .expect("demote");
        let standing = fixture.provider.standing("ada", &tokens.access).await;
        assert_eq!(standing.expect("standing"), Standing::Revoked);

        let tokens = sign_in(&fixture).await;
        fixture.users.remove("ada").await.expect("remove");
        let standing = fixture.provider.standing("ada", &tokens.access).await;
        assert_eq!(standing.expect("standing"), Standing::Revoked);
        let refresh = tokens.refresh.expect("refresh token");
        let refreshed = fixture.provider.refresh("ada", &refresh).await;
        assert!(
            matches!(refreshed, Err(ProviderError::Expired)),
            "a removed user's refresh tokens are gone with them: {refreshed:?}"
        );
    }

    #[tokio::test]
    async fn a_user_recreated_under_the_same_name_is_someone_else() {
        let fixture = fixture().await;
        let tokens = sign_in(&fixture).await;
        fixture.users.remove("ada").await.expect("remove");
        fixture
            .users
            .add("ada", "another password!", BTreeSet::from([Role::Approver]))
            .await
            .expect("re-add");
        let standing = fixture.provider.standing("ada", &tokens.access).await;
        assert_eq!(standing.expect("standing"), Standing::Revoked);
    }
}
