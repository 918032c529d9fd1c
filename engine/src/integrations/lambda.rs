//! Lambda functions in local mode: handlers registered by name, plus the built-in ones the
//! seed pipeline needs (the approval request and the "endpoint ready" notice).

use crate::error::StatesError;
use crate::runtime::resource::function_name;
use serde_json::Value;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

/// What a handler receives.
#[derive(Debug, Clone)]
pub struct LambdaRequest {
    pub function_name: String,
    pub payload: Value,
    pub execution_arn: String,
    pub state_name: String,
}

/// A function error, surfaced to the state machine as `{"Error", "Cause"}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{error}: {cause}")]
pub struct FunctionError {
    pub error: String,
    pub cause: String,
}

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, FunctionError>> + Send>>;
pub type LambdaHandler = Arc<dyn Fn(LambdaRequest) -> HandlerFuture + Send + Sync>;

#[derive(Default)]
pub struct LambdaRegistry {
    handlers: RwLock<HashMap<String, LambdaHandler>>,
}

impl LambdaRegistry {
    pub fn register(&self, name: &str, handler: LambdaHandler) {
        let mut map = self.handlers.write().unwrap_or_else(|p| p.into_inner());
        map.insert(name.to_string(), handler);
    }

    pub fn names(&self) -> Vec<String> {
        let map = self.handlers.read().unwrap_or_else(|p| p.into_inner());
        let mut names: Vec<String> = map.keys().cloned().collect();
        names.sort();
        names
    }

    pub(crate) async fn invoke(
        &self,
        reference: &str,
        payload: &Value,
        execution_arn: &str,
        state_name: &str,
    ) -> Result<Value, StatesError> {
        let name = function_name(reference).unwrap_or_default();
        let handler = {
            let map = self.handlers.read().unwrap_or_else(|p| p.into_inner());
            map.get(&name).cloned()
        };
        let Some(handler) = handler else {
            return Err(StatesError::new(
                "Lambda.ResourceNotFoundException",
                format!("Function not found: {reference} (no local handler is registered under '{name}')"),
            ));
        };
        handler(LambdaRequest {
            function_name: name,
            payload: payload.clone(),
            execution_arn: execution_arn.to_string(),
            state_name: state_name.to_string(),
        })
        .await
        .map_err(|e| StatesError::new(e.error, e.cause))
    }
}

/// Wraps a synchronous closure as a handler.
pub fn handler<F>(f: F) -> LambdaHandler
where
    F: Fn(LambdaRequest) -> Result<Value, FunctionError> + Send + Sync + 'static,
{
    let f = Arc::new(f);
    Arc::new(move |request| {
        let f = f.clone();
        Box::pin(async move { f(request) })
    })
}
