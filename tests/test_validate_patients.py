"""Tests for CONTRACT §9 in balise.validate: services, the hotline, `ID/SERVICE` statuses,
`concerns`, `redirect`, `next_update` and maintenance windows, with the exact problem texts."""

from __future__ import annotations

from datetime import datetime

from test_validate import MKDOCS, raw_repository, statement_text

from balise.model import Redirect, Service, Statement, StatementType, Status
from balise.validate import Validated, validate_repository

REGISTRY = """\
organisation:
  name: Hospi Grand Ouest
  hotline: "+33 2 00 00 00 99"
services:
  - id: urgences
    name: Urgences
  - id: chirurgie
    name: Chirurgie programmée
  - id: imagerie
    name: Imagerie
establishments:
  - id: la-sagesse
    name: Clinique La Sagesse
    city: Rennes
    services: [urgences, chirurgie]
  - id: jules-verne
    name: Clinique Jules Verne
    city: Nantes
    services: [urgences, imagerie]
  - id: saint-gregoire
    name: Hôpital privé Saint-Grégoire
    city: Saint-Grégoire
"""
DATE = "2024-10-05T08:00:00+02:00"


def check(files: dict[str, str], registry: str = REGISTRY) -> Validated:
    return validate_repository(
        raw_repository({"establishments.yml": registry, "mkdocs.yml": MKDOCS, **files})
    )


def problems_of(front: str, registry: str = REGISTRY) -> list[str]:
    validated = check({"statements/a.md": statement_text(front)}, registry)
    return [str(problem) for problem in validated.problems]


def registry_problems(registry: str) -> list[str]:
    return [str(problem) for problem in check({}, registry).problems]


def valid(front: str) -> Statement:
    validated = check({"statements/a.md": statement_text(front)})
    assert [str(p) for p in validated.problems] == []
    assert validated.repository is not None
    (statement,) = validated.repository.statements
    return statement


# --- the registry -------------------------------------------------------------------------


def test_registry_reads_services_hotline_and_each_establishments_services() -> None:
    repository = check({}).repository
    assert repository is not None
    assert repository.organisation.hotline == "+33 2 00 00 00 99"
    assert repository.services == (
        Service("urgences", "Urgences"),
        Service("chirurgie", "Chirurgie programmée"),
        Service("imagerie", "Imagerie"),
    )
    assert [e.services for e in repository.establishments] == [
        ("urgences", "chirurgie"),
        ("urgences", "imagerie"),
        (),
    ]


def test_registry_without_services_has_none() -> None:
    registry = REGISTRY.split("  hotline:")[0] + (
        "establishments:\n  - id: a\n    name: A\n    city: Rennes\n"
    )
    repository = check({}, registry).repository
    assert repository is not None
    assert repository.services == ()
    assert repository.organisation.hotline is None
    assert repository.establishments[0].services == ()


def test_hotline_is_validated_as_a_phone() -> None:
    registry = REGISTRY.replace('"+33 2 00 00 00 99"', "appelez-nous")
    assert registry_problems(registry) == [
        'establishments.yml:3: "hotline" is not a phone number: "appelez-nous" (write 2 to 15 '
        "digits, grouped with spaces, dots or dashes, with an optional leading +, such as "
        '"+33 2 99 00 00 00", "02 99 00 00 00" or "15")'
    ]


def test_an_establishment_service_must_be_in_the_registry() -> None:
    registry = REGISTRY.replace("services: [urgences, imagerie]", "services: [urgences, imagrie]")
    assert registry_problems(registry) == [
        'establishments.yml:19: unknown service "imagrie" (did you mean "imagerie"?)'
    ]


def test_an_establishment_service_listed_on_its_own_line_is_reported_there() -> None:
    registry = REGISTRY.replace(
        "services: [urgences, imagerie]", "services:\n      - urgences\n      - radio"
    )
    assert registry_problems(registry) == [
        'establishments.yml:21: unknown service "radio" (add it to the top-level "services")'
    ]


