//! Beheer's first page: the school's details, its networks and its verbindingstype
//! (Dynamic IP).

#[allow(clippy::wildcard_imports)]
use super::*;

beheer_template!(OverviewPage, "beheer.html", {
    networks: Vec<String>,
    /// The visitor's address, offered as a network, and what the page says of it.
    suggestion: String,
    your_address: Option<String>,
    dynamic: DynamicView,
    /// The address DUO registers when DUO's registry lists the school's location (its name
    /// is then DUO's); `None` outside the registry.
    duo_address: Option<String>,
});

/// DUO's address of `school`'s location (one line), when DUO's registry lists it.
async fn duo_address(
    state: &web::Data<AppState>,
    school: &School,
) -> Result<Option<String>, PageError> {
    let (st, brin6) = (state.clone(), school.brin6.clone());
    let official =
        failure::blocking(move || Ok(broker::import::duo::official(st.dir.as_ref(), &brin6)?))
            .await?;
    Ok(official.map(|l| {
        let street = format!("{} {}", l.street, l.house_number);
        let place = format!("{} {}", l.postcode, l.place);
        [street.trim(), place.trim()]
            .iter()
            .filter(|p| !p.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    }))
}

async fn overview_page(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    c: &Chrome,
    (school, dynamic): (&School, DynamicView),
    ip: Option<&str>,
    message: Option<Message>,
) -> Result<HttpResponse, PageError> {
    let duo_address = duo_address(state, school).await?;
    let inside = broker::login::pupil::in_school_network(school, ip);
    let (outcome, cookie) = Outcome::issue(req, state, message);
    let page = beheer_page!(OverviewPage, c, school, "", outcome, {
        networks: school.networks.iter().map(|n| n.to_string()).collect(),
        suggestion: if inside {
            String::new()
        } else {
            ip.unwrap_or_default().to_string()
        },
        your_address: ip.map(|a| c.t.beheer.your_address(a, inside)),
        dynamic,
        duo_address,
    });
    Ok(respond(&page, cookie))
}

/// GET `/beheer`: the school's details (name, BRIN, INSTELLING_REF) and its networks, with the
/// visitor's current address offered as one.
pub async fn overview(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    ClientAddr(ip): ClientAddr,
) -> Result<HttpResponse, PageError> {
    let c = Chrome::of(&req, &state, None).await;
    let dynamic = dynamic_ip::view(&state, &b.school, None).await?;
    let school = (&b.school, dynamic);
    overview_page(&req, &state, &c, school, ip.as_deref(), None).await
}

/// The networks form: `netwerk`, and `action` `toevoegen` or `verwijderen`.
#[derive(Debug, Deserialize)]
pub struct NetworkForm {
    csrf_token: String,
    action: String,
    #[serde(default)]
    netwerk: String,
}

csrf_protected!(NetworkForm);

/// POST `/beheer/netwerken`: add or remove a school network.
pub async fn networks_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    ClientAddr(ip): ClientAddr,
    CsrfChecked(form): CsrfChecked<NetworkForm>,
) -> Result<HttpResponse, PageError> {
    use broker::beheer::school;
    let add = match form.action.as_str() {
        "toevoegen" => true,
        "verwijderen" => false,
        _ => return Err(PageError::NotFound),
    };
    let st = state.clone();
    let (coordinator, current) = (b.coordinator.clone(), b.school.clone());
    let changed = failure::blocking(move || {
        let (dir, clock) = (st.dir.as_ref(), st.clock.as_ref());
        let edit = if add {
            school::NetworkEdit::Add(&form.netwerk)
        } else {
            school::NetworkEdit::Remove(&form.netwerk)
        };
        Ok(school::edit_networks(
            dir,
            clock,
            &coordinator,
            &current,
            &[edit],
        ))
    })
    .await?;
    let c = Chrome::of(&req, &state, None).await;
    let (school, m) = match changed {
        Ok(s) => (s, Message::Done(c.t.beheer.networks_saved.to_string())),
        Err(BeheerError::Refused(r)) => (
            b.school.clone(),
            Message::Refused(refusal(c.t.beheer, r).to_string()),
        ),
        Err(e) => return Err(e.into()),
    };
    let dynamic = dynamic_ip::view(&state, &school, None).await?;
    let shown = (&school, dynamic);
    overview_page(&req, &state, &c, shown, ip.as_deref(), Some(m)).await
}

/// The Dynamic IP form: `action` `sleutel` (turn on, or a new key) or `uitzetten`.
#[derive(Debug, Deserialize)]
pub struct DynamicIpForm {
    csrf_token: String,
    action: String,
}

csrf_protected!(DynamicIpForm);

/// POST `/beheer/dynamic-ip`: select Dynamic IP or make a new key (shown once), or turn it
/// off.
pub async fn dynamic_ip_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    b: Beheerder,
    ClientAddr(ip): ClientAddr,
    CsrfChecked(form): CsrfChecked<DynamicIpForm>,
) -> Result<HttpResponse, PageError> {
    use broker::beheer::dynamic_ip as dynip;
    let new_key = match form.action.as_str() {
        "sleutel" => true,
        "uitzetten" => false,
        _ => return Err(PageError::NotFound),
    };
    let (token, school) = b
        .blocking(&state, move |st, coordinator| {
            let w = st.world();
            let token = if new_key {
                Some(dynip::new_token(&w, coordinator)?.token)
            } else {
                dynip::turn_off(&w, coordinator).map(|()| None)?
            };
            let school = w.dir.school(coordinator.school())?;
            Ok((token, school.ok_or(PageError::NotFound)?))
        })
        .await?;
    let c = Chrome::of(&req, &state, None).await;
    let bt = c.t.beheer;
    let m = Message::Done(
        if new_key {
            bt.dynip_done_on
        } else {
            bt.dynip_done_off
        }
        .into(),
    );
    let dynamic = dynamic_ip::view(&state, &school, token).await?;
    let shown = (&school, dynamic);
    overview_page(&req, &state, &c, shown, ip.as_deref(), Some(m)).await
}
