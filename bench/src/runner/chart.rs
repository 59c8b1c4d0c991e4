//! The chart beside the report: wireline, reqwest and (for the small requests) raw hyper
//! with wireline's default headers, as multiples of raw hyper, throughput
//! on top (higher is better), client CPU per unit of work below it and, when counted,
//! instructions per unit of work at the bottom (both lower is better).
//!
//! Plotters' SVG backend writes text as `<text>` elements with a naive width estimate, so
//! no font library is needed to draw it; the viewer picks the font.

use plotters::prelude::*;

use super::plan::{HYPER, HYPER_HEADERS, REQWEST, WIRELINE};
use super::summary::{Panel, Row};
use crate::BoxError;

const WIDTH: u32 = 1100;
const PANEL_HEIGHT: u32 = 340;
const WIRELINE_COLOR: RGBColor = RGBColor(31, 119, 180);
const REQWEST_COLOR: RGBColor = RGBColor(255, 127, 14);
const HYPER_HEADERS_COLOR: RGBColor = RGBColor(44, 160, 44);
/// Width of one bar; three fit in a category with a margin either side.
const BAR: f64 = 0.25;

/// Where the `k`th bar of a row starts within its category, the row's bars centred:
/// hyper+headers has a third bar only where it ran.
fn bar_start(row: &Row, k: usize) -> f64 {
    let bars = if row.ran(HYPER_HEADERS) { 3.0 } else { 2.0 };
    (1.0 - bars * BAR) / 2.0 + k as f64 * BAR
}

/// The SVG text of the chart.
pub fn render(rows: &[Row]) -> Result<String, BoxError> {
    let mut svg = String::new();
    {
        let counted = rows.iter().any(|r| r.panel == Some(Panel::Instructions));
        let panels = if counted { 3 } else { 2 };
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH, PANEL_HEIGHT * panels)).into_drawing_area();
        root.fill(&WHITE)?;
        let (top, rest) = root.split_vertically(PANEL_HEIGHT);
        let (bottom, last) = rest.split_vertically(PANEL_HEIGHT);
        panel(
            &top,
            rows,
            Panel::Rate,
            "Throughput ÷ raw hyper (higher is better; dashed: the 0.90 target of seq and concurrent)",
            Some(0.90),
        )?;
        panel(
            &bottom,
            rows,
            Panel::Cpu,
            "Client CPU per request or per byte ÷ raw hyper (lower is better)",
            None,
        )?;
        if counted {
            panel(
                &last,
                rows,
                Panel::Instructions,
                "Instructions per request or per MB ÷ raw hyper, callgrind (lower is better; dashed: the 1.10 target of seq and concurrent)",
                Some(1.10),
            )?;
        }
        root.present()?;
    }
    Ok(svg)
}

/// Short two-line names for the x axis: the scenario, then the protocol.
fn axis_label(job: &str) -> (String, String) {
    let (scenario, http) = job.rsplit_once(' ').unwrap_or((job, ""));
    let short = match scenario {
        "concurrent" => "64 in flight",
        "newconn" => "new conn",
        "newconn-noresume" => "no resume",
        other => other,
    };
    (short.to_owned(), http.to_owned())
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    rows: &[Row],
    which: Panel,
    title: &str,
    target: Option<f64>,
) -> Result<(), BoxError>
where
    DB::ErrorType: 'static,
{
    let rows: Vec<&Row> = rows.iter().filter(|r| r.panel == Some(which)).collect();
    let ratio = |row: &Row, client: usize| row.ratio(client, HYPER);
    let highest = rows
        .iter()
        .flat_map(|r| [WIRELINE, REQWEST, HYPER_HEADERS].map(|c| ratio(r, c)))
        .flatten()
        .fold(1.2f64, f64::max);
    // Headroom above the tallest bar keeps the legend (upper right) off the bars.
    let n = rows.len() as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(48)
        .build_cartesian_2d(0f64..n, 0f64..(highest * 1.35))?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(8)
        .y_label_formatter(&|v| format!("{v:.1}"))
        .draw()?;

    let bar = |i: usize, left: f64, value: f64, color: RGBColor| {
        let x = i as f64;
        Rectangle::new([(x + left, 0.0), (x + left + BAR, value)], color.filled())
    };
    let series = [
        (WIRELINE, "wireline", WIRELINE_COLOR),
        (REQWEST, "reqwest", REQWEST_COLOR),
        (HYPER_HEADERS, "hyper+headers", HYPER_HEADERS_COLOR),
    ];
    for (k, (client, name, color)) in series.into_iter().enumerate() {
        chart
            .draw_series(
                rows.iter()
                    .enumerate()
                    .filter_map(|(i, r)| Some(bar(i, bar_start(r, k), ratio(r, client)?, color))),
            )?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled()));
    }
    chart
        .draw_series(LineSeries::new(
            [(0.0, 1.0), (n, 1.0)],
            BLACK.stroke_width(1),
        ))?
        .label("raw hyper = 1.0")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 12, y)], BLACK));
    if let Some(target) = target {
        chart.draw_series(DashedLineSeries::new(
            [(0.0, target), (n, target)],
            4,
            4,
            RGBColor(200, 0, 0).stroke_width(1),
        ))?;
    }
    // "n/a" where wireline has no number (no setting for the scenario).
    for (i, row) in rows.iter().enumerate() {
        if row.values[WIRELINE].is_none() {
            chart.draw_series(std::iter::once(Text::new(
                "n/a",
                (i as f64 + bar_start(row, 0) + 0.02, 0.08 * highest),
                ("sans-serif", 12).into_font().color(&WIRELINE_COLOR),
            )))?;
        }
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;

    // Category names under each group of bars, in pixels below the plot.
    let style = ("sans-serif", 12).into_font().color(&BLACK);
    // backend_coord is in the whole image; draw_text wants coordinates in this panel.
    let (left, top) = area.get_base_pixel();
    for (i, row) in rows.iter().enumerate() {
        let (scenario, http) = axis_label(&row.job);
        let (x, y) = chart.backend_coord(&(i as f64 + 0.5, 0.0));
        let (x, y) = (x - left, y - top);
        let centred = |text: &str| x - (text.chars().count() as i32 * 6) / 2;
        area.draw_text(&scenario, &style, (centred(&scenario), y + 6))?;
        area.draw_text(&http, &style, (centred(&http), y + 20))?;
    }
    Ok(())
}
