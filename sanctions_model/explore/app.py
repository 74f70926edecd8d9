"""The explorer's web page (Dash): its layout and callbacks, and the server that serves it.

Dash is imported inside the functions, so that ``import sanctions_model`` never needs it; without
it, :func:`build_app` and :func:`serve` raise an :class:`~sanctions_model.errors.InputError` that
says how to install it. Dash serves its scripts and Plotly from the installed package (no CDN), so
the page works without internet.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import socket
import time
from typing import Any

from .._version import __version__
from ..errors import InputError, SolverError
from . import figures, words
from .compute import CHANCES, DEFAULT_MEMBERS, Explorer, check_days, check_members, check_scenario
from .controls import Control
from .scenario_file import file_name, scenario_text

#: The page's title.
TITLE = "sanctions-model explorer"
#: Styles of the page (inline, so that the package needs no asset folder).
STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; margin: 0;
       color: #1b1b1b; background: #f6f7f9; }
.page { max-width: 1500px; margin: 0 auto; padding: 14px 20px 30px; }
.header h1 { font-size: 22px; margin: 4px 0 2px; }
.header p { margin: 2px 0; color: #555; font-size: 13px; }
.main { display: grid; grid-template-columns: 400px 1fr; gap: 18px; margin-top: 12px; }
.controls { background: #fff; border: 1px solid #e2e4e8; border-radius: 6px; padding: 10px 14px;
            max-height: calc(100vh - 110px); overflow-y: auto; }
.controls h3 { font-size: 14px; margin: 14px 0 4px; text-transform: uppercase; letter-spacing: .04em; color: #1f4e79; }
.control { padding: 6px 0 8px; border-bottom: 1px solid #f0f0f0; }
.control label { font-weight: 600; font-size: 13px; display: block; margin-bottom: 2px; }
.meta { font-size: 11px; color: #555; margin-top: 2px; }
.meta details summary { cursor: pointer; color: #555; }
.meta details p { margin: 3px 0 0; }
.hint { font-size: 12px; color: #555; margin: 2px 0 6px; }
.buttons { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; margin: 12px 0 6px; }
.buttons button { background: #1f4e79; color: #fff; border: 0; border-radius: 4px; padding: 7px 10px; font-size: 13px;
                  cursor: pointer; }
.buttons button.secondary { background: #e8ecf2; color: #1f4e79; }
pre.toml { font-size: 11px; background: #f6f7f9; padding: 6px; max-height: 220px; overflow: auto;
           white-space: pre-wrap; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 10px; }
.card { background: #fff; border: 1px solid #e2e4e8; border-radius: 6px; padding: 8px 12px; }
.card h4 { margin: 0; font-size: 13px; font-weight: 600; }
.card .when { font-size: 11px; color: #666; }
.card .big { font-size: 30px; font-weight: 700; color: #1f4e79; margin: 2px 0; }
.card .filed { font-size: 11px; color: #666; }
.card .members { font-size: 13px; color: #b2182b; font-weight: 600; margin-top: 3px; }
.summary { background: #fff; border-left: 4px solid #1f4e79; padding: 8px 12px; font-size: 13px; line-height: 1.45;
           margin: 10px 0; }
.legend { font-size: 12px; color: #444; display: flex; gap: 16px; flex-wrap: wrap; margin: 4px 0; }
.legend span.key { display: inline-block; width: 26px; height: 0; vertical-align: middle; margin-right: 5px; }
.panels { display: grid; grid-template-columns: 1fr 1fr; gap: 10px; }
.panel { background: #fff; border: 1px solid #e2e4e8; border-radius: 6px; padding-top: 6px; }
.panel-title { font-size: 13px; font-weight: 600; padding: 0 10px; }
.panel-title span { font-weight: 400; color: #666; font-size: 11px; }
.caveat { font-size: 12px; color: #555; font-style: italic; margin: 4px 0 0; }
.error { background: #fdecea; color: #8a1c1c; border: 1px solid #f5c2c0; border-radius: 4px; padding: 8px 12px;
         font-size: 13px; margin-bottom: 8px; }
.footer { font-size: 12px; color: #555; margin-top: 10px; }
"""


def require_dash() -> Any:
    """The ``dash`` module, or an InputError that says how to install it.

    Returns
    -------
    module

    Raises
    ------
    InputError
        If Dash is not installed.
    """
    try:
        import dash
    except ImportError:
        raise InputError("the explorer needs Dash: pip install 'sanctions-model[explore]'") from None
    return dash


