//! `schema/` must hold exactly what the code produces: each subgraph's SDL,
//! and the supergraph a real Federation v2 composer makes of them.
//! Regenerate with `cargo run -p salesync -- schema`.

use std::{path::PathBuf, process::Command};

fn schema_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../schema")
}

const HOW_TO_FIX: &str = "run `cargo run -p salesync -- schema` and commit schema/";

#[test]
fn checked_in_subgraph_sdl_and_list_match_the_code() {
    let fresh = std::env::temp_dir().join(format!("salesync-list-{}", std::process::id()));
    std::fs::create_dir_all(&fresh).expect("temp dir");
    salesync::export_sdl(&fresh).expect("export");
    let list = std::fs::read_to_string(fresh.join("subgraphs.json")).expect("fresh list");
    std::fs::remove_dir_all(&fresh).ok();
    assert!(
        std::fs::read_to_string(schema_dir().join("subgraphs.json")).ok() == Some(list),
        "schema/subgraphs.json differs from the launcher's list: {HOW_TO_FIX}"
    );
    for subgraph in salesync::subgraphs() {
        let path = schema_dir().join(format!("{}.graphql", subgraph.name));
        let checked_in = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{} is missing ({e}): {HOW_TO_FIX}", path.display()));
        assert!(
            checked_in == (subgraph.sdl)(),
            "{} differs from the code: {HOW_TO_FIX}",
            path.display()
        );
    }
}

#[test]
fn checked_in_supergraph_is_the_composition_of_the_code() {
    let fresh = std::env::temp_dir().join(format!("salesync-sdl-{}", std::process::id()));
    std::fs::create_dir_all(&fresh).expect("temp dir");
    salesync::export_sdl(&fresh).expect("export");
    let compose = schema_dir().join("compose/compose.mjs");
    let output = Command::new("node")
        .arg(&compose)
        .args([
            "--schema-dir",
            fresh.to_str().expect("utf-8 path"),
            "--out",
            "-",
        ])
        .output()
        .expect("node must be installed; `npm ci` in schema/compose");
    std::fs::remove_dir_all(&fresh).ok();
    assert!(
        output.status.success(),
        "composition failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let checked_in =
        std::fs::read_to_string(schema_dir().join("supergraph.graphql")).expect("supergraph");
    assert!(
        checked_in == String::from_utf8_lossy(&output.stdout),
        "schema/supergraph.graphql differs from the composition: {HOW_TO_FIX}"
    );
}