def test_service_ids_are_slugs_and_unique() -> None:
    registry = REGISTRY.replace("  - id: imagerie\n", "  - id: urgences\n")
    assert registry_problems(registry) == [
        'establishments.yml:5: duplicate service id "urgences" (also line 9)',
        'establishments.yml:9: duplicate service id "urgences" (also line 5)',
    ]
    registry = REGISTRY.replace("  - id: imagerie\n", "  - id: Imagerie\n")
    assert registry_problems(registry) == [
        'establishments.yml:9: id "Imagerie" is not a valid slug '
        '(use lowercase letters, digits and hyphens, such as "imagerie")'
    ]


def test_a_service_needs_a_name() -> None:
    registry = REGISTRY.replace("    name: Imagerie\n", "")
    assert registry_problems(registry) == ['establishments.yml:9: "name" is required']


def test_an_establishment_lists_a_service_once() -> None:
    registry = REGISTRY.replace("services: [urgences, chirurgie]", "services: [urgences, urgences]")
    assert registry_problems(registry) == [
        'establishments.yml:15: service "urgences" is listed twice (also line 15)'
    ]


def test_establishment_services_must_be_a_list() -> None:
    registry = REGISTRY.replace("services: [urgences, chirurgie]", "services: urgences")
    assert registry_problems(registry) == [
        'establishments.yml:15: "services" must be a list of service ids, not text '
        "(write services: [urgences, chirurgie])"
    ]


# --- status by service --------------------------------------------------------------------


def test_service_status_takes_the_most_specific_key() -> None:
    statement = valid(
        f"title: T\ndate: {DATE}\nstatus:\n  all: degraded\n  la-sagesse: down\n"
        "  all/urgences: disrupted\n  la-sagesse/chirurgie: normal\n"
    )
    assert statement.status == (
        ("la-sagesse", Status.DOWN),
        ("jules-verne", Status.DEGRADED),
        ("saint-gregoire", Status.DEGRADED),
    )
    assert statement.service_status == (
        ("la-sagesse/urgences", Status.DISRUPTED),
        ("la-sagesse/chirurgie", Status.NORMAL),
        ("jules-verne/urgences", Status.DISRUPTED),
        ("jules-verne/imagerie", Status.DEGRADED),
    )


def test_a_service_key_alone_sets_no_establishment() -> None:
    statement = valid(f"title: T\ndate: {DATE}\nstatus:\n  la-sagesse/chirurgie: interrompu\n")
    assert statement.status == ()
    assert statement.service_status == (("la-sagesse/chirurgie", Status.DOWN),)


def test_an_establishment_key_sets_each_of_its_services() -> None:
    statement = valid(f"title: T\ndate: {DATE}\nstatus:\n  la-sagesse: normal\n")
    assert statement.service_status == (
        ("la-sagesse/urgences", Status.NORMAL),
        ("la-sagesse/chirurgie", Status.NORMAL),
    )


def test_unknown_service_is_refused_with_did_you_mean() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nstatus:\n  la-sagesse/chirugie: down\n") == [
        'statements/a.md:5: unknown service "chirugie" (did you mean "chirurgie"?)'
    ]
    assert problems_of(f"title: T\ndate: {DATE}\nstatus:\n  all/urgence: down\n") == [
        'statements/a.md:5: unknown service "urgence" (did you mean "urgences"?)'
    ]


def test_a_service_the_establishment_lacks_is_refused() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nstatus:\n  la-sagesse/imagerie: down\n") == [
        'statements/a.md:5: establishment "la-sagesse" has no service "imagerie" '
        "(its services: urgences, chirurgie)"
    ]
    assert problems_of(f"title: T\ndate: {DATE}\nstatus:\n  saint-gregoire/urgences: down\n") == [
        'statements/a.md:5: establishment "saint-gregoire" has no service "urgences" '
        "(add the service to its services in establishments.yml)"
    ]