def check_port(port: object) -> int:
    """A TCP port: a whole number from 1 to 65535.

    Parameters
    ----------
    port : object

    Returns
    -------
    int

    Raises
    ------
    InputError
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise InputError(f"port must be a whole number from 1 to 65535, got {port!r}.")
    return port


def check_host(host: object) -> str:
    """A host name or address to bind to.

    Parameters
    ----------
    host : object

    Returns
    -------
    str

    Raises
    ------
    InputError
    """
    if not isinstance(host, str) or not host.strip() or any(c.isspace() for c in host):
        raise InputError(f"host must be a host name or an IP address such as 127.0.0.1, got {host!r}.")
    return host


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _slider(dash: Any, control: Control, value: float) -> Any:
    """A control's block: title, slider (with its input box, where Dash has one), unit, range and source."""
    html, dcc = dash.html, dash.dcc
    source = control.source
    short = source if len(source) <= 90 else source[:87].rsplit(" ", 1)[0] + " ..."
    marks = {control.low: f"{control.low:g}", control.high: f"{control.high:g}"}
    return html.Div(className="control", id=f"control-{control.slug}", children=[
        html.Label(control.title, htmlFor=f"slider-{control.slug}"),
        dcc.Slider(id=f"slider-{control.slug}", min=control.low, max=control.high, step=control.step, value=value,
                   marks=marks, updatemode="mouseup", tooltip={"placement": "bottom", "always_visible": False}),
        html.Div(className="meta", children=[
            html.Div(f"{control.description} [{control.unit}], {control.low:g} to {control.high:g}."),
            html.Details([html.Summary(f"Source: {short}"), html.P(source)]) if short != source
            else html.Div(f"Source: {source}"),
        ]),
    ])


def _card(dash: Any, outcome: str, title: str) -> Any:
    html = dash.html
    slug = outcome.replace("_", "-")
    return html.Div(className="card", children=[
        html.H4(title), html.Div(id=f"when-{slug}", className="when"),
        html.Div(id=slug, className="big", children="..."),
        html.Div(id=f"filed-{slug}", className="filed"),
        html.Div(id=f"members-{slug}", className="members"),
    ])


def _legend(dash: Any) -> Any:
    html = dash.html
    items = []
    for colour, style, label in figures.LEGEND:
        if style == "band":
            key = {"background": colour, "height": "10px", "border": "0"}
        else:
            key = {"borderTop": f"2px {'solid' if style == 'solid' else style} {colour}"}
        items.append(html.Span([html.Span(className="key", style=key), label]))
    return html.Div(className="legend", children=items)


