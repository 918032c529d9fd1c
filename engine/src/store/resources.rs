//! The local SageMaker's resources (jobs, models, endpoint configs, endpoints, tags): one
//! row per resource, its body as JSON, keyed by kind and name.

use rusqlite::{params, OptionalExtension};
use serde_json::Value;

use super::{Store, StoreResult};

impl Store {
    /// Inserts a resource; false if one of that kind and name exists.
    pub fn insert_resource(
        &self,
        kind: &str,
        name: &str,
        body: &Value,
        now_ms: i64,
    ) -> StoreResult<bool> {
        let changed = self.conn()?.execute(
            "INSERT OR IGNORE INTO sagemaker_resources (kind, name, body, created_ms) VALUES (?1, ?2, ?3, ?4)",
            params![kind, name, body.to_string(), now_ms],
        )?;
        Ok(changed == 1)
    }

    pub fn update_resource(&self, kind: &str, name: &str, body: &Value) -> StoreResult<bool> {
        let changed = self.conn()?.execute(
            "UPDATE sagemaker_resources SET body = ?3 WHERE kind = ?1 AND name = ?2",
            params![kind, name, body.to_string()],
        )?;
        Ok(changed == 1)
    }

    pub fn resource(&self, kind: &str, name: &str) -> StoreResult<Option<Value>> {
        let body: Option<String> = self
            .read()?
            .query_row(
                "SELECT body FROM sagemaker_resources WHERE kind = ?1 AND name = ?2",
                params![kind, name],
                |r| r.get(0),
            )
            .optional()?;
        Ok(body.map(|b| serde_json::from_str(&b)).transpose()?)
    }

    /// Newest first.
    pub fn resources(&self, kind: &str) -> StoreResult<Vec<Value>> {
        let conn = self.read()?;
        let mut stmt = conn.prepare(
            "SELECT body FROM sagemaker_resources WHERE kind = ?1 ORDER BY created_ms DESC, rowid DESC",
        )?;
        let rows = stmt.query_map([kind], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for body in rows {
            out.push(serde_json::from_str(&body?)?);
        }
        Ok(out)
    }

    /// Every resource of a kind with its name, in no particular order.
    pub fn named_resources(&self, kind: &str) -> StoreResult<Vec<(String, Value)>> {
        let conn = self.read()?;
        let mut stmt =
            conn.prepare("SELECT name, body FROM sagemaker_resources WHERE kind = ?1")?;
        let rows = stmt.query_map([kind], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (name, body) = row?;
            out.push((name, serde_json::from_str(&body)?));
        }
        Ok(out)
    }

    pub fn delete_resource(&self, kind: &str, name: &str) -> StoreResult<bool> {
        let changed = self.conn()?.execute(
            "DELETE FROM sagemaker_resources WHERE kind = ?1 AND name = ?2",
            params![kind, name],
        )?;
        Ok(changed == 1)
    }
}
