"""The page's matplotlib figures, drawn from the model's state (no solara here, so tests can call them directly).

Figures are built with `matplotlib.figure.Figure` (no pyplot: nothing global, safe in the server's threads).
Labels, formats and colours come from `wom_sim.catalogue`, as in the report's figures.
"""

from __future__ import annotations

import functools
import html
import io

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter
from PIL import Image

from wom_sim import catalogue
from wom_sim.catalogue import (
    CHANNEL_COLOURS,
    CHANNEL_LABELS,
    NEGATIVE,
    PALETTE,
    POSITIVE,
    format_value,
    metric,
    series_label,
)
from wom_sim.sim.dynamics import TickState
from wom_sim.sim.metrics import recommend_score
from wom_sim.sim.population import (
    ACQUIRED_BY_GROUPS,
    CUSTOMER,
    STATUS_NAMES,
    Population,
    acquired_by_groups,
)
from wom_sim.viz.groups import MAX_GROUPS, Groups
from wom_sim.viz.sampling import DrawnGraph

# Indexed by status code (STATUS_NAMES order).
STATUS_COLOURS = np.array([catalogue.STATUS_COLOURS[name] for name in STATUS_NAMES])
NEVER_EXPERIENCED = catalogue.NO_STATE
SATISFACTION_CMAP = colormaps[catalogue.STATE_COLOURMAP]
NODE_SIZE, KOL_SIZE = 10, 90
LEGEND_BOX = {"frameon": True, "framealpha": 0.85, "edgecolor": "none"}  # readable where the curves run under it
DPI = 90
GRID = "#EEEEEE"  # lighter than the palette's pale grey: grid lines must not compete with the data
FADE_TICKS = 3  # WOM flows stay on the network view this many ticks, fading
FADE = (1.0, 0.35, 0.12)  # opacity of this tick's flows and of the ticks before, relative
# Communities (the MAX_GROUPS largest, then "others" in pale grey): the palette's colours that are not the WOM
# lines' green and vermillion, so a community never reads as a flow.
COMMUNITY_COLOURS = np.array([PALETTE[c] for c in ("blue", "orange", "reddish_purple", "sky_blue", "yellow", "black",
                                                    "pale_grey")])  # fmt: skip
assert len(COMMUNITY_COLOURS) == MAX_GROUPS + 1
NPS_RANGE = (-100.0, 100.0)  # NPS is % promoters - % detractors


def node_colours(drawn: DrawnGraph, pop: Population, colour_by: str, community: Groups | None = None) -> np.ndarray:
    """RGBA (or hex) colour per drawn person: by status, by satisfaction S (grey if never a customer) or by community
    (`community`: `groups.communities(graph)`, one colour per community, pale grey for the others)."""
    nodes = drawn.nodes
    if colour_by == "status":
        return STATUS_COLOURS[pop.status[nodes]]
    if colour_by == "community":
        if community is None:
            raise ValueError("colour_by='community' needs the communities (groups.communities(graph))")
        of, others = community.of[nodes], len(COMMUNITY_COLOURS) - 1
        return COMMUNITY_COLOURS[np.where(of == community.k - 1, others, np.minimum(of, others - 1))]
    if colour_by != "satisfaction":
        raise ValueError(f"colour_by must be 'status', 'satisfaction' or 'community', got {colour_by!r}")
    colours = SATISFACTION_CMAP(pop.S[nodes])
    colours[~pop.experienced[nodes]] = to_rgba(NEVER_EXPERIENCED)
    return colours


