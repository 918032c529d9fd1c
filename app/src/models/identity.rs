//! Who is signed in and what they may do. Shared with the browser (the nav shows what your
//! roles allow), but the server is the only place a role is ever checked.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// A role, from a Cognito group (`cognito:groups`) or the local user store.
///
/// The privilege order is a partial one (see [`Role::satisfies`]): viewer < approver,
/// viewer < operator, approver and operator are incomparable, admin is above all.
/// The derived `Ord` is only there so roles can live in a `BTreeSet`; it is not privilege.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Approver,
    Operator,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Viewer, Role::Approver, Role::Operator, Role::Admin];

    /// The group / role name as Cognito and the local store spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Approver => "approver",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }

    /// The role for a group name; `None` for groups that are not Gatehouse roles (a pool
    /// may have other groups, which grant nothing here). Exact, lower-case match only, so
    /// a group called `Admin ` or `ADMIN` in some other app's naming grants nothing.
    pub fn from_name(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == name)
    }

    /// The Gatehouse roles among a list of group names; unknown groups are ignored.
    pub fn from_groups<I, S>(groups: I) -> BTreeSet<Role>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        groups
            .into_iter()
            .filter_map(|group| Role::from_name(group.as_ref()))
            .collect()
    }

    /// Whether holding `self` is enough for something that requires `required`.
    pub fn satisfies(self, required: Role) -> bool {
        match (self, required) {
            (Role::Admin, _) => true,
            (held, Role::Viewer) => matches!(held, Role::Viewer | Role::Approver | Role::Operator),
            (held, required) => held == required,
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::from_name(s).ok_or(UnknownRole)
    }
}

/// A name that is not one of the four roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a Gatehouse role (expected viewer, approver, operator or admin)")]
pub struct UnknownRole;

/// A signed-in user as the server has verified them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The stable user id (`sub`): what audit records and decisions refer to.
    pub subject: String,
    /// The sign-in name, for display.
    pub username: String,
    pub roles: BTreeSet<Role>,
}

impl Identity {
    /// Whether any of the user's roles satisfies `required`.
    pub fn has(&self, required: Role) -> bool {
        self.roles.iter().any(|role| role.satisfies(required))
    }
}

/// A user as the admin's user list shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub username: String,
    pub roles: BTreeSet<Role>,
}

/// Who manages Gatehouse's users, and the list when Gatehouse does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum UserList {
    /// Local mode: Gatehouse's own users (change them with `gatehouse users …`).
    Local(Vec<UserSummary>),
    /// aws mode: the Cognito user pool owns them.
    ManagedElsewhere,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_privilege_order_is_the_designs() {
        use Role::*;
        let allowed = [
            (Viewer, Viewer),
            (Approver, Viewer),
            (Approver, Approver),
            (Operator, Viewer),
            (Operator, Operator),
            (Admin, Viewer),
            (Admin, Approver),
            (Admin, Operator),
            (Admin, Admin),
        ];
        for held in Role::ALL {
            for required in Role::ALL {
                assert_eq!(
                    held.satisfies(required),
                    allowed.contains(&(held, required)),
                    "{held} satisfies {required}?"
                );
            }
        }
    }

    #[test]
    fn unknown_groups_grant_nothing() {
        let roles = Role::from_groups(["approver", "us-east-1_pool_Google", "ADMIN", "operator"]);
        assert_eq!(roles, BTreeSet::from([Role::Approver, Role::Operator]));
        assert_eq!("Admin".parse::<Role>(), Err(UnknownRole));
    }

    #[test]
    fn an_identity_has_what_any_of_its_roles_satisfies() {
        let identity = Identity {
            subject: "s".into(),
            username: "u".into(),
            roles: BTreeSet::from([Role::Approver]),
        };
        assert!(identity.has(Role::Viewer));
        assert!(identity.has(Role::Approver));
        assert!(!identity.has(Role::Operator));
        assert!(!identity.has(Role::Admin));
        let nobody = Identity {
            roles: BTreeSet::new(),
            ..identity
        };
        assert!(!nobody.has(Role::Viewer));
    }
}
