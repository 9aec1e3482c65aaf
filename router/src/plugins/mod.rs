pub mod client_address;
pub mod error_codes;
pub mod json_depth;
pub mod root_fields;