class NetworkPlot:
    """The network view as one persistent figure: ties and nodes placed once, `update` recolours them.

    The drawn people sit at their cached positions with ties in light grey; each update colours the nodes (by
    status or satisfaction) and draws this tick's WOM between drawn people, green for positive and red for
    negative. KOLs are larger with a black outline. Updating one figure in place costs less than building one per frame.
    """

    def __init__(
        self, drawn: DrawnGraph, positions: np.ndarray, is_kol: np.ndarray, size=(5.6, 5.6), unit: str = "week"
    ):
        self.drawn, self.positions, self.unit = drawn, positions, unit
        self.fig = Figure(figsize=size, dpi=DPI)
        ax = self.ax = self.fig.add_axes((0.0, 0.1, 1.0, 0.9))
        ax.set_axis_off()
        ax.set_xlim(-1.04, 1.04)
        ax.set_ylim(-1.04, 1.04)
        ax.set_aspect("equal")
        ax.add_collection(_segments(positions, drawn.src, drawn.dst, PALETTE["black"], 0.35, 0.07))
        # This tick's WOM and, fainter and thinner, that of the FADE_TICKS - 1 ticks before (oldest drawn first).
        self.fading = [(ax.add_collection(_segments(positions, [], [], NEGATIVE, 1.1 - 0.3 * age, 0.75)),
                        ax.add_collection(_segments(positions, [], [], POSITIVE, 1.1 - 0.3 * age, 0.75)))
                       for age in reversed(range(FADE_TICKS))]  # fmt: skip
        self.negative, self.positive = self.fading[-1]
        self.history: list[tuple[np.ndarray, np.ndarray]] = []  # (negative, positive) segments, newest last
        self.last_tick: TickState | None = None  # held, so `is` tells a new tick from a new colouring
        self.kol = is_kol[drawn.nodes]
        grey = np.full(len(drawn.nodes), STATUS_COLOURS[0])  # everyone unaware until the first update
        self.people = ax.scatter(positions[~self.kol, 0], positions[~self.kol, 1], s=NODE_SIZE, c=grey[~self.kol],
                                 linewidths=0, zorder=3)  # fmt: skip
        self.kols = ax.scatter(positions[self.kol, 0], positions[self.kol, 1], s=KOL_SIZE, c=grey[self.kol],
                               edgecolors="black", linewidths=1.4, zorder=4)  # fmt: skip
        self.legend, self.colour_by = None, ""
        # The ties and the legend change only with the colouring: they are drawn once into a background image, and a
        # frame pastes it and draws the people and this tick's WOM over it (`frame_png`), a fraction of a full draw.
        self.canvas = FigureCanvasAgg(self.fig)
        self.dynamic = (*(lines for pair in self.fading for lines in pair), self.people, self.kols)
        self.background = None

    def frame_png(self) -> bytes:
        """The current state (after `update`) as PNG bytes, drawing only what changes per tick."""
        if self.background is None:
            for artist in self.dynamic:
                artist.set_visible(False)
            self.canvas.draw()
            self.background = self.canvas.copy_from_bbox(self.fig.bbox)
            for artist in self.dynamic:
                artist.set_visible(True)
        self.canvas.restore_region(self.background)
        for artist in self.dynamic:
            self.ax.draw_artist(artist)
        return _canvas_png(self.canvas)

    def update(
        self,
        pop: Population,
        last_tick: TickState | None,
        colour_by: str = "status",
        community: Groups | None = None,
    ) -> Figure:
        """Colour the people by `colour_by` ('status', 'satisfaction' or 'community', which needs `community`) and
        draw `last_tick`'s WOM."""
        colours = node_colours(self.drawn, pop, colour_by, community)
        self.people.set_facecolors(colours[~self.kol])
        self.kols.set_facecolors(colours[self.kol])
        if last_tick is None:
            self.history, self.last_tick = [], None
        elif last_tick is not self.last_tick:  # a new tick (not just a new colouring): its flows join the history
            segments = []
            for deliveries in (last_tick.negative, last_tick.positive):
                a, b = self.drawn.drawn_messages(deliveries.src, deliveries.dst) if deliveries else ([], [])
                segments.append(_pairs(self.positions, a, b))
            self.history = [*self.history, tuple(segments)][-FADE_TICKS:]
            self.last_tick = last_tick
        empty = (np.zeros((0, 2, 2)), np.zeros((0, 2, 2)))
        shown = [empty] * (FADE_TICKS - len(self.history)) + self.history
        for age, (pair, segments) in enumerate(zip(reversed(self.fading), reversed(shown), strict=True)):
            for lines, segs in zip(pair, segments, strict=True):
                lines.set_segments(segs)
                # Fainter when there are many, so a busy tick on a dense graph does not hide the people; older
                # ticks fade out.
                lines.set_alpha(float(np.clip(400 / max(len(segs), 1), 0.3, 0.8)) * FADE[age])
        if colour_by != self.colour_by:
            if self.legend is not None:
                self.legend.remove()
            self.legend, self.colour_by = _network_legend(self.fig, colour_by, self.unit), colour_by
            self.background = None
        return self.fig

    def hover_svg(self, pop: Population) -> str:
        """A transparent SVG laid over the picture (same size), one circle per drawn person with their state as its
        tooltip (`person_state`): hovering a dot in the browser shows who that is. Built from the figure's own
        transform, so the circles sit on the dots whatever the axes' box."""
        width, height = self.fig.bbox.width, self.fig.bbox.height
        self.ax.apply_aspect()  # the equal-aspect box is settled at draw time; settle it before reading positions
        xy = self.ax.transData.transform(self.positions)
        titles = person_states(pop, self.drawn.nodes)
        radius = np.where(self.kol, 6.0, 3.5)  # a little larger than the dots (NODE_SIZE, KOL_SIZE are areas in pt^2)
        circles = "".join(f'<circle cx="{x:.1f}" cy="{height - y:.1f}" r="{r}"><title>{t}</title></circle>'
                          for (x, y), r, t in zip(xy, radius, titles, strict=True))  # fmt: skip
        return (f'<svg class="wom-hover" viewBox="0 0 {width:.0f} {height:.0f}" preserveAspectRatio="none" '
                'style="position:absolute;left:0;top:0;width:100%;height:100%;fill:transparent;pointer-events:all">'
                f"{circles}</svg>")  # fmt: skip


