//! The ballot box and the sign-in failure counts in the server's SQLite file (local mode).
//! Each change is one IMMEDIATE transaction, so processes sharing the file take turns.

use app::ballots::{BallotError, BallotKey, Ballots, Cast};
use app::models::approvals::Vote;
use app::models::pipeline::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::db::{Database, DbError};
use crate::guard::throttle::{FailureCounts, Failures};

#[derive(Debug, Clone)]
pub struct SqliteBallots {
    db: Database,
}

impl SqliteBallots {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn read_votes(connection: &Connection, ballot: &BallotKey) -> rusqlite::Result<Vec<Vote>> {
    let mut statement = connection.prepare_cached(
        "SELECT voter, comment, at_ms FROM approval_votes
         WHERE execution = ?1 AND scheduled_event_id = ?2 ORDER BY at_ms, voter",
    )?;
    let votes = statement
        .query_map(
            params![ballot.execution, ballot.scheduled_event_id],
            |row| {
                Ok(Vote {
                    by: row.get(0)?,
                    comment: row.get(1)?,
                    at: Timestamp(row.get(2)?),
                })
            },
        )?
        .collect();
    votes
}

fn ballot_error(error: DbError) -> BallotError {
    BallotError(error.to_string())
}

#[async_trait::async_trait]
impl Ballots for SqliteBallots {
    async fn cast(&self, ballot: &BallotKey, vote: Vote) -> Result<Cast, BallotError> {
        let ballot = ballot.clone();
        self.db
            .call(move |connection| {
                let transaction =
                    connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let added = transaction.execute(
                    "INSERT OR IGNORE INTO approval_votes
                         (execution, scheduled_event_id, voter, comment, at_ms)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        ballot.execution,
                        ballot.scheduled_event_id,
                        vote.by,
                        vote.comment,
                        vote.at.millis()
                    ],
                )?;
                let votes = read_votes(&transaction, &ballot)?;
                transaction.commit()?;
                Ok(Cast {
                    counted: added == 1,
                    votes,
                })
            })
            .await
            .map_err(ballot_error)
    }

    async fn votes(&self, ballot: &BallotKey) -> Result<Vec<Vote>, BallotError> {
        let ballot = ballot.clone();
        self.db
            .read(move |connection| Ok(read_votes(connection, &ballot)?))
            .await
            .map_err(ballot_error)
    }
}

#[derive(Debug, Clone)]
pub struct SqliteFailureCounts {
    db: Database,
}

impl SqliteFailureCounts {
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait::async_trait]
impl FailureCounts for SqliteFailureCounts {
    async fn read(&self, keys: &[String]) -> Result<Vec<Option<Failures>>, String> {
        let keys = keys.to_vec();
        self.db
            .read(move |connection| {
                let mut statement = connection
                    .prepare_cached("SELECT count, last_ms FROM signin_failures WHERE key = ?1")?;
                let mut found = Vec::with_capacity(keys.len());
                for key in &keys {
                    found.push(
                        statement
                            .query_row([key], |row| {
                                Ok(Failures {
                                    count: row.get(0)?,
                                    last_ms: row.get(1)?,
                                })
                            })
                            .optional()?,
                    );
                }
                Ok(found)
            })
            .await
            .map_err(|error| error.to_string())
    }

    async fn add(&self, keys: &[String], now_ms: i64, forget_after_ms: i64) -> Result<(), String> {
        let keys = keys.to_vec();
        let stale_before_ms = now_ms.saturating_sub(forget_after_ms);
        self.db
            .call(move |connection| {
                let transaction =
                    connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
                // Counts nobody added to for the forgetting time are gone for good.
                transaction.execute(
                    "DELETE FROM signin_failures WHERE last_ms < ?1",
                    [stale_before_ms],
                )?;
                for key in &keys {
                    transaction.execute(
                        "INSERT INTO signin_failures (key, count, last_ms) VALUES (?1, 1, ?2)
                         ON CONFLICT (key) DO UPDATE SET count = count + 1, last_ms = ?2",
                        params![key, now_ms],
                    )?;
                }
                transaction.commit()?;
                Ok(())
            })
            .await
            .map_err(|error| error.to_string())
    }

