//! Compiles the remote-write schemas in `proto/` with prost-build, parsed by the
//! pure-Rust `protox` so that building needs no `protoc`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    const FILES: [&str; 2] = [
        "proto/prometheus/remote.proto",
        "proto/io/prometheus/write/v2/types.proto",
    ];
    println!("cargo:rerun-if-changed=proto");
    let descriptors = protox::compile(FILES, ["proto"])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