def person_states(pop: Population, people: np.ndarray) -> list[str]:
    """What a tooltip says of each person: id, status, satisfaction, trust, loyalty, segment, how they were acquired."""
    names = pop.segment_names or []
    out = []
    for i in np.asarray(people, dtype=np.int64):
        status = STATUS_NAMES[pop.status[i]]
        lines = [f"Person {i}{' (KOL)' if pop.is_kol[i] else ''}: {status}"]
        if pop.experienced[i]:
            lines.append(f"satisfaction {pop.S[i]:.2f}")
        lines.append(f"trust {pop.T[i]:.2f}, loyalty {pop.L[i]:.2f}")
        if len(names) > 1:
            lines.append(f"segment {names[pop.segment[i]]}")
        if pop.status[i] >= STATUS_NAMES.index("customer"):
            group = ACQUIRED_BY_GROUPS[acquired_by_groups(pop, np.array([i]))[0]]
            lines.append("a customer from the start" if group == "initial" else f"acquired by {CHANNEL_LABELS[group]}")
        lines.append(f"WOM sent +{pop.pos_sent[i]} / \u2212{pop.neg_sent[i]}, received +{pop.pos_received[i]} / "
                     f"\u2212{pop.neg_received[i]}")  # fmt: skip
        out.append(html.escape("\n".join(lines)))
    return out


def network_figure(
    drawn: DrawnGraph,
    positions: np.ndarray,
    pop: Population,
    last_tick: TickState | None,
    colour_by: str = "status",
    unit: str = "week",
) -> Figure:
    """One frame of the network view (see `NetworkPlot`)."""
    return NetworkPlot(drawn, positions, pop.is_kol, unit=unit).update(pop, last_tick, colour_by)


def _pairs(positions: np.ndarray, a, b) -> np.ndarray:
    return np.stack([positions[a], positions[b]], axis=1) if len(a) else np.zeros((0, 2, 2))


def _segments(positions: np.ndarray, a, b, colour: str, width: float, alpha: float) -> LineCollection:
    return LineCollection(_pairs(positions, a, b), colors=colour, linewidths=width, alpha=alpha, zorder=2)


