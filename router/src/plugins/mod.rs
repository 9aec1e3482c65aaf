pub mod client_address;
pub mod error_codes;
