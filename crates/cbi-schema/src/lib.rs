//! Schema intelligence for cbi: read a database's catalog, complete it, augment it with what
//! the data and the user's semantic file say, cache the result, and render it for prompts.
//!
//! The entry points, in pipeline order:
//! - [`SchemaIntrospector`] reads the catalog through any [`cbi_types::Connection`] and adds
//!   relationships inferred from column names where no foreign key was declared;
//! - [`SchemaAugmenter`] adds readable descriptions, synonyms, sample values, value ranges and
//!   the value index (cell value → columns) the question linker uses;
//! - [`load_semantic`] / [`check_semantic`] read the user's YAML semantic file (descriptions,
//!   synonyms, business terms, verified questions) and check it against the schema, and
//!   [`render_semantic`] writes one back (what `cbi semantic init` drafts);
//! - [`SchemaCache`] keeps one augmented schema per database, rebuilt only when the catalog's
//!   fingerprint or the semantic file changes;
//! - [`render_prompt`] writes a schema as DDL-like text within a size budget.
//!
//! This crate reads data only through the `Connection` trait, which is read-only; it never
//! executes user or model SQL, and it knows nothing about any particular database driver.

mod augment;
mod cache;
mod error;
mod introspect;
pub mod names;
mod render;
mod restrict;
mod semantic;
mod write;

pub use augment::{AugmentOptions, SchemaAugmenter, fingerprint};
pub use cache::{CacheOptions, CacheOutcome, SchemaCache};
pub use error::{Error, Result};
pub use introspect::{SchemaIntrospector, complete, infer_relationships};
pub use render::{RenderOptions, render_prompt};
pub use restrict::restrict;
pub use semantic::{check_semantic, did_you_mean, load_semantic, parse_semantic, qualified_refs};
pub use write::render_semantic;