def _network_legend(fig: Figure, colour_by: str, unit: str):
    def dot(colour, label, **kw):
        return Line2D([], [], marker="o", linestyle="", markerfacecolor=colour, markeredgecolor=kw.pop("edge", colour),
                      markersize=kw.pop("ms", 6), label=label, **kw)  # fmt: skip

    if colour_by == "status":
        handles = [dot(c, name) for c, name in zip(STATUS_COLOURS, STATUS_NAMES, strict=True)]
    elif colour_by == "community":
        k = len(COMMUNITY_COLOURS) - 1
        handles = [dot(c, f"community {i + 1}") for i, c in enumerate(COMMUNITY_COLOURS[:k])]
        handles.append(dot(COMMUNITY_COLOURS[k], "others"))
    else:
        handles = [dot(SATISFACTION_CMAP(0.1), "dissatisfied"), dot(SATISFACTION_CMAP(0.5), "neutral"),
                   dot(SATISFACTION_CMAP(0.9), "satisfied"), dot(NEVER_EXPERIENCED, "never bought")]  # fmt: skip
    handles += [
        dot("white", "KOL", edge=PALETTE["black"], ms=9, markeredgewidth=1.4),
        Line2D([], [], color=POSITIVE, lw=2, label=f"positive WOM this {unit}"),
        Line2D([], [], color=NEGATIVE, lw=2, label=f"negative WOM this {unit}"),
    ]
    return fig.legend(handles=handles, loc="lower center", ncol=3, fontsize=LEGEND_FONT, frameon=False,
                      handletextpad=0.3, columnspacing=1.0, bbox_to_anchor=(0.5, 0.0))  # fmt: skip


# The KPI panels after the channel one: (title, or None for the one metric's label; metric columns, drawn in
# their catalogue colours with their short labels; fixed y range or None for one that grows with the data).
KPI_PANELS = (
    (None, ("nps",), NPS_RANGE),
    ("WOM messages per {unit}", ("pos_messages", "neg_messages"), None),
    ("Customers' means", ("mean_S", "mean_T", "mean_L"), (0.0, 1.0)),
    (None, ("brand",), (0.0, 1.0)),
    (None, ("cum_profit",), None),
)
# A pinned run is drawn in grey, one dash pattern per pin (in pin order), so up to three stay apart.
PIN_COLOUR = PALETTE["grey"]
PIN_DASHES = ("--", ":", "-.")
FONT, TITLE_FONT, LEGEND_FONT = 9.5, 10.5, 8.5  # points at DPI 90: the figures are shown at about their pixel size


