//! Local-mode users: argon2id password hashes and roles in the server's SQLite file.

use std::collections::BTreeSet;

use app::models::identity::Role;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rusqlite::{params, OptionalExtension};
use time::OffsetDateTime;

use crate::db::{Database, DbError};

/// Usernames are short, printable and unambiguous in logs and the audit trail.
const USERNAME_MAX: usize = 64;
const PASSWORD_MIN: usize = 12;

#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("a username is 1 to {USERNAME_MAX} characters of a-z, 0-9, '.', '_', '-' or '@'")]
    InvalidUsername,
    #[error("a password needs at least {PASSWORD_MIN} characters")]
    WeakPassword,
    #[error("user `{0}` already exists")]
    Exists(String),
    #[error("no user `{0}`")]
    NotFound(String),
    #[error("a user needs at least one role")]
    NoRoles,
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A local user as the rest of the server sees it: never the hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalUser {
    /// Stable and never reused (`sub` in the user's tokens).
    pub subject: String,
    pub username: String,
    pub roles: BTreeSet<Role>,
}

#[derive(Clone, Debug)]
pub struct LocalUsers {
    db: Database,
}

impl LocalUsers {
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    pub async fn add(
        &self,
        username: &str,
        password: &str,
        roles: BTreeSet<Role>,
    ) -> Result<LocalUser, UserError> {
        let username = validate_username(username)?;
        if roles.is_empty() {
            return Err(UserError::NoRoles);
        }
        let hash = hash_password(password).await?;
        let stored_roles = encode_roles(&roles);
        let name = username.clone();
        let subject = random_subject();
        let stored_subject = subject.clone();
        let inserted = self
            .db
            .call(move |connection| {
                let now = OffsetDateTime::now_utc().unix_timestamp();
                Ok(connection.execute(
                    "INSERT OR IGNORE INTO local_users
                       (username, password_hash, roles, created_unix, updated_unix, subject)
                     VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
                    params![name, hash, stored_roles, now, stored_subject],
                )?)
            })
            .await?;
        if inserted == 0 {
            return Err(UserError::Exists(username));
        }
        Ok(LocalUser {
            subject,
            username,
            roles,
        })
    }

    pub async fn remove(&self, username: &str) -> Result<(), UserError> {
        let name = username.to_string();
        let removed = self
            .db
            .call(move |connection| {
                Ok(connection.execute("DELETE FROM local_users WHERE username = ?1", [name])?)
            })
            .await?;
        if removed == 0 {
            return Err(UserError::NotFound(username.to_string()));
        }
        Ok(())
    }

    pub async fn set_roles(&self, username: &str, roles: BTreeSet<Role>) -> Result<(), UserError> {
        if roles.is_empty() {
            return Err(UserError::NoRoles);
        }
        let name = username.to_string();
        let stored_roles = encode_roles(&roles);
        let updated = self
            .db
            .call(move |connection| {
                let now = OffsetDateTime::now_utc().unix_timestamp();
                Ok(connection.execute(
                    "UPDATE local_users SET roles = ?2, updated_unix = ?3 WHERE username = ?1",
                    params![name, stored_roles, now],
                )?)
            })
            .await?;
        if updated == 0 {
            return Err(UserError::NotFound(username.to_string()));
        }
        Ok(())
    }

    /// Replaces the user's password hash.
    pub async fn set_password(&self, username: &str, password: &str) -> Result<(), UserError> {
        let hash = hash_password(password).await?;
        let name = username.to_string();
        let updated = self
            .db
            .call(move |connection| {
                let now = OffsetDateTime::now_utc().unix_timestamp();
                Ok(connection.execute(
                    "UPDATE local_users SET password_hash = ?2, updated_unix = ?3 WHERE username = ?1",
                    params![name, hash, now],
                )?)
            })
            .await?;
        if updated == 0 {
            return Err(UserError::NotFound(username.to_string()));
        }
        Ok(())
    }

    /// The user, as stored now (`None` when removed since).
    pub async fn find(&self, username: &str) -> Result<Option<LocalUser>, UserError> {
        let name = username.to_string();
        let row: Option<(String, String, String)> = self
            .db
            .read(move |connection| {
                Ok(connection
                    .query_row(
                        "SELECT subject, username, roles FROM local_users WHERE username = ?1",
                        [name],
                        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
                    )
                    .optional()?)
            })
            .await?;
        Ok(row.map(|(subject, username, roles)| LocalUser {
            subject,
            username,
            roles: decode_roles(&roles),
        }))
    }

