//! Charts drawn on the server as SVG (policies.md §18): data in, an SVG
//! string out, no JavaScript.
//!
//! [`tile_svg`] draws a dashboard tile as its [`Chart`] hint says; the
//! functions below it ([`bar`], [`line`], [`scatter`], [`heat_map`],
//! [`kpi`], [`no_data`]) take plain data for pages that draw something
//! else. Drawing uses `plotters`' SVG backend without font features: text
//! is laid out by plotters' naive estimate and rendered by the browser
//! (`font-family="sans-serif"`), so nothing depends on fonts installed on
//! the server.
//!
//! Every SVG is `class="chart chart-<kind>"` with `role="img"`, an
//! `aria-label` and a `<title>` naming the chart, and a `<desc>` that
//! states the drawn data as text (for screen readers and for tests).
//! Empty data draws "No data yet"; a drawing error is logged and draws the
//! same card with "Chart unavailable" — never a panic.

use plotters::{
    coord::Shift,
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};
use steward_store::dashboards::{Cell, ChartKind, Tile};

pub const WIDTH: u32 = 640;
pub const HEIGHT: u32 = 360;
const FONT: &str = "sans-serif";

type Draw = Result<(), Box<dyn std::error::Error>>;

/// A named series of values, one per label (`None`: no value).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Column key; `green`/`yellow`/`orange`/`red` in it pick that colour.
    pub key: String,
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// A scatter point.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub label: String,
    pub x: f64,
    pub y: f64,
    pub group: String,
}

const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
];

fn colour(key: &str, i: usize) -> RGBColor {
    let k = key.to_lowercase();
    if k.contains("green") {
        RGBColor(46, 160, 67)
    } else if k.contains("yellow") {
        RGBColor(230, 190, 30)
    } else if k.contains("orange") {
        RGBColor(240, 130, 20)
    } else if k.contains("red") {
        RGBColor(214, 39, 40)
    } else if k.contains("unscored") {
        RGBColor(170, 170, 170)
    } else {
        PALETTE[i % PALETTE.len()]
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn short(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let cut: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.1}")
    }
}

/// Draws with `f` on a fresh SVG and wraps it: class, role, label, title,
/// description. A drawing error is logged and drawn as "Chart unavailable".
fn render(
    kind: &str,
    title: &str,
    desc: &str,
    f: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> Draw,
) -> String {
    let mut buf = String::new();
    let drawn = {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        let r = root
            .fill(&WHITE)
            .map_err(|e| e.into())
            .and_then(|_| f(&root))
            .and_then(|_| root.present().map_err(|e| e.into()));
        r.map_err(|e| e.to_string())
    };
    if let Err(e) = drawn {
        tracing::warn!(chart.title = title, error = %e, "chart could not be drawn");
        return message(kind, title, "Chart unavailable");
    }
    wrap(&buf, kind, title, desc)
}

fn wrap(svg: &str, kind: &str, title: &str, desc: &str) -> String {
    let t = escape(title);
    let head = format!("<svg class=\"chart chart-{kind}\" role=\"img\" aria-label=\"{t}\" ");
    let body = svg.replacen("<svg ", &head, 1);
    match body.find('>') {
        Some(i) => format!(
            "{}<title>{t}</title><desc>{}</desc>{}",
            &body[..=i],
            escape(desc),
            &body[i + 1..]
        ),
        None => body,
    }
}

fn caption(root: &DrawingArea<SVGBackend, Shift>, title: &str) -> Draw {
    root.draw(&Text::new(
        short(title, 70),
        (12, 10),
        TextStyle::from((FONT, 18).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Left, VPos::Top)),
    ))?;
    Ok(())
}