class KpiPlots:
    """Six KPI plots over ticks as one persistent figure; `update(frame, pins)` moves the data.

    Customers won by acquisition channel (cumulative, stacked), NPS, positive vs negative WOM messages per tick,
    customers' mean satisfaction/trust/loyalty, brand reputation and cumulative profit. The x axis is the whole
    run (0 to the scenario's horizon) from the start, and the y axes of bounded metrics are their whole range, so
    the empty plots before the first tick show the axes the run will use. Pinned runs are drawn in grey.
    """

    def __init__(self, horizon: int, unit: str = "week", size=(7.2, 7.8)):
        self.fig = Figure(figsize=size, dpi=DPI)
        # Fixed margins: a constrained layout would double the drawing time of every frame.
        self.fig.subplots_adjust(left=0.1, right=0.98, bottom=0.07, top=0.86, wspace=0.28, hspace=0.55)
        # No sharex, fixed title and label positions: matplotlib then skips measuring every tick label's box to
        # place them, a third of the cost of a frame.
        self.axes = self.fig.subplots(3, 2)
        self.horizon, self.unit = max(horizon, 1), unit
        for ax in self.axes.flat:
            ax.set_xlim(0, self.horizon)
            ax.grid(True, color=GRID, linewidth=0.8)
            ax.tick_params(labelsize=FONT)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
        for ax in self.axes[:-1].flat:
            ax.tick_params(labelbottom=False)
        for ax in self.axes[-1]:
            ax.set_xlabel(f"{unit}s", fontsize=FONT)
            ax.xaxis.set_label_coords(0.5, -0.2)
        self.channel_ax = self.axes[0, 0]
        _title(self.channel_ax, f"{metric('new_customers').label} by channel (cumulative)")
        self.channel_ax.yaxis.set_major_formatter(_thousands)
        # Legends sit above the plots, never on the curves (a growing curve reaches any corner some time).
        handles = [Patch(color=CHANNEL_COLOURS[c], label=CHANNEL_LABELS[c]) for c in CHANNEL_COLOURS]
        self.fig.legend(handles=handles, loc="upper left", ncol=len(handles), fontsize=LEGEND_FONT, frameon=False,
                        bbox_to_anchor=(0.0, 1.0), title="Channels:", title_fontsize=LEGEND_FONT,
                        alignment="left", handlelength=1.2, columnspacing=1.0)  # fmt: skip
        self.stack: list = []
        self.lines: dict[str, Line2D] = {}
        self.panels = list(zip(self.axes.flat[1:], KPI_PANELS, strict=True))
        for ax, (title, series, ylim) in self.panels:
            _title(ax, title.format(unit=unit) if title else series_label(series[0], unit))
            for column in series:
                entry = metric(column)
                (self.lines[column],) = ax.plot([], [], color=entry.colour, linewidth=1.8, label=entry.short_label)
            ax.set_ylim(*(ylim or (0.0, 1.0)))
            if ylim is None:
                ax.yaxis.set_major_formatter(_thousands)
            if len(series) > 1:
                ax.title.set_position((0.5, 1.1))
                ax.legend(loc="lower center", bbox_to_anchor=(0.5, 0.98), ncol=len(series), fontsize=LEGEND_FONT,
                          frameon=False, handlelength=1.2, columnspacing=0.8, borderaxespad=0.2)  # fmt: skip
        self.axes[0, 1].axhline(0, color=PALETTE["grey"], linewidth=0.8)
        self.pin_key: tuple = ()
        self.pin_artists: list = []
        self.pin_legend = None
        # Axes, grid, titles, legends and pinned runs change only when a y range steps up (ranges are rounded up to
        # 1-2-5 steps) or the pins change: they are drawn once into a background image and a frame draws only the
        # run's own curves over it (`frame_png`).
        self.canvas = FigureCanvasAgg(self.fig)
        self.background, self.background_key = None, None

    def frame_png(self) -> bytes:
        """The current state (after `update`) as PNG bytes, drawing only the run's curves when the axes stand."""
        key = (self.pin_key, tuple(ax.get_ylim() for ax in self.axes.flat))
        dynamic = [*self.stack, *self.lines.values()]
        if self.background is None or key != self.background_key:
            for artist in dynamic:
                artist.set_visible(False)
            self.canvas.draw()
            self.background, self.background_key = self.canvas.copy_from_bbox(self.fig.bbox), key
            for artist in dynamic:
                artist.set_visible(True)
        self.canvas.restore_region(self.background)
        for artist in dynamic:
            artist.axes.draw_artist(artist)
        return _canvas_png(self.canvas)

    def update(self, frame: pd.DataFrame, pins: tuple = ()) -> Figure:
        """Show `frame` (the model's metrics, one row per tick so far) over the pinned runs `pins` (`Pin`s)."""
        if tuple(id(p) for p in pins) != self.pin_key:
            self._draw_pins(pins)
        t = frame["t"].to_numpy() + 1 if not frame.empty else np.zeros(0)
        for artist in self.stack:
            artist.remove()
        self.stack = []
        channels = [c for c in CHANNEL_COLOURS if f"new_{c}" in frame]
        top = _pins_won(pins)
        if not frame.empty and channels:
            stacks = [frame[f"new_{c}"].cumsum().to_numpy() for c in channels]
            self.stack = self.channel_ax.stackplot(t, stacks, colors=[CHANNEL_COLOURS[c] for c in channels], alpha=0.9)
            top = max(top, float(np.sum(stacks, axis=0).max()))
        self.channel_ax.set_ylim(0, _nice_top(top))
        for column, line in self.lines.items():
            line.set_data(t, frame[column].to_numpy(dtype=float) if column in frame else np.zeros(len(t)))
        for ax, (_, series, ylim) in self.panels:
            if ylim is None:
                values = [frame[c].to_numpy(dtype=float) for c in series if c in frame and not frame.empty]
                values += [p.frame[c].to_numpy(dtype=float) for p in pins for c in series if c in p.frame]
                ax.set_ylim(*_nice_range(np.concatenate(values) if values else np.zeros(0)))
        return self.fig

    def _draw_pins(self, pins: tuple) -> None:
        """(Re)draw the pinned runs' grey lines and their legend (only when the set of pins changes)."""
        for artist in self.pin_artists:
            artist.remove()
        if self.pin_legend is not None:
            self.pin_legend.remove()
        self.pin_artists, self.pin_legend, self.pin_key = [], None, tuple(id(p) for p in pins)
        handles = []
        for pin, dash in zip(pins, PIN_DASHES, strict=False):
            t = pin.frame["t"].to_numpy() + 1
            style = {"color": PIN_COLOUR, "linestyle": dash, "linewidth": 1.5, "zorder": 1.5}
            won = sum(pin.frame[f"new_{c}"].cumsum().to_numpy() for c in CHANNEL_COLOURS if f"new_{c}" in pin.frame)
            self.pin_artists += self.channel_ax.plot(t, won, **style)
            for ax, (_, series, _) in self.panels:
                for column in series:
                    if column in pin.frame:
                        self.pin_artists += ax.plot(t, pin.frame[column].to_numpy(dtype=float), **style)
            handles.append(Line2D([], [], label=pin.label, **style))
        if handles:
            self.pin_legend = self.fig.legend(
                handles=handles,
                loc="upper left",
                ncol=len(handles),
                fontsize=LEGEND_FONT,
                frameon=False,
                bbox_to_anchor=(0.0, 0.955),
                title="Pinned (grey):",
                title_fontsize=LEGEND_FONT,
                alignment="left",
            )