    async fn clear(&self, key: &str) -> Result<(), String> {
        let key = key.to_string();
        self.db
            .call(move |connection| {
                connection.execute("DELETE FROM signin_failures WHERE key = ?1", [key])?;
                Ok(())
            })
            .await
            .map_err(|error| error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ballot() -> BallotKey {
        BallotKey {
            execution: "run-1".into(),
            scheduled_event_id: 7,
        }
    }

    fn vote(by: &str, at: i64) -> Vote {
        Vote {
            by: by.into(),
            at: Timestamp(at),
            comment: format!("{by} agrees"),
        }
    }

    #[tokio::test]
    async fn an_approver_is_counted_once_and_each_vote_sees_those_before_it() {
        let ballots = SqliteBallots::new(Database::in_memory().expect("db"));
        let first = ballots.cast(&ballot(), vote("ana", 1)).await.expect("cast");
        assert!(first.counted);
        assert_eq!(first.votes, vec![vote("ana", 1)]);
        let again = ballots.cast(&ballot(), vote("ana", 5)).await.expect("cast");
        assert!(!again.counted, "a second vote of the same approver");
        assert_eq!(again.votes, vec![vote("ana", 1)], "the first vote stands");
        let second = ballots.cast(&ballot(), vote("ben", 2)).await.expect("cast");
        assert!(second.counted);
        assert_eq!(second.votes, vec![vote("ana", 1), vote("ben", 2)]);
        // Another waiting task of the same run starts with an empty box.
        let later = BallotKey {
            scheduled_event_id: 19,
            ..ballot()
        };
        assert_eq!(ballots.votes(&later).await.expect("votes"), Vec::new());
    }

    #[tokio::test]
    async fn concurrent_votes_complete_the_quorum_exactly_once() {
        let ballots = SqliteBallots::new(Database::in_memory().expect("db"));
        let mut casts = tokio::task::JoinSet::new();
        for i in 0..20 {
            let ballots = ballots.clone();
            casts.spawn(async move {
                ballots
                    .cast(&ballot(), vote(&format!("approver-{i}"), i))
                    .await
                    .expect("cast")
            });
        }
        let mut sizes = Vec::new();
        while let Some(cast) = casts.join_next().await {
            sizes.push(cast.expect("task").votes.len());
        }
        sizes.sort_unstable();
        assert_eq!(
            sizes,
            (1..=20).collect::<Vec<_>>(),
            "each vote saw a count of its own"
        );
    }

    #[tokio::test]
    async fn failures_add_up_per_key_start_again_when_stale_and_clear() {
        let counts = SqliteFailureCounts::new(Database::in_memory().expect("db"));
        let keys = ["user#ana".to_string(), "address#127.0.0.1".to_string()];
        counts.add(&keys, 1_000, 10_000).await.expect("add");
        counts.add(&keys[..1], 2_000, 10_000).await.expect("add");
        let read = counts.read(&keys).await.expect("read");
        assert_eq!(
            read,
            vec![
                Some(Failures {
                    count: 2,
                    last_ms: 2_000
                }),
                Some(Failures {
                    count: 1,
                    last_ms: 1_000
                })
            ]
        );
        // Past the forgetting time of the address's last failure: it is gone.
        counts.add(&keys[..1], 3_000, 1_500).await.expect("add");
        let read = counts.read(&keys).await.expect("read");
        assert_eq!(
            read[0],
            Some(Failures {
                count: 3,
                last_ms: 3_000
            })
        );
        assert_eq!(read[1], None);
        counts.clear("user#ana").await.expect("clear");
        assert_eq!(counts.read(&keys[..1]).await.expect("read"), vec![None]);
    }
}
