//! Shortcut files (snelkoppelingen) for a school: for pupils and for teachers, as a Windows
//! `.url` file, a macOS `.webloc`, a written-out link for device-management tools and
//! Chromebooks, a QR code (SVG and PNG) to scan, and an Apple configuration profile
//! (`.mobileconfig`) that puts a web clip on an iPad's home screen.

use claims::InstellingRef;

/// One file to hand out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortcutFile {
    pub name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Errors making the files.
#[derive(Debug, thiserror::Error)]
pub enum ShortcutFileError {
    #[error("the shortcut is too long for a QR code")]
    Qr,
    #[error("could not write the PNG: {0}")]
    Png(String),
}

/// The shortcut URL for pupils or teachers, absolute.
pub fn shortcut_url(
    issuer: &str,
    school: &InstellingRef,
    role: &str,
    target: Option<&str>,
) -> String {
    format!(
        "{issuer}{}",
        crate::shortcut::url(school, target, Some(role))
    )
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A file-name-safe form of the school's name.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_string();
    if out.is_empty() {
        "school".into()
    } else {
        out
    }
}

/// Every shortcut file of a school.
pub fn files(
    issuer: &str,
    school: &InstellingRef,
    school_name: &str,
    target: Option<&str>,
) -> Result<Vec<ShortcutFile>, ShortcutFileError> {
    let base = slug(school_name);
    let mut out = Vec::new();
    for (role, label) in [("leerling", "Leerlingen"), ("leerkracht", "Leerkrachten")] {
        let url = shortcut_url(issuer, school, role, target);
        let title = format!("Leerpoort – {label} – {school_name}");
        out.push(ShortcutFile {
            name: format!("{base}-{role}.url"),
            content_type: "application/internet-shortcut",
            bytes: format!("[InternetShortcut]\r\nURL={url}\r\n").into_bytes(),
        });
        out.push(ShortcutFile {
            name: format!("{base}-{role}.webloc"),
            content_type: "application/x-apple-plist",
            bytes: format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n\t<key>URL</key>\n\t<string>{}</string>\n</dict>\n</plist>\n",
                xml_escape(&url)
            )
            .into_bytes(),
        });
        out.push(ShortcutFile {
            name: format!("{base}-{role}.txt"),
            content_type: "text/plain; charset=utf-8",
            bytes: format!("{title}\n{url}\n").into_bytes(),
        });
        let code = qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M)
            .map_err(|_| ShortcutFileError::Qr)?;
        let svg = render_svg(&code, 256);
        out.push(ShortcutFile {
            name: format!("{base}-{role}-qr.svg"),
            content_type: "image/svg+xml",
            bytes: svg.into_bytes(),
        });
        out.push(ShortcutFile {
            name: format!("{base}-{role}-qr.png"),
            content_type: "image/png",
            bytes: qr_png(&code, 8)?,
        });
        out.push(ShortcutFile {
            name: format!("{base}-{role}.mobileconfig"),
            content_type: "application/x-apple-aspen-config",
            bytes: web_clip(school, role, &title, school_name, &url).into_bytes(),
        });
    }
    Ok(out)
}

/// A UUID that stays the same for the same school, role and payload, so that installing the
/// profile again replaces the web clip instead of adding a second one.
fn stable_uuid(school: &InstellingRef, role: &str, what: &str) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("leerpoort-webclip:{school}:{role}:{what}").as_bytes(),
    );
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest.as_ref()[..16]);
    uuid::Builder::from_sha1_bytes(b)
        .into_uuid()
        .to_string()
        .to_uppercase()
}

/// An Apple configuration profile with one managed web clip (`com.apple.webClip.managed`)
/// that opens `url`. Unsigned: device management (MDM) signs what it pushes; a profile
/// installed by hand shows as "not signed".
fn web_clip(
    school: &InstellingRef,
    role: &str,
    title: &str,
    school_name: &str,
    url: &str,
) -> String {
    let label = if role == "leerling" {
        "Leerpoort"
    } else {
        "Leerpoort leerkracht"
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">
<plist version=\"1.0\">
<dict>
\t<key>PayloadContent</key>
\t<array>
\t\t<dict>
\t\t\t<key>FullScreen</key>
\t\t\t<false/>
\t\t\t<key>IsRemovable</key>
\t\t\t<true/>
\t\t\t<key>Label</key>
\t\t\t<string>{label}</string>
\t\t\t<key>PayloadDisplayName</key>
\t\t\t<string>{title}</string>
\t\t\t<key>PayloadIdentifier</key>
\t\t\t<string>nl.leerpoort.webclip.{school}.{role}</string>
\t\t\t<key>PayloadType</key>
\t\t\t<string>com.apple.webClip.managed</string>
\t\t\t<key>PayloadUUID</key>
\t\t\t<string>{clip}</string>
\t\t\t<key>PayloadVersion</key>
\t\t\t<integer>1</integer>
\t\t\t<key>URL</key>
\t\t\t<string>{url}</string>
\t\t</dict>
\t</array>
\t<key>PayloadDisplayName</key>
\t<string>{title}</string>
\t<key>PayloadIdentifier</key>
\t<string>nl.leerpoort.{school}.{role}</string>
\t<key>PayloadOrganization</key>
\t<string>{org}</string>
\t<key>PayloadType</key>
\t<string>Configuration</string>
\t<key>PayloadUUID</key>
\t<string>{profile}</string>
\t<key>PayloadVersion</key>
\t<integer>1</integer>
</dict>
</plist>
",
        title = xml_escape(title),
        org = xml_escape(school_name),
        url = xml_escape(url),
        clip = stable_uuid(school, role, "clip"),
        profile = stable_uuid(school, role, "profile"),
    )
}

