//! cbi-schema (being written).
