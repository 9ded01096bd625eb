//! The grant types of the token endpoint, one file each.

use std::collections::HashMap;

use broker::model::{OidcClient, RelyingParty};
use claims::ClaimSet;
use protocol::oidc::claims::IdTokenContext;
use protocol::oidc::OidcError;

use crate::app::AppState;
use crate::oidc::tokens;

pub mod authorization_code;
pub mod client_credentials;
pub mod refresh_token;

/// A token request after client authentication: what every grant type reads.
#[derive(Debug, Clone, Copy)]
pub struct TokenRequest<'a> {
    pub state: &'a AppState,
    pub rp: &'a RelyingParty,
    /// The relying party's OIDC registration.
    pub client: &'a OidcClient,
    pub form: &'a HashMap<String, String>,
    pub now: i64,
}

impl<'a> TokenRequest<'a> {
    /// The form parameter `name` the grant type needs: `invalid_request` when it is missing
    /// or empty.
    fn required(&self, name: &str) -> Result<&'a String, OidcError> {
        self.form
            .get(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| OidcError::InvalidRequest(format!("{name} is missing")))
    }

    /// The access token and the ID token for the user of `claims` under grant `grant_id`: the
    /// access token carries `id`'s `auth_time` and `acr`, the ID token its hash (`at_hash`).
    fn user_tokens(
        &self,
        claims: &ClaimSet,
        scope: &str,
        grant_id: &str,
        id: IdTokenContext<'_>,
    ) -> Result<(String, String), OidcError> {
        let access = tokens::access_token(
            self.state,
            self.client,
            claims.sub.as_str(),
            scope,
            grant_id,
            Some(claims),
            Some((id.auth_time, id.acr)),
            self.now,
        )?;
        let id_token = tokens::id_token(
            self.state,
            self.rp,
            claims,
            IdTokenContext {
                access_token: Some(&access),
                ..id
            },
            self.now,
        )?;
        Ok((access, id_token))
    }
}
