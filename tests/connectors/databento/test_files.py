"""DBN file replay: Databento's own sample files, and small files written here for what the samples lack."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import databento_dbn as dbn
import pytest

from connectors.databento import files
from connectors.databento.files import DbnReadStats, count_records, load_symbols, read_dbn, read_metadata
from connectors.databento.parse import Skip
from events.models import OptionPrint
from events.serde import decode, encode
from events.topics import topic_for
from tests.connectors.databento import (
    EMLD,
    IID,
    OPRA_PUB,
    OSI,
    PUT_IID,
    PUT_OSI,
    T0,
    XISX,
    cmbp1,
    definition,
    metadata,
    trade,
    write_dbn,
)

SAMPLES = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "databento"

# (dataset, schema) → (events by type, skip reasons): what Databento's own test files give.
EXPECTED: dict[tuple[str, str], tuple[dict[str, int], dict[str, int]]] = {
    ("OPRA.PILLAR", "trades"): ({"option_print": 4}, {}),
    ("OPRA.PILLAR", "tbbo"): ({"option_print": 4}, {}),
    ("OPRA.PILLAR", "mbp-1"): ({"option_nbbo": 4}, {}),
    ("OPRA.PILLAR", "cbbo-1s"): ({"option_nbbo": 4}, {}),
    ("OPRA.PILLAR", "definition"): ({"option_definition": 1}, {}),
    ("OPRA.PILLAR", "statistics"): ({"open_interest": 4}, {}),
    ("EQUS.MINI", "trades"): ({"equity_print": 4}, {}),
    ("EQUS.MINI", "tbbo"): ({"equity_quote": 4, "equity_print": 4}, {}),
    ("EQUS.MINI", "mbp-1"): ({"equity_quote": 4}, {}),
    ("EQUS.MINI", "definition"): ({}, {Skip.EQUITY_DEFINITION: 1}),
    ("XNAS.ITCH", "trades"): ({"equity_print": 4}, {}),
    ("XNAS.ITCH", "tbbo"): ({"equity_print": 4}, {}),
    ("XNAS.ITCH", "mbp-1"): ({"equity_quote": 4}, {}),
    ("XNAS.ITCH", "definition"): ({}, {Skip.EQUITY_DEFINITION: 1}),
}


def sample(dataset: str, schema: str) -> Path:
    """Return a sample file's path, skipping the test when the shared data folder is absent."""
    if not SAMPLES.is_dir():
        pytest.skip(f"no Databento sample data at {SAMPLES}")
    return SAMPLES / dataset / f"test_data.{schema}.dbn.zst"


def test_every_sample_file_has_an_expectation() -> None:
    if not SAMPLES.is_dir():
        pytest.skip(f"no Databento sample data at {SAMPLES}")
    found = {(p.parent.name, p.name.split(".")[1]) for p in SAMPLES.glob("*/test_data.*.dbn.zst")}
    assert found == set(EXPECTED)


@pytest.mark.parametrize(("dataset", "schema"), list(EXPECTED), ids=[f"{d}-{s}" for d, s in EXPECTED])
def test_sample_file_gives_expected_events(dataset: str, schema: str) -> None:
    path = sample(dataset, schema)
    stats = DbnReadStats()
    events = list(read_dbn(path, stats=stats))
    by_type, skipped = EXPECTED[dataset, schema]
    assert Counter(e.event_type for e in events) == by_type
    assert stats.events_by_type == by_type
    assert stats.skipped == skipped
    assert (stats.dataset, stats.schema, stats.trailing_bytes) == (dataset, schema, 0)
    assert stats.records_read == count_records(path)
    assert stats.events_produced == len(events)
    assert len({e.id for e in events}) == len(events)
    for event in events:
        assert decode(topic_for(event.event_type), encode(event)) == event


@pytest.mark.parametrize(("dataset", "schema"), list(EXPECTED), ids=[f"{d}-{s}" for d, s in EXPECTED])
def test_sample_replay_gives_the_same_ids(dataset: str, schema: str) -> None:
    path = sample(dataset, schema)
    assert [e.id for e in read_dbn(path)] == [e.id for e in read_dbn(path)]