def _layout(dash: Any, explorer: Explorer) -> Any:
    html, dcc = dash.html, dash.dcc
    values = explorer.values(explorer.scenario)
    file = explorer.file
    levers = [c for c in explorer.controls if c.kind == "lever"]
    assumptions = [c for c in explorer.controls if c.kind == "assumption"]
    start = load_start(explorer)
    return html.Div(className="page", children=[
        html.Div(className="header", children=[
            html.H1("Sanctions on Russia, talks and a ceasefire: explore the model"),
            html.P(f"sanctions-model {__version__}. Horizon: {explorer.days:g} days from {start}. The band is drawn "
                   f"from {explorer.members} of the {len(file.members):,} members of the constrained ensemble "
                   f"{file.path.name} (cut on {file.meta.get('as_of')}).", id="provenance"),
        ]),
        html.Div(className="main", children=[
            html.Div(className="controls", children=[
                html.Label("Scenario", htmlFor="scenario", style={"fontWeight": 600, "fontSize": "13px"}),
                dcc.Dropdown(id="scenario", options=[{"label": t, "value": k} for k, t in explorer.choices.items()],
                             value=explorer.scenario, clearable=False, searchable=False),
                html.P(id="scenario-description", className="hint",
                       children=explorer.filed(explorer.scenario)[0].applied[-1].description
                       if explorer.filed(explorer.scenario)[0].applied else ""),
                html.Div(className="buttons", children=[
                    html.Button("Download scenario file", id="download-button", title=(
                        "A TOML file in the format of params/scenarios/*.toml: sanctions-model run --scenario FILE")),
                    dcc.Download(id="download"),
                    html.Button("Reset to scenario", id="reset", className="secondary"),
                ]),
                html.H3("Policy levers (the article)"),
                html.P("Each lever moves from where it stood on the start date to the level set here, from the day "
                       "set (the scenario sets how fast).", className="hint"),
                *[_slider(dash, c, values[c.name]) for c in levers],
                html.H3("Key assumptions"),
                html.P("The assumptions the chances depend on most (the report's Sobol' ranking) and the oil "
                       "price. Moved away from the scenario's value, an assumption is held at the value set in "
                       "every member; at the scenario's value, each member keeps its own.", className="hint"),
                *[_slider(dash, c, values[c.name]) for c in assumptions],
                html.Details(className="meta", children=[
                    html.Summary("These settings as a scenario file"),
                    dcc.Clipboard(target_id="scenario-toml", title="Copy", style={"float": "right"}),
                    html.Pre(id="scenario-toml", className="toml"),
                ]),
            ]),
            html.Div(className="results", children=[
                html.Div(id="error", className="error", style={"display": "none"}, role="alert"),
                html.Div(className="cards", children=[_card(dash, k, t) for k, t in CHANCES.items()]),
                html.Div(className="summary", children=[html.Div(id="summary"),
                                                        html.P(words.CAVEAT, className="caveat")]),
                _legend(dash),
                html.Div(className="panels", children=[
                    html.Div(className="panel", children=[
                        html.Div(className="panel-title", children=[p.title, html.Span(f" [{p.unit}]")]),
                        dcc.Graph(id=f"fig-{p.variable.replace('_', '-')}",
                                  style={"height": f"{figures.PANEL_HEIGHT}px"},
                                  config={"displaylogo": False,
                                          "modeBarButtons": [["toImage", "resetScale2d"]]}),
                    ]) for p in figures.PANELS]),
                html.P(id="timing", className="footer"),
                html.P(className="footer", children=[
                    "Central: the run at these settings from the base file's starting state. Members: assumption "
                    "sets of the constrained ensemble that fit the record, drawn by weight, each projected from its "
                    "own state on the cut date (sanctions-model run with the downloaded scenario file projects "
                    "all of them). The \u00b1 is the "
                    "95% sampling margin of the members drawn, not the spread of the assumptions.",
                ]),
                dcc.Store(id="scenario-file-name"),
            ]),
        ]),
    ])


def load_start(explorer: Explorer) -> str:
    """The scenarios' start date, ISO."""
    return explorer.filed(explorer.scenario)[0].start_date.isoformat()