/// A card with the title and a message ("No data yet").
fn message(kind: &str, title: &str, text: &str) -> String {
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, HEIGHT)).into_drawing_area();
        // Drawing text and a fill into a String cannot fail.
        let _ = root.fill(&RGBColor(248, 248, 248));
        let _ = caption(&root, title);
        let _ = root.draw(&Text::new(
            text.to_string(),
            ((WIDTH / 2) as i32, (HEIGHT / 2) as i32),
            TextStyle::from((FONT, 20).into_font())
                .color(&RGBColor(110, 110, 110))
                .pos(Pos::new(HPos::Center, VPos::Center)),
        ));
        let _ = root.present();
    }
    let kind = if kind == "empty" {
        kind.to_string()
    } else {
        format!("{kind} chart-empty")
    };
    wrap(&buf, &kind, title, text)
}

/// "No data yet" for `title`.
pub fn no_data(title: &str) -> String {
    message("empty", title, "No data yet")
}

fn describe(labels: &[String], series: &[Series]) -> String {
    series
        .iter()
        .map(|s| {
            let points: Vec<String> = labels
                .iter()
                .zip(&s.values)
                .take(60)
                .map(|(l, v)| format!("{l} = {}", v.map_or("none".into(), fmt)))
                .collect();
            format!("{}: {}", s.name, points.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn has_values(series: &[Series]) -> bool {
    series.iter().any(|s| s.values.iter().any(Option::is_some))
}

/// Bars per label: grouped side by side, or stacked; optional target lines.
pub fn bar(
    title: &str,
    labels: &[String],
    series: &[Series],
    targets: &[(String, f64)],
    stacked: bool,
) -> String {
    let kind = if stacked { "stacked-bar" } else { "bar" };
    if labels.is_empty() || !has_values(series) {
        return message(kind, title, "No data yet");
    }
    let n = labels.len();
    let mut top: f64 = 0.0;
    let mut bottom: f64 = 0.0;
    for i in 0..n {
        let vals = series
            .iter()
            .filter_map(|s| s.values.get(i).copied().flatten());
        if stacked {
            let (pos, neg) = vals.fold(
                (0.0, 0.0),
                |(p, q), v| {
                    if v >= 0.0 { (p + v, q) } else { (p, q + v) }
                },
            );
            top = top.max(pos);
            bottom = bottom.min(neg);
        } else {
            for v in vals {
                top = top.max(v);
                bottom = bottom.min(v);
            }
        }
    }
    for (_, t) in targets {
        top = top.max(*t);
    }
    // Headroom for the legend, drawn in the upper right corner.
    let legend = series.len() > 1 || !targets.is_empty();
    let top = if top <= 0.0 && bottom >= 0.0 {
        1.0
    } else {
        top * if legend { 1.3 } else { 1.08 }
    };
    let bottom = bottom * 1.08;
    let desc = describe(labels, series);
    render(kind, title, &desc, |root| {
        caption(root, title)?;
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_top(40)
            .x_label_area_size(34)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..n as f64, bottom..top)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .max_light_lines(0)
            .x_labels(0)
            .y_labels(6)
            .y_label_formatter(&|v| fmt(*v))
            .label_style((FONT, 12))
            .draw()?;
        let groups = if stacked { 1 } else { series.len().max(1) };
        let width = 0.8 / groups as f64;
        let mut base_pos = vec![0.0f64; n];
        let mut base_neg = vec![0.0f64; n];
        for (si, s) in series.iter().enumerate() {
            let c = colour(&s.key, si);
            let mut rects = Vec::new();
            for (i, v) in s.values.iter().enumerate().take(n) {
                let Some(v) = *v else { continue };
                let (x0, x1) = if stacked {
                    (i as f64 + 0.1, i as f64 + 0.9)
                } else {
                    let x0 = i as f64 + 0.1 + width * si as f64;
                    (x0, x0 + width * 0.92)
                };
                let (y0, y1) = if stacked {
                    let base = if v >= 0.0 {
                        &mut base_pos[i]
                    } else {
                        &mut base_neg[i]
                    };
                    let y0 = *base;
                    *base += v;
                    (y0, *base)
                } else {
                    (0.0, v)
                };
                rects.push(Rectangle::new([(x0, y0), (x1, y1)], c.filled()));
            }
            chart
                .draw_series(rects)?
                .label(s.name.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], c.filled()));
        }
        draw_targets(&mut chart, targets, n as f64)?;
        let max = ((WIDTH as usize - 90) / n / 7).clamp(3, 24);
        for (i, l) in labels.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(i as f64 + 0.5, bottom));
            root.draw(&Text::new(
                short(l, max),
                (px, py + 6),
                TextStyle::from((FONT, 11).into_font())
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        if legend {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(200, 200, 200))
                .label_font((FONT, 11))
                .draw()?;
        }
        Ok(())
    })
}

fn draw_targets<DB: DrawingBackend>(
    chart: &mut ChartContext<
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    targets: &[(String, f64)],
    x_max: f64,
) -> Draw
where
    DB::ErrorType: 'static,
{
    for (i, (name, t)) in targets.iter().enumerate() {
        let c = [
            RGBColor(200, 30, 30),
            RGBColor(90, 90, 90),
            RGBColor(120, 60, 160),
        ][i % 3];
        chart
            .draw_series(DashedLineSeries::new(
                vec![(0.0, *t), (x_max, *t)],
                6,
                4,
                c.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(name.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], c.stroke_width(2)));
    }
    Ok(())
}

/// One line per series over the labels (gaps where a value is missing),
/// with dashed target lines.
pub fn line(
    title: &str,
    labels: &[String],
    series: &[Series],
    targets: &[(String, f64)],
) -> String {
    if labels.is_empty() || !has_values(series) {
        return message("line", title, "No data yet");
    }
    let n = labels.len();
    let vals = series
        .iter()
        .flat_map(|s| s.values.iter().flatten().copied());
    let all: Vec<f64> = vals.chain(targets.iter().map(|t| t.1)).collect();
    let lo = all.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let pad = ((hi - lo) * 0.1).max(1.0);
    let (lo, hi) = (lo - pad, hi + pad);
    let desc = describe(labels, series);
    render("line", title, &desc, |root| {
        caption(root, title)?;
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_top(40)
            .x_label_area_size(34)
            .y_label_area_size(64)
            .build_cartesian_2d(0f64..n as f64, lo..hi)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .max_light_lines(0)
            .x_labels(0)
            .y_labels(6)
            .y_label_formatter(&|v| fmt(*v))
            .label_style((FONT, 12))
            .draw()?;
        for (si, s) in series.iter().enumerate() {
            let c = colour(&s.key, si);
            // Runs of consecutive values, so a missing value breaks the line.
            let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
            for (i, v) in s.values.iter().enumerate().take(n) {
                match v {
                    Some(v) => {
                        if let Some(run) = runs.last_mut() {
                            run.push((i as f64 + 0.5, *v));
                        }
                    }
                    None => runs.push(Vec::new()),
                }
            }
            for run in runs.iter().filter(|r| r.len() > 1) {
                chart.draw_series(LineSeries::new(run.clone(), c.stroke_width(2)))?;
            }
            let points: Vec<(f64, f64)> = runs.concat();
            chart
                .draw_series(points.iter().map(|p| Circle::new(*p, 4, c.filled())))?
                .label(s.name.clone())
                .legend(move |(x, y)| Circle::new((x + 5, y), 4, c.filled()));
        }
        draw_targets(&mut chart, targets, n as f64)?;
        let max = ((WIDTH as usize - 90) / n / 7).clamp(3, 24);
        for (i, l) in labels.iter().enumerate() {
            let (px, py) = chart.backend_coord(&(i as f64 + 0.5, lo));
            root.draw(&Text::new(
                short(l, max),
                (px, py + 6),
                TextStyle::from((FONT, 11).into_font())
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Top)),
            ))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font((FONT, 11))
            .draw()?;
        Ok(())
    })
}

