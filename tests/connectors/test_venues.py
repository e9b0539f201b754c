"""Databento publisher → venue code, off-exchange (FINRA) and consolidated publishers."""

from __future__ import annotations

import pytest
from databento.common.publishers import Dataset, Publisher

from connectors.venues import (
    is_consolidated,
    is_finra_venue,
    is_off_exchange,
    off_exchange_publishers,
    publisher,
    venue_code,
)

# BEHAVIOR §1: the FINRA TRF/ADF publisher ids of each dataset, kept here as a cross-check of the package.
DOCUMENTED_OFF_EXCHANGE: dict[str, frozenset[int]] = {
    "EQUS.SIP": frozenset({130, 131, 132, 133}),
    "EQUS.PLUS": frozenset({54, 55, 56}),
    "EQUS.ALL": frozenset({68, 69, 70}),
    "XNAS.BASIC": frozenset({82, 83}),
    "XNAS.NLS": frozenset({17, 18}),
    "XNYS.TRADES": frozenset({19}),
}


@pytest.mark.parametrize("dataset", list(DOCUMENTED_OFF_EXCHANGE))
def test_off_exchange_publishers_match_the_documented_ids(dataset: str) -> None:
    assert off_exchange_publishers(dataset) == DOCUMENTED_OFF_EXCHANGE[dataset]
    for publisher_id in DOCUMENTED_OFF_EXCHANGE[dataset]:
        assert is_off_exchange(dataset, publisher_id)


@pytest.mark.parametrize("dataset", ["OPRA.PILLAR", "EQUS.MINI", "XNAS.ITCH", "DBEQ.BASIC", "GLBX.MDP3"])
def test_datasets_without_finra_publishers(dataset: str) -> None:
    assert off_exchange_publishers(dataset) == frozenset()


@pytest.mark.parametrize(
    ("dataset", "publisher_id", "off"),
    [
        pytest.param("EQUS.SIP", 124, False, id="sip-nasdaq"),
        pytest.param("EQUS.SIP", 134, False, id="sip-cta"),
        pytest.param("EQUS.SIP", 54, False, id="plus-trf-id-in-sip"),
        pytest.param("EQUS.PLUS", 54, True, id="plus-trf"),
        pytest.param("EQUS.SIP", 65_000, False, id="unknown-publisher"),
    ],
)
def test_is_off_exchange(dataset: str, publisher_id: int, off: bool) -> None:
    assert is_off_exchange(dataset, publisher_id) is off


@pytest.mark.parametrize(
    ("publisher_id", "venue"),
    [
        pytest.param(2, "XNAS", id="itch"),
        pytest.param(23, "EMLD", id="opra-emerald"),
        pytest.param(26, "XISX", id="opra-ise"),
        pytest.param(30, "OPRA", id="opra-itself"),
        pytest.param(95, "EQUS", id="equs-mini"),
        pytest.param(130, "FINN", id="sip-trf-carteret"),
        pytest.param(133, "XADF", id="sip-adf"),
        pytest.param(65_000, "PUB65000", id="unknown"),
    ],
)
def test_venue_code(publisher_id: int, venue: str) -> None:
    assert venue_code(publisher_id) == venue


def test_every_opra_publisher_of_the_package_maps_to_its_venue() -> None:
    # Read from the package, not a list here: the option venue list grows.
    opra = [p for p in Publisher if p.dataset == Dataset.OPRA_PILLAR]
    assert len(opra) >= 18
    for pub in opra:
        info = publisher(pub.to_int())
        assert info is not None
        assert (info.dataset, info.venue) == ("OPRA.PILLAR", pub.venue.value)
        assert venue_code(pub.to_int()) == pub.venue.value
        assert not is_off_exchange("OPRA.PILLAR", pub.to_int())


@pytest.mark.parametrize(
    ("venue", "finra"),
    [
        pytest.param("FINN", True, id="trf-carteret"),
        pytest.param("FINC", True, id="trf-chicago"),
        pytest.param("FINY", True, id="trf-nyse"),
        pytest.param("XADF", True, id="adf"),
        pytest.param("XNAS", False, id="nasdaq"),
        pytest.param("XOFF", False, id="off-market-futures"),
        pytest.param("NOPE", False, id="unknown"),
    ],
)
def test_is_finra_venue(venue: str, finra: bool) -> None:
    assert is_finra_venue(venue) is finra


@pytest.mark.parametrize(
    ("publisher_id", "consolidated"),
    [
        pytest.param(30, True, id="opra"),
        pytest.param(95, True, id="equs-mini"),
        pytest.param(59, True, id="dbeq"),
        pytest.param(134, True, id="sip-cta"),
        pytest.param(135, True, id="sip-utp"),
        pytest.param(23, False, id="opra-venue"),
        pytest.param(2, False, id="nasdaq"),
        pytest.param(65_000, False, id="unknown"),
    ],
)
def test_is_consolidated(publisher_id: int, consolidated: bool) -> None:
    assert is_consolidated(publisher_id) is consolidated


def test_publisher_unknown_is_none() -> None:
    assert publisher(65_000) is None
