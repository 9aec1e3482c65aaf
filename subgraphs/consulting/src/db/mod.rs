//! The consulting subgraph's table and its queries, through sea-orm only.
//! Every query is scoped to one store, but for the workers' look at what is
//! left to do.

pub mod requests;
