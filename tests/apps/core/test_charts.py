"""Charts drawn on the server: inline SVG with axis labels, a tooltip per point and the same
figures as a table; labels from outside are escaped."""

import re

import pytest

from apps.core.charts import axis_top, bar_chart, line_chart, value_format


def _chart(kind=bar_chart, points=(("12-01", 3), ("12-02", 0), ("12-03", 7))):
    return kind(list(points), title="Answers per day", label_heading="Day", value_heading="N")


def test_a_bar_chart_draws_one_bar_per_point_with_its_tooltip():
    svg = str(_chart().svg)

    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") == 3
    assert "<title>12-01: 3</title>" in svg and "<title>12-03: 7</title>" in svg
    assert "<title>Answers per day</title>" in svg and 'role="img"' in svg


def test_bars_are_as_tall_as_their_value_on_a_round_axis():
    heights = [float(h) for h in re.findall(r'<rect[^>]* height="([\d.]+)"', str(_chart().svg))]

    assert heights[1] == 0
    assert heights[2] / heights[0] == pytest.approx(7 / 3, rel=0.01)
    assert axis_top(7) == 10 and axis_top(0) == 1 and axis_top(130) == 200 and axis_top(5) == 5


def test_the_y_axis_is_labelled_from_zero_to_its_top_with_the_unit():
    chart = bar_chart([("a", 1.5)], title="t", label_heading="Day", value_heading="Time", unit="s")

    assert ">0 s</text>" in str(chart.svg) and ">2 s</text>" in str(chart.svg)


def test_the_x_axis_writes_at_most_ten_labels():
    points = [(f"d{n:02d}", n) for n in range(90)]

    svg = str(bar_chart(points, title="t", label_heading="Day", value_heading="N").svg)

    labels = re.findall(r'text-anchor="middle"[^>]*>(d\d\d)</text>', svg)
    assert 1 < len(labels) <= 10 and labels[0] == "d00"


def test_a_line_chart_breaks_where_a_day_has_no_value():
    chart = _chart(line_chart, [("1", 2), ("2", 3), ("3", None), ("4", 1), ("5", 4)])
    svg = str(chart.svg)

    assert svg.count("<polyline") == 2
    assert svg.count("<circle") == 4
    assert ("3", "–") in chart.rows


def test_the_table_fallback_holds_every_point_formatted():
    chart = line_chart(
        [("12-01", 1234.5), ("12-02", 40)],
        title="t",
        label_heading="Day",
        value_heading="Time",
        unit="ms",
    )

    assert chart.rows == [("12-01", "1,234.5 ms"), ("12-02", "40 ms")]
    assert value_format(None) == "–"


def test_labels_and_titles_are_escaped():
    chart = bar_chart(
        [("<script>x</script>", 1)],
        title='"><img src=x>',
        label_heading="Tool",
        value_heading="Calls",
    )
    svg = str(chart.svg)

    assert "<script>" not in svg and "<img" not in svg
    assert "&lt;script&gt;x&lt;/script&gt;" in svg


def test_an_empty_chart_is_still_a_drawing():
    svg = str(bar_chart([], title="Actions by kind", label_heading="Tool", value_heading="N").svg)

    assert svg.startswith("<svg") and "<rect" not in svg
