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