def test_unknown_establishment_in_a_service_key_is_refused() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nstatus:\n  la-sagese/urgences: down\n") == [
        'statements/a.md:5: unknown establishment "la-sagese" (did you mean "la-sagesse"?)'
    ]


def test_a_malformed_service_key_is_refused() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nstatus:\n  la-sagesse/urgences/x: down\n") == [
        'statements/a.md:5: "la-sagesse/urgences/x" is not a key of status '
        "(write an establishment id, ID/SERVICE, all or all/SERVICE)"
    ]


def test_a_bad_status_value_of_a_service_is_refused() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nstatus:\n  la-sagesse/urgences: ko\n") == [
        'statements/a.md:5: unknown status "ko" (use one of: normal, maintenance, degraded, '
        "disrupted, down)"
    ]


# --- concerns -----------------------------------------------------------------------------


def test_concerns_lists_establishment_ids() -> None:
    statement = valid(f"title: T\ndate: {DATE}\nconcerns: [jules-verne, la-sagesse]\n")
    assert statement.concerns == ("jules-verne", "la-sagesse")
    assert statement.status == ()


def test_concerns_refuses_an_unknown_id_at_its_line() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nconcerns:\n  - la-sagesse\n  - jules-vern\n") == [
        'statements/a.md:6: unknown establishment "jules-vern" (did you mean "jules-verne"?)'
    ]


def test_concerns_must_be_a_list() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nconcerns: la-sagesse\n") == [
        'statements/a.md:4: "concerns" must be a list of establishment ids, not text '
        "(write concerns: [la-sagesse, jules-verne])"
    ]


def test_concerns_cannot_name_all() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nconcerns: [all]\n") == [
        'statements/a.md:4: "concerns" cannot name "all" (name each establishment)'
    ]


# --- redirect -----------------------------------------------------------------------------


def test_redirect_to_an_id_or_a_text() -> None:
    statement = valid(
        f"title: T\ndate: {DATE}\nstatus:\n  la-sagesse: down\nredirect:\n"
        "  la-sagesse: jules-verne\n"
        "  la-sagesse/urgences: CHU de Rennes, 2 rue Henri Le Guilloux, 02 99 28 43 21\n"
        "  jules-verne/imagerie: '15'\n"
    )
    assert statement.redirect == (
        ("la-sagesse", Redirect("jules-verne")),
        (
            "la-sagesse/urgences",
            Redirect(None, "CHU de Rennes, 2 rue Henri Le Guilloux, 02 99 28 43 21"),
        ),
        ("jules-verne/imagerie", Redirect(None, "15")),
    )


def test_redirect_written_as_an_unknown_id_is_refused() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nredirect:\n  la-sagesse: jules-vern\n") == [
        'statements/a.md:5: unknown establishment "jules-vern" (did you mean "jules-verne"?)'
    ]
    assert problems_of(f"title: T\ndate: {DATE}\nredirect:\n  la-sagesse: pontchaillou\n") == [
        'statements/a.md:5: unknown establishment "pontchaillou" (write the id of an '
        "establishment of establishments.yml, or a text (name, address, phone) with a space "
        "in it)"
    ]


def test_redirect_to_itself_is_refused() -> None:
    assert problems_of(
        f"title: T\ndate: {DATE}\nredirect:\n  la-sagesse/urgences: la-sagesse\n"
    ) == [
        'statements/a.md:5: the redirect of "la-sagesse/urgences" points to itself '
        "(name another establishment, or write where patients go as a text)"
    ]


