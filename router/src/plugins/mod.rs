pub mod client_address;
pub mod error_codes;
pub mod root_fields;
