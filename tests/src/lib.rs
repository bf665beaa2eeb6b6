//! End-to-end tests of Arca across its crates live in `tests/`; this library is empty.
