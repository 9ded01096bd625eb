//! Beheer: the Logboek — the school's audit trail, filterable by kind.

#[allow(clippy::wildcard_imports)]
use super::*;

/// One line of the Logboek as the page shows it.
struct LogRow {
    when: String,
    kind: &'static str,
    what: String,
    who: String,
    about: String,
}

beheer_template!(LogbookPage, "beheer_logboek.html", {
    /// (slug, label, selected); the first is "everything".
    kinds: Vec<(&'static str, &'static str, bool)>,
    rows: Vec<LogRow>,
    older: Option<String>,
});

/// The Logboek's query: `soort` (a kind's slug) and `voor` (the next page starts before it).
#[derive(Debug, Deserialize)]
pub struct LogbookQuery {
    #[serde(default)]
    soort: String,
    voor: Option<i64>,
}

/// GET `/beheer/logboek?soort=…&voor=…`: the school's audit trail, newest first.
pub async fn logbook(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    q: web::Query<LogbookQuery>,
) -> Result<HttpResponse, PageError> {
    use broker::beheer::logboek::{self, Actor, Kind};
    let kind = match q.soort.as_str() {
        "" => None,
        s => Some(Kind::from_slug(s).ok_or(PageError::NotFound)?),
    };
    let before = q.voor;
    let page = b
        .blocking(&state, move |st, coordinator| {
            Ok(logboek::page(st.dir.as_ref(), coordinator, kind, before)?)
        })
        .await?;
    let c = Chrome::of(&req, &state, None).await;
    let bt = c.t.beheer;
    let label = |k: Kind| {
        Kind::ALL
            .iter()
            .position(|x| *x == k)
            .map_or("", |i| bt.logbook_kinds[i])
    };
    let mut kinds = vec![("", bt.logbook_all, kind.is_none())];
    kinds.extend(
        Kind::ALL
            .iter()
            .map(|k| (k.slug(), label(*k), kind == Some(*k))),
    );
    let rows = page
        .lines
        .iter()
        .map(|l| LogRow {
            when: catalogue::local_time(l.at, "%-d-%-m-%Y %H:%M"),
            kind: l.kind.map_or("", label),
            what: bt.action(&l.action).to_string(),
            who: match &l.actor {
                Actor::Person(name) => name.clone(),
                Actor::Operator => bt.actor_operator.to_string(),
                Actor::Leerpoort => bt.actor_leerpoort.to_string(),
            },
            about: l.subject.clone().unwrap_or_default(),
        })
        .collect();
    let older = page.older.map(|at| {
        let soort = kind.map_or(String::new(), |k| format!("soort={}&", k.slug()));
        format!("/beheer/logboek?{soort}voor={at}")
    });
    let page = beheer_page!(LogbookPage, c, &b.school, "logboek", Outcome::default(), {
        kinds,
        rows,
        older,
    });
    Ok(respond(&page, None))
}
