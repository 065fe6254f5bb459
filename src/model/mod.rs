//! What parameters mean. For now: which values Postfix does not `$`-expand.

pub mod params;