def _pins_won(pins: tuple) -> float:
    """The most customers any pinned run won (the channel plot's y range must hold them)."""
    top = 0.0
    for pin in pins:
        cols = [f"new_{c}" for c in CHANNEL_COLOURS if f"new_{c}" in pin.frame]
        if cols and not pin.frame.empty:
            top = max(top, float(pin.frame[cols].sum(axis=1).cumsum().max()))
    return top


def _canvas_png(canvas: FigureCanvasAgg) -> bytes:
    """What the canvas holds now as PNG bytes, quickly encoded (frames are sent once and thrown away)."""
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(canvas.buffer_rgba())).save(buffer, format="png", compress_level=1)
    return buffer.getvalue()


def _step_up(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (> 0)."""
    power = 10.0 ** np.floor(np.log10(value))
    return float(next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= value * (1 - 1e-12)))


def _nice_top(top: float) -> float:
    """An upper y limit above `top` on a 1-2-5 step (at least 10, so an empty plot has whole-number ticks)."""
    return _step_up(max(top * 1.05, 10.0))


def _nice_range(values: np.ndarray) -> tuple[float, float]:
    """y limits around `values` including 0, at least 0-10 (an all-zero or empty series gets readable ticks)."""
    finite = values[np.isfinite(values)] if values.size else values
    low = min(float(finite.min()), 0.0) if finite.size else 0.0
    high = max(float(finite.max()), 0.0) if finite.size else 0.0
    low = -_step_up(-low * 1.05) if low < 0 else 0.0
    return (low, _nice_top(high) if high > 0 or low == 0 else 0.0)


@functools.lru_cache(maxsize=16)
def empty_kpi_png(horizon: int, unit: str) -> bytes:
    """The KPI plots before the first tick, drawn once per (horizon, unit) and shared: it is on every first frame."""
    return png(KpiPlots(horizon, unit).update(pd.DataFrame({"t": []})))


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes, quickly encoded (frames are sent once and thrown away)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
    return buffer.getvalue()


def _title(ax, text: str) -> None:
    ax.set_title(text, fontsize=TITLE_FONT, y=1.0, pad=5)


@FuncFormatter
def _thousands(value: float, _pos: int) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:.1f}M"
    if abs(value) >= 1e4:
        return f"{value / 1e3:.0f}k"
    return f"{value:,.0f}" if abs(value) >= 10 or value == int(value) else f"{value:.2g}"


# The page's KPI tiles after the tick: (tile key, metric column), "wom" being this tick's messages both ways.
KPI_TILES = (("adopted", "adoption_share"), ("customers", "customers"), ("nps", "nps"), ("wom", None),
             ("brand", "brand"), ("profit", "cum_profit"))  # fmt: skip


def kpi_tiles(competitors=()) -> tuple[tuple[str, str | None], ...]:
    """The tiles of a market with `competitors` (the scenario's entries): with rivals, also our market share and
    each rival's (tile `rival_<name>`), so a competitor scenario's page says who holds the market. Without rivals
    our share is 100% by definition, so no tile."""
    if not competitors:
        return KPI_TILES
    rivals = tuple((f"rival_{c.name}", f"rival_{c.name}_market_share") for c in competitors)
    return (*KPI_TILES, ("market", "market_share"), *rivals)


def start_metrics(sim) -> dict:
    """The tiles' metrics before the first tick (`sim`: a WomModel at week 0): who has adopted and is a customer at
    the start, their NPS (None without customers: nobody to ask), the brand's starting favourability, no profit and
    no WOM yet, and with rivals each brand's share of the customers. Computed as `sim/metrics.py` computes a tick's
    row, so week 0 and week 1 read alike; the tiles showed "–" until the first step."""
    pop, sc = sim.population, sim.wom_scenario
    customers = np.flatnonzero(pop.status == CUSTOMER)
    score = recommend_score(pop, sc, customers)
    nps = (
        100.0 * (np.count_nonzero(score >= 9) - np.count_nonzero(score <= 6)) / customers.size
        if customers.size
        else None
    )
    row = {"adoption_share": np.count_nonzero(pop.status >= CUSTOMER) / pop.n, "customers": int(customers.size),
           "nps": nps, "pos_messages": 0, "neg_messages": 0, "brand": sim.brand, "cum_profit": 0.0}  # fmt: skip
    market = sim.market
    if market is not None:
        users = np.bincount(market.rival[market.rival > 0], minlength=market.k + 1)[1:]
        everyone = customers.size + int(users.sum())
        row["market_share"] = customers.size / everyone if everyone else 0.0
        for code, name in enumerate(market.names, start=1):
            row[f"rival_{name}_market_share"] = users[code - 1] / everyone if everyone else 0.0
    return row


def kpi_values(metrics: dict | None, tick: int, horizon: int, unit: str,
               competitors=()) -> list[tuple[str, str, str]]:  # fmt: skip
    """(key, label, value) of the headline KPIs of the last tick (or `start_metrics` at week 0), as the page's tiles
    show them."""
    m = metrics or {}
    tiles = [("tick", unit.capitalize(), f"{tick} / {horizon}")]
    for key, column in kpi_tiles(competitors):
        if column is None:
            pos, neg = (format_value(c, m[c]) for c in ("pos_messages", "neg_messages")) if m else ("", "")
            wom = f"+{pos} / \u2212{neg}" if m else "\u2013"
            tiles.append((key, f"WOM this {unit}", wom))
            continue
        short = metric(column).short_label
        value = m.get(column)
        tiles.append((key, short[0].upper() + short[1:], "\u2013" if value is None else format_value(column, value)))
    return tiles


def pin_row(pin_frame: pd.DataFrame, tick: int) -> dict | None:
    """The pinned run's metrics at week `tick` (its last week if it stopped earlier; None before any)."""
    if pin_frame.empty or tick <= 0:
        return None
    rows = pin_frame[pin_frame["t"] + 1 == tick]
    return (rows.iloc[0] if len(rows) else pin_frame.iloc[-1]).to_dict()


def format_difference(column: str, diff: float) -> str:
    """A difference of metric `column` with its sign: shares and rates in percentage points, others in its format."""
    entry = metric(column)
    if diff != diff:
        return "n/a"
    if entry.scale == "percent":
        return f"{100 * diff:+.1f} pp"
    text = entry.format(diff)
    return text if text.startswith(("+", "-", "\u2212")) or diff == 0 else f"+{text}"


def kpi_differences(metrics: dict | None, pin: dict | None, competitors=()) -> dict[str, str]:
    """{tile key: difference to the pinned run at the same week} for the tiles with one metric each."""
    if not metrics or not pin:
        return {}
    out = {}
    for key, column in kpi_tiles(competitors):
        if column is not None and column in metrics and column in pin:
            out[key] = format_difference(column, float(metrics[column]) - float(pin[column]))
    return out
