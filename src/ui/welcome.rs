//! The screen before any data: where to point Prometheus.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::theme;
use super::widgets::styled;
use crate::app::App;

/// Draws the welcome screen.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let url = format!("http://{}/api/v1/write", app.listen);
    let bold = theme::palette().strong;
    let code = theme::palette().code;
    let mut lines = vec![
        Line::from(styled(
            format!("Waiting for remote-write requests on {url}"),
            bold,
        )),
        Line::raw(""),
        Line::raw(
            "Add this to prometheus.yml and reload Prometheus (RW 1.0, every Prometheus version):",
        ),
        Line::raw(""),
        Line::from(styled("  remote_write:", code)),
        Line::from(styled(format!("    - url: {url}"), code)),
        Line::raw(""),
        Line::raw("For remote-write 2.0 (Prometheus 3.x), with native histograms:"),
        Line::raw(""),
        Line::from(styled("  remote_write:", code)),
        Line::from(styled(format!("    - url: {url}"), code)),
        Line::from(styled(
            "      protobuf_message: io.prometheus.write.v2.Request",
            code,
        )),
        Line::from(styled("      send_native_histograms: true", code)),
        Line::raw(""),
        Line::raw(
            "Any other sender (Grafana Alloy, vmagent, OpenTelemetry collector) takes the same URL.",
        ),
    ];
    if app.listen.ip().is_loopback() {
        lines.push(Line::raw(""));
        lines.push(Line::from(styled(
            format!(
                "Senders on other hosts cannot reach {}: start with --listen 0.0.0.0:{} instead.",
                app.listen,
                app.listen.port()
            ),
            theme::dim(),
        )));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(styled(
        "No Prometheus at hand? Run `promscope send` in another terminal, or `promscope --demo`.",
        theme::dim(),
    )));
    lines.push(Line::from(styled(
        "Press ? for keys, q to quit.",
        theme::dim(),
    )));
    let block = Block::bordered().title(" Welcome ");
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}