def build_app(scenario: str = "status_quo", days: float = 730, ensemble: str | os.PathLike[str] | None = None,
              members: int = DEFAULT_MEMBERS) -> Any:
    """The explorer as a Dash app (not started: ``app.run()`` or :func:`serve` starts it).

    Parameters
    ----------
    scenario : str
        The scenario the page opens on: a name (``sanctions-model scenarios``) or a scenario file.
    days : float [day]
        Horizon after the start date, 100 to 3650.
    ensemble : path, optional
        The constrained ensemble the band is drawn from (default ``params/constrained-ensemble.parquet``).
    members : int
        Members drawn for the band (each redraw projects all of them).

    Returns
    -------
    dash.Dash
        ``app.server`` is its Flask server (a WSGI app).

    Raises
    ------
    InputError
        If Dash is missing, or for an unknown scenario, a bad horizon or member count, or an unreadable
        ensemble file.
    """
    dash = require_dash()
    explorer = Explorer(scenario, days, ensemble, members)
    explorer.view(explorer.scenario, explorer.values(explorer.scenario))  # the opening view, ready on first load
    from dash import Input, Output, State, no_update

    app = dash.Dash(__name__, title=TITLE, update_title=None, serve_locally=True)
    app.index_string = app.index_string.replace("{%css%}", "{%css%}<style>" + STYLE + "</style>")
    app.layout = _layout(dash, explorer)
    sliders = [Input(f"slider-{c.slug}", "value") for c in explorer.controls]
    slugs = [k.replace("_", "-") for k in CHANCES]
    titles = {c.name: c.title for c in explorer.controls}
    app.explorer = explorer  # what the page computes with, for tests and notebooks

    @app.callback([Output(f"slider-{c.slug}", "value") for c in explorer.controls]
                  + [Output("scenario-description", "children")],
                  Input("scenario", "value"), Input("reset", "n_clicks"), prevent_initial_call=True)
    def reset(scenario: str, _: object) -> list[object]:
        try:
            values = explorer.values(scenario)
            params = explorer.filed(scenario)[0]
        except InputError:
            return [no_update] * (len(explorer.controls) + 1)
        return [*values.values(), params.applied[-1].description if params.applied else ""]

    outputs = [Output("error", "children"), Output("error", "style")]
    for slug in slugs:
        outputs += [Output(slug, "children"), Output(f"when-{slug}", "children"), Output(f"filed-{slug}", "children"),
                    Output(f"members-{slug}", "children")]
    outputs += [Output("summary", "children"), Output("scenario-toml", "children"),
                Output("scenario-file-name", "data"), Output("timing", "children")]
    outputs += [Output(f"fig-{p.variable.replace('_', '-')}", "figure") for p in figures.PANELS]

    @app.callback(outputs, Input("scenario", "value"), *sliders)
    def redraw(scenario: str, *values: object) -> list[object]:
        began = time.perf_counter()
        try:
            if not isinstance(scenario, str) or scenario not in explorer.choices:
                raise InputError(f"unknown scenario {scenario!r}; the page offers {', '.join(explorer.choices)}.")
            settings = dict(zip(titles, values))
            cached = explorer.is_cached(scenario, settings)
            view = explorer.view(scenario, settings)
        except (InputError, SolverError) as exc:  # shown on the page, which keeps the last good view
            return [str(exc), {}] + [no_update] * (len(outputs) - 2)
        title = explorer.choices.get(scenario, scenario)
        out: list[object] = ["", {"display": "none"}]
        for name in CHANCES:
            c = view.chances[name]
            out += [words.chance(c.central), words.when(view, name), f"{title} as filed: {words.chance(c.filed)}",
                    words.members_line(view, name)]
        figs = [figures.panel_figure(view, p, title) for p in figures.PANELS]
        changed = bool(view.params.overrides)
        text = scenario_text(view.params, scenario, view.filed.params)
        total = time.perf_counter() - began
        s = view.seconds
        timing = (f"Shown from the cache in {total:.2f} s (computed in {s['total']:.2f} s)." if cached else
                  f"Redrawn in {total:.2f} s on the server: the run at these settings {s['central']:.2f} s, "
                  f"{view.n_members} members {s['members']:.2f} s, figures and words "
                  f"{total - s['total']:.2f} s.")
        failed = view.n_members - view.n_ok
        if failed:
            timing += f" {failed} of the {view.n_members} members could not be integrated and are left out."
        out += [words.summary(view, titles, title), text, file_name(scenario, changed), timing]
        return out + figs

    @app.callback(Output("download", "data"), Input("download-button", "n_clicks"),
                  State("scenario-toml", "children"), State("scenario-file-name", "data"), prevent_initial_call=True)
    def download(_: object, text: str | None, name: str | None) -> object:
        if not text:
            return no_update
        return {"content": text, "filename": name or "explorer.toml", "type": "application/toml", "base64": False}

    return app


def serve(host: str = "127.0.0.1", port: int = 8050, scenario: str = "status_quo", days: float = 730,
          ensemble: str | os.PathLike[str] | None = None, members: int = DEFAULT_MEMBERS, debug: bool = False) -> None:
    """Start the explorer and serve it until interrupted (Ctrl+C).

    Parameters
    ----------
    host : str
        Address to bind to; the default, 127.0.0.1, serves this machine only (``0.0.0.0`` exposes the
        page, which has no login, to the network).
    port : int
        TCP port, 1 to 65535.
    scenario, days, ensemble, members
        As :func:`build_app`.
    debug : bool
        Dash's debug mode (reloads on code changes, shows tracebacks in the page): for development only.

    Raises
    ------
    InputError
        For a bad host, port, scenario, horizon, member count or ensemble, a port in use, or Dash missing;
        all are checked before the server starts.
    """
    host, port = check_host(host), check_port(port)
    check_days(days)
    check_members(members)
    check_scenario(scenario)
    if not isinstance(debug, bool):
        raise InputError(f"debug must be True or False, got {debug!r}.")
    _check_free(host, port)
    app = build_app(scenario, days, ensemble, members)
    shown = f"[{host}]" if ":" in host else host
    print(f"sanctions-model explorer: http://{shown}:{port}/ (Ctrl+C to stop)", flush=True)
    if not _is_loopback(host):
        print(f"warning: bound to {host}, so other machines can reach the page; it has no login.", flush=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app.run(host=host, port=port, debug=debug)


def _check_free(host: str, port: int) -> None:
    """Raise InputError if ``port`` on ``host`` cannot be bound (in use, or an address not of this machine)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"host {host!r} cannot be resolved ({exc.strerror}).") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise InputError(f"port {port} on {host} is in use; pass another port (--port).") from None
            raise InputError(f"cannot bind to {host}:{port} ({exc.strerror}).") from None

