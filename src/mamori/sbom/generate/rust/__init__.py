"""Rust: Cargo.lock (versions 1-4) and Cargo.toml."""
