//! The integration suite, one test binary: each module proves one feature through the wire
//! (a real server on port 0, real gRPC clients, SQLite and PostgreSQL); `common` is the
//! harness they share. Tests that must have the process to themselves are in
//! `tests/own_process.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

mod as_of;
mod carts;
mod catalog;
mod changes;
mod console;
mod contract;
mod crash;
mod customers;
mod drain;
mod eligibility;
mod fullsize;
mod grpc_web;
mod hostile;
mod import;
mod isolation;
mod listed_countries;
mod months;
mod offers;
mod outage;
mod partners;
mod ratelimit;
mod renewals;
mod replicas;
mod saas;
mod snapshot_file;
mod sqlite_file;
mod subscription_events;
mod subscriptions;
mod telemetry;
mod trials;
mod vetting;
