"""The browser visualisation (`wom-sim viz`, extra `[viz]`): a Mesa SolaraViz page over the vectorised model.

Modules: `controls` (the Mesa model the page drives and its parameters), `sampling` and `layout` (which people the
network view draws, and where), `groups` (the aggregate view: communities and the flows between them), `figures`
(matplotlib figures), `pins` (pinned runs and the paired comparison), `saving` (scenario file, time series,
charts), `components` and `app` (the solara page), `assets` (solara's JavaScript and CSS for offline use),
`server` (starting the page).
"""

import warnings

# Mesa 3.3's own ComponentsView trips solara's hook check when mesa.visualization is imported; it is Mesa's
# code, harmless here (the page passes no grid components), and would otherwise open every server log.
warnings.filterwarnings(
    "ignore", message=r".*ComponentsView: `use_state` found despite early return", category=UserWarning
)