    pub async fn list(&self) -> Result<Vec<LocalUser>, UserError> {
        let rows: Vec<(String, String, String)> = self
            .db
            .read(|connection| {
                let mut statement = connection.prepare(
                    "SELECT subject, username, roles FROM local_users ORDER BY username",
                )?;
                let rows = statement
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await?;
        Ok(rows
            .into_iter()
            .map(|(subject, username, roles)| LocalUser {
                subject,
                username,
                roles: decode_roles(&roles),
            })
            .collect())
    }

    pub async fn is_empty(&self) -> Result<bool, UserError> {
        let count: i64 = self
            .db
            .read(|connection| {
                Ok(connection
                    .query_row("SELECT COUNT(*) FROM local_users", [], |row| row.get(0))?)
            })
            .await?;
        Ok(count == 0)
    }

    /// The user when `password` is theirs, else `None`, taking about as long either way so
    /// timing does not tell which usernames exist.
    pub async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<LocalUser>, UserError> {
        let name = username.to_string();
        let row: Option<(String, String, String, String)> = self
            .db
            .call(move |connection| {
                Ok(connection
                    .query_row(
                        "SELECT subject, username, password_hash, roles
                           FROM local_users WHERE username = ?1",
                        [name],
                        |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
                    )
                    .optional()?)
            })
            .await?;
        let (stored_hash, user) = match row {
            Some((subject, username, hash, roles)) => (
                hash,
                Some(LocalUser {
                    subject,
                    username,
                    roles: decode_roles(&roles),
                }),
            ),
            None => (dummy_hash().to_string(), None),
        };
        let password = password.to_string();
        let matches = tokio::task::spawn_blocking(move || verify_password(&password, &stored_hash))
            .await
            .map_err(DbError::from)?;
        Ok(user.filter(|_| matches))
    }
}

fn validate_username(username: &str) -> Result<String, UserError> {
    let valid = !username.is_empty()
        && username.len() <= USERNAME_MAX
        && username
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-@".contains(c));
    if valid {
        Ok(username.to_string())
    } else {
        Err(UserError::InvalidUsername)
    }
}

async fn hash_password(password: &str) -> Result<String, UserError> {
    if password.chars().count() < PASSWORD_MIN {
        return Err(UserError::WeakPassword);
    }
    let password = password.to_string();
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|error| UserError::Hash(error.to_string()))
    })
    .await
    .map_err(DbError::from)?
}

fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A valid argon2id hash of a random password nobody knows, verified against when the
/// username does not exist.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        let secret = random_password();
        Argon2::default()
            .hash_password(secret.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}

/// 24 characters from an alphabet without look-alikes, from the OS's random source.
pub fn random_password() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..24)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

/// 128 random bits as hex: a local user's `sub`.
fn random_subject() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

fn encode_roles(roles: &BTreeSet<Role>) -> String {
    roles
        .iter()
        .map(|role| role.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

fn decode_roles(stored: &str) -> BTreeSet<Role> {
    stored.split(',').filter_map(Role::from_name).collect()
}

/// The admin's read-only view of local users (`/admin/users`).
#[async_trait::async_trait]
impl app::state::UserDirectory for LocalUsers {
    async fn list(&self) -> Result<Vec<app::models::identity::UserSummary>, app::errors::AppError> {
        LocalUsers::list(self)
            .await
            .map(|users| {
                users
                    .into_iter()
                    .map(|user| app::models::identity::UserSummary {
                        username: user.username,
                        roles: user.roles,
                    })
                    .collect()
            })
            .map_err(|error| {
                tracing::error!(%error, "cannot list users");
                app::errors::AppError::Unavailable("the user list cannot be read right now".into())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> LocalUsers {
        LocalUsers::new(Database::in_memory().expect("database"))
    }

    fn roles(list: &[Role]) -> BTreeSet<Role> {
        list.iter().copied().collect()
    }

    #[tokio::test]
    async fn the_right_password_authenticates_and_a_wrong_one_does_not() {
        let users = users();
        users
            .add("ana", "correct horse battery", roles(&[Role::Approver]))
            .await
            .expect("add");
        let ana = users
            .authenticate("ana", "correct horse battery")
            .await
            .expect("query");
        assert_eq!(ana.map(|user| user.roles), Some(roles(&[Role::Approver])));
        assert_eq!(
            users
                .authenticate("ana", "wrong password!!")
                .await
                .expect("query"),
            None
        );
        assert_eq!(
            users
                .authenticate("nobody", "correct horse battery")
                .await
                .expect("query"),
            None
        );
    }

    #[tokio::test]
    async fn passwords_are_stored_as_argon2id_hashes() {
        let users = users();
        users
            .add("ana", "correct horse battery", roles(&[Role::Viewer]))
            .await
            .expect("add");
        let stored: String = users
            .db
            .call(|connection| {
                Ok(
                    connection.query_row("SELECT password_hash FROM local_users", [], |row| {
                        row.get(0)
                    })?,
                )
            })
            .await
            .expect("select");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(!stored.contains("correct horse"));
    }

    #[tokio::test]
    async fn bad_input_is_refused_with_a_reason() {
        let users = users();
        let viewer = roles(&[Role::Viewer]);
        assert!(matches!(
            users
                .add("Ana Smith", "correct horse battery", viewer.clone())
                .await,
            Err(UserError::InvalidUsername)
        ));
        assert!(matches!(
            users.add("ana", "short", viewer.clone()).await,
            Err(UserError::WeakPassword)
        ));
        assert!(matches!(
            users
                .add("ana", "correct horse battery", BTreeSet::new())
                .await,
            Err(UserError::NoRoles)
        ));
        users
            .add("ana", "correct horse battery", viewer.clone())
            .await
            .expect("add");
        assert!(matches!(
            users.add("ana", "another long password", viewer).await,
            Err(UserError::Exists(name)) if name == "ana"
        ));
        assert!(matches!(
            users.remove("bob").await,
            Err(UserError::NotFound(_))
        ));
    }

    #[tokio::test]
    async fn roles_change_and_removal_take_effect() {
        let users = users();
        users
            .add("ana", "correct horse battery", roles(&[Role::Viewer]))
            .await
            .expect("add");
        users
            .set_roles("ana", roles(&[Role::Operator, Role::Approver]))
            .await
            .expect("set roles");
        let ana = users.find("ana").await.expect("find").expect("present");
        assert_eq!(ana.roles, roles(&[Role::Approver, Role::Operator]));
        users.remove("ana").await.expect("remove");
        assert_eq!(users.find("ana").await.expect("find"), None);
        assert!(users.is_empty().await.expect("count"));
    }
}
