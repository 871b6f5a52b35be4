//! Compiles the protos in `proto/` with a vendored protoc, and writes the descriptor set that
//! server reflection serves.
//!
//! Two passes over the same protos: the messages and clients (the public Rust API), then the
//! servers alone, whose hot answers are the wire-identical types of `src/grpc/wire.rs`, built
//! from pre-encoded parts (see there). Every other message of the servers is the public one.

use std::path::PathBuf;

/// Vendored from googleapis: the amounts of the contract, generated on their own (the passes
/// below refer to them as `crate::grpc::google_type`).
const GOOGLE_TYPE: &str = "proto/google/type/money.proto";

const PROTOS: &[&str] = &[
    "proto/csp/commerce/v1/common.proto",
    "proto/csp/commerce/v1/catalog.proto",
    "proto/csp/commerce/v1/customer.proto",
    "proto/csp/commerce/v1/cart.proto",
    "proto/csp/commerce/v1/order.proto",
    "proto/csp/commerce/v1/operator.proto",
    "proto/csp/commerce/v1/subscription_events.proto",
];

/// Answers the servers send as `crate::grpc::wire` types.
const WIRE_ANSWERS: &[&str] = &[
    "ListProductsResponse",
    "GetSkuResponse",
    "ListSkusResponse",
    "ListAvailabilitiesResponse",
    "ListOffersResponse",
    "WatchCatalogChangesResponse",
    "WatchSubscriptionEventsResponse",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos: Vec<PathBuf> = PROTOS.iter().map(PathBuf::from).collect();
    let includes = [PathBuf::from("proto"), protoc_bin_vendored::include_path()?];
    let config = || -> Result<tonic_prost_build::Config, Box<dyn std::error::Error>> {
        let mut config = tonic_prost_build::Config::new();
        config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
        Ok(config)
    };
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    tonic_prost_build::configure()
        .build_server(false)
        .build_client(false)
        .compile_with_config(config()?, &[PathBuf::from(GOOGLE_TYPE)], &includes)?;

    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("csp_commerce_descriptor.bin"))
        .build_server(false)
        .extern_path(".google.type", "crate::grpc::google_type")
        .compile_with_config(config()?, &protos, &includes)?;

    let servers = out_dir.join("servers");
    std::fs::create_dir_all(&servers)?;
    let mut builder = tonic_prost_build::configure()
        .out_dir(&servers)
        .build_client(false)
        // RPCs whose feature has not landed answer UNIMPLEMENTED without hand-written stubs.
        .generate_default_stubs(true)
        .codec_path("crate::grpc::codec::Codec")
        .extern_path(".csp.commerce.v1", "crate::grpc::pb")
        .extern_path(".google.type", "crate::grpc::google_type");
    for answer in WIRE_ANSWERS {
        builder = builder.extern_path(
            format!(".csp.commerce.v1.{answer}"),
            format!("crate::grpc::wire::{answer}"),
        );
    }
    builder.compile_with_config(config()?, &protos, &includes)?;

    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-changed={GOOGLE_TYPE}");
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    // web/console.rs embeds this folder (include_dir!): a file added to it is seen only if
    // cargo is told to look (a folder here is scanned whole).
    println!("cargo:rerun-if-changed=console/dist");
    Ok(())
}