fn render_svg(code: &qrcode::QrCode, size: u32) -> String {
    code.render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(size, size)
        .quiet_zone(true)
        .build()
}

/// `text` as a QR code in SVG, without the XML declaration, to put inside an HTML page.
pub fn qr_svg_inline(text: &str, size: u32) -> Result<String, ShortcutFileError> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| ShortcutFileError::Qr)?;
    let svg = render_svg(&code, size);
    Ok(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}

/// The QR code as a black-on-white PNG, `scale` pixels per module, with a four-module quiet zone.
fn qr_png(code: &qrcode::QrCode, scale: usize) -> Result<Vec<u8>, ShortcutFileError> {
    let modules = code.width();
    let quiet = 4;
    let side = (modules + 2 * quiet) * scale;
    let colors = code.to_colors();
    let mut pixels = vec![255u8; side * side];
    for (i, c) in colors.iter().enumerate() {
        if *c == qrcode::Color::Dark {
            let (mx, my) = (i % modules + quiet, i / modules + quiet);
            for y in my * scale..(my + 1) * scale {
                pixels[y * side + mx * scale..y * side + (mx + 1) * scale].fill(0);
            }
        }
    }
    let mut out = Vec::new();
    {
        let side = u32::try_from(side).map_err(|e| ShortcutFileError::Png(e.to_string()))?;
        let mut enc = png::Encoder::new(&mut out, side, side);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc
            .write_header()
            .map_err(|e| ShortcutFileError::Png(e.to_string()))?;
        w.write_image_data(&pixels)
            .map_err(|e| ShortcutFileError::Png(e.to_string()))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_format_for_pupils_and_teachers() {
        let school: InstellingRef = "8f0c7a2e-4b1d-4c3e-9a5f-6d2b1e0c9a01".parse().unwrap();
        let files = files(
            "https://login.example",
            &school,
            "Basisschool De Regenboog",
            Some("rekenen & taal"),
        )
        .unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names.len(), 12);
        let profile = String::from_utf8(
            files
                .iter()
                .find(|f| f.name == "basisschool-de-regenboog-leerling.mobileconfig")
                .unwrap()
                .bytes
                .clone(),
        )
        .unwrap();
        assert!(
            profile.contains("<string>com.apple.webClip.managed</string>")
                && profile.contains("&amp;ROL=leerling")
                && profile.contains("<string>Leerpoort</string>"),
            "{profile}"
        );
        let again = super::files(
            "https://login.example",
            &school,
            "Basisschool De Regenboog",
            Some("rekenen & taal"),
        )
        .unwrap();
        assert_eq!(
            again
                .iter()
                .find(|f| f.name.ends_with("leerling.mobileconfig"))
                .map(|f| &f.bytes),
            Some(&profile.into_bytes()),
            "the same profile again (the same UUIDs): installing it twice replaces the clip"
        );
        assert!(names.contains(&"basisschool-de-regenboog-leerling.url"));
        assert!(names.contains(&"basisschool-de-regenboog-leerkracht-qr.png"));
        let url = String::from_utf8(files[0].bytes.clone()).unwrap();
        assert_eq!(url, "[InternetShortcut]\r\nURL=https://login.example/snelkoppeling?INSTELLING_REF=8f0c7a2e-4b1d-4c3e-9a5f-6d2b1e0c9a01&ROL=leerling&TARGET=rekenen+%26+taal\r\n");
        let webloc = String::from_utf8(files[1].bytes.clone()).unwrap();
        assert!(
            webloc.contains("&amp;ROL=leerling"),
            "escaped for XML: {webloc}"
        );
        let png = &files[4].bytes;
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert!(String::from_utf8(files[3].bytes.clone())
            .unwrap()
            .starts_with("<?xml"));
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("OBS 't Klaverblad!"), "obs-t-klaverblad");
        assert_eq!(slug("…"), "school");
    }
}
