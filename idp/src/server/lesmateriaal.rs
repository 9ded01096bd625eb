//! The start page's tiles on their own: `GET /lesmateriaal/tegels` (the fragment the page's
//! script fetches again while a publisher asked live has not answered) and the script.

use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use catalogue::Texts;

use super::extract::SignedIn;
use super::failure::{self, PageError};
use super::pages::{self, Chrome};
use crate::app::AppState;
use crate::lesmateriaal::AppTile;

#[derive(Template)]
#[template(path = "start_tiles.html")]
struct TilesFragment {
    t: &'static Texts,
    apps: Vec<AppTile>,
    picture_tiles: bool,
    waiting: bool,
}

/// GET `/lesmateriaal/tegels`: the signed-in user's tiles as an HTML fragment. It waits for no
/// publisher: what has answered since shows, the rest still says so.
pub async fn tiles(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, PageError> {
    let st = state.clone();
    let SignedIn {
        session: s,
        user,
        school,
    } = signed_in;
    let prepared = failure::blocking(move || {
        crate::lesmateriaal::prepare(&st, &school, &user, &s).map_err(PageError::from)
    })
    .await?;
    let (apps, picture_tiles, waiting) =
        crate::lesmateriaal::tiles(&state, prepared, std::time::Duration::ZERO).await;
    let c = Chrome::of(&req, &state, None).await;
    let fragment = TilesFragment {
        t: c.t,
        apps,
        picture_tiles,
        waiting,
    };
    Ok(pages::html(StatusCode::OK, fragment.render()))
}

/// The script that fetches the tiles again, built into the binary.
pub async fn script() -> HttpResponse {
    pages::built_in(
        "text/javascript; charset=utf-8",
        include_str!("../../static/lesmateriaal.js"),
    )
}
