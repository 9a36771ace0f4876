"""mkdocs.yml's `extra.balise` keys (deploy, keep, cname): declared, judged at their line,
and the README's table made from their declarations."""

from __future__ import annotations

import pytest
from conftest import ROOT

from balise.deploy import configured_settings
from balise.errors import Problem
from balise.load import RawFile, as_data, parse_yaml
from balise.validate.schema import keys_table
from balise.validate.site import BALISE_KEYS, site

HEAD = "site_name: S\nsite_url: https://x.org/\nextra:\n  balise:\n"


def problems_of(settings: str) -> list[str]:
    met: list[Problem] = []
    data = parse_yaml(HEAD + settings, "mkdocs.yml", 1, met)
    assert met == []
    site(RawFile("mkdocs.yml", data), met)
    return [str(problem) for problem in met]


def test_the_settings_deploy_reads_are_valid() -> None:
    assert (
        problems_of(
            "    deploy:\n      - folder:../public\n      - git:git@x.org:a/b.git#gh-pages\n"
            "    keep: 3\n    cname: statut.hgo.example\n"
        )
        == []
    )
    assert problems_of("    deploy: folder:public\n") == []
    assert problems_of("    cname:\n") == []  # unset: the branch's own CNAME is kept


@pytest.mark.parametrize(
    ("written", "message"),
    [
        ("1", 'mkdocs.yml:5: "extra.balise.keep" must be 2 or more, not 1'),
        ("0", 'mkdocs.yml:5: "extra.balise.keep" must be 2 or more, not 0'),
        ('"5"', 'mkdocs.yml:5: "extra.balise.keep" must be a whole number, 2 or more, not "5"'),
        ("cinq", 'mkdocs.yml:5: "extra.balise.keep" must be a whole number, 2 or more, not "cinq"'),
        ("2.5", 'mkdocs.yml:5: "extra.balise.keep" must be a whole number, 2 or more, not "2.5"'),
        ("true", 'mkdocs.yml:5: "extra.balise.keep" must be a whole number, 2 or more, not "true"'),
        ("-3", 'mkdocs.yml:5: "extra.balise.keep" must be a whole number, 2 or more, not "-3"'),
        ("", 'mkdocs.yml:5: "extra.balise.keep" must be a whole number, 2 or more, not empty'),
        ("[3]", 'mkdocs.yml:5: "extra.balise.keep" must be a whole number, 2 or more, not a list'),
    ],
)
def test_keep_is_a_whole_number_of_two_or_more(written: str, message: str) -> None:
    found = problems_of(f"    keep: {written}\n")
    assert len(found) == 1 and found[0].startswith(message + " ("), found


@pytest.mark.parametrize("keep", ["1", '"5"', "cinq", ""])
def test_what_check_refuses_in_keep_deploy_refuses_too(keep: str) -> None:
    data = as_data(parse_yaml(HEAD + f"    keep: {keep}\n", "mkdocs.yml", 1, []))
    assert problems_of(f"    keep: {keep}\n")
    with pytest.raises(ValueError, match=r"extra\.balise\.keep"):
        configured_settings(data)


@pytest.mark.parametrize(
    "written",
    [
        "https://statut.hgo.example",
        "statut.hgo.example/page",
        "localhost",
        "statut..example",
        "-statut.example",
        "statut_hgo.example",
        "statut hgo.example",
        "a" * 64 + ".example",
    ],
)
def test_cname_is_a_host_name(written: str) -> None:
    assert problems_of(f'    cname: "{written}"\n') == [
        f'mkdocs.yml:5: "extra.balise.cname" must be a host name, not "{written}" (write the '
        "domain alone, without https:// or a path, such as statut.hgo.example)"
    ]


def test_cname_may_be_any_valid_host_name() -> None:
    for written in ("hgo.fr", "statut.hgo-ouest.example", "xn--htel-dma.example", "A.B.example."):
        assert problems_of(f"    cname: {written}\n") == [], written


def test_a_deploy_target_of_an_unknown_kind_is_reported_at_its_line() -> None:
    assert problems_of("    deploy:\n      - folder:public\n      - ftp://x.org/\n") == [
        'mkdocs.yml:7: "extra.balise.deploy" is not a deploy target: "ftp://x.org/" '
        "(write folder:PATH or git:URL#BRANCH, or a list of them)"
    ]
    assert problems_of("    deploy: {a: 1}\n") == [
        'mkdocs.yml:5: "extra.balise.deploy" must be text, not a mapping'
    ]


def test_an_unknown_key_of_extra_balise_is_reported_with_the_close_one() -> None:
    found = problems_of("    kepp: 3\n")
    assert found == ['mkdocs.yml:5: unknown key "kepp" (did you mean "keep"?)']


def test_extra_balise_must_be_a_mapping() -> None:
    assert problems_of("    - keep\n") == [
        'mkdocs.yml:5: "extra.balise" must be a mapping of settings, not a list '
        "(write deploy:, keep: and cname: indented under it)"
    ]


def test_every_problem_of_extra_balise_is_reported_together() -> None:
    assert len(problems_of("    keep: 1\n    cname: x\n    deploy: y\n")) == 3


def test_the_readme_shows_the_extra_balise_keys_as_declared() -> None:
    assert keys_table(BALISE_KEYS) in (ROOT / "README.md").read_text(encoding="utf-8")
