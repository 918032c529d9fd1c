//! A throw-away page's server function, only ever compiled by scripts/page-cost.sh.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThrowawayRow {
    pub name: String,
    pub count: u64,
    pub note: Option<String>,
}

#[server(endpoint = "throwaway_rows")]
pub async fn throwaway_rows(filter: Option<String>) -> Result<Vec<ThrowawayRow>, AppError> {
    let context = crate::state::server_context()?;
    let uptime = context.started.elapsed().as_secs();
    Ok((0..20)
        .map(|i| ThrowawayRow {
            name: format!("row {i} {}", filter.clone().unwrap_or_default()),
            count: uptime + i,
            note: (i % 2 == 0).then(|| "even".to_string()),
        })
        .collect())
}
