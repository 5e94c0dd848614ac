//! cbi-demo (being written).
