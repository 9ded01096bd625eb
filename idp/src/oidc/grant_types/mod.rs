//! The grant types of the token endpoint, one file each.

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;
