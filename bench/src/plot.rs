//! A latency-percentile plot as a hand-written SVG, one line per run: x is the percentile on a
//! log scale (50, 90, 99, ..., 99.999: each step is ten times rarer), y is the latency on a log
//! scale, so a 50 us median and a 200 ms stall are both readable on one chart.

use hdrhistogram::Histogram;
use std::fmt::Write;

/// One line of the plot.
pub struct Series<'a> {
    pub label: String,
    pub hist: &'a Histogram<u64>,
    /// Drawn dashed (end-to-end lines, floors).
    pub dashed: bool,
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 560.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 260.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;
const COLORS: [&str; 10] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
    "#bcbd22", "#7f7f7f",
];
/// Percentile range of the x axis, as "nines": 50% = log10(2), 99.999% = 5.
const X_MAX_NINES: f64 = 5.0;
const POINTS: usize = 240;

fn nines(percentile: f64) -> f64 {
    -(1.0 - percentile / 100.0).log10()
}

/// The SVG document. Empty histograms are left out.
pub fn svg(title: &str, series: &[Series]) -> String {
    let series: Vec<&Series> = series.iter().filter(|s| !s.hist.is_empty()).collect();
    let lo = series
        .iter()
        .map(|s| s.hist.value_at_quantile(0.5).max(1))
        .min()
        .unwrap_or(1);
    let hi = series
        .iter()
        .map(|s| s.hist.max().max(1))
        .max()
        .unwrap_or(1000);
    let y_min = (lo as f64).log10().floor();
    let y_max = ((hi as f64).log10().ceil()).max(y_min + 1.0);
    let x_min = nines(50.0);
    let (pw, ph) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let x_of = |n: f64| LEFT + (n - x_min) / (X_MAX_NINES - x_min) * pw;
    let y_of = |us: f64| TOP + ph - (us.max(1.0).log10() - y_min) / (y_max - y_min) * ph;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="{}" y="28" font-size="16" text-anchor="middle">{}</text>"#,
        LEFT + pw / 2.0,
        escape(title)
    );
    // Grid and axes.
    for p in [50.0, 90.0, 99.0, 99.9, 99.99, 99.999] {
        let x = x_of(nines(p));
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{:.1}" stroke="#ddd"/><text x="{x:.1}" y="{:.1}" text-anchor="middle">{p}%</text>"##,
            TOP + ph,
            TOP + ph + 18.0
        );
    }
    let mut decade = y_min;
    while decade <= y_max {
        for m in [1.0, 2.0, 5.0] {
            let us = m * 10f64.powf(decade);
            if us.log10() > y_max + 1e-9 {
                break;
            }
            let y = y_of(us);
            let stroke = if m == 1.0 { "#ccc" } else { "#eee" };
            let _ = writeln!(
                s,
                r#"<line x1="{LEFT}" y1="{y:.1}" x2="{:.1}" y2="{y:.1}" stroke="{stroke}"/>"#,
                LEFT + pw
            );
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                LEFT - 6.0,
                y + 4.0,
                axis_label(us)
            );
        }
        decade += 1.0;
    }
    let _ = writeln!(
        s,
        r#"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="black"/>"#
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">percentile</text>"#,
        LEFT + pw / 2.0,
        HEIGHT - 18.0
    );
    let _ = writeln!(
        s,
        r#"<text x="18" y="{:.1}" text-anchor="middle" transform="rotate(-90 18 {:.1})">latency</text>"#,
        TOP + ph / 2.0,
        TOP + ph / 2.0
    );
    // Lines and legend.
    for (i, series) in series.iter().enumerate() {
        let color = COLORS[i % COLORS.len()];
        let dash = if series.dashed {
            r#" stroke-dasharray="6 4""#
        } else {
            ""
        };
        let mut points = String::new();
        for k in 0..=POINTS {
            let n = x_min + (X_MAX_NINES - x_min) * k as f64 / POINTS as f64;
            let q = 1.0 - 10f64.powf(-n);
            let v = series.hist.value_at_quantile(q) as f64;
            let _ = write!(points, "{:.1},{:.1} ", x_of(n), y_of(v));
        }
        let _ = writeln!(
            s,
            r#"<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{}"/>"#,
            points.trim_end()
        );
        let ly = TOP + 10.0 + 20.0 * i as f64;
        let lx = LEFT + pw + 16.0;
        let _ = writeln!(
            s,
            r#"<line x1="{lx}" y1="{ly}" x2="{}" y2="{ly}" stroke="{color}" stroke-width="2"{dash}/><text x="{}" y="{}">{}</text>"#,
            lx + 24.0,
            lx + 30.0,
            ly + 4.0,
            escape(&series.label)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// `100us`, `2ms`, `1s`: tick values are 1, 2 or 5 times a power of ten.
fn axis_label(us: f64) -> String {
    let us = us.round() as u64;
    match us {
        0..=999 => format!("{us}us"),
        1_000..=999_999 => format!("{}ms", us / 1_000),
        _ => format!("{}s", us / 1_000_000),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_one_line_per_non_empty_run() {
        let mut a = crate::metrics::histogram();
        let mut b = crate::metrics::histogram();
        for v in 1..=10_000u64 {
            a.record(50 + v % 100).unwrap();
            b.record(v * 10).unwrap();
        }
        let empty = crate::metrics::histogram();
        let svg = svg(
            "runs <a & b>",
            &[
                Series {
                    label: "a".into(),
                    hist: &a,
                    dashed: false,
                },
                Series {
                    label: "b".into(),
                    hist: &b,
                    dashed: true,
                },
                Series {
                    label: "empty".into(),
                    hist: &empty,
                    dashed: false,
                },
            ],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("runs &lt;a &amp; b&gt;"));
        assert!(svg.contains("99.999%"));
        assert!(!svg.contains("NaN"));
        assert_eq!(axis_label(20_000.0), "20ms");
        assert_eq!(axis_label(500.0), "500us");
    }
}
