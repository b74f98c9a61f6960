//! Tidy checks over the source tree: every Rust file starts with a `//!` doc saying what it
//! owns, and the crate graph keeps its shape (the protocol crate stays free of I/O runtimes,
//! storage never learns about networks).

use std::fs;
use std::path::{Path, PathBuf};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace root")
        .to_path_buf()
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "target" || name.to_string_lossy().starts_with('.') {
            continue;
        }
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|extension| extension == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_module_starts_with_a_doc_comment() {
    let root = workspace_root();
    let mut files = Vec::new();
    for crate_dir in [
        "wire", "storage", "node", "tools", "tests", "benches", "fuzz",
    ] {
        rust_files(&root.join(crate_dir), &mut files);
    }
    assert!(
        !files.is_empty(),
        "no Rust files found under {}",
        root.display()
    );
    let missing: Vec<String> = files
        .iter()
        .filter(|path| {
            let text = fs::read_to_string(path).unwrap_or_default();
            let first = text
                .lines()
                .find(|line| !line.trim().is_empty())
                .unwrap_or("");
            // Fuzz targets open with crate attributes cargo-fuzz requires before any item.
            let first = if first.starts_with("#![") {
                text.lines()
                    .find(|line| !line.trim().is_empty() && !line.starts_with("#!["))
                    .unwrap_or("")
            } else {
                first
            };
            !first.starts_with("//!")
        })
        .map(|path| {
            path.strip_prefix(&root)
                .unwrap_or(path)
                .display()
                .to_string()
        })
        .collect();
    assert!(
        missing.is_empty(),
        "files without a leading //! doc: {missing:#?}"
    );
}

fn dependencies_of(crate_dir: &str) -> String {
    let manifest = fs::read_to_string(workspace_root().join(crate_dir).join("Cargo.toml"))
        .expect("crate manifest");
    manifest
        .split("[dependencies]")
        .nth(1)
        .map(|rest| rest.split("\n[").next().unwrap_or("").to_string())
        .unwrap_or_default()
}

#[test]
fn wire_stays_free_of_io_runtimes_and_of_storage() {
    let dependencies = dependencies_of("wire");
    for forbidden in ["tokio", "quinn", "rustls", "tandem-storage", "tandem-node"] {
        assert!(
            !dependencies.contains(forbidden),
            "wire depends on {forbidden}"
        );
    }
}

#[test]
fn storage_knows_nothing_of_networks_or_the_protocol() {
    let dependencies = dependencies_of("storage");
    for forbidden in [
        "tokio",
        "quinn",
        "rustls",
        "hyper",
        "axum",
        "tandem-wire",
        "tandem-node",
    ] {
        assert!(
            !dependencies.contains(forbidden),
            "storage depends on {forbidden}"
        );
    }
}

#[test]
fn replication_logic_stays_free_of_io_runtimes() {
    let dependencies = dependencies_of("replication");
    for forbidden in [
        "tokio",
        "quinn",
        "rustls",
        "tandem-transport",
        "tandem-node",
    ] {
        assert!(
            !dependencies.contains(forbidden),
            "replication depends on {forbidden}"
        );
    }
}

#[test]
fn search_knows_nothing_of_networks() {
    let dependencies = dependencies_of("search");
    for forbidden in [
        "tokio",
        "quinn",
        "axum",
        "hyper",
        "tandem-node",
        "tandem-transport",
    ] {
        assert!(
            !dependencies.contains(forbidden),
            "search depends on {forbidden}"
        );
    }
}
