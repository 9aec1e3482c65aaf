pub mod client_address;
pub mod error_codes;
pub mod json_depth;
pub mod playground;
pub mod root_fields;
pub mod subgraph_urls;
