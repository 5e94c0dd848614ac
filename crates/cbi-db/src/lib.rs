//! cbi-db (being written).