/// Points coloured by group, with axis names.
pub fn scatter(title: &str, x_name: &str, y_name: &str, points: &[Point]) -> String {
    if points.is_empty() {
        return message("scatter", title, "No data yet");
    }
    let x_hi = points.iter().map(|p| p.x).fold(0.0, f64::max).max(1.0) * 1.1;
    let y_hi = points.iter().map(|p| p.y).fold(0.0, f64::max).max(1.0) * 1.08;
    let x_lo = points.iter().map(|p| p.x).fold(0.0, f64::min);
    let y_lo = points.iter().map(|p| p.y).fold(0.0, f64::min);
    let mut groups: Vec<&str> = Vec::new();
    for p in points {
        if !groups.contains(&p.group.as_str()) {
            groups.push(&p.group);
        }
    }
    let desc = points
        .iter()
        .take(60)
        .map(|p| {
            format!(
                "{} ({}): {x_name} {}, {y_name} {}",
                p.label,
                p.group,
                fmt(p.x),
                fmt(p.y)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    render("scatter", title, &desc, |root| {
        caption(root, title)?;
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .margin_top(40)
            .x_label_area_size(40)
            .y_label_area_size(72)
            .build_cartesian_2d(x_lo..x_hi, y_lo..y_hi)?;
        chart
            .configure_mesh()
            .max_light_lines(0)
            .x_desc(x_name)
            .y_desc(y_name)
            .x_label_formatter(&|v| fmt(*v))
            .y_label_formatter(&|v| fmt(*v))
            .label_style((FONT, 12))
            .axis_desc_style((FONT, 12))
            .draw()?;
        for (gi, g) in groups.iter().enumerate() {
            let c = colour(g, gi);
            chart
                .draw_series(
                    points
                        .iter()
                        .filter(|p| p.group == *g)
                        .map(|p| Circle::new((p.x, p.y), 5, c.mix(0.8).filled())),
                )?
                .label(g.to_string())
                .legend(move |(x, y)| Circle::new((x + 5, y), 4, c.filled()));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(200, 200, 200))
            .label_font((FONT, 11))
            .draw()?;
        Ok(())
    })
}

/// A grid of rows × columns, each cell coloured by where its value sits
/// between its column's minimum and maximum (green is good); grey where
/// there is no value. The value is written in the cell.
pub fn heat_map(
    title: &str,
    rows: &[String],
    columns: &[String],
    values: &[Vec<Option<f64>>],
    higher_is_better: &[bool],
) -> String {
    if rows.is_empty() || columns.is_empty() {
        return message("heat-map", title, "No data yet");
    }
    let ranges: Vec<(f64, f64)> = (0..columns.len())
        .map(|c| {
            let vs = values.iter().filter_map(|r| r.get(c).copied().flatten());
            vs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            })
        })
        .collect();
    let desc = rows
        .iter()
        .zip(values)
        .take(60)
        .map(|(r, vs)| {
            let cells: Vec<String> = columns
                .iter()
                .zip(vs)
                .map(|(c, v)| format!("{c} {}", v.map_or("none".into(), fmt)))
                .collect();
            format!("{r}: {}", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let row_h = ((HEIGHT as i32 - 70) / rows.len() as i32).clamp(8, 28);
    let height = (70 + row_h * rows.len() as i32).max(HEIGHT as i32) as u32;
    let mut buf = String::new();
    let drawn: Draw = (|| {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        caption(&root, title)?;
        let left = 170i32;
        let col_w = (WIDTH as i32 - left - 10) / columns.len() as i32;
        let header = TextStyle::from((FONT, 11).into_font())
            .color(&BLACK)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        for (c, name) in columns.iter().enumerate() {
            let x = left + col_w * c as i32 + col_w / 2;
            root.draw(&Text::new(
                short(name, (col_w / 7).max(4) as usize),
                (x, 58),
                header.clone(),
            ))?;
        }
        let font = (row_h - 4).clamp(7, 12);
        for (r, name) in rows.iter().enumerate() {
            let y = 64 + row_h * r as i32;
            root.draw(&Text::new(
                short(name, 26),
                (left - 6, y + row_h / 2),
                TextStyle::from((FONT, font).into_font())
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Right, VPos::Center)),
            ))?;
            for (c, (lo, hi)) in ranges.iter().copied().enumerate() {
                let v = values.get(r).and_then(|row| row.get(c)).copied().flatten();
                let fill = match v {
                    None => RGBColor(225, 225, 225),
                    Some(v) => {
                        let mut t = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                        if !higher_is_better.get(c).copied().unwrap_or(true) {
                            t = 1.0 - t;
                        }
                        // Red (bad) through amber to green (good).
                        let (r0, g0, b0) = if t < 0.5 {
                            (214.0, 39.0 + (190.0 - 39.0) * t * 2.0, 40.0)
                        } else {
                            (
                                214.0 - (214.0 - 46.0) * (t - 0.5) * 2.0,
                                190.0 - 30.0 * (t - 0.5) * 2.0,
                                40.0 + 27.0 * (t - 0.5) * 2.0,
                            )
                        };
                        RGBColor(r0 as u8, g0 as u8, b0 as u8)
                    }
                };
                let x = left + col_w * c as i32;
                root.draw(&Rectangle::new(
                    [(x + 1, y + 1), (x + col_w - 1, y + row_h - 1)],
                    fill.filled(),
                ))?;
                if let Some(v) = v {
                    root.draw(&Text::new(
                        fmt(v),
                        (x + col_w / 2, y + row_h / 2),
                        TextStyle::from((FONT, font).into_font())
                            .color(&BLACK)
                            .pos(Pos::new(HPos::Center, VPos::Center)),
                    ))?;
                }
            }
        }
        root.present()?;
        Ok(())
    })();
    if let Err(e) = drawn {
        tracing::warn!(chart.title = title, error = %e, "chart could not be drawn");
        return message("heat-map", title, "Chart unavailable");
    }
    wrap(&buf, "heat-map", title, &desc)
}

/// Key figures as cards: (label, value text).
pub fn kpi(title: &str, items: &[(String, String)]) -> String {
    if items.is_empty() {
        return message("kpi", title, "No data yet");
    }
    let cols = 4usize;
    let rows = items.len().div_ceil(cols);
    let card_w = (WIDTH as i32 - 20) / cols as i32;
    let card_h = 62;
    let height = (50 + rows as i32 * card_h).max(HEIGHT as i32) as u32;
    let desc = items
        .iter()
        .map(|(l, v)| format!("{l}: {v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut buf = String::new();
    let drawn: Draw = (|| {
        let root = SVGBackend::with_string(&mut buf, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)?;
        caption(&root, title)?;
        for (i, (label, value)) in items.iter().enumerate() {
            let x = 10 + card_w * (i % cols) as i32;
            let y = 40 + card_h * (i / cols) as i32;
            root.draw(&Rectangle::new(
                [(x + 3, y + 3), (x + card_w - 3, y + card_h - 3)],
                RGBColor(243, 246, 250).filled(),
            ))?;
            root.draw(&Text::new(
                value.clone(),
                (x + 10, y + 10),
                TextStyle::from((FONT, 20).into_font().style(FontStyle::Bold))
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Left, VPos::Top)),
            ))?;
            root.draw(&Text::new(
                short(label, (card_w / 6) as usize),
                (x + 10, y + 38),
                TextStyle::from((FONT, 11).into_font())
                    .color(&RGBColor(80, 80, 80))
                    .pos(Pos::new(HPos::Left, VPos::Top)),
            ))?;
        }
        root.present()?;
        Ok(())
    })();
    if let Err(e) = drawn {
        tracing::warn!(chart.title = title, error = %e, "chart could not be drawn");
        return message("kpi", title, "Chart unavailable");
    }
    wrap(&buf, "kpi", title, &desc)
}

/// A dashboard tile drawn as its chart hint says.
pub fn tile_svg(tile: &Tile) -> String {
    let c = &tile.chart;
    let t = &tile.table;
    let title = tile.title.as_str();
    let labels: Vec<String> = t
        .rows
        .iter()
        .map(|r| r.get(c.label).map(Cell::text).unwrap_or_default())
        .collect();
    let column = |i: usize| t.columns.get(i);
    let series: Vec<Series> = c
        .values
        .iter()
        .filter_map(|i| {
            column(*i).map(|col| Series {
                key: col.key.to_string(),
                name: col.label.to_string(),
                values: t
                    .rows
                    .iter()
                    .map(|r| r.get(*i).and_then(Cell::as_f64))
                    .collect(),
            })
        })
        .collect();
    match c.kind {
        ChartKind::Bar => bar(title, &labels, &series, &c.targets, false),
        ChartKind::StackedBar => bar(title, &labels, &series, &c.targets, true),
        ChartKind::Line => line(title, &labels, &series, &c.targets),
        ChartKind::Scatter => {
            let (Some(x), Some(y)) = (series.first(), series.get(1)) else {
                return no_data(title);
            };
            let points: Vec<Point> = t
                .rows
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    Some(Point {
                        label: labels.get(i).cloned().unwrap_or_default(),
                        x: x.values.get(i).copied().flatten()?,
                        y: y.values.get(i).copied().flatten()?,
                        group: c
                            .group
                            .and_then(|g| r.get(g))
                            .map(Cell::text)
                            .unwrap_or_default(),
                    })
                })
                .collect();
            scatter(title, &x.name, &y.name, &points)
        }
        ChartKind::HeatMap => {
            let columns: Vec<String> = series.iter().map(|s| s.name.clone()).collect();
            let values: Vec<Vec<Option<f64>>> = (0..labels.len())
                .map(|i| {
                    series
                        .iter()
                        .map(|s| s.values.get(i).copied().flatten())
                        .collect()
                })
                .collect();
            heat_map(title, &labels, &columns, &values, &c.higher_is_better)
        }
        ChartKind::Kpi => {
            let unit = t.columns.iter().position(|col| col.key == "unit");
            let items: Vec<(String, String)> = t
                .rows
                .iter()
                .map(|r| {
                    let label = r.get(c.label).map(Cell::text).unwrap_or_default();
                    let value = c.values.first().and_then(|i| r.get(*i)).map_or(
                        String::new(),
                        |v| match v {
                            Cell::Null => "–".to_string(),
                            Cell::Num(n) => fmt(*n),
                            other => other.text(),
                        },
                    );
                    let unit = unit
                        .and_then(|u| r.get(u))
                        .map(Cell::text)
                        .unwrap_or_default();
                    (format!("{label} ({unit})"), value)
                })
                .collect();
            kpi(title, &items)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(key: &str, values: &[Option<f64>]) -> Series {
        Series {
            key: key.into(),
            name: key.to_uppercase(),
            values: values.to_vec(),
        }
    }

    fn labels(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    /// How plotters writes a text element's content.
    fn text(s: &str) -> String {
        format!(">\n{s}\n</text>")
    }

    fn accessible(svg: &str, title: &str) {
        assert!(svg.starts_with("<svg class=\"chart "), "{svg}");
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains(&format!("aria-label=\"{}\"", escape(title))));
        assert!(svg.contains(&format!("<title>{}</title>", escape(title))));
        assert!(svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn bar_draws_each_value_and_its_labels() {
        let svg = bar(
            "Accounts & levels",
            &labels(&["GREEN", "RED"]),
            &[s("accounts", &[Some(3.0), Some(7.0)])],
            &[],
            false,
        );
        accessible(&svg, "Accounts & levels");
        assert!(svg.contains("chart-bar"));
        // Text is laid out without fonts and written as SVG text.
        assert!(svg.contains(&text("GREEN")) && svg.contains(&text("RED")));
        assert!(svg.contains("ACCOUNTS: GREEN = 3, RED = 7"));
        // Two data bars in the series colour (plus the background).
        let blue = "fill=\"#1F77B4\"";
        assert_eq!(svg.matches(blue).count(), 2, "{svg}");
    }

    #[test]
    fn stacked_and_grouped_bars_and_targets() {
        let ls = labels(&["2026-10", "2026-11"]);
        let series = [
            s("green_usd", &[Some(10.0), Some(5.0)]),
            s("red_usd", &[Some(2.0), None]),
        ];
        let svg = bar("ARR", &ls, &series, &[("Target".into(), 12.0)], true);
        accessible(&svg, "ARR");
        assert!(svg.contains("chart-stacked-bar"));
        assert!(svg.contains("RED_USD: 2026-10 = 2, 2026-11 = none"));
        assert!(svg.contains(&text("Target")));
        assert_eq!(
            svg.matches("fill=\"#D62728\"").count(),
            2,
            "one red bar + legend"
        );
    }

    #[test]
    fn line_with_target_and_gaps() {
        let svg = line(
            "NPS trend",
            &labels(&["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]),
            &[s("nps", &[Some(35.0), None, Some(42.0), Some(55.0)])],
            &[("Target 50".into(), 50.0)],
        );
        accessible(&svg, "NPS trend");
        assert!(svg.contains("<polyline") || svg.contains("<path"), "{svg}");
        assert!(svg.contains(&text("Target 50")));
        assert!(svg.contains("NPS: 2026-Q1 = 35, 2026-Q2 = none"));
    }

    #[test]
    fn scatter_heat_map_and_kpi() {
        let pts = vec![
            Point {
                label: "Acme".into(),
                x: 70.0,
                y: 50_000.0,
                group: "RED".into(),
            },
            Point {
                label: "Beta".into(),
                x: 10.0,
                y: 5_000.0,
                group: "GREEN".into(),
            },
        ];
        let svg = scatter("Risk vs expansion", "Risk", "Expansion ($)", &pts);
        accessible(&svg, "Risk vs expansion");
        assert!(svg.contains("<circle"));
        assert!(svg.contains("Acme (RED): Risk 70, Expansion ($) 50000"));

        let svg = heat_map(
            "Heat map",
            &labels(&["Acme", "Beta"]),
            &labels(&["DAU", "Risk"]),
            &[vec![Some(20.0), Some(70.0)], vec![Some(80.0), Some(10.0)]],
            &[true, false],
        );
        accessible(&svg, "Heat map");
        assert!(svg.contains(&text("Acme")) && svg.contains(&text("70")));
        // Acme's low DAU and high risk are both red; Beta's DAU green.
        assert!(svg.matches("fill=\"#D62728\"").count() >= 2, "{svg}");
        assert!(svg.contains("fill=\"#2EA043\""));

        let svg = kpi("Key figures", &[("NPS (NPS)".into(), "42".into())]);
        accessible(&svg, "Key figures");
        assert!(svg.contains(&text("42")));
    }

    #[test]
    fn empty_data_says_so() {
        for svg in [
            bar("Empty", &[], &[], &[], false),
            bar("Empty", &labels(&["a"]), &[s("x", &[None])], &[], true),
            line("Empty", &labels(&["a"]), &[s("x", &[None])], &[]),
            scatter("Empty", "x", "y", &[]),
            heat_map("Empty", &[], &[], &[], &[]),
            kpi("Empty", &[]),
            no_data("Empty"),
        ] {
            accessible(&svg, "Empty");
            assert!(svg.contains(&text("No data yet")), "{svg}");
            assert!(svg.contains("chart-empty"));
        }
    }

    #[test]
    fn odd_values_do_not_panic() {
        let svg = bar(
            "<script>",
            &labels(&["a\"b", "x"]),
            &[s("v", &[Some(-5.0), Some(0.0)])],
            &[],
            false,
        );
        accessible(&svg, "<script>");
        assert!(!svg.contains("<script>"));
        let svg = line("Flat", &labels(&["a"]), &[s("v", &[Some(0.0)])], &[]);
        accessible(&svg, "Flat");
    }
}
