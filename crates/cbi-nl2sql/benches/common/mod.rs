//! Setup shared by the benches (and, by path, by `cargo xtask bench`): the demo corpus and the
//! synthetic many-table schema. Nothing here is timed.

pub mod corpora;
pub mod synthetic;
