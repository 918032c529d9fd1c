//! Variable scopes. A block, a lambda call and each step of a tuple stream open a frame
//! whose parent is the scope it was created in; lambdas keep their frame alive.

use super::value::{Val, Value};
use std::sync::{Arc, Mutex, MutexGuard};

#[derive(Debug, Default)]
pub(crate) struct Frame {
    vars: Mutex<Vec<(Arc<str>, Val)>>,
    parent: Option<Env>,
}

pub(crate) type Env = Arc<Frame>;

impl Frame {
    pub fn root() -> Env {
        Arc::new(Frame::default())
    }

    pub fn child(parent: &Env) -> Env {
        Arc::new(Frame {
            vars: Mutex::new(Vec::new()),
            parent: Some(parent.clone()),
        })
    }

    fn vars(&self) -> MutexGuard<'_, Vec<(Arc<str>, Val)>> {
        self.vars.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Binds (or rebinds) a name in this frame.
    pub fn bind(&self, name: &Arc<str>, value: Val) {
        let mut vars = self.vars();
        match vars.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => vars.push((name.clone(), value)),
        }
    }

    /// `Some(value)` when the name is bound here or in an enclosing frame (the value may be
    /// undefined), `None` when it is not bound at all.
    pub fn lookup(&self, name: &str) -> Option<Val> {
        if let Some((_, v)) = self.vars().iter().find(|(n, _)| &**n == name) {
            return Some(v.clone());
        }
        let mut frame = self.parent.clone();
        while let Some(f) = frame {
            if let Some((_, v)) = f.vars().iter().find(|(n, _)| &**n == name) {
                return Some(v.clone());
            }
            frame = f.parent.clone();
        }
        None
    }

    /// Forgets every binding. Lambdas bound in a frame hold that frame (a reference cycle);
    /// the evaluator clears such frames when an evaluation ends so that they are freed.
    pub fn clear(&self) {
        let old = std::mem::take(&mut *self.vars());
        drop(old);
    }
}

/// Whether a value may hold a function (so that binding it can create a reference cycle).
/// Large structures are assumed to, rather than searched in full.
pub(crate) fn may_hold_function(value: &Val) -> bool {
    let Some(v) = value else { return false };
    let mut budget = 64;
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        if budget == 0 {
            return true;
        }
        budget -= 1;
        match v {
            Value::Function(_) => return true,
            Value::Array(items, _) => stack.extend(items.iter()),
            Value::Object(members) => stack.extend(members.values()),
            _ => {}
        }
    }
    false
}