def test_redirect_keys_are_checked_like_status_keys() -> None:
    assert problems_of(
        f"title: T\ndate: {DATE}\nredirect:\n  la-sagesse/imagerie: jules-verne\n"
    ) == [
        'statements/a.md:5: establishment "la-sagesse" has no service "imagerie" '
        "(its services: urgences, chirurgie)"
    ]
    assert problems_of(f"title: T\ndate: {DATE}\nredirect:\n  all: jules-verne\n") == [
        'statements/a.md:5: redirect cannot name "all" (name each establishment)'
    ]


def test_redirect_must_be_a_mapping() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nredirect: jules-verne\n") == [
        'statements/a.md:4: "redirect" must be a mapping from establishment ids (or ID/SERVICE) '
        "to where patients go, not text"
    ]


# --- next_update --------------------------------------------------------------------------


def test_next_update_is_an_instant_read_like_date() -> None:
    statement = valid(f"title: T\ndate: {DATE}\nnext_update: 2024-10-05 18:00\n")
    assert statement.next_update == datetime.fromisoformat("2024-10-05T18:00:00+02:00")


def test_next_update_before_date_is_refused() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nnext_update: 2024-10-05 07:00\n") == [
        'statements/a.md:4: "next_update" (2024-10-05 07:00) is before "date" '
        "(2024-10-05T08:00:00+02:00) (the next update is promised after this statement)"
    ]


def test_next_update_follows_the_daylight_saving_rules() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\nnext_update: 2024-10-27 02:30\n") == [
        'statements/a.md:4: next_update "2024-10-27 02:30" is ambiguous in Europe/Paris '
        "(daylight-saving change): add an offset such as +02:00 or +01:00"
    ]


# --- maintenance --------------------------------------------------------------------------

WINDOW = "start: 2024-10-06 22:00\nend: 2024-10-07 02:00\n"


def test_maintenance_has_a_window() -> None:
    statement = valid(
        f"title: T\ndate: {DATE}\ntype: maintenance\n{WINDOW}status:\n  la-sagesse: maintenance\n"
    )
    assert statement.type is StatementType.MAINTENANCE
    assert statement.start == datetime.fromisoformat("2024-10-06T22:00:00+02:00")
    assert statement.end == datetime.fromisoformat("2024-10-07T02:00:00+02:00")
    assert statement.effective == statement.start


def test_maintenance_requires_start_and_end() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\ntype: maintenance\nend: 2024-10-07 02:00\n") == [
        'statements/a.md:4: "start" is required for type: maintenance '
        "(add start: and end:, such as start: 2024-11-05T22:00:00+01:00)"
    ]
    assert problems_of(f"title: T\ndate: {DATE}\ntype: maintenance\n") == [
        'statements/a.md:4: "end" is required for type: maintenance '
        "(add start: and end:, such as start: 2024-11-05T22:00:00+01:00)",
        'statements/a.md:4: "start" is required for type: maintenance '
        "(add start: and end:, such as start: 2024-11-05T22:00:00+01:00)",
    ]


def test_maintenance_end_must_be_after_start() -> None:
    window = "start: 2024-10-07 02:00\nend: 2024-10-07 02:00\n"
    front = f"title: T\ndate: {DATE}\ntype: maintenance\n{window}"
    assert problems_of(front) == [
        'statements/a.md:6: "end" (2024-10-07 02:00) must be after "start" (2024-10-07 02:00)'
    ]


def test_start_and_end_are_only_for_maintenance() -> None:
    assert problems_of(f"title: T\ndate: {DATE}\n{WINDOW}") == [
        'statements/a.md:4: "start" is only for type: maintenance '
        '(add "type: maintenance", or remove it)',
        'statements/a.md:5: "end" is only for type: maintenance '
        '(add "type: maintenance", or remove it)',
    ]


def test_a_repository_without_the_new_keys_reads_as_before() -> None:
    statement = valid(f"title: T\ndate: {DATE}\nstatus:\n  saint-gregoire: down\n")
    assert (statement.service_status, statement.concerns, statement.redirect) == ((), (), ())
    assert (statement.next_update, statement.start, statement.end) == (None, None, None)
