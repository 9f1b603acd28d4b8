"""Scenario loading: defaults, extends, overrides, and one clear error line for every kind of bad input."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from wom_sim.errors import ScenarioError
from wom_sim.scenario.interventions import KINDS, InterventionSpec, own_fields
from wom_sim.scenario.loading import apply_overrides, load_scenario, parse_yaml, scenario_to_yaml
from wom_sim.scenario.schema import Scenario, scenario_json_schema

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_fill_everything():
    sc = Scenario()
    assert sc.wom.satisfaction_elasticity > 1  # positive WOM grows faster than satisfaction (loyalty-WOM report)
    assert sc.reception.satisfaction_weight == pytest.approx(0.035)
    assert abs(sum(s.share for s in sc.population.segments) - 1) < 1e-9


def test_baseline_loads():
    sc = load_scenario(SCENARIOS / "baseline.yaml")
    assert sc.name == "baseline"
    assert sc.network.n == 5000
    assert sc.kols.select.k == 10


def test_extends_merges_and_overrides(tmp_path):
    write(tmp_path, "base.yaml", "name: base\nseed: 1\nwom: {contact_prob: 0.2, negative_reach: 2.0}\n")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nname: child\nwom: {contact_prob: 0.3}\n")
    sc = load_scenario(child)
    assert (sc.name, sc.seed, sc.wom.contact_prob, sc.wom.negative_reach) == ("child", 1, 0.3, 2.0)


def test_extends_loop_is_an_error(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\n")
    with pytest.raises(ScenarioError, match="extends loop"):
        load_scenario(tmp_path / "a.yaml")


def test_a_missing_extends_names_the_file_that_extends_and_the_bundled_scenario_it_may_mean(tmp_path):
    # the README's `extends: baseline.yaml` copied into one's own folder said only "<folder>/baseline.yaml:
    # scenario file not found": not which file asked for it, nor that the bundled baseline is not found by name
    child = write(tmp_path, "mine.yaml", "extends: baseline.yaml\nname: mine\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(child)
    message = str(caught.value)
    assert message.startswith(f"{child}: extends: baseline.yaml: no such file") and str(tmp_path) in message
    assert "bundled scenario 'baseline'" in message and "wom-sim scenarios baseline > baseline.yaml" in message
    write(tmp_path, "other.yaml", "extends: nosuch.yaml\n")
    with pytest.raises(ScenarioError, match=r"other.yaml: extends: nosuch.yaml: no such file") as caught:
        load_scenario(tmp_path / "other.yaml")
    assert "bundled" not in str(caught.value)


def test_graph_file_is_relative_to_the_file_that_names_it(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "sub").mkdir()
    write(tmp_path, "base.yaml", "network: {file: data/g.csv}\n")
    child = write(tmp_path, "sub/child.yaml", "extends: ../base.yaml\n")
    assert load_scenario(child).network.file == str((tmp_path / "data" / "g.csv").resolve())


@pytest.mark.parametrize(
    ("overrides", "check"),
    [
        (["wom.contact_prob=0.25"], lambda s: s.wom.contact_prob == 0.25),
        (["network.n=123"], lambda s: s.network.n == 123),
        (["network.directed=true"], lambda s: s.network.directed is True),
        (["kols.select.ids=[1, 2]"], lambda s: s.kols.select.ids == [1, 2]),
        (["population.segments.0.share=0.7", "population.segments.1.share=0.3"],
         lambda s: s.population.segments[0].share == 0.7),
    ],
)  # fmt: skip
def test_dotted_overrides(overrides, check):
    assert check(load_scenario(SCENARIOS / "baseline.yaml", overrides))


def test_overrides_do_not_touch_the_input():
    data = {"wom": {"contact_prob": 0.1}}
    apply_overrides(data, ["wom.contact_prob=0.2"])
    assert data == {"wom": {"contact_prob": 0.1}}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("wom: {contact_prb: 0.2}\n", ["wom.contact_prb", "did you mean 'contact_prob'"]),
        ("wom: {contact_prob: 1.5}\n", ["wom.contact_prob", "less than or equal to 1", "1.5"]),
        ("wom: {contact_prob: lots}\n", ["wom.contact_prob", "valid number", "lots"]),
        ("ticks: 0\n", ["ticks", "greater than or equal to 1"]),
        ("ticks: yes\n", ["ticks", "true/false value (true) is not allowed here"]),  # YAML 1.1: yes is true
        ("brand: {price: off}\n", ["brand: price: a true/false value (false)"]),
        ("population: {fit: on}\n", ["population: fit: a true/false value (true)"]),
        ("kols: {select: {by: ids, ids: [3, yes]}}\n", ["kols.select: ids[1]: a true/false value (true)"]),
        ("interventions: [{kind: advertising, target: {ids: [on]}}]\n",
         ["interventions[0].target: ids[0]: a true/false value (true)"]),
        ("netwrk: {n: 5}\n", ["unknown key netwrk", "did you mean 'network'"]),
        ("population: {segments: [{name: a, share: 0.5}]}\n", ["segments", "sum to 1"]),
        ("population: {segments: [{name: a, share: 0.5}, {name: a, share: 0.5}]}\n",
         ["population.segments", "segment names must be unique (repeated: a)"]),
        ("population: {talkativeness: {dist: lognormal, mean: 1}}\n", ["talkativeness", "needs mean, sigma"]),
        ("network: {generator: smallworld}\n", ["network.generator", "barabasi_albert"]),
        ("loyalty: {weights: {value: 0.9}}\n", ["loyalty.weights", "sum to 1"]),
        ("interventions: [{kind: advertsing}]\n", ["interventions[0].kind", "did you mean 'advertising'"]),
        ("interventions: [{kind: advertising, reach_multiplyer: 2}]\n", ["interventions[0].reach_multiplyer"]),
        ("interventions: [{kind: advertising, when: {metric: nsp, op: '>', value: 1}}]\n",
         ["when.metric", "did you mean 'nps'"]),
        ("interventions: [{kind: advertising, when: {metric: nps, op: '=>', value: 1}}]\n", ["op"]),
        # a tick or a list of ticks: the message is about the item the user got wrong, under the key they wrote
        ("interventions: [{kind: advertising, schedule: {at: [3, -2]}}]\n",
         ["interventions[0].schedule.at[1]: Input should be greater than or equal to 0 (got -2)"]),
        ("interventions: [{kind: advertising, schedule: {at: -2}}]\n",
         ["interventions[0].schedule.at: Input should be greater than or equal to 0 (got -2)"]),
        # an entry's cost column must be its own: cost_of_goods was overwritten by the ad spend
        ("interventions: [{kind: advertising, name: of_goods}]\n",
         ["interventions[0].name: 'of_goods' gives the cost column cost_of_goods, which is a metric"]),
        ("interventions: [{kind: advertising}, {kind: advertising}, {kind: advertising, name: advertising_2}]\n",
         ["interventions[2].name: 'advertising_2' is also the name of interventions[1]"]),
        ("- 1\n- 2\n", ["must be a mapping"]),
        ("wom: {contact_prob: [0.1\n", ["not valid YAML"]),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_line(tmp_path, text, words):
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    for word in words:
        assert word in message, message


def test_missing_file():
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario("/nonexistent/x.yaml")


@pytest.mark.parametrize("bad", ["wom.contact_prob", "=3", "wom.contact_prob=2", "network.n.x=1"])
def test_bad_overrides(bad):
    with pytest.raises(ScenarioError):
        load_scenario(SCENARIOS / "baseline.yaml", [bad])


def test_yaml_round_trip_gives_the_same_scenario(tmp_path):
    sc = load_scenario(SCENARIOS / "baseline.yaml", ["wom.contact_prob=0.21"])
    again = load_scenario(write(tmp_path, "resolved.yaml", scenario_to_yaml(sc)))
    assert again.model_dump(exclude={"base_dir"}) == sc.model_dump(exclude={"base_dir"})


def test_yaml_is_never_evaluated(tmp_path):
    path = write(tmp_path, "evil.yaml", "name: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(path)


def test_scenario_reference_doc_is_current():
    from wom_sim.docgen import scenario_reference

    doc = Path(__file__).resolve().parents[1] / "docs" / "scenarios.md"
    assert doc.read_text(encoding="utf-8") == scenario_reference(), (
        "docs/scenarios.md is stale: run `wom-sim scenarios --reference > docs/scenarios.md`"
    )


# --------------------------------------------------------------------------------------------- entries
@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("interventions: [{kind: kol_campaing}]\n",
         ["interventions[0].kind: unknown kind 'kol_campaing'", "did you mean 'kol_campaign'", "crisis_response"]),
        ("events: [{name: storm}]\n", ["events[0].kind", "every entry needs a kind", "allowed: advertising"]),
        ("events: [{kind: crisis, severty: 0.5}]\n",
         ["unknown key events[0].severty for crisis", "did you mean 'severity'", "open_ticks"]),
        ("interventions: [{kind: crisis_response, transparent: maybe}]\n",
         ["interventions[0].transparent", "valid boolean", "'maybe'"]),
        ("interventions: [{kind: advertising}, {kind: price_change, price: cheap}]\n",
         ["interventions[1].price", "valid number", "'cheap'"]),
        ("interventions: [{kind: kol_campaign, select: {by: degree, kk: 3}}]\n",
         ["unknown key interventions[0].select.kk for kol_campaign", "allowed: by, ids, k"]),
        ("interventions: [{kind: advertising, schedule: {form: 3}}]\n",
         ["unknown key interventions[0].schedule.form", "did you mean 'from'"]),
        ("interventions: [3]\n", ["interventions[0]", "valid dictionary"]),
        ("population: {segments: [{name: a, share: 1, conformty: 0.5}]}\n",
         ["unknown key population.segments[0].conformty", "did you mean 'conformity'"]),
    ],
)  # fmt: skip
def test_bad_entry_is_one_line_with_its_key_path(tmp_path, text, words):
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    for word in words:
        assert word in message, message


def test_resolved_yaml_shows_every_parameter_of_every_entry(tmp_path):
    path = write(tmp_path, "crisis.yaml", "events: [{kind: crisis, at: 10}]\n"
                 "interventions: [{kind: crisis_response, delay: 3, transparent: false}]\n")  # fmt: skip
    resolved = yaml.safe_load(scenario_to_yaml(load_scenario(path)))
    (event,), (response,) = resolved["events"], resolved["interventions"]
    assert set(response) == set(KINDS["crisis_response"].model_fields)
    assert (response["delay"], response["transparent"]) == (3, False)
    assert (response["apology"], response["compensation"], response["fix_ticks"]) == (True, 20.0, 1)
    assert set(event) == set(KINDS["crisis"].model_fields) and event["at"] == 10 and event["severity"] == 0.5
    again = load_scenario(write(tmp_path, "resolved.yaml", scenario_to_yaml(load_scenario(path))))
    assert again.model_dump(exclude={"base_dir"}) == load_scenario(path).model_dump(exclude={"base_dir"})


def test_every_bundled_entry_round_trips_through_the_resolved_yaml(tmp_path):
    for path in sorted(SCENARIOS.glob("*.yaml")):
        sc = load_scenario(path)
        again = load_scenario(write(tmp_path, path.name, scenario_to_yaml(sc)))
        assert again.interventions == sc.interventions and again.events == sc.events, path.name


def test_an_entry_is_validated_as_its_kind():
    sc = Scenario.model_validate({"interventions": [{"kind": "kol_campaign", "select": {"by": "pagerank", "k": 3}}]})
    (entry,) = sc.interventions
    assert type(entry) is KINDS["kol_campaign"] and entry.select.k == 3 and entry.screening == 0.8


def test_json_schema_accepts_the_bundled_files_and_rejects_what_loading_rejects():
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(scenario_json_schema())
    for path in sorted(SCENARIOS.glob("*.yaml")):
        assert not list(validator.iter_errors(yaml.safe_load(path.read_text()))), path.name
    bad_files = [
        {"interventions": [{"kind": "advertsing"}]},
        {"events": [{"kind": "crisis", "severty": 1}]},
        {"wom": {"contact_prob": 2}},
        {"interventions": [{"kind": "price_change", "price": "cheap"}]},
    ]
    for bad in bad_files:
        assert list(validator.iter_errors(bad)), bad
    assert validator.is_valid({"population": {"talkativeness": 1.5}})  # a bare number is a constant distribution


def test_the_scenario_layer_imports_only_the_bottom_and_itself():
    allowed = ("wom_sim.errors", "wom_sim.catalogue", "wom_sim.scenario")
    folder = Path(__file__).resolve().parents[1] / "wom_sim" / "scenario"
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
            for name in names:
                if name.startswith("wom_sim"):
                    assert name.startswith(allowed), f"{path.name} imports {name}"


def test_scenario_reference_lists_every_parameter_of_every_kind():
    from wom_sim.docgen import scenario_reference

    doc = scenario_reference()
    for key in InterventionSpec.model_fields:
        assert f"| `{key}` |" in doc.split("## interventions and events: keys of every entry")[1], key
    for kind, model in KINDS.items():
        section = re.search(rf"^## kind: {kind}\n(.*?)(?=^## |\Z)", doc, re.S | re.M)
        assert section, kind
        for name in own_fields(model):
            assert f"| `{name}` |" in section.group(1), f"{kind}.{name}"


# --------------------------------------------------------------------------------------------- duplicate keys
@pytest.mark.parametrize(
    ("text", "key", "lines"),
    [
        ("brand:\n  price: 1\n  price: 2\n", "brand.price", (2, 3)),
        ("name: a\nseed: 1\nname: b\n", "name", (1, 3)),
        ("brand: {price: 1, 'price': 2}\n", "brand.price", (1, 1)),  # quoted or not, the same key
        ("interventions:\n  - kind: advertising\n  - kind: price_change\n    price: 1\n    kind: advertising\n",
         "interventions[1].kind", (3, 5)),
        ("events:\n  - kind: crisis\n    at: 5\n    schedule: {from: 1, from: 2}\n", "events[0].schedule.from", (4, 4)),
        ("seed: 1\nbrand:\n  price: 1\n  price: 2\nseed: 2\n", "brand.price", (3, 4)),  # the first in the file
    ],
)  # fmt: skip
def test_a_key_given_twice_is_refused_naming_both_lines(tmp_path, text, key, lines):
    path = write(tmp_path, "dup.yaml", text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == f"{path}: key '{key}' appears twice (lines {lines[0]} and {lines[1]})"


def test_parse_yaml_refuses_duplicate_keys_in_any_document():
    with pytest.raises(ScenarioError, match=r"^spec.yaml: key 'grid\[0\]\.a' appears twice \(lines 2 and 3\)$"):
        parse_yaml("grid:\n  - a: 1\n    a: 2\n", "spec.yaml")
    with pytest.raises(ScenarioError, match=r"^x: key '\[1\]\.b' appears twice \(lines 2 and 2\)$"):
        parse_yaml("- {a: 1}\n- {b: 1, b: 2}\n", "x")


def test_merge_keys_may_override_what_they_merge(tmp_path):
    text = (
        "competitors:\n"
        "  - &rival {name: rival, price: 2.0, quality: 0.6}\n"
        "  - <<: *rival\n"
        "    name: rival_two\n"
        "    price: 1.5\n"
    )
    data = parse_yaml(text, "merge.yaml")
    assert data["competitors"][1] == {"name": "rival_two", "price": 1.5, "quality": 0.6}
    assert parse_yaml("a: &a {x: 1}\nb:\n  <<: [*a, {x: 2}]\n  x: 3\n", "m") == {"a": {"x": 1}, "b": {"x": 3}}
    with pytest.raises(ScenarioError, match=r"key 'b\.x' appears twice \(lines 4 and 5\)"):
        parse_yaml("a: &a {x: 1}\nb:\n  <<: *a\n  x: 2\n  x: 3\n", "m")


def test_aliases_are_checked_once_not_expanded():
    bomb = "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9)
    )
    with pytest.raises(ScenarioError, match="after expanding aliases"):  # the size check still comes first to say so
        parse_yaml(bomb, "bomb.yaml")
    with pytest.raises(ScenarioError, match=r"key 'a\.x' appears twice"):
        parse_yaml("a: &a {x: 1, x: 2}\nb: [*a, *a, *a]\n", "alias.yaml")


def test_bundled_files_have_no_key_twice():
    root = Path(__file__).resolve().parents[1]
    paths = sorted([*root.glob("wom_sim/**/*.yaml"), *root.glob("experiments/**/*.yaml")])  # scenarios/ is a link
    assert paths
    for path in paths:
        parse_yaml(path.read_text(encoding="utf-8"), str(path))


@pytest.mark.parametrize("name", ["ours", "none"])
def test_a_competitor_cannot_take_a_brand_label_of_the_outputs(tmp_path, name):
    # "none" and "ours" label the brand column, the switching matrix and a person table's `brand`; a rival so
    # named made the per-person table fail after the whole run (duplicate categories) instead of one line on load.
    path = write(tmp_path, "rival.yaml", f"competitors:\n  - {{name: {name}}}\n")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert f"competitors[0].name: {name!r} is reserved" in str(err.value) and "\n" not in str(err.value)


def test_generator_keys_beside_a_graph_file_are_named_as_ignored(tmp_path):
    from wom_sim.scenario.loading import scenario_warnings

    (tmp_path / "edges.csv").write_text("source,target\n1,2\n2,3\n")
    path = tmp_path / "s.yaml"
    path.write_text("network: {file: edges.csv, n: 5000, m: 3}\n")
    notes = scenario_warnings(load_scenario(path, []), str(path))
    assert [n for n in notes if "ignored" in n] == [
        f"{path}: network.n, network.m are ignored: the graph and its people come from network.file edges.csv"
    ]
    path.write_text("network: {file: edges.csv}\n")  # the defaults: nothing to say
    assert not [n for n in scenario_warnings(load_scenario(path, []), str(path)) if "ignored" in n]


def test_a_file_graph_drops_the_generator_keys_it_inherits(tmp_path):
    from wom_sim.scenario.loading import scenario_warnings

    (tmp_path / "edges.csv").write_text("source,target\n1,2\n2,3\n")
    (tmp_path / "base.yaml").write_text("network: {n: 9000, m: 3}\n")
    (tmp_path / "mine.yaml").write_text("extends: base.yaml\nnetwork: {file: edges.csv}\n")
    sc = load_scenario(tmp_path / "mine.yaml", [])
    assert (sc.network.n, sc.network.m) == (2000, 5)  # the defaults, which a file graph does not use
    assert not [n for n in scenario_warnings(sc, "mine.yaml") if "ignored" in n]
    override = load_scenario(tmp_path / "mine.yaml", ["network.n=50"])  # set on top of the file: it is named
    assert [n for n in scenario_warnings(override, "mine.yaml") if "ignored" in n] == [
        "mine.yaml: network.n is ignored: the graph and its people come from network.file edges.csv"
    ]


def test_a_bad_set_value_names_the_command_line_not_the_valid_file(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("network: {n: 300}\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, ["brand.quality=2"])
    assert str(caught.value).startswith("s.yaml with --set: brand.quality: ")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, ["network.n=1"], ticks=5)
    assert str(caught.value).startswith("s.yaml with --set, --ticks: network.n: ")


def test_delays_are_ticks_or_durations_in_the_scenarios_tick():
    # wom_sim/scenario/durations.py: a number is ticks as written; a duration is converted with tick_unit.
    from wom_sim.scenario.durations import in_ticks, parse

    assert in_ticks(3, "week") == 3.0 and in_ticks(0.5, "day") == 0.5
    assert in_ticks("2 days", "week") == pytest.approx(2 / 7) and in_ticks("14 days", "week") == 2.0
    assert in_ticks("168 hours", "weeks") == 1.0 and in_ticks("12 h", "day") == 0.5 and in_ticks("2 ticks", "x") == 2
    assert parse(" 1.5 Weeks ") == (1.5, "week")
    with pytest.raises(ValueError, match="tick_unit is 'month'"):
        in_ticks("2 days", "month")
    with pytest.raises(ValueError, match="2 hours"):
        parse("2 fortnights")
    sc = Scenario.model_validate({"interventions": [{"kind": "crisis_response", "delay": "2  days"}]})
    assert sc.interventions[0].delay == "2 days"  # kept as written (spacing normalised), shown so by `check`
