//! Fetches the playground's GraphiQL build (`@graphql-yoga/graphiql`, a
//! prebuilt UMD bundle with its Monaco workers) from the npm registry once,
//! checks it against the pinned digest, and unpacks it into `OUT_DIR`,
//! where the playground plugin embeds it: the router serves every file of
//! its IDE itself and a browser fetches nothing from anywhere else.
//!
//! Offline: set `SALESYNC_PLAYGROUND_TARBALL` to a copy of the tarball.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use base64::Engine;
use sha2::{Digest, Sha512};

const PACKAGE: &str = "@graphql-yoga/graphiql@4.5.0";
const TARBALL: &str = "graphql-yoga-graphiql-4.5.0.tgz";
/// The registry's `dist.integrity` of that version.
const INTEGRITY: &str = "sha512-mer2/6RUdSGxNXCcE2dccKjDvcvj4DxIdYDKkggS3ltHc/MenhdBwBr/fwMreC7mqTBtn25a/q9e2Hdn36WNJg==";

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=SALESYNC_PLAYGROUND_TARBALL");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR")).join("playground");
    if out.join("package/dist/yoga-graphiql.umd.js").is_file() {
        return;
    }
    std::fs::create_dir_all(&out).expect("create the playground folder");
    let tarball = match std::env::var_os("SALESYNC_PLAYGROUND_TARBALL") {
        Some(path) => PathBuf::from(path),
        None => fetch(&out),
    };
    let bytes = std::fs::read(&tarball)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", tarball.display()));
    let integrity = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha512::digest(&bytes))
    );
    assert_eq!(
        integrity,
        INTEGRITY,
        "{} is not {PACKAGE} as published",
        tarball.display()
    );
    run(Command::new("tar")
        .arg("xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&out));
}

/// `npm pack` downloads the one tarball, without its dependency tree (the
/// UMD bundle already holds React and GraphiQL).
fn fetch(out: &Path) -> PathBuf {
    run(Command::new("npm")
        .args(["pack", PACKAGE, "--silent", "--pack-destination"])
        .arg(out)
        .current_dir(out));
    out.join(TARBALL)
}

fn run(command: &mut Command) {
    let status = command.status().unwrap_or_else(|e| {
        panic!("cannot run {command:?} (the playground needs npm and tar at build time): {e}")
    });
    assert!(status.success(), "{command:?} failed");
}
