//! The two adapters the contract runs against, each fresh per test: local mode's engine in a
//! temporary folder, and the AWS adapter on a pipeline state machine of its own in the shared
//! moto.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use app::control_plane::ControlPlane;
use app::models::pipeline::StartRequest;
use server::pipeline::aws::AwsControlPlane;
use server::pipeline::local::LocalControlPlane;

use crate::helpers::Scratch;
use crate::moto::{unique_name, MotoServer};

pub struct Harness {
    pub plane: Arc<dyn ControlPlane>,
    pub adapter: &'static str,
    /// The pipeline's state machine ARN.
    pub state_machine_arn: String,
    /// The one endpoint every approved commit of this pipeline deploys to.
    pub endpoint_name: String,
    backend: Backend,
}

/// What the harness reaches behind the port to break a model on purpose.
enum Backend {
    Local {
        engine: engine::Engine,
        _scratch: Scratch,
    },
    Aws(aws_sdk_s3::Client),
}

impl Harness {
    pub async fn local() -> Harness {
        let scratch = Scratch::new();
        let config = engine::EngineConfig::new(
            Some(scratch.path().join("gatehouse.db")),
            scratch.path().join("objects"),
        );
        let engine = engine::Engine::open(config).await.expect("engine opens");
        let plane = LocalControlPlane::deploy(engine.clone()).expect("pipeline deploys");
        let endpoint_name =
            engine::pipeline::local_substitutions().expect("substitutions")["EndpointName"].clone();
        Harness {
            state_machine_arn: plane.state_machine_arn().to_string(),
            plane: Arc::new(plane),
            adapter: "local",
            endpoint_name,
            backend: Backend::Local {
                engine,
                _scratch: scratch,
            },
        }
    }

    pub async fn aws() -> Harness {
        let moto = MotoServer::shared();
        // The launcher names the pipeline's endpoint after its state machine.
        let name = unique_name("pipeline");
        let arn = moto.deploy_pipeline(&name).await;
        let sdk = moto.sdk_config().await;
        let plane = AwsControlPlane::new(&sdk, &arn).expect("adapter");
        let s3 = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build();
        Harness {
            state_machine_arn: arn,
            plane: Arc::new(plane),
            adapter: "aws",
            endpoint_name: name,
            backend: Backend::Aws(aws_sdk_s3::Client::from_conf(s3)),
        }
    }

    /// Makes a model impossible to load, as a lost artifact does: SageMaker (and the local
    /// one) then fails to deploy it.
    pub async fn break_model(&self, model: &str) {
        let url = self
            .plane
            .model(model)
            .await
            .expect("model")
            .model_data_url
            .expect("the model names its artifact");
        match &self.backend {
            Backend::Local { engine, .. } => {
                let path = engine.sagemaker().local_path(&url).expect("local path");
                std::fs::remove_file(&path).expect("artifact removed");
            }
            Backend::Aws(s3) => {
                let (bucket, key) = url
                    .strip_prefix("s3://")
                    .and_then(|rest| rest.split_once('/'))
                    .expect("s3 URL");
                s3.delete_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .expect("artifact removed");
            }
        }
    }

    /// The bucket the pipeline keeps its data and models in (moto's launcher creates it; the
    /// local one is a folder made on first write).
    pub fn bucket(&self) -> &'static str {
        "gatehouse-models"
    }

    /// Writes an object straight into the backend's storage, as another writer would.
    pub async fn put_object(&self, uri: &str, body: &[u8]) {
        match &self.backend {
            Backend::Local { engine, .. } => {
                let path = engine.sagemaker().local_path(uri).expect("local path");
                std::fs::create_dir_all(path.parent().expect("a folder")).expect("folder");
                std::fs::write(&path, body).expect("object written");
            }
            Backend::Aws(s3) => {
                let (bucket, key) = uri
                    .strip_prefix("s3://")
                    .and_then(|rest| rest.split_once('/'))
                    .expect("s3 URL");
                s3.put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(body.to_vec().into())
                    .send()
                    .await
                    .expect("object written");
            }
        }
    }

    /// A start of a run named by a commit ID no other test uses (SageMaker names in moto are
    /// shared by every test of the binary).
    pub fn new_run(&self) -> StartRequest {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let sha = format!("{:06x}{:04x}", std::process::id() & 0xff_ffff, n & 0xffff);
        let commit_id = format!("{sha}-2026-11-25-10-00-00");
        StartRequest {
            name: commit_id.clone(),
            commit_id,
            image_uri: format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/iris-model:{sha}"),
        }
    }

    /// What the backend's SageMaker runtime itself answers `endpoint` for `csv` (text/csv),
    /// asked directly rather than through the adapter.
    pub async fn backend_invocation(&self, endpoint: &str, csv: &str) -> String {
        match &self.backend {
            Backend::Local { engine, .. } => engine
                .sagemaker()
                .invoke_endpoint(endpoint, csv)
                .expect("the local runtime answers"),
            Backend::Aws(_) => {
                let runtime =
                    aws_sdk_sagemakerruntime::Client::new(&MotoServer::shared().sdk_config().await);
                let answer = runtime
                    .invoke_endpoint()
                    .endpoint_name(endpoint)
                    .content_type("text/csv")
                    .body(aws_smithy_types::Blob::new(csv.as_bytes().to_vec()))
                    .send()
                    .await
                    .expect("the SageMaker runtime answers");
                String::from_utf8(
                    answer
                        .body()
                        .map(|b| b.as_ref().to_vec())
                        .unwrap_or_default(),
                )
                .expect("a text answer")
            }
        }
    }

    /// The object at `uri` as the backend's object store holds it, read directly.
    pub async fn stored_object(&self, uri: &str) -> String {
        match &self.backend {
            Backend::Local { engine, .. } => {
                let path = engine.sagemaker().local_path(uri).expect("local path");
                std::fs::read_to_string(path).expect("the object")
            }
            Backend::Aws(s3) => {
                let (bucket, key) = uri
                    .strip_prefix("s3://")
                    .and_then(|rest| rest.split_once('/'))
                    .expect("s3 URL");
                let object = s3
                    .get_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .expect("the object");
                let bytes = object.body.collect().await.expect("its body").into_bytes();
                String::from_utf8(bytes.to_vec()).expect("text")
            }
        }
    }

    /// The task tokens the backend issued in the execution `name`, read from the backend
    /// itself (the engine's store, Step Functions' own history on moto), not through the
    /// adapter, which hides them.
    pub async fn issued_task_tokens(&self, name: &str) -> Vec<String> {
        match &self.backend {
            Backend::Local { _scratch, .. } => {
                crate::leaks::task_tokens_in(&_scratch.path().join("gatehouse.db"), name)
            }
            Backend::Aws(_) => {
                let execution = format!(
                    "{}:{name}",
                    self.state_machine_arn
                        .replacen(":stateMachine:", ":execution:", 1)
                );
                crate::leaks::moto_task_tokens(&MotoServer::shared().sdk_config().await, &execution)
                    .await
            }
        }
    }

    /// The ARN an execution called `name` of another state machine would have.
    pub fn other_machines_execution(&self, name: &str) -> String {
        let (prefix, _) = self
            .state_machine_arn
            .rsplit_once(':')
            .expect("state machine ARN");
        format!(
            "{}:some-other-machine:{name}",
            prefix.replacen(":stateMachine", ":execution", 1)
        )
    }
}
