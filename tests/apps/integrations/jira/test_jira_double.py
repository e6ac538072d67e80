"""The Jira double answers as Jira Cloud does where the product relies on it."""

import pytest
import requests

from tests.doubles.jira import JiraDouble, JqlError, jql_parse


@pytest.fixture
def double():
    with JiraDouble() as double:
        yield double


def _get(double, path, *, auth=None, **params):
    return requests.get(
        f"{double.url}{path}",
        params=params,
        auth=auth or (double.email, double.api_token),
        timeout=5,
    )


def test_wrong_credentials_get_401_with_jiras_error_body(double):
    answer = _get(double, "/rest/api/2/myself", auth=(double.email, "wrong"))

    assert answer.status_code == 401
    assert answer.json()["errorMessages"] == [
        "Client must be authenticated to access this resource."
    ]


def test_the_old_search_endpoint_is_gone_as_on_cloud(double):
    for version in ("2", "3"):
        answer = _get(double, f"/rest/api/{version}/search", jql="project = PAY")
        assert answer.status_code == 410
        assert "/rest/api/3/search/jql" in answer.json()["errorMessages"][0]


def test_createmeta_answers_clouds_page_shape(double):
    double.require_field("customfield_1", "Team")

    types = _get(double, "/rest/api/2/issue/createmeta/PAY/issuetypes").json()
    task = next(t for t in types["issueTypes"] if t["name"] == "Task")
    fields = _get(double, f"/rest/api/2/issue/createmeta/PAY/issuetypes/{task['id']}").json()

    assert types["total"] == 3
    team = next(f for f in fields["fields"] if f["fieldId"] == "customfield_1")
    assert team["required"] and not team["hasDefaultValue"]
    assert [v["value"] for v in team["allowedValues"]] == ["Payments", "Search", "Platform"]


@pytest.mark.parametrize(
    ("jql", "clauses"),
    [
        ('labels = "jamono-abc"', [[("labels", "=", ("jamono-abc",))]]),
        (
            "project = PAY AND key in (PAY-1, 'PAY-2') ORDER BY created",
            [[("project", "=", ("PAY",)), ("key", "in", ("PAY-1", "PAY-2"))]],
        ),
        (
            'status != Done or summary ~ "api \\"down\\""',
            [[("status", "!=", ("Done",))], [("summary", "~", ('api "down"',))]],
        ),
    ],
)
def test_the_small_jql(jql, clauses):
    parsed = [[(c.field, c.op, c.values) for c in group] for group in jql_parse(jql)]
    assert parsed == clauses


@pytest.mark.parametrize("jql", ["", "project PAY", "colour = red", "project = PAY AND", "("])
def test_jql_the_double_cannot_read_is_an_error(jql):
    with pytest.raises(JqlError):
        jql_parse(jql)
