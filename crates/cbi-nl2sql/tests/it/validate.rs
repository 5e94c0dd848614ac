//! The SQL validator: accepted and refused statements per dialect, messages, LIMIT handling,
//! properties over generated input, and every gold query of Spider dev.

mod spider;
