//! Compiles the protos in `proto/` with a vendored protoc, and writes the descriptor set that
//! server reflection serves.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "proto/csp/commerce/v1/common.proto",
    "proto/csp/commerce/v1/catalog.proto",
    "proto/csp/commerce/v1/customer.proto",
    "proto/csp/commerce/v1/cart.proto",
    "proto/csp/commerce/v1/order.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    let include = protoc_bin_vendored::include_path()?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);

    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("csp_commerce_descriptor.bin"))
        // RPCs whose feature has not landed answer UNIMPLEMENTED without hand-written stubs.
        .generate_default_stubs(true)
        .compile_with_config(
            config,
            &PROTOS.iter().map(PathBuf::from).collect::<Vec<_>>(),
            &[PathBuf::from("proto"), include],
        )?;

    println!("cargo:rerun-if-changed=proto");
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
