//! Beheer: the spreadsheet template for a school without an LAS, as CSV (UTF-8 with a byte
//! order mark and `;`, so that Excel opens it as it is) and as an Excel workbook. Only for the
//! school's ICT coordinator, like every Beheer page; the template holds no data, only the
//! columns (`protocol::spreadsheet::COLUMNS`).

use protocol::spreadsheet::{template_csv as csv_template, COLUMNS, SHEET};
use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::{Beheerder, PageError};
use actix_web::HttpResponse;

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A file to save, not to show.
fn download(bytes: Vec<u8>, content_type: &str, name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            "content-disposition",
            format!("attachment; filename=\"{name}\""),
        ))
        .insert_header(("cache-control", "no-store"))
        .body(bytes)
}

/// GET `/beheer/gebruikersgegevens/sjabloon.csv`: the template as CSV.
pub async fn template_csv(_coordinator: Beheerder) -> HttpResponse {
    download(
        csv_template(),
        "text/csv; charset=utf-8",
        "leerpoort-gebruikers.csv",
    )
}

/// GET `/beheer/gebruikersgegevens/sjabloon.xlsx`: the template as an Excel workbook.
pub async fn template_xlsx(_coordinator: Beheerder) -> Result<HttpResponse, PageError> {
    let bytes = workbook().map_err(|e| PageError::Unavailable(e.to_string()))?;
    Ok(download(bytes, XLSX_TYPE, "leerpoort-gebruikers.xlsx"))
}

/// One sheet named [`SHEET`]: the columns in bold, a frozen header row, and every column
/// formatted as text (so that a Sleutel keeps its leading zeros and a long number stays as
/// typed).
fn workbook() -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let header = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let sheet = book.add_worksheet();
    sheet.set_name(SHEET)?;
    for (column, name) in (0u16..).zip(COLUMNS) {
        sheet.set_column_format(column, &text)?;
        sheet.set_column_width(column, 18)?;
        sheet.write_string_with_format(0, column, name, &header)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_workbook_template_is_read_as_an_empty_file_of_the_right_columns() {
        let e = protocol::spreadsheet::parse(&workbook().unwrap()).unwrap_err();
        assert!(e.message.contains("no leerling or leerkracht"), "{e}");
    }
}
