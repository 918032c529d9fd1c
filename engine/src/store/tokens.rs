//! Task tokens: one row per `.waitForTaskToken` task, waiting until a decision (or a
//! timeout, or its execution's end) closes it; the index pending callbacks are read from.

use rusqlite::{params, OptionalExtension};
use serde_json::Value;

use super::{Store, StoreResult};

/// The state of a task token.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRow {
    pub execution_arn: String,
    pub key: String,
    pub status: String,
    pub decision: Option<Value>,
    pub heartbeat_ms: i64,
}

pub const TOKEN_WAITING: &str = "WAITING";
pub const TOKEN_DECIDED: &str = "DECIDED";
pub const TOKEN_CLOSED: &str = "CLOSED";

/// A `.waitForTaskToken` task whose token still waits, as its `TaskScheduled` event
/// recorded it.
#[derive(Debug, Clone, PartialEq)]
pub struct WaitingCallback {
    pub token: String,
    pub execution_arn: String,
    /// The task's `TaskScheduled` event.
    pub scheduled: Value,
    /// The `…StateEntered` event of the state the task belongs to.
    pub entered: Option<Value>,
}

impl Store {
    pub fn create_token(
        &self,
        token: &str,
        execution_arn: &str,
        key: &str,
        now_ms: i64,
    ) -> StoreResult<()> {
        self.conn()?.execute(
            "INSERT OR IGNORE INTO task_tokens (token, execution_arn, key, status, heartbeat_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![token, execution_arn, key, TOKEN_WAITING, now_ms],
        )?;
        Ok(())
    }

    pub fn token(&self, token: &str) -> StoreResult<Option<TokenRow>> {
        let row = self
            .conn()?
            .query_row(
                "SELECT execution_arn, key, status, decision, heartbeat_ms FROM task_tokens WHERE token = ?1",
                [token],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                },
            )
            .optional()?;
        let Some((execution_arn, key, status, decision, heartbeat_ms)) = row else {
            return Ok(None);
        };
        Ok(Some(TokenRow {
            execution_arn,
            key,
            status,
            decision: decision.map(|d| serde_json::from_str(&d)).transpose()?,
            heartbeat_ms,
        }))
    }

    /// Records a decision if the token is still waiting. Exactly one caller can win.
    pub fn decide_token(&self, token: &str, decision: &Value) -> StoreResult<bool> {
        let changed = self.conn()?.execute(
            "UPDATE task_tokens SET status = ?2, decision = ?3 WHERE token = ?1 AND status = ?4",
            params![token, TOKEN_DECIDED, decision.to_string(), TOKEN_WAITING],
        )?;
        Ok(changed == 1)
    }

    pub fn heartbeat_token(&self, token: &str, now_ms: i64) -> StoreResult<bool> {
        let changed = self.conn()?.execute(
            "UPDATE task_tokens SET heartbeat_ms = ?2 WHERE token = ?1 AND status = ?3",
            params![token, now_ms, TOKEN_WAITING],
        )?;
        Ok(changed == 1)
    }

    /// Closes a waiting token (its task timed out). False if a decision got there first.
    pub fn close_token(&self, token: &str) -> StoreResult<bool> {
        let changed = self.conn()?.execute(
            "UPDATE task_tokens SET status = ?2 WHERE token = ?1 AND status = ?3",
            params![token, TOKEN_CLOSED, TOKEN_WAITING],
        )?;
        Ok(changed == 1)
    }

    /// Closes the waiting tokens of tasks under a key prefix (the branches of a Parallel
    /// or the iterations of a Map that were cancelled because a sibling failed).
    pub fn close_tokens_under(&self, execution_arn: &str, key_prefix: &str) -> StoreResult<usize> {
        Ok(self.conn()?.execute(
            "UPDATE task_tokens SET status = ?3
             WHERE execution_arn = ?1 AND substr(key, 1, length(?2)) = ?2 AND status = ?4",
            params![execution_arn, key_prefix, TOKEN_CLOSED, TOKEN_WAITING],
        )?)
    }

    /// The callbacks whose tokens still wait, in running executions (of one execution when
    /// `execution_arn` is given): read from the tokens' index and each task's own events,
    /// so the cost follows the number of open callbacks, not the executions' histories.
    pub fn waiting_callbacks(
        &self,
        execution_arn: Option<&str>,
    ) -> StoreResult<Vec<WaitingCallback>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare_cached(
            "SELECT t.token, t.execution_arn, s.body,
                    (SELECT e.body FROM events e
                      WHERE e.execution_arn = t.execution_arn
                        AND e.id = json_extract(s.body, '$.previousEventId'))
             FROM task_tokens t
             JOIN executions x ON x.arn = t.execution_arn AND x.status = 'RUNNING'
             JOIN events s ON s.execution_arn = t.execution_arn AND s.key = t.key || '/scheduled'
             WHERE t.status = ?1 AND (?2 IS NULL OR t.execution_arn = ?2)
             ORDER BY x.seq, s.id",
        )?;
        let rows = stmt.query_map(params![TOKEN_WAITING, execution_arn], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (token, execution_arn, scheduled, entered) = row?;
            out.push(WaitingCallback {
                token,
                execution_arn,
                scheduled: serde_json::from_str(&scheduled)?,
                entered: entered.map(|e| serde_json::from_str(&e)).transpose()?,
            });
        }
        Ok(out)
    }
}
