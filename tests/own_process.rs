//! Tests that must have their process to themselves, so they are not in the `api` binary:
//! they measure this whole process (its CPU time), and any test running beside them in it
//! would be counted too. Each such test gets a binary of its own (this file holds one).
#![allow(clippy::unwrap_used, clippy::expect_used)]

// The `api` suite's harness; this binary uses only part of it.
#[allow(dead_code)]
#[path = "api/common.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Backend, TestApp, honest_read};
use csp_commerce::domain::customer::Role;
use csp_commerce::grpc::pb;

/// Connections past the cap wait in the kernel's backlog: the server must not spin on them
/// (measured as the CPU of this process, which runs the server), and serves new connections
/// once they go.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_connections_than_the_cap_neither_stop_a_connected_caller_nor_spin() {
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.max_connections = 20;
        s.handshake_timeout_ms = 60_000;
    })
    .await
    .unwrap();
    honest_read(&app).await;
    let mut held = Vec::new();
    for _ in 0..100 {
        // The kernel completes these; the server accepts only up to its cap.
        held.push(tokio::net::TcpStream::connect(app.addr).await.unwrap());
    }
    let cpu = common::cpu_time("self");
    let wall = Instant::now();
    for _ in 0..5 {
        honest_read(&app).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let used = common::cpu_time("self") - cpu;
    assert!(
        used < wall.elapsed() / 2,
        "the server spun at the cap: {used:?} of CPU in {:?}",
        wall.elapsed()
    );
    // Once they go, new connections are accepted and served again.
    drop(held);
    let channel = tokio::time::timeout(
        Duration::from_secs(5),
        tonic::transport::Endpoint::from_shared(format!("http://{}", app.addr))
            .unwrap()
            .connect(),
    )
    .await
    .expect("no new connection accepted after the others closed")
    .unwrap();
    let mut client = pb::catalog_service_client::CatalogServiceClient::with_interceptor(
        channel,
        TestApp::raw_bearer(Some(&format!(
            "Bearer {}",
            app.token(Some("us"), Role::SalesAgent)
        ))),
    );
    tokio::time::timeout(
        Duration::from_secs(5),
        client.list_products(pb::ListProductsRequest::default()),
    )
    .await
    .expect("a new connection was not served")
    .unwrap();
    app.stop().await;
}
