//! cbi-session (being written).
