//! The screen before any data: where to point Prometheus.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::theme;
use super::widgets::styled;
use crate::app::App;
use crate::ingest::server::{Access, ClientCert};
use crate::text::escape::escaped;

/// Draws the welcome screen.
pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    if let Some(replay) = &app.replay {
        let text = match replay.ended {
            None => format!("Replaying {}: no data yet.", escaped(&replay.file)),
            Some(_) => format!("{} holds no data to show.", escaped(&replay.file)),
        };
        let lines = vec![
            Line::from(styled(text, theme::palette().strong)),
            Line::raw(""),
            Line::from(styled("Press ? for keys, q to quit.", theme::dim())),
        ];
        let block = Block::bordered().title(" Replay ");
        frame.render_widget(Paragraph::new(lines).block(block), area);
        return;
    }
    let url = app.access.url(app.listen);
    let bold = theme::palette().strong;
    let code = theme::palette().code;
    let snippet = |text: String| Line::from(styled(text, code));
    let credentials = sender_credentials(app.access);
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
        snippet("  remote_write:".into()),
        snippet(format!("    - url: {url}")),
    ];
    lines.extend(credentials.iter().map(|l| snippet(format!("      {l}"))));
    lines.push(Line::raw(""));
    if credentials.is_empty() {
        lines.extend([
            Line::raw("For remote-write 2.0 (Prometheus 3.x), with native histograms:"),
            Line::raw(""),
            snippet("  remote_write:".into()),
            snippet(format!("    - url: {url}")),
        ]);
    } else {
        lines.extend([
            Line::raw(
                "For remote-write 2.0 (Prometheus 3.x), with native histograms, add beside url:",
            ),
            Line::raw(""),
        ]);
    }
    lines.extend([
        snippet("      protobuf_message: io.prometheus.write.v2.Request".into()),
        snippet("      send_native_histograms: true".into()),
        Line::raw(""),
        Line::raw(
            "Any other sender (Grafana Alloy, vmagent, OpenTelemetry collector) takes the same URL.",
        ),
    ]);
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

/// What a Prometheus `remote_write` entry needs beside its `url` to get in:
/// TLS trust, a client certificate, credentials. Empty for a plain open receiver.
fn sender_credentials(access: Access) -> Vec<&'static str> {
    let mut lines = Vec::new();
    if access.tls {
        lines.extend([
            "tls_config:",
            "  ca_file: ca.pem              # the CA of promscope's certificate",
        ]);
        match access.client_cert {
            ClientCert::NotAsked => {}
            ClientCert::Optional => lines.extend([
                "  cert_file: client.pem        # a client certificate (asked for, optional)",
                "  key_file: client-key.pem",
            ]),
            ClientCert::Required => lines.extend([
                "  cert_file: client.pem        # a client certificate (required)",
                "  key_file: client-key.pem",
            ]),
        }
    }
    let basic = [
        "basic_auth:",
        "  username: USER               # one of basic_auth_users",
        "  password_file: password",
    ];
    match (access.basic_auth, access.bearer_token) {
        (false, false) => {}
        (true, false) => lines.extend(basic),
        (false, true) => lines.extend([
            "authorization:",
            "  credentials_file: token      # the token of --auth-token-file",
        ]),
        // Prometheus takes one of the two per remote_write entry.
        (true, true) => lines.extend(basic.into_iter().chain([
            "# or the token of --auth-token-file instead:",
            "# authorization:",
            "#   credentials_file: token",
        ])),
    }
    lines
}
