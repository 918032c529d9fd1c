//! `/lineage/:commit`: what the pipeline made of one commit, as a picture and as text —
//! commit → runs → training job → model → batch transform (and its accuracy) → approval →
//! endpoint config → the endpoints it served on, from when to when. Every node links to its
//! part of the page or to its own page (runs, endpoints).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::error_banner::ErrorBanner;
use crate::components::role_gate::RoleGate;
use crate::components::status::StatusBadge;
use crate::functions::lineage::get_lineage;
use crate::models::approvals::verdict_word;
use crate::models::evidence::percent;
use crate::models::identity::Role;
use crate::models::lineage::{CommitLineage, Deployment};
use crate::models::live;
use crate::models::pipeline::{human_duration, Timestamp};

#[component]
pub fn CommitLineagePage() -> impl IntoView {
    // Loaded outside the role gate (see the executions page).
    let params = use_params_map();
    let commit = Memo::new(move |_| params.with(|p| p.get("commit").unwrap_or_default()));
    let lineage = Resource::new_blocking(move || commit.get(), get_lineage);
    view! {
        <Title text="Commit lineage"/>
        <RoleGate role=Role::Viewer>
            <section class="commit-lineage" data-live=live::RUNS>
                <p><a href="/lineage">"← Lineage"</a></p>
                <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match lineage.await {
                            Ok(data) => view! { <Chain data/> }.into_any(),
                            Err(error) => view! {
                                <h1>"Commit " {commit.get_untracked()}</h1>
                                <ErrorBanner error/>
                            }
                            .into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </RoleGate>
    }
}

fn utc(t: Option<Timestamp>) -> String {
    t.map(|t| format!("{} UTC", t.utc()))
        .unwrap_or_else(|| "—".into())
}

/// One node of the picture: what it is, what it says, where it links, whether it exists.
struct Node {
    kind: &'static str,
    text: String,
    href: String,
    reached: bool,
}

fn nodes(data: &CommitLineage) -> Vec<Node> {
    let serving: Vec<&Deployment> = data.serving().collect();
    let endpoint = match (serving.first(), data.deployments.first()) {
        (Some(d), _) => Node {
            kind: "Endpoint",
            text: format!("{} (serving)", d.endpoint),
            href: format!("/endpoints/{}", d.endpoint),
            reached: true,
        },
        (None, Some(d)) => Node {
            kind: "Endpoint",
            text: format!("{} (not now)", d.endpoint),
            href: "#deployments".into(),
            reached: true,
        },
        (None, None) => Node {
            kind: "Endpoint",
            text: "never deployed".into(),
            href: "#deployments".into(),
            reached: false,
        },
    };
    let status = |s: Option<&String>| s.cloned().unwrap_or_else(|| "none".into());
    vec![
        Node {
            kind: "Commit",
            text: data.commit.short_sha.clone(),
            href: "#commit".into(),
            reached: true,
        },
        Node {
            kind: "Runs",
            text: format!("{} run(s)", data.runs.len()),
            href: "#runs".into(),
            reached: !data.runs.is_empty(),
        },
        Node {
            kind: "Training job",
            text: status(data.training_job.as_ref().map(|j| &j.status)),
            href: "#training".into(),
            reached: data.training_job.is_some(),
        },
        Node {
            kind: "Model",
            text: if data.model.is_some() { "made" } else { "none" }.into(),
            href: "#model".into(),
            reached: data.model.is_some(),
        },
        Node {
            kind: "Batch transform",
            text: match (&data.transform_job, data.accuracy) {
                (Some(_), Some(_)) => format!("accuracy {}", percent(data.accuracy)),
                (Some(job), None) => job.status.clone(),
                (None, _) => "none".into(),
            },
            href: "#transform".into(),
            reached: data.transform_job.is_some(),
        },
        Node {
            kind: "Approval",
            text: match &data.decision {
                Some((_, d)) => format!("{} by {}", verdict_word(d.verdict), d.by),
                None => "no decision".into(),
            },
            href: "#approval".into(),
            reached: data.decision.is_some(),
        },
        Node {
            kind: "Endpoint config",
            text: if data.endpoint_config.is_some() {
                "made"
            } else {
                "none"
            }
            .into(),
            href: "#config".into(),
            reached: data.endpoint_config.is_some(),
        },
        endpoint,
    ]
}

/// The chain drawn left to right: a box per node, an arrow between neighbours; nodes the
/// commit never reached are drawn faint.
#[component]
fn Picture(nodes: Vec<Node>) -> impl IntoView {
    const W: usize = 132;
    const GAP: usize = 24;
    const H: usize = 56;
    let width = nodes.len() * (W + GAP) - GAP;
    let count = nodes.len();
    view! {
        <svg class="lineage-chain" data-testid="lineage-picture" role="img"
            viewBox=format!("0 0 {width} {H}") width=width height=H
            aria-label="The commit's lineage, from commit to endpoint">
            {nodes.into_iter().enumerate().map(|(i, node)| {
                let x = i * (W + GAP);
                let class = if node.reached { "node reached" } else { "node missing" };
                let arrow = (i + 1 < count).then(|| view! {
                    <line class="edge" x1=x + W x2=x + W + GAP - 4 y1=H / 2 y2=H / 2/>
                    <polygon class="edge-head" points=format!("{},{} {},{} {},{}", x + W + GAP - 4, H / 2 - 4, x + W + GAP, H / 2, x + W + GAP - 4, H / 2 + 4)/>
                });
                view! {
                    <a href=node.href>
                        <g class=class>
                            <rect x=x y=1 width=W height=H - 2 rx=6/>
                            <text x=x + 8 y=22 class="kind">{node.kind}</text>
                            <text x=x + 8 y=42>{node.text}</text>
                        </g>
                    </a>
                    {arrow}
                }
            }).collect_view()}
        </svg>
    }
}

#[component]
fn Chain(data: CommitLineage) -> impl IntoView {
    let picture = nodes(&data);
    let commit = data.commit.clone();
    let runs = if data.runs.is_empty() {
        view! { <p>"No run of this commit is recorded any more."</p> }.into_any()
    } else {
        view! {
            <ul>
                {data.runs.iter().map(|run| view! {
                    <li>
                        <a href=format!("/executions/{}", run.name)>{run.name.clone()}</a>
                        " " <StatusBadge status=run.status/> " started " {run.started.utc()} " UTC"
                    </li>
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    let training = match data.training_job.clone() {
        None => view! { <p>"No training job."</p> }.into_any(),
        Some(job) => {
            let duration = match (job.created, job.ended) {
                (Some(a), Some(b)) => human_duration(b.0 - a.0),
                _ => "—".into(),
            };
            view! {
                <dl class="facts" data-testid="training-job">
                    <dt>"Name"</dt><dd><code>{job.name}</code></dd>
                    <dt>"Status"</dt><dd>{job.status}</dd>
                    <dt>"Duration"</dt><dd>{duration}</dd>
                    <dt>"Image"</dt><dd><code>{job.image.unwrap_or_default()}</code></dd>
                    <dt>"Artifact"</dt><dd><code>{job.model_artifacts.unwrap_or_else(|| "—".into())}</code></dd>
                    <dt>"Hyperparameters"</dt>
                    <dd>
                        {if job.hyperparameters.is_empty() { Some("none") } else { None }}
                        {job.hyperparameters.into_iter().map(|(k, v)| view! { <code>{k} "=" {v}</code> " " }).collect_view()}
                    </dd>
                    {job.failure_reason.map(|r| view! { <dt>"Failure"</dt><dd>{r}</dd> })}
                </dl>
            }
            .into_any()
        }
    };
    let model = match data.model.clone() {
        None => view! { <p>"No model."</p> }.into_any(),
        Some(m) => view! {
            <dl class="facts" data-testid="model">
                <dt>"Name"</dt><dd><code>{m.name}</code></dd>
                <dt>"Image"</dt><dd><code>{m.image.unwrap_or_default()}</code></dd>
                <dt>"Model data"</dt><dd><code>{m.model_data_url.unwrap_or_default()}</code></dd>
                <dt>"Made"</dt><dd>{utc(m.created)}</dd>
            </dl>
        }
        .into_any(),
    };
    let transform = match data.transform_job.clone() {
        None => view! { <p>"No batch transform."</p> }.into_any(),
        Some(job) => view! {
            <dl class="facts" data-testid="transform-job">
                <dt>"Name"</dt><dd><code>{job.name}</code></dd>
                <dt>"Status"</dt><dd>{job.status}</dd>
                <dt>"Test data"</dt><dd><code>{job.input_uri.unwrap_or_default()}</code></dd>
                <dt>"Output"</dt><dd><code>{job.output_path.unwrap_or_default()}</code></dd>
                <dt>"Accuracy"</dt><dd data-testid="accuracy">{percent(data.accuracy)}</dd>
            </dl>
        }
        .into_any(),
    };
    let approval = match data.decision.clone() {
        None => view! { <p>"No decision yet."</p> }.into_any(),
        Some((run, d)) => view! {
            <dl class="facts" data-testid="decision">
                <dt>"Decision"</dt><dd>{verdict_word(d.verdict)}</dd>
                <dt>"By"</dt><dd>{d.by}</dd>
                <dt>"When"</dt><dd>{d.at.replace('T', " ").trim_end_matches('Z').to_string()} " UTC"</dd>
                <dt>"Comment"</dt><dd>{if d.comment.is_empty() { "—".to_string() } else { d.comment }}</dd>
                <dt>"Run"</dt><dd><a href=format!("/executions/{run}")>{run.clone()}</a></dd>
            </dl>
        }
        .into_any(),
    };
    let config = match data.endpoint_config.clone() {
        None => view! { <p>"No endpoint config."</p> }.into_any(),
        Some(c) => view! {
            <dl class="facts" data-testid="endpoint-config">
                <dt>"Name"</dt><dd><code>{c.name}</code></dd>
                <dt>"Made"</dt><dd>{utc(c.created)}</dd>
                <dt>"Variants"</dt>
                <dd>
                    {c.variants.into_iter().map(|v| view! {
                        <code>{v.variant}</code> " → " <code>{v.model_name}</code>
                        " weight " {v.weight.unwrap_or_else(|| "1".into())} "; "
                    }).collect_view()}
                </dd>
            </dl>
        }
        .into_any(),
    };
    let deployments = if data.deployments.is_empty() {
        view! { <p>"Never deployed to the pipeline's endpoint."</p> }.into_any()
    } else {
        view! { <Deployments deployments=data.deployments.clone()/> }.into_any()
    };
    view! {
        <h1 id="commit">"Commit " <code>{commit.short_sha.clone()}</code></h1>
        <dl class="facts">
            <dt>"Commit ID"</dt><dd><code data-testid="commit-id">{commit.id.clone()}</code></dd>
            <dt>"Built"</dt><dd>{utc(commit.built_at)}</dd>
        </dl>
        <Picture nodes=picture/>
        <h2 id="runs">"Runs"</h2>
        {runs}
        <h2 id="training">"Training job"</h2>
        {training}
        <h2 id="model">"Model"</h2>
        {model}
        <h2 id="transform">"Batch transform"</h2>
        {transform}
        <h2 id="approval">"Approval"</h2>
        {approval}
        <h2 id="config">"Endpoint config"</h2>
        {config}
        <h2 id="deployments">"Endpoints"</h2>
        {deployments}
    }
}

#[component]
fn Deployments(deployments: Vec<Deployment>) -> impl IntoView {
    view! {
        <table class="data-table" data-testid="commit-deployments">
            <thead>
                <tr>
                    <th scope="col">"Endpoint"</th>
                    <th scope="col">"Served from"</th>
                    <th scope="col">"Until"</th>
                    <th scope="col">"Note"</th>
                </tr>
            </thead>
            <tbody>
                {deployments.into_iter().map(|d| {
                    let until = if d.serving_now() {
                        view! { <strong data-testid="serving-now">"serving now"</strong> }.into_any()
                    } else {
                        view! { <span>{utc(d.served_until)}</span> }.into_any()
                    };
                    view! {
                        <tr data-testid="commit-deployment">
                            <td><a href=format!("/endpoints/{}", d.endpoint)>{d.endpoint.clone()}</a></td>
                            <td>{utc(d.served_from)}</td>
                            <td>{until}</td>
                            <td>{d.failure_reason.unwrap_or_default()}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