@pytest.mark.parametrize("dataset", ["OPRA.PILLAR", "EQUS.MINI", "XNAS.ITCH"])
def test_sample_tbbo_prints_carry_their_records_own_book(dataset: str) -> None:
    # Checked against databento's own decoder: each tbbo record's book is the quote its print carries.
    import databento

    path = sample(dataset, "tbbo")
    records = [r for r in databento.DBNStore.from_bytes(path.read_bytes()) if isinstance(r, dbn.MBP1Msg)]
    prints = [e for e in read_dbn(path) if e.event_type in ("option_print", "equity_print")]
    assert len(prints) == len(records) == 4
    for record, event in zip(records, prints, strict=True):
        fields = event.__dict__
        quote = (
            (fields["nbbo_bid_e9"], fields["nbbo_ask_e9"])
            if dataset == "OPRA.PILLAR"
            else (
                fields["bid_e9"],
                fields["ask_e9"],
            )
        )
        assert (event.ts_event, fields["price_e9"]) == (record.ts_event, record.price)
        assert quote == (record.levels[0].bid_px, record.levels[0].ask_px)


@pytest.mark.parametrize("dataset", ["OPRA.PILLAR", "EQUS.MINI", "XNAS.ITCH"])
def test_sample_trades_and_tbbo_give_each_trade_the_same_id(dataset: str) -> None:
    trades = [e.id for e in read_dbn(sample(dataset, "trades"))]
    tbbo = [e.id for e in read_dbn(sample(dataset, "tbbo")) if e.event_type.endswith("_print")]
    assert len(trades) == 4
    assert tbbo == trades


def test_read_metadata() -> None:
    meta = read_metadata(sample("OPRA.PILLAR", "trades"))
    assert (meta.dataset, str(meta.schema)) == ("OPRA.PILLAR", "trades")
    assert OSI in meta.mappings


# ------------------------------------------------------------------------------------- written files


