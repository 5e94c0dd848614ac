//! Integration tests of cbi-models.
