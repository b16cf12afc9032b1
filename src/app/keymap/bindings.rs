//! The table of bindings itself: every key, in the order help lists them,
//! with its action, description and footer hint.

use ratatui::crossterm::event::KeyCode;

use super::{Binding, Group, Hint, Key, Mode};
use crate::app::{Action, OpenList, Tab};

const NORMAL: &[Mode] = &[Mode::Normal];
const ALL_MODES: &[Mode] = &[Mode::Normal, Mode::Filter, Mode::Help];

/// Rows the mouse wheel scrolls per notch.
const WHEEL_ROWS: usize = 3;

/// Every key, in the order help lists them.
pub static BINDINGS: &[Binding] = &[
    Binding {
        modes: NORMAL,
        group: Group::Move,
        keys: &[
            (Key::Plain(KeyCode::Up), Action::Up(1)),
            (Key::Plain(KeyCode::Down), Action::Down(1)),
            (Key::Plain(KeyCode::Char('k')), Action::Up(1)),
            (Key::Plain(KeyCode::Char('j')), Action::Down(1)),
            (Key::WheelUp, Action::Up(WHEEL_ROWS)),
            (Key::WheelDown, Action::Down(WHEEL_ROWS)),
        ],
        description: "move the selection; in Recent samples and Requests, ↑ scrolls back (the screen holds still)",
        hint: Some(Hint {
            keys: 2,
            text: |view| match view {
                OpenList::Metrics | OpenList::Series | OpenList::Request => Some("move"),
                OpenList::Problems | OpenList::ProblemSeries => Some("move"),
                OpenList::Samples | OpenList::Log => Some("scroll back"),
                OpenList::Requests | OpenList::Cardinality => Some("select"),
            },
        }),
    },
    Binding {
        modes: NORMAL,
        group: Group::Move,
        keys: &[
            (Key::Plain(KeyCode::PageUp), Action::PageUp),
            (Key::Plain(KeyCode::PageDown), Action::PageDown),
            (Key::Ctrl('b'), Action::PageUp),
            (Key::Ctrl('f'), Action::PageDown),
            (Key::Ctrl('u'), Action::PageUp),
            (Key::Ctrl('d'), Action::PageDown),
        ],
        description: "move a page (the rows on screen)",
        hint: None,
    },
    Binding {
        modes: NORMAL,
        group: Group::Move,
        keys: &[
            (Key::Plain(KeyCode::Char('g')), Action::Top),
            (Key::Plain(KeyCode::Home), Action::Top),
        ],
        description: "first row; in a series' samples (newest first), follow new samples again",
        hint: Some(Hint {
            keys: 1,
            text: |view| (view == OpenList::Samples).then_some("follow"),
        }),
    },
    Binding {
        modes: NORMAL,
        group: Group::Move,
        keys: &[
            (Key::Plain(KeyCode::Char('G')), Action::Bottom),
            (Key::Plain(KeyCode::End), Action::Bottom),
        ],
        description: "last row; in Recent samples and Requests, follow new entries again",
        hint: Some(Hint {
            keys: 1,
            text: |view| matches!(view, OpenList::Log | OpenList::Requests).then_some("follow"),
        }),
    },
    Binding {
        modes: NORMAL,
        group: Group::Move,
        keys: &[
            (Key::Plain(KeyCode::Enter), Action::Enter),
            (Key::Plain(KeyCode::Right), Action::Enter),
            (Key::Plain(KeyCode::Char('l')), Action::Enter),
        ],
        description: "open: metric → its series → one series; in Recent samples, the highlighted sample's series; in Requests, the request (its headers, answers and decoded content), and there a series; in Problems, rule → the series it fired on → one series",
        hint: Some(Hint {
            keys: 1,
            text: |view| match view {
                OpenList::Metrics => Some("series"),
                OpenList::Series => Some("detail"),
                OpenList::Log | OpenList::ProblemSeries | OpenList::Request => Some("open series"),
                OpenList::Problems => Some("series"),
                OpenList::Requests => Some("open"),
                OpenList::Cardinality => Some("open / filter"),
                OpenList::Samples => None,
            },
        }),
    },
    Binding {
        modes: NORMAL,
        group: Group::Move,
        keys: &[
            (Key::Plain(KeyCode::Esc), Action::Back),
            (Key::Plain(KeyCode::Backspace), Action::Back),
            (Key::Plain(KeyCode::Left), Action::Back),
            (Key::Plain(KeyCode::Char('h')), Action::Back),
        ],
        description: "back to where you came from (each tab keeps its own place)",
        hint: Some(Hint {
            keys: 1,
            text: |view| {
                matches!(
                    view,
                    OpenList::Series
                        | OpenList::Samples
                        | OpenList::ProblemSeries
                        | OpenList::Request
                        | OpenList::Cardinality
                )
                .then_some("back")
            },
        }),
    },
    Binding {
        modes: NORMAL,
        group: Group::Move,
        keys: &[
            (Key::Plain(KeyCode::Tab), Action::NextTab),
            (Key::Plain(KeyCode::BackTab), Action::PrevTab),
            (Key::Plain(KeyCode::Char('1')), Action::GoTab(Tab::Metrics)),
            (Key::Plain(KeyCode::Char('2')), Action::GoTab(Tab::Log)),
            (Key::Plain(KeyCode::Char('3')), Action::GoTab(Tab::Requests)),
            (Key::Plain(KeyCode::Char('4')), Action::GoTab(Tab::Problems)),
            (
                Key::Plain(KeyCode::Char('5')),
                Action::GoTab(Tab::Cardinality),
            ),
        ],
        description: "Metrics · Recent samples · Requests · Problems · Cardinality",
        hint: Some(Hint {
            keys: 1,
            text: |view| {
                matches!(
                    view,
                    OpenList::Metrics
                        | OpenList::Requests
                        | OpenList::Problems
                        | OpenList::Cardinality
                )
                .then_some("views")
            },
        }),
    },
    Binding {
        modes: NORMAL,
        group: Group::Look,
        keys: &[
            (
                Key::Plain(KeyCode::Char('w')),
                Action::WriteBody { decoded: false },
            ),
            (
                Key::Plain(KeyCode::Char('W')),
                Action::WriteBody { decoded: true },
            ),
        ],
        description: "in an open request, write its body to a new file in the current directory: as received (w), or decoded as JSON lines like --format json (W); the status line says where",
        hint: Some(Hint {
            keys: 2,
            text: |view| (view == OpenList::Request).then_some("write body"),
        }),
    },
    Binding {
        modes: NORMAL,
        group: Group::Look,
        keys: &[(Key::Plain(KeyCode::Char('/')), Action::FilterEdit)],
        description: "edit the filter: a regex over name{labels}, or a selector {job=\"x\", code=~\"5..\"} (also typed without braces: the line says how it is read); ! inverts; it applies as you type, where you are. Series and requests take {__tenant__=\"a\"} and {__sender__=\"…\"}",
        hint: Some(Hint {
            keys: 1,
            text: |_| Some("filter"),
        }),
    },
    Binding {
        modes: NORMAL,
        group: Group::Look,
        keys: &[(Key::Plain(KeyCode::Char(' ')), Action::TogglePause)],
        description: "pause the screen (data keeps arriving; resuming applies it)",
        hint: Some(Hint {
            keys: 1,
            text: |_| Some("pause"),
        }),
    },
    Binding {
        modes: NORMAL,
        group: Group::Look,
        keys: &[
            (Key::Plain(KeyCode::Char('s')), Action::CycleSort),
            (Key::Plain(KeyCode::Char('r')), Action::ReverseSort),
        ],
        description: "cycle the sort key (metrics: series, samples/s, name; series: labels, samples/s, value; problems: severity, count, last seen, rule; cardinality: active series, churn) / reverse it",
        hint: Some(Hint {
            keys: 1,
            text: |view| {
                matches!(
                    view,
                    OpenList::Metrics
                        | OpenList::Series
                        | OpenList::Problems
                        | OpenList::ProblemSeries
                        | OpenList::Cardinality
                )
                .then_some("sort")
            },
        }),
    },
    Binding {
        modes: NORMAL,
        group: Group::Look,
        keys: &[(Key::Plain(KeyCode::Char('?')), Action::ToggleHelp)],
        description: "this help",
        hint: Some(Hint {
            keys: 1,
            text: |_| Some("help"),
        }),
    },
    Binding {
        modes: NORMAL,
        group: Group::Look,
        keys: &[(Key::Plain(KeyCode::Char('q')), Action::Quit)],
        description: "quit (the terminal is restored, and a summary is printed; the same on SIGTERM, SIGINT, SIGHUP or SIGQUIT)",
        hint: Some(Hint {
            keys: 1,
            text: |_| Some("quit"),
        }),
    },
    Binding {
        modes: ALL_MODES,
        group: Group::Look,
        keys: &[(Key::Ctrl('c'), Action::Quit)],
        description: "quit, also while editing the filter",
        hint: None,
    },
    Binding {
        modes: NORMAL,
        group: Group::Look,
        keys: &[(Key::Plain(KeyCode::Char('a')), Action::ToggleAllLabels)],
        description: "rows of Recent samples and of the series list show all labels / only those that tell the rows on screen apart (… stands for the others)",
        hint: Some(Hint {
            keys: 1,
            text: |view| matches!(view, OpenList::Series | OpenList::Log).then_some("labels"),
        }),
    },
    Binding {
        modes: NORMAL,
        group: Group::Look,
        keys: &[(Key::Plain(KeyCode::Char('c')), Action::CopySelector)],
        description: "copy the selected series (or metric) as a selector: to the clipboard where the terminal allows it (OSC 52), and on a line of its own to select with the mouse (Shift-drag)",
        hint: Some(Hint {
            keys: 1,
            text: |view| {
                matches!(
                    view,
                    OpenList::Series
                        | OpenList::Samples
                        | OpenList::Log
                        | OpenList::ProblemSeries
                        | OpenList::Request
                )
                .then_some("copy")
            },
        }),
    },
    Binding {
        modes: NORMAL,
        group: Group::Look,
        keys: &[(Key::Plain(KeyCode::Char('C')), Action::OpenCardinality)],
        description: "cardinality of the selected metric (or of the one open): its labels by distinct values, unbounded ones first; Enter on a label lists its values, Enter on a value filters to its series",
        hint: Some(Hint {
            keys: 1,
            text: |view| {
                matches!(view, OpenList::Metrics | OpenList::Series).then_some("cardinality")
            },
        }),
    },
    Binding {
        modes: NORMAL,
        group: Group::Look,
        keys: &[(Key::Plain(KeyCode::Char('t')), Action::OpenParties)],
        description: "tenants and senders: active series, samples/s and new series/s of each; Enter on one filters to its series ({__tenant__=\"…\"} or {__sender__=\"…\"})",
        hint: Some(Hint {
            keys: 1,
            text: |view| (view == OpenList::Cardinality).then_some("tenants"),
        }),
    },
    Binding {
        modes: &[Mode::Filter],
        group: Group::Filter,
        // The character typed replaces the placeholder (see `action_for`).
        keys: &[(Key::AnyChar, Action::FilterType(' '))],
        description: "type the filter (it applies once typing pauses)",
        hint: Some(Hint {
            keys: 0,
            text: |_| Some("type a regex or {selector}"),
        }),
    },
    Binding {
        modes: &[Mode::Filter],
        group: Group::Filter,
        keys: &[(Key::Plain(KeyCode::Enter), Action::FilterAccept)],
        description: "apply the filter and stop editing (an invalid one is not applied)",
        hint: Some(Hint {
            keys: 1,
            text: |_| Some("apply"),
        }),
    },
    Binding {
        modes: &[Mode::Filter],
        group: Group::Filter,
        keys: &[(Key::Plain(KeyCode::Esc), Action::FilterCancel)],
        description: "cancel the edit: back to the filter in force before",
        hint: Some(Hint {
            keys: 1,
            text: |_| Some("cancel"),
        }),
    },
    Binding {
        modes: &[Mode::Filter],
        group: Group::Filter,
        keys: &[(Key::Plain(KeyCode::Backspace), Action::FilterBackspace)],
        description: "delete the last character",
        hint: None,
    },
    Binding {
        modes: &[Mode::Filter],
        group: Group::Filter,
        keys: &[(Key::Ctrl('u'), Action::FilterSet(String::new()))],
        description: "erase the line (then Enter: no filter)",
        hint: Some(Hint {
            keys: 1,
            text: |_| Some("erase"),
        }),
    },
    Binding {
        modes: &[Mode::Help],
        group: Group::Help,
        keys: &[
            (Key::Plain(KeyCode::Up), Action::Up(1)),
            (Key::Plain(KeyCode::Down), Action::Down(1)),
            (Key::Plain(KeyCode::Char('k')), Action::Up(1)),
            (Key::Plain(KeyCode::Char('j')), Action::Down(1)),
            (Key::Plain(KeyCode::PageUp), Action::PageUp),
            (Key::Plain(KeyCode::PageDown), Action::PageDown),
            (Key::WheelUp, Action::Up(WHEEL_ROWS)),
            (Key::WheelDown, Action::Down(WHEEL_ROWS)),
        ],
        description: "scroll this help (when the terminal is too small for it)",
        hint: Some(Hint {
            keys: 2,
            text: |_| Some("scroll"),
        }),
    },
    Binding {
        modes: &[Mode::Help],
        group: Group::Help,
        keys: &[(Key::Plain(KeyCode::Char('q')), Action::Quit)],
        description: "quit",
        hint: Some(Hint {
            keys: 1,
            text: |_| Some("quit"),
        }),
    },
    Binding {
        modes: &[Mode::Help],
        group: Group::Help,
        keys: &[(Key::AnyOther, Action::ToggleHelp)],
        description: "close this help",
        hint: Some(Hint {
            keys: 1,
            text: |_| Some("closes"),
        }),
    },
];