@pytest.fixture(params=[".dbn", ".dbn.zst"], ids=["plain", "zstd"])
def suffix(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_tcbbo_file(tmp_path: Path, suffix: str) -> None:
    meta = metadata("OPRA.PILLAR", dbn.Schema.TCBBO, {OSI: IID})
    records = [cmbp1(ts_event=T0), cmbp1(ts_event=T0 + 5, publisher_id=XISX, price=250_000_000)]
    path = write_dbn(tmp_path / f"opra.tcbbo{suffix}", meta, records)
    events = list(read_dbn(path))
    assert [e.event_type for e in events] == ["option_print", "option_print"]
    first = events[0]
    assert isinstance(first, OptionPrint)
    assert (first.nbbo_bid_e9, first.nbbo_ask_e9, first.nbbo_ts) == (230_000_000, 250_000_000, T0)
    assert count_records(path) == 2


def test_parent_symbology_needs_definitions(tmp_path: Path) -> None:
    meta = metadata("OPRA.PILLAR", dbn.Schema.TRADES, {"AAPL.OPT": IID}, stype_in=dbn.SType.PARENT)
    path = write_dbn(tmp_path / "opra.trades.dbn.zst", meta, [trade(), trade(instrument_id=PUT_IID)])
    stats = DbnReadStats()
    assert list(read_dbn(path, stats=stats)) == []
    assert stats.skipped == {Skip.UNRESOLVED_SYMBOL: 2}
    assert stats.records_without_events == 2

    defs_meta = metadata("OPRA.PILLAR", dbn.Schema.DEFINITION, {OSI: IID, PUT_OSI: PUT_IID})
    defs = write_dbn(
        tmp_path / "opra.definition.dbn.zst",
        defs_meta,
        [definition(), definition(raw_symbol=PUT_OSI, instrument_id=PUT_IID, instrument_class=dbn.InstrumentClass.PUT)],
    )
    events = list(read_dbn(path, symbols=load_symbols([defs])))
    assert [e.symbol for e in events if isinstance(e, OptionPrint)] == [OSI, PUT_OSI]


def test_in_stream_symbol_mappings_resolve_later_records(tmp_path: Path) -> None:
    meta = metadata("OPRA.PILLAR", dbn.Schema.TRADES, {})
    mapping = dbn.SymbolMappingMsg(
        publisher_id=OPRA_PUB,
        instrument_id=IID,
        ts_event=T0 - 1,
        stype_in=dbn.SType.RAW_SYMBOL,
        stype_in_symbol=OSI,
        stype_out=dbn.SType.INSTRUMENT_ID,
        stype_out_symbol=OSI,
        start_ts=T0 - 10**9,
        end_ts=dbn.UNDEF_TIMESTAMP,
    )
    path = write_dbn(tmp_path / "live.trades.dbn", meta, [trade(), mapping, trade(ts_event=T0 + 1)])
    stats = DbnReadStats()
    events = list(read_dbn(path, stats=stats))
    assert [e.ts_event for e in events] == [T0 + 1]
    assert stats.skipped == {Skip.UNRESOLVED_SYMBOL: 1, Skip.CONTROL_RECORD: 1}
    assert stats.records_read == 3


def test_in_file_definitions_resolve_later_records(tmp_path: Path) -> None:
    meta = metadata("OPRA.PILLAR", None, {"AAPL.OPT": IID}, stype_in=dbn.SType.PARENT)
    path = write_dbn(tmp_path / "mixed.dbn.zst", meta, [definition(), trade()])
    assert [e.event_type for e in read_dbn(path)] == ["option_definition", "option_print"]


def test_records_sharing_an_identity_get_distinct_stable_ids(tmp_path: Path, suffix: str) -> None:
    meta = metadata("OPRA.PILLAR", dbn.Schema.TRADES, {OSI: IID})
    # Two fills in one OPRA block: same publisher, instrument, timestamp and sequence.
    twins = [trade(size=3), trade(size=7), trade(publisher_id=XISX)]
    path = write_dbn(tmp_path / f"opra.trades{suffix}", meta, twins)
    ids = [e.id for e in read_dbn(path)]
    assert len(set(ids)) == 3
    assert ids == [e.id for e in read_dbn(path)]


def test_truncated_file_keeps_whole_records(tmp_path: Path) -> None:
    meta = metadata("OPRA.PILLAR", dbn.Schema.TRADES, {OSI: IID})
    whole = write_dbn(tmp_path / "whole.dbn", meta, [trade(), trade(ts_event=T0 + 1)])
    cut = tmp_path / "cut.dbn"
    cut.write_bytes(whole.read_bytes()[:-10])
    stats = DbnReadStats()
    events = list(read_dbn(cut, stats=stats))
    assert len(events) == 1
    assert stats.trailing_bytes == len(bytes(trade())) - 10
    assert count_records(cut) == 1


@pytest.mark.parametrize(
    "content",
    [pytest.param(b"ts_event,price\n1,2\n", id="csv"), pytest.param(b"DB", id="too-short")],
)
def test_not_a_dbn_file_is_a_value_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.dbn"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="DBN"):
        list(read_dbn(path))
    with pytest.raises(ValueError, match="DBN"):
        count_records(path)
    with pytest.raises(ValueError, match="DBN"):
        read_metadata(path)


@pytest.mark.parametrize("chunk_bytes", [7, 64, 1 << 20], ids=["7B", "64B", "1MiB"])
def test_count_and_read_across_chunk_boundaries(
    tmp_path: Path, suffix: str, chunk_bytes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    meta = metadata("OPRA.PILLAR", None, {OSI: IID})
    uniform = [trade(ts_event=T0 + i, sequence=i) for i in range(25)]
    # Records of different sizes: the header-hopping path, not the fixed-stride one.
    mixed = [definition(), *uniform[:5], dbn.SystemMsg(ts_event=T0, msg="Heartbeat"), *uniform[5:]]
    monkeypatch.setattr(files, "READ_CHUNK_BYTES", chunk_bytes)
    for name, records in (("uniform", uniform), ("mixed", mixed)):
        path = write_dbn(tmp_path / f"{name}{suffix}", meta, records)
        assert count_records(path) == len(records), name
        stats = DbnReadStats()
        assert len(list(read_dbn(path, stats=stats))) == len(records) - (name == "mixed"), name
        assert stats.records_read == len(records)


def test_metadata_only_file_has_no_records(tmp_path: Path, suffix: str) -> None:
    path = write_dbn(tmp_path / f"empty{suffix}", metadata("OPRA.PILLAR", dbn.Schema.TRADES, {OSI: IID}), [])
    assert count_records(path) == 0
    assert list(read_dbn(path)) == []


def test_stats_count_skips_by_reason(tmp_path: Path) -> None:
    meta = metadata("OPRA.PILLAR", dbn.Schema.TRADES, {OSI: IID})
    records = [trade(), trade(size=0), trade(price=dbn.UNDEF_PRICE), trade(instrument_id=PUT_IID), trade(price=1)]
    stats = DbnReadStats()
    events = list(read_dbn(write_dbn(tmp_path / "t.dbn", meta, records), stats=stats))
    assert len(events) == stats.events_produced == 2
    assert stats.skipped == {Skip.ZERO_SIZE: 1, Skip.UNDEFINED_PRICE: 1, Skip.UNRESOLVED_SYMBOL: 1}
    assert (stats.records_read, stats.records_without_events) == (5, 3)
    assert stats.path.endswith("t.dbn")
    assert stats.dataset == "OPRA.PILLAR"
    assert {(e.venue, e.venue_id) for e in events if isinstance(e, OptionPrint)} == {("EMLD", str(EMLD))}
