//! `gatehouse users …`: local mode's user administration from the server's terminal.
//!
//! Passwords are read from standard input when `--password-stdin` is given, or generated and
//! printed once (to the terminal that asked, never to a log).

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::Path;

use clap::Subcommand;

use crate::db::Database;
use crate::users::{random_password, LocalUsers, UserError};
use app::models::identity::Role;

#[derive(Debug, Clone, Subcommand)]
pub enum UsersCommand {
    /// List users and their roles.
    List,
    /// Add a user. Without --password-stdin a random password is generated and printed once.
    Add {
        username: String,
        /// A role to grant (repeat for several): viewer, approver, operator, admin.
        #[arg(long = "role", required = true, value_parser = parse_role)]
        roles: Vec<Role>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user; their sessions end on their next request.
    Remove { username: String },
    /// Replace a user's roles; their sessions end on their next request (they sign in again).
    SetRoles {
        username: String,
        #[arg(long = "role", required = true, value_parser = parse_role)]
        roles: Vec<Role>,
    },
    /// Set a new password. Without --password-stdin a random one is generated and printed once.
    ResetPassword {
        username: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

fn parse_role(value: &str) -> Result<Role, String> {
    value
        .parse::<Role>()
        .map_err(|_| format!("unknown role `{value}`: use viewer, approver, operator or admin"))
}

/// The server's database file inside the data folder.
pub fn database_path(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("gatehouse.sqlite")
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("cannot open the database in {0}: {1}")]
    Open(String, String),
    #[error("{0}")]
    Users(#[from] UserError),
    #[error("cannot read the password from standard input: {0}")]
    Stdin(std::io::Error),
}

/// Runs one users command against the data folder, writing results to `out`.
pub async fn run_users(
    data_dir: &Path,
    command: UsersCommand,
    stdin: &mut dyn BufRead,
    out: &mut dyn Write,
) -> Result<(), CliError> {
    std::fs::create_dir_all(data_dir)
        .map_err(|e| CliError::Open(data_dir.display().to_string(), e.to_string()))?;
    let db = Database::open(&database_path(data_dir))
        .map_err(|e| CliError::Open(data_dir.display().to_string(), e.to_string()))?;
    let users = LocalUsers::new(db);
    match command {
        UsersCommand::List => {
            for user in users.list().await? {
                let _ = writeln!(out, "{}\t{}", user.username, roles_text(&user.roles));
            }
        }
        UsersCommand::Add {
            username,
            roles,
            password_stdin,
        } => {
            let (password, generated) = password(password_stdin, stdin)?;
            let roles: BTreeSet<Role> = roles.into_iter().collect();
            let user = users.add(&username, &password, roles).await?;
            let _ = writeln!(out, "added {} ({})", user.username, roles_text(&user.roles));
            if generated {
                let _ = writeln!(out, "password: {password}");
            }
        }
        UsersCommand::Remove { username } => {
            users.remove(&username).await?;
            let _ = writeln!(out, "removed {username}");
        }
        UsersCommand::SetRoles { username, roles } => {
            let roles: BTreeSet<Role> = roles.into_iter().collect();
            let text = roles_text(&roles);
            users.set_roles(&username, roles).await?;
            let _ = writeln!(out, "{username} now has: {text}");
        }
        UsersCommand::ResetPassword {
            username,
            password_stdin,
        } => {
            let (password, generated) = password(password_stdin, stdin)?;
            users.set_password(&username, &password).await?;
            let _ = writeln!(out, "password changed for {username}");
            if generated {
                let _ = writeln!(out, "password: {password}");
            }
        }
    }
    Ok(())
}

/// The password to use and whether it was generated (and so must be shown).
fn password(from_stdin: bool, stdin: &mut dyn BufRead) -> Result<(String, bool), CliError> {
    if !from_stdin {
        return Ok((random_password(), true));
    }
    let mut line = String::new();
    stdin.read_line(&mut line).map_err(CliError::Stdin)?;
    Ok((line.trim_end_matches(['\r', '\n']).to_string(), false))
}

fn roles_text(roles: &BTreeSet<Role>) -> String {
    roles
        .iter()
        .map(|role| role.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Folder(std::path::PathBuf);
    impl Drop for Folder {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    async fn run(folder: &Folder, command: UsersCommand, input: &str) -> Result<String, CliError> {
        let mut out = Vec::new();
        run_users(&folder.0, command, &mut input.as_bytes(), &mut out).await?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    #[tokio::test]
    async fn add_list_set_roles_reset_and_remove() {
        let folder =
            Folder(std::env::temp_dir().join(format!("gatehouse-cli-{}", std::process::id())));
        let added = run(
            &folder,
            UsersCommand::Add {
                username: "ada".into(),
                roles: vec![Role::Approver, Role::Viewer],
                password_stdin: true,
            },
            "a long enough password\n",
        )
        .await
        .expect("add");
        assert_eq!(added, "added ada (viewer,approver)\n");
        let generated = run(
            &folder,
            UsersCommand::Add {
                username: "bob".into(),
                roles: vec![Role::Viewer],
                password_stdin: false,
            },
            "",
        )
        .await
        .expect("add with generated password");
        assert!(generated.contains("password: "), "{generated}");

        run(
            &folder,
            UsersCommand::SetRoles {
                username: "bob".into(),
                roles: vec![Role::Operator],
            },
            "",
        )
        .await
        .expect("set roles");
        let listed = run(&folder, UsersCommand::List, "").await.expect("list");
        assert_eq!(listed, "ada\tviewer,approver\nbob\toperator\n");

        run(
            &folder,
            UsersCommand::ResetPassword {
                username: "ada".into(),
                password_stdin: true,
            },
            "another long password\n",
        )
        .await
        .expect("reset");
        let db = Database::open(&database_path(&folder.0)).expect("db");
        let users = LocalUsers::new(db);
        assert!(users
            .authenticate("ada", "another long password")
            .await
            .expect("auth")
            .is_some());
        assert!(users
            .authenticate("ada", "a long enough password")
            .await
            .expect("auth")
            .is_none());

        run(
            &folder,
            UsersCommand::Remove {
                username: "bob".into(),
            },
            "",
        )
        .await
        .expect("remove");
        let error = run(
            &folder,
            UsersCommand::Remove {
                username: "bob".into(),
            },
            "",
        )
        .await
        .expect_err("already gone");
        assert_eq!(error.to_string(), "no user `bob`");
    }
}
