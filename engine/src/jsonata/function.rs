//! Function values: lambdas, the built-in library, partial applications, regular
//! expressions (matchers), transforms and `~>` chains.

use super::ast::{LambdaDef, RegexDef, TransformDef};
use super::env::Env;
use super::error::Result;
use super::evaluator::Evaluator;
use super::signature::Signature;
use super::value::{Val, Value};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// A built-in function: `$name`, its JSONata signature, and how many parameters it
/// declares (what higher-order functions look at to decide which arguments to pass).
pub(crate) struct Builtin {
    pub name: &'static str,
    pub signature: &'static str,
    pub arity: usize,
    pub call: NativeFn,
}

/// A built-in's body: validated arguments, the context value, the caller's environment.
pub(crate) type NativeFn = fn(&mut Evaluator, &[Val], &Val, &Env) -> Result<Val>;

impl Builtin {
    pub const fn new(
        name: &'static str,
        signature: &'static str,
        arity: usize,
        call: NativeFn,
    ) -> Builtin {
        Builtin {
            name,
            signature,
            arity,
            call,
        }
    }

    /// The parsed signature (parsed once per process, shared by all evaluations).
    pub fn signature(&self) -> Option<&'static Signature> {
        static PARSED: OnceLock<HashMap<&'static str, Signature>> = OnceLock::new();
        PARSED
            .get_or_init(|| {
                let mut map = HashMap::new();
                for name in super::functions::names() {
                    if let Some(b) = super::functions::builtin(name) {
                        if let Ok(sig) = Signature::parse(b.signature) {
                            map.insert(b.name, sig);
                        }
                    }
                }
                map
            })
            .get(self.name)
    }
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "${}{}", self.name, self.signature)
    }
}

#[derive(Debug)]
pub(crate) enum Function {
    Lambda {
        def: Arc<LambdaDef>,
        input: Val,
        env: Env,
    },
    Builtin(&'static Builtin),
    /// A call with `?` placeholders: the missing (`None`) arguments come from the caller.
    Partial {
        target: Value,
        args: Vec<Option<Val>>,
    },
    Regex(Arc<RegexDef>),
    Transform {
        def: Arc<TransformDef>,
        env: Env,
    },
    /// `f ~> g` for two functions: `g(f(x))`.
    Chain(Value, Value),
}

impl Function {
    /// The number of parameters, as higher-order functions see it.
    pub fn arity(&self) -> usize {
        match self {
            Function::Lambda { def, .. } => def.params.len(),
            Function::Builtin(b) => b.arity,
            Function::Partial { args, .. } => args.iter().filter(|a| a.is_none()).count(),
            Function::Regex(_) => 1,
            Function::Transform { .. } => 1,
            Function::Chain(..) => 1,
        }
    }
}
